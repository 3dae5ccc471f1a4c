/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * fault.c -- fault injection for the test build of the library: counts
 * allocations and thread starts and fails the armed one.
 */

#include <errno.h>
#include <stdatomic.h>

#include "fault.h"

#ifdef MA_FAULT_INJECTION

static _Atomic unsigned long fault_calls[MA_FAULT_KINDS];
static _Atomic unsigned long fault_at[MA_FAULT_KINDS];

unsigned long
ma_fault_arm(enum ma_fault_kind kind, unsigned long n)
{
	unsigned long calls = atomic_exchange(&fault_calls[kind], 0);

	atomic_store(&fault_at[kind], n);
	return calls;
}

/* Nonzero when this call of that kind is the one to fail. */
static int
fault_now(enum ma_fault_kind kind)
{
	unsigned long call = atomic_fetch_add(&fault_calls[kind], 1) + 1;

	return call == atomic_load(&fault_at[kind]);
}

void *
ma_malloc(size_t size)
{
	if (fault_now(MA_FAULT_ALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(size);
}

void *
ma_aligned_alloc(size_t alignment, size_t size)
{
	if (fault_now(MA_FAULT_ALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned_alloc(alignment, size);
}

static _Atomic unsigned long test_counts[MA_TEST_EVENTS];

void
ma_test_note(enum ma_test_event event, unsigned long amount)
{
	atomic_fetch_add(&test_counts[event], amount);
}

unsigned long
ma_test_count(enum ma_test_event event)
{
	return atomic_exchange(&test_counts[event], 0);
}

/* The armed hand-off hooks: hold, window, its argument; 'taken' once the
 * library reached the store, so that the window follows that very one. */
static struct {
	_Atomic int armed;
	_Atomic int taken;
	int hold;
	void (*window)(void *arg);
	void *arg;
} handoffs[MA_HANDOFFS];

void
ma_test_handoff_arm(enum ma_handoff h, int hold, void (*window)(void *arg),
	void *arg)
{
	handoffs[h].hold = hold;
	handoffs[h].window = window;
	handoffs[h].arg = arg;
	atomic_store(&handoffs[h].taken, 0);
	atomic_store(&handoffs[h].armed, 1);
}

int
ma_test_handoff_hold(enum ma_handoff h)
{
	int one = 1;

	if (!atomic_compare_exchange_strong(&handoffs[h].armed, &one, 0))
		return 0;
	atomic_store(&handoffs[h].taken, 1);
	return handoffs[h].hold;
}

void
ma_test_handoff_window(enum ma_handoff h)
{
	int one = 1;

	if (atomic_compare_exchange_strong(&handoffs[h].taken, &one, 0) &&
			handoffs[h].window != NULL)
		handoffs[h].window(handoffs[h].arg);
}

static _Atomic unsigned long long clock_skew;

void
ma_test_clock_advance(unsigned long long ns)
{
	atomic_fetch_add(&clock_skew, ns);
}

unsigned long long
ma_test_clock_skew(void)
{
	return atomic_load_explicit(&clock_skew, memory_order_relaxed);
}

struct test_hook {
	void (*_Atomic fn)(void *);
	void *_Atomic arg;
};

static struct test_hook test_hooks[MA_HOOK_POINTS];

void
ma_test_hook_set(enum ma_test_hook_point point, void (*fn)(void *),
	void *arg)
{
	atomic_store(&test_hooks[point].arg, arg);
	atomic_store(&test_hooks[point].fn, fn);
}

void
ma_test_hook(enum ma_test_hook_point point)
{
	void (*fn)(void *) = atomic_load(&test_hooks[point].fn);

	if (fn != NULL)
		fn(atomic_load(&test_hooks[point].arg));
}

int
ma_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	if (fault_now(MA_FAULT_THREAD))
		return EAGAIN;
	return pthread_create(thread, NULL, fn, arg);
}

#endif
