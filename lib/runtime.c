/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * runtime.c -- waits for futures, sleeping whenever every pending future
 * has promised to signal its progress.
 *
 * A pass polls every pending future once, those with
 * FUTURE_PROPERTY_ASYNC first (asked again on every pass, so a chain that
 * turns asynchronous moves ahead), and gathers the pending ones, in
 * order, at the front of the array. The notifier's waker bumps the
 * runtime's event count 'wakes'. The waiter reads the counts before the
 * pass; after it, it sleeps only if they are unchanged, and the futex
 * compares the count again in the kernel, so a wake that lands anywhere
 * between the pass and the sleep is never lost:
 * - all pending futures used the waker: sleep on 'wakes' until it moves;
 * - some gave a poller word: the library's own movers signal a
 *   process-wide count, poller_seq, after they set such a word, while a
 *   wait watches it (poller_watchers), and the runtime's waker bumps it
 *   too while the runtime sleeps on it; so the waiter sleeps on
 *   poller_seq, without a timeout when every word is the library's, and
 *   with a short one (doubling from 50 us to 1 ms, back to 50 us on
 *   progress) when a word's writer is a mover the library does not know;
 * - some promised nothing: keep polling.
 * A short spin before each sleep keeps quick completions off the futex.
 *
 * The runtime's memory is the only thing its waker touches; movers finish
 * with the waker before the future can poll complete, and runtime_delete
 * comes after the last wait returns, so no wake outlives the runtime.
 */

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "internal.h"
#include "movers.h"
#include "park.h"
#include "valgrind.h"
#include "libminiasync/runtime.h"

#define SPIN_NS 20000 /* spin this long before sleeping */
#define BATCH_MIN 16 /* from this many wakers on, passes wait for more */
#define POLLER_SLEEP_MIN_NS 50000 /* first bounded sleep on a poller */
#define POLLER_SLEEP_MAX_NS 1000000 /* and the longest */

struct runtime {
	_Atomic uint32_t wakes; /* event count, bumped by every wake */
	_Atomic uint32_t sleepers; /* threads asleep (or going) on wakes */
	_Atomic uint32_t poller_sleepers; /* ... on poller_seq */
};

/* The poller words of the library's movers (see the top of the file). */
static _Atomic uint32_t poller_watchers; /* waits that watch them */
static _Atomic uint32_t poller_seq; /* bumped when one is set, if watched */
static _Atomic uint32_t poller_sleepers; /* threads asleep on poller_seq */

/* What one pass over the pending futures found. */
struct pass {
	size_t wakers; /* futures that will call the waker */
	uint64_t ns; /* how long the pass took (when timed) */
	int must_poll; /* one promised nothing: no sleeping */
	int pollers; /* one gave a poller word */
	int foreign_pollers; /* one gave a word its writer does not signal */
	uint64_t *word; /* the first such word, or NULL */
};

/* Wakes the threads asleep on poller_seq. */
static void
poller_seq_bump(void)
{
	atomic_fetch_add_explicit(&poller_seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&poller_sleepers, memory_order_seq_cst) != 0)
		ma_park_wake((const uint32_t *)&poller_seq, INT_MAX);
}

void
ma_poller_signal(void)
{
	/* seq_cst: the word's store before, against a watcher's join */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&poller_watchers, memory_order_relaxed) != 0)
		poller_seq_bump();
}

/* The waker: publishes the event, then wakes sleepers if there are any. */
void
ma_runtime_wake(void *data)
{
	struct runtime *r = data;

	/* seq_cst with the waiter's sleepers increment and wakes re-read */
	atomic_fetch_add_explicit(&r->wakes, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&r->sleepers, memory_order_seq_cst) != 0)
		ma_park_wake((const uint32_t *)&r->wakes, INT_MAX);
	if (atomic_load_explicit(&r->poller_sleepers,
			memory_order_seq_cst) != 0)
		poller_seq_bump();
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
	atomic_init(&r->poller_sleepers, 0);
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

/* Wait state kept across passes. */
struct wait {
	uint32_t seen; /* 'wakes' before the pass */
	uint32_t seen_poller; /* poller_seq before the pass */
	int watching; /* joined poller_watchers */
	uint64_t poller_sleep_ns; /* the next bounded sleep */
};

/* Nonzero when a poller word was set since the counts were read. */
static int
poller_news(const struct wait *w, const struct pass *p)
{
	/* acquire: see everything published before the events we see */
	return (w->watching && atomic_load_explicit(&poller_seq,
			memory_order_acquire) != w->seen_poller) ||
		word_is_set(p->word);
}

/* Nonzero when something happened since the counts were read. */
static int
news(struct runtime *r, const struct wait *w, const struct pass *p)
{
	return atomic_load_explicit(&r->wakes, memory_order_acquire) !=
		w->seen || poller_news(w, p);
}

