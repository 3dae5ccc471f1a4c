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
 *   with many of them (BATCH_MIN), the next pass waits until half of
 *   them had news or the first news is as old as AGE_PASSES passes and
 *   one more per AGE_UNIT_NS a pass takes, AGE_MAX_PASSES at most (cheap
 *   passes for latency, dear ones for the processor),
 *   asleep on 'wakes' with that deadline (spinning when it is too near
 *   for a sleep), the age read from the clock whenever it is tested;
 * - some gave a poller word: the library's own movers signal a
 *   process-wide count, poller_seq, after they set such a word, while a
 *   wait watches it (poller_watchers), and the runtime's waker bumps it
 *   too while the runtime sleeps on it; so the waiter sleeps on
 *   poller_seq, without a timeout when every word is signalled so, and
 *   with a timeout otherwise:
 *   - a device's word (the DSA mover's completion records), which
 *     nobody signals but whose due time the mover knows: asleep until
 *     shortly before the earliest is due, then watched (spinning) until
 *     a little after, then back-off sleeps (movers.h, MA_DEVICE_*);
 *   - a word whose writer is a mover the library does not know: short
 *     sleeps, doubling from 50 us to 1 ms, back to 50 us on progress;
 * - some promised nothing: pass again at once, with a yield of the
 *   processor now and then, spaced so that yields are a small share of
 *   the time spent polling (busy_pass).
 * A short spin before each sleep keeps quick completions off the futex.
 *
 * A promise is the library's own (signalled, or a device's) when the
 * poll that made it left the promised word in ma_promised (movers.h), a
 * thread-local that the runtime clears before each poll: a mark no other
 * future's task can leave behind in the notifier.
 *
 * Memory ordering (doc/design.md, "Memory ordering"): where a waiter
 * announces itself (joins the watchers, counts itself a sleeper) and then
 * looks for news, and the other side publishes news and then looks for
 * announced waiters, each side has a seq_cst fence (or seq_cst
 * operations) between its store and its load: one per wait or sleep on
 * the waiter's side. The test build can hold such a store back past the
 * loads that follow it (lib/fault.h, ma_test_handoff_hold).
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
#define AGE_PASSES 2 /* ...or until the first news is this many passes */
#define AGE_UNIT_NS 8000 /* ...and one more per this long a pass takes */
#define AGE_MAX_PASSES 32 /* ...but at most this many */
#define DEFER_SLEEP_MIN_NS 60000 /* a nearer deadline is spun out */
#define POLLER_SLEEP_MIN_NS 50000 /* first bounded sleep on a poller */
#define POLLER_SLEEP_MAX_NS 1000000 /* and the longest */
#define YIELD_EVERY_NS 20000 /* passes that must poll: a yield this often */
#define YIELD_SHARE 32 /* ...at least this many times the last one took */
#define CLOCK_EVERY 16 /* ...the clock read every this many such passes */

struct runtime {
	_Atomic uint32_t wakes; /* event count, bumped by every wake */
	_Atomic uint32_t sleepers; /* threads asleep (or going) on wakes */
	_Atomic uint32_t poller_sleepers; /* ... on poller_seq */
};

/* The poller words of the library's movers (see the top of the file). */
static _Atomic uint32_t poller_watchers; /* waits that watch them */
static _Atomic uint32_t poller_seq; /* bumped when one is set, if watched */
static _Atomic uint32_t poller_sleepers; /* threads asleep on poller_seq */

/* The word the last poll on this thread promised as the library's. */
_Thread_local __attribute__((tls_model("initial-exec")))
	struct ma_promised_word ma_promised;

/* What one pass over the pending futures found. */
struct pass {
	size_t wakers; /* futures that will call the waker */
	uint64_t ns; /* how long the pass took (when timed) */
	int must_poll; /* one promised nothing: no sleeping */
	int pollers; /* one gave a poller word */
	int foreign_pollers; /* one gave a word of an unknown writer */
	uint64_t due_ns; /* the soonest due device word's time, or 0 */
	uint64_t *word; /* that word, else the first foreign one, or NULL */
};

/*
 * The seq_cst fence of a waiter's side (see the top of the file): out of
 * line, once per wait or sleep (gcc's ThreadSanitizer build refuses a
 * fence inlined where these are used).
 */
