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