/* Returns at once when anything happened since the pass, else sleeps. */
static void
runtime_park(struct runtime *r, struct wait *w, const struct pass *p)
{
	struct ma_spin spin;

	if (p->word != NULL) /* atomic by the poller's promise */
		MA_ATOMIC_WORDS(p->word, sizeof(*p->word));
	/*
	 * Many futures wait for wakes: pass again once half of them have
	 * news, or once news is older than eight passes took, so that
	 * passes do not outnumber completions (each pass reads every
	 * pending future, lines the workers are writing).
	 */
	uint32_t batch = 1;
	uint64_t limit = SPIN_NS;

	if (p->wakers >= BATCH_MIN) {
		batch = (uint32_t)(p->wakers / 2);
		if (limit < 8 * p->ns)
			limit = 8 * p->ns;
	}
	for (ma_spin_begin(&spin); ma_spin_step(&spin, limit);) {
		uint32_t wakes = atomic_load_explicit(&r->wakes,
			memory_order_acquire);

		if (wakes - w->seen >= batch)
			return;
		if (wakes != w->seen && spin.waited >= 8 * p->ns)
			return;
		if (poller_news(w, p))
			return;
	}
	if (!p->pollers) {
		atomic_fetch_add_explicit(&r->sleepers, 1,
			memory_order_seq_cst);
		if (atomic_load_explicit(&r->wakes, memory_order_seq_cst) ==
				w->seen)
			ma_park_wait((const uint32_t *)&r->wakes, w->seen,
				NULL);
		atomic_fetch_sub_explicit(&r->sleepers, 1,
			memory_order_relaxed);
		return;
	}

	struct timespec timeout = {
		.tv_sec = 0,
		.tv_nsec = (long)w->poller_sleep_ns,
	};

	if (p->foreign_pollers) {
		w->poller_sleep_ns *= 2;
		if (w->poller_sleep_ns > POLLER_SLEEP_MAX_NS)
			w->poller_sleep_ns = POLLER_SLEEP_MAX_NS;
	}
	/* seq_cst: against the waker's wakes bump and sleepers read */
	atomic_fetch_add_explicit(&r->poller_sleepers, 1,
		memory_order_seq_cst);
	atomic_fetch_add_explicit(&poller_sleepers, 1, memory_order_seq_cst);
	if (!news(r, w, p)) {
		if (p->foreign_pollers)
			ma_test_note(MA_TEST_TIMED_SLEEP, 1);
		ma_park_wait((const uint32_t *)&poller_seq, w->seen_poller,
			p->foreign_pollers ? &timeout : NULL);
	}
	atomic_fetch_sub_explicit(&poller_sleepers, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&r->poller_sleepers, 1,
		memory_order_relaxed);
}

/* Polls one future; nonzero while it is pending. Notes its promise. */
static int
poll_one(struct future *f, struct future_notifier *n, struct pass *p)
{
	n->padding = 0;
	if (future_poll(f, n) == FUTURE_STATE_COMPLETE)
		return 0;
	switch (n->notifier_used) {
	case FUTURE_NOTIFIER_WAKER:
		p->wakers++;
		break;
	case FUTURE_NOTIFIER_POLLER:
		if (n->poller.ptr_to_monitor == NULL) {
			p->must_poll = 1;
			break;
		}
		p->pollers = 1;
		if (n->padding & MA_PROMISE_SIGNALLED)
			break;
		p->foreign_pollers = 1;
		if (p->word == NULL)
			p->word = n->poller.ptr_to_monitor;
		break;
	default:
		p->must_poll = 1;
		break;
	}
	return 1;
}

#define MARKED ((uintptr_t)1) /* low bit of a future pointer: polled */

/*
 * Polls futs[0..n) once, those with FUTURE_PROPERTY_ASYNC first (marked
 * in their pointer's low bit meanwhile, futures being pointer-aligned),
 * then gathers the pending ones, in their order, at the front, the
 * complete ones behind. Returns the number pending.
 */
static size_t
runtime_pass(struct future *futs[], size_t n, struct future_notifier *nf,
	struct pass *p)
{
	size_t pending = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		if (future_has_property(futs[i], FUTURE_PROPERTY_ASYNC) > 0) {
			poll_one(futs[i], nf, p);
			futs[i] = (struct future *)((uintptr_t)futs[i] | MARKED);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct future *f = futs[i];

		if ((uintptr_t)f & MARKED)
			f = (struct future *)((uintptr_t)f & ~MARKED);
		else
			poll_one(f, nf, p);
		futs[i] = f;
		if (f->context.state != FUTURE_STATE_COMPLETE) {
			futs[i] = futs[pending];
			futs[pending++] = f;
		}
	}
	return pending;
}

MA_EXPORT void
runtime_wait_multiple(struct runtime *runtime, struct future *futs[],
	size_t nfuts)
{
	struct future_notifier notifier = {
		.waker = { .data = runtime, .wake = ma_runtime_wake },
		.poller = { .ptr_to_monitor = NULL },
		.notifier_used = FUTURE_NOTIFIER_NONE,
		.padding = 0,
	};
	struct wait w = { .poller_sleep_ns = POLLER_SLEEP_MIN_NS };
	struct ma_spin busy_spin = { 0, 0, 0 }; /* since passes must poll */
	int busy = 0;
	size_t pending = nfuts;
	struct pass p;

	for (;;) {
		/* acquire: see everything published before a wake we see */
		w.seen = atomic_load_explicit(&runtime->wakes,
			memory_order_acquire);
		w.seen_poller = atomic_load_explicit(&poller_seq,
			memory_order_acquire);

		size_t before = pending;
		uint64_t start = pending >= BATCH_MIN ? ma_now_ns() : 0;

		pending = runtime_pass(futs, pending, &notifier, &p);
		if (start != 0)
			p.ns = ma_now_ns() - start;
		if (pending == 0)
			break;
		if (pending < before)
			w.poller_sleep_ns = POLLER_SLEEP_MIN_NS; /* progress */
		if (p.pollers && !w.watching) {
			/* seq_cst: against ma_poller_signal's fence */
			atomic_fetch_add_explicit(&poller_watchers, 1,
				memory_order_seq_cst);
			w.watching = 1;
			continue; /* pass again: signals come from now on */
		}
		if (!p.must_poll) {
			busy = 0;
			runtime_park(runtime, &w, &p);
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
	if (w.watching)
		atomic_fetch_sub_explicit(&poller_watchers, 1,
			memory_order_relaxed);
}

MA_EXPORT void
runtime_wait(struct runtime *runtime, struct future *fut)
{
	runtime_wait_multiple(runtime, &fut, 1);
}