static __attribute__((noinline)) void
waiter_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

/* Wakes the threads asleep on poller_seq. */
static void
poller_seq_bump(void)
{
	/* seq_cst: against a sleeper's count and fence (runtime_sleep) */
	atomic_fetch_add_explicit(&poller_seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&poller_sleepers, memory_order_seq_cst) != 0)
		ma_park_wake((const uint32_t *)&poller_seq, INT_MAX);
}

void
ma_poller_signal(void)
{
	/* seq_cst: the word's store before, against a watcher's join fence */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&poller_watchers, memory_order_relaxed) != 0)
		poller_seq_bump();
}

/* The waker: publishes the event, then wakes sleepers if there are any. */
void
ma_runtime_wake(void *data)
{
	struct runtime *r = data;

	/*
	 * seq_cst: the bump, then the sleeper counts; against a sleeper's
	 * count and the fence after it (or the futex's own re-check).
	 */
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
	uint64_t device_due_ns; /* the device word watched last */
	uint64_t device_sleep_ns; /* the next back-off sleep for it */
	int device_late; /* it was watched past its due time */
	uint64_t spin_from; /* the spin before a sleep counts from here */
	unsigned busy_passes; /* passes in a row that must poll */
	uint64_t busy_since; /* when they began, or yielded last */
	uint64_t busy_gap; /* the next yield this long after */
#ifdef MA_FAULT_INJECTION
	int join_window; /* the join's test window is due after a pass */
	int join_held; /* and the join itself (lib/fault.h) */
#endif
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

/*
 * Sleeps on 'wakes' while it is 'expected', until deadline (0: none).
 * The sleeper count, then the futex's re-check of the word: ma_park_wait
 * orders the count before its re-check (the kernel's barrier, or the
 * fence of the condition-variable build), against ma_runtime_wake.
 */
static void
wakes_sleep(struct runtime *r, uint32_t expected, uint64_t deadline)
{
	struct timespec timeout;
	const struct timespec *t = NULL;

	if (deadline != 0) {
		uint64_t now = ma_now_ns();

		if (now >= deadline)
			return;
		timeout.tv_sec = (time_t)((deadline - now) / 1000000000u);
		timeout.tv_nsec = (long)((deadline - now) % 1000000000u);
		t = &timeout;
		ma_test_note(MA_TEST_DEFERRED_SLEEP, 1);
	}
	ma_test_note(MA_TEST_WAKES_SLEEP, 1);
	atomic_fetch_add_explicit(&r->sleepers, 1, memory_order_relaxed);
	if (atomic_load_explicit(&r->wakes, memory_order_relaxed) == expected)
		ma_park_wait((const uint32_t *)&r->wakes, expected, t);
	atomic_fetch_sub_explicit(&r->sleepers, 1, memory_order_relaxed);
}

/*
 * How long the next sleep on poller_seq may last (0: no limit): a
 * foreign word's nap, a device word's time to shortly before it is due
 * or its back-off sleep, whichever is shorter.
 */
static uint64_t
poller_timeout(struct wait *w, const struct pass *p, uint64_t now)
{
	uint64_t t = 0;

	if (p->foreign_pollers) {
		t = w->poller_sleep_ns;
		w->poller_sleep_ns *= 2;
		if (w->poller_sleep_ns > POLLER_SLEEP_MAX_NS)
			w->poller_sleep_ns = POLLER_SLEEP_MAX_NS;
		ma_test_note(MA_TEST_TIMED_SLEEP, 1);
	}
	if (p->due_ns != 0) {
		uint64_t d;

		if (p->due_ns > now + MA_DEVICE_SLEEP_AHEAD_NS) {
			d = p->due_ns - now - MA_DEVICE_WAKE_EARLY_NS;
		} else {
			d = w->device_sleep_ns;
			w->device_sleep_ns *= 2;
			if (w->device_sleep_ns > MA_DEVICE_BACKOFF_MAX_NS)
				w->device_sleep_ns = MA_DEVICE_BACKOFF_MAX_NS;
		}
		if (t == 0 || d < t)
			t = d;
		ma_test_note(MA_TEST_DEVICE_SLEEP, 1);
	}
	return t;
}

/* Sleeps on poller_seq unless there is news, at most timeout_ns (0: none). */
static void
poller_sleep(struct runtime *r, struct wait *w, const struct pass *p,
	uint64_t timeout_ns)
{
	struct timespec timeout = {
		.tv_sec = (time_t)(timeout_ns / 1000000000u),
		.tv_nsec = (long)(timeout_ns % 1000000000u),
	};
	int held = ma_test_handoff_hold(MA_HANDOFF_POLLER_SLEEP);

	if (!held) {
		atomic_fetch_add_explicit(&r->poller_sleepers, 1,
			memory_order_relaxed);
		atomic_fetch_add_explicit(&poller_sleepers, 1,
			memory_order_relaxed);
		/*
		 * seq_cst: the counts before news() reads wakes and
		 * poller_seq; against the bump and count read of
		 * ma_runtime_wake and poller_seq_bump.
		 */
		waiter_fence();
	}

	int sleep = !news(r, w, p);

	ma_test_handoff_window(MA_HANDOFF_POLLER_SLEEP);
	if (held) {
		atomic_fetch_add_explicit(&r->poller_sleepers, 1,
			memory_order_relaxed);
		atomic_fetch_add_explicit(&poller_sleepers, 1,
			memory_order_relaxed);
	}
	if (sleep)
		ma_park_wait((const uint32_t *)&poller_seq, w->seen_poller,
			timeout_ns != 0 ? &timeout : NULL);
	atomic_fetch_sub_explicit(&poller_sleepers, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&r->poller_sleepers, 1,
		memory_order_relaxed);
}

/*
 * Returns once anything happened since the pass (with many wakers: once
 * enough did, or the first news is old enough), else sleeps. Spins
 * first, SPIN_NS from w->spin_from, a pause a step during the first
 * MA_SPIN_PAUSE_NS, then a yield a step.
 */
static void
runtime_park(struct runtime *r, struct wait *w, const struct pass *p)
{
	uint32_t batch = 1;
	uint64_t age = 0; /* news this old makes a pass */
	uint64_t first = 0; /* when the first news was seen (0: none) */
	uint64_t now = ma_now_ns();

	if (p->word != NULL) /* atomic by the poller's promise */
		MA_ATOMIC_WORDS(p->word, sizeof(*p->word));
	/*
	 * Many futures wait for wakes: pass again once half of them have
	 * news, or once news is as old as AGE_PASSES passes and one more
	 * per AGE_UNIT_NS a pass takes, so that passes do not outnumber
	 * completions (each pass reads every pending future, lines the
	 * workers are writing), at most AGE_MAX_PASSES: a pass of 1 us
	 * waits 2 us, one of 100 us (10 000 futures) 1.4 ms, so the
	 * passes' share of the time falls as they grow dearer.
	 */
	if (p->wakers >= BATCH_MIN && !p->pollers) {
		batch = (uint32_t)(p->wakers / 2);
		uint64_t passes = AGE_MAX_PASSES;

		if (p->ns < AGE_MAX_PASSES * AGE_UNIT_NS &&
				AGE_PASSES + p->ns / AGE_UNIT_NS < passes)
			passes = AGE_PASSES + p->ns / AGE_UNIT_NS;
		age = passes * p->ns;
	}
	if (w->spin_from == 0)
		w->spin_from = now;

	uint64_t spin_ns = SPIN_NS;

	if (p->due_ns != 0) {
		/* a device's word: watched about its due time (movers.h) */
		if (p->due_ns != w->device_due_ns) {
			w->device_due_ns = p->due_ns;
			w->device_late = 0;
			w->device_sleep_ns = MA_DEVICE_BACKOFF_MIN_NS;
		}
		if (w->device_late || p->due_ns > now +
				MA_DEVICE_SLEEP_AHEAD_NS)
			spin_ns = 0;
		else
			spin_ns = ma_device_spin_ns(p->due_ns, w->spin_from);
	}
	for (;;) {
		/* acquire: see everything published before a wake we see */
		uint32_t wakes = atomic_load_explicit(&r->wakes,
			memory_order_acquire);

		if (p->pollers && poller_news(w, p))
			break;
		if (wakes != w->seen) {
			if (first == 0)
				first = now;
			if (wakes - w->seen >= batch || now - first >= age)
				break;
		}

		uint64_t spun = now - w->spin_from;

		if (first != 0 ? first + age - now < DEFER_SLEEP_MIN_NS :
				spun < spin_ns) {
			/* deferred with the deadline near, or spinning */
			if (spun < MA_SPIN_PAUSE_NS)
				ma_cpu_relax();
			else
				sched_yield();
		} else if (first != 0) {
			/* deferred: asleep until enough news or the age */
			wakes_sleep(r, wakes, first + age);
		} else if (p->pollers) {
			if (p->due_ns != 0 && p->due_ns <= now +
					MA_DEVICE_SLEEP_AHEAD_NS)
				w->device_late = 1; /* watched: back off */
			poller_sleep(r, w, p, poller_timeout(w, p, now));
			w->spin_from = 0;
			return;
		} else {
			wakes_sleep(r, w->seen, 0);
			w->spin_from = ma_now_ns(); /* woken: spin anew */
		}
		now = ma_now_ns(); /* the age is read when tested */
	}
	/* the next spin counts from the news that made this pass */
	w->spin_from = first != 0 ? first : now;
}

/* Polls one future; nonzero while it is pending. Notes its promise. */
static int
poll_one(struct future *f, struct future_notifier *n, struct pass *p)
{
	ma_promised.word = NULL;
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
		if (n->poller.ptr_to_monitor != ma_promised.word) {
			p->foreign_pollers = 1;
			if (p->word == NULL)
				p->word = n->poller.ptr_to_monitor;
		} else if (ma_promised.due_ns != 0 && (p->due_ns == 0 ||
				ma_promised.due_ns < p->due_ns)) {
			p->due_ns = ma_promised.due_ns; /* a device's */
			p->word = n->poller.ptr_to_monitor;
		}
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

/*
 * Joins the waits that watch the library's poller words, so that their
 * movers signal from now on. The join, then the loads of the pass that
 * follows; against ma_poller_signal's word store, fence, watchers load.
 */
static void
watchers_join(struct wait *w)
{
	w->watching = 1;
#ifdef MA_FAULT_INJECTION
	w->join_window = 1;
	w->join_held = ma_test_handoff_hold(MA_HANDOFF_POLLER_JOIN);
	if (w->join_held)
		return;
#endif
	atomic_fetch_add_explicit(&poller_watchers, 1, memory_order_relaxed);
	/* seq_cst: the join before the next pass's loads (see above) */
	waiter_fence();
}

/*
 * A pass that must poll again at once: a yield of the processor now and
 * then, so that a thread this one waits for gets to run on a busy
 * machine, at a small cost to a future that progresses whenever it is
 * polled: the first after YIELD_EVERY_NS of such passes, each next one
 * after YIELD_SHARE times what the last one took (a yield that handed
 * the processor over for a while is paid for by that much polling).
 * The clock is read every CLOCK_EVERY passes.
 */
static void
busy_pass(struct wait *w)
{
	if (++w->busy_passes % CLOCK_EVERY != 0)
		return;

	uint64_t now = ma_now_ns();

	if (w->busy_since == 0) {
		w->busy_since = now;
		w->busy_gap = YIELD_EVERY_NS;
	} else if (now - w->busy_since >= w->busy_gap) {
		sched_yield();
		w->busy_since = ma_now_ns();
		w->busy_gap = YIELD_SHARE * (w->busy_since - now);
		if (w->busy_gap < YIELD_EVERY_NS)
			w->busy_gap = YIELD_EVERY_NS;
	}
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
#ifdef MA_FAULT_INJECTION
		if (w.join_window) {
			w.join_window = 0;
			ma_test_handoff_window(MA_HANDOFF_POLLER_JOIN);
			if (w.join_held)
				atomic_fetch_add_explicit(&poller_watchers, 1,
					memory_order_relaxed);
		}
#endif
		if (pending == 0)
			break;
		if (pending < before)
			w.poller_sleep_ns = POLLER_SLEEP_MIN_NS; /* progress */
		if (p.pollers && !w.watching) {
			watchers_join(&w);
			continue; /* pass again: signals come from now on */
		}
		if (!p.must_poll) {
			w.busy_passes = 0;
			w.busy_since = 0;
			runtime_park(runtime, &w, &p);
			continue;
		}
		busy_pass(&w);
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
