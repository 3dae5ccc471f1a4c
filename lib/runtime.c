/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * runtime.c -- waits for futures, sleeping whenever every pending future
 * has promised to signal its progress.
 *
 * A pass polls every pending future once with a notifier whose waker
 * bumps the runtime's event count, 'wakes'. The waiter reads 'wakes'
 * before the pass; after it, it sleeps only if the count is unchanged,
 * and the futex compares the count again in the kernel, so a wake that
 * lands anywhere between the pass and the sleep is never lost:
 * - all pending futures used the waker: sleep on 'wakes' until it moves;
 * - some gave a word to watch (poller): watch the first such word, which
 *   must turn nonzero before the wait can end anyway; sleep on it (or on
 *   'wakes' if wakers are pending too) for a bounded time, since a word's
 *   writer need not wake anybody;
 * - some promised nothing: keep polling.
 * A short spin before each sleep keeps quick completions off the futex.
 *
 * The runtime's memory is the only thing a waker touches; movers finish
 * with the waker before the future can poll complete, and runtime_delete
 * comes after the last wait returns, so no wake outlives the runtime.
 */

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "fault.h"
#include "internal.h"
#include "park.h"
#include "valgrind.h"
#include "libminiasync/runtime.h"

#define SPIN_NS 20000 /* spin this long before sleeping */
#define POLLER_SLEEP_MIN_NS 50000 /* first bounded sleep on a poller */
#define POLLER_SLEEP_MAX_NS 1000000 /* and the longest */

struct runtime {
	_Atomic uint32_t wakes; /* event count, bumped by every wake */
	_Atomic uint32_t sleepers; /* threads asleep (or going) on wakes */
};

/* What one pass over the pending futures found. */
struct pass {
	size_t pending; /* futures not yet complete */
	int must_poll; /* one promised nothing: no sleeping */
	int wakers; /* one will call the waker */
	uint64_t *word; /* a poller word to watch, or NULL */
};

/* The waker: publishes the event, then wakes sleepers if there are any. */
static void
runtime_wake(void *data)
{
	struct runtime *r = data;

	/* seq_cst with the waiter's sleepers increment and wakes re-read */
	atomic_fetch_add_explicit(&r->wakes, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&r->sleepers, memory_order_seq_cst) != 0)
		ma_park_wake((const uint32_t *)&r->wakes, INT_MAX);
}

MA_EXPORT struct runtime *
runtime_new(void)
{
	struct runtime *r = ma_aligned_alloc(MA_CACHELINE, MA_CACHELINE);

	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&r->wakes, 0);
	atomic_init(&r->sleepers, 0);
	MA_ATOMIC_WORDS(r, sizeof(*r)); /* see valgrind.h */
	return r;
}

MA_EXPORT void
runtime_delete(struct runtime *runtime)
{
	if (runtime != NULL)
		MA_ATOMIC_WORDS_END(runtime, sizeof(*runtime));
	free(runtime);
}

static int
word_is_set(uint64_t *word)
{
	/* acquire: pairs with the release that publishes completion */
	return word != NULL && __atomic_load_n(word, __ATOMIC_ACQUIRE) != 0;
}

/* Returns at once when anything happened since 'seen', else sleeps. */
static void
runtime_park(struct runtime *r, uint32_t seen, const struct pass *p,
	uint64_t *poller_sleep_ns)
{
	struct ma_spin spin;

	if (p->word != NULL) /* atomic by the poller's promise */
		MA_ATOMIC_WORDS(p->word, sizeof(*p->word));
	for (ma_spin_begin(&spin); ma_spin_step(&spin, SPIN_NS);) {
		/* acquire: pairs with the wake's seq_cst increment */
		if (atomic_load_explicit(&r->wakes, memory_order_acquire) !=
				seen || word_is_set(p->word))
			return;
	}

	struct timespec timeout = {
		.tv_sec = 0,
		.tv_nsec = (long)*poller_sleep_ns,
	};

	if (p->word != NULL) {
		if (*poller_sleep_ns < POLLER_SLEEP_MAX_NS)
			*poller_sleep_ns *= 2;
		if (!p->wakers) {
			ma_park_wait(ma_park_low_half(p->word), 0, &timeout);
			return;
		}
	}

	atomic_fetch_add_explicit(&r->sleepers, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&r->wakes, memory_order_seq_cst) == seen)
		ma_park_wait((const uint32_t *)&r->wakes, seen,
			p->word != NULL ? &timeout : NULL);
	atomic_fetch_sub_explicit(&r->sleepers, 1, memory_order_relaxed);
}

/* Polls futs[first..nfuts) once; returns what it found. */
static void
runtime_pass(struct future *futs[], size_t first, size_t nfuts,
	struct future_notifier *notifier, struct pass *p)
{
	p->pending = 0;
	p->must_poll = 0;
	p->wakers = 0;
	p->word = NULL;
	for (size_t i = first; i < nfuts; i++) {
		if (future_poll(futs[i], notifier) == FUTURE_STATE_COMPLETE)
			continue;
		p->pending++;
		switch (notifier->notifier_used) {
		case FUTURE_NOTIFIER_WAKER:
			p->wakers = 1;
			break;
		case FUTURE_NOTIFIER_POLLER:
			if (p->word == NULL)
				p->word = notifier->poller.ptr_to_monitor;
			if (p->word == NULL)
				p->must_poll = 1;
			break;
		default:
			p->must_poll = 1;
			break;
		}
	}
}

/* Moves the futures with FUTURE_PROPERTY_ASYNC to the front. */
static void
runtime_async_first(struct future *futs[], size_t nfuts)
{
	size_t nasync = 0;

	for (size_t i = 0; i < nfuts; i++) {
		if (future_has_property(futs[i], FUTURE_PROPERTY_ASYNC) > 0) {
			struct future *f = futs[i];

			futs[i] = futs[nasync];
			futs[nasync++] = f;
		}
	}
}

MA_EXPORT void
runtime_wait_multiple(struct runtime *runtime, struct future *futs[],
	size_t nfuts)
{
	struct future_notifier notifier = {
		.waker = { .data = runtime, .wake = runtime_wake },
		.poller = { .ptr_to_monitor = NULL },
		.notifier_used = FUTURE_NOTIFIER_NONE,
		.padding = 0,
	};
	uint64_t poller_sleep_ns = POLLER_SLEEP_MIN_NS;
	struct ma_spin busy_spin; /* since passes found nothing to wait for */
	int busy = 0;
	size_t first = 0;
	struct pass p;

	runtime_async_first(futs, nfuts);
	for (;;) {
		/* acquire: see everything published before a wake we see */
		uint32_t seen = atomic_load_explicit(&runtime->wakes,
			memory_order_acquire);

		runtime_pass(futs, first, nfuts, &notifier, &p);
		if (p.pending == 0)
			return;
		while (futs[first]->context.state == FUTURE_STATE_COMPLETE)
			first++;

		if (!p.must_poll) {
			runtime_park(runtime, seen, &p, &poller_sleep_ns);
			continue;
		}
		/* Nothing to wait for: poll again, yielding once it drags on. */
		if (!busy) {
			ma_spin_begin(&busy_spin);
			busy = 1;
		}
		if (!ma_spin_step(&busy_spin, SPIN_NS))
			sched_yield();
	}
}

MA_EXPORT void
runtime_wait(struct runtime *runtime, struct future *fut)
{
	runtime_wait_multiple(runtime, &fut, 1);
}
