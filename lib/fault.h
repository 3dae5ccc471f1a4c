/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * fault.h -- the library's allocation and thread-start calls. In the test
 * build (MA_FAULT_INJECTION) they can be made to fail on the n-th call;
 * in the installed library they are the plain C and POSIX calls. The
 * test build also counts a few events that tests cannot observe from
 * outside; in the installed library ma_test_note() is nothing.
 */

#ifndef MA_FAULT_H
#define MA_FAULT_H 1

#include <pthread.h>
#include <stdlib.h>

#ifdef MA_FAULT_INJECTION

/* What can be made to fail. */
enum ma_fault_kind {
	MA_FAULT_ALLOC, /* ma_malloc, ma_aligned_alloc: NULL, ENOMEM */
	MA_FAULT_THREAD, /* ma_thread_create: EAGAIN */
	MA_FAULT_KINDS,
};

/*
 * Makes the n-th call of that kind from now on fail (n >= 1), or none
 * (n == 0). Returns how many calls of that kind were made since the last
 * arming, so a test can sweep n until a run completes without failing.
 */
unsigned long ma_fault_arm(enum ma_fault_kind kind, unsigned long n);

void *ma_malloc(size_t size);
void *ma_aligned_alloc(size_t alignment, size_t size);
int ma_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Events the test build counts, for white-box tests (tests/hooks.c). */
enum ma_test_event {
	MA_TEST_WRITTEN_BACK, /* bytes written back after a user's function */
	MA_TEST_TIMED_SLEEP, /* runtime sleeps with a timeout */
	MA_TEST_DEFERRED_SLEEP, /* runtime sleeps until a batch's deadline */
	MA_TEST_DEVICE_SLEEP, /* runtime sleeps timed for a device's word */
	MA_TEST_WAKES_SLEEP, /* runtime sleeps on its wake count (any) */
	MA_TEST_EVENTS,
};

/* Adds amount to the event's count. */
void ma_test_note(enum ma_test_event event, unsigned long amount);

/* The event's count since the last call, which resets it. */
unsigned long ma_test_count(enum ma_test_event event);

/*
 * Store-then-load hand-offs (doc/design.md, "Memory ordering"): a waiter
 * announces itself with a store, then loads to look for news; the other
 * side stores news, then loads to look for waiters. At each, on the
 * waiter's side, a test can arm a one-shot hook:
 * - window(arg) is called right after the loads that follow the
 *   announcing store (NULL: nothing is called);
 * - with hold, the announcing store is made only after the window, and
 *   the fence between them is left out: the very reordering that the
 *   fence forbids, made to happen on any processor.
 * MA_HANDOFF_PARK is the re-check of the condition-variable build's
 * ma_park_wait, whose announcing store is its caller's: a test holding
 * it makes that store itself, in the window.
 */
enum ma_handoff {
	MA_HANDOFF_POLLER_JOIN, /* runtime joins the poller watchers */
	MA_HANDOFF_POLLER_SLEEP, /* runtime counts itself a poller sleeper */
	MA_HANDOFF_PARK, /* ma_park_wait's re-check under the bucket lock */
	MA_HANDOFFS,
};

void ma_test_handoff_arm(enum ma_handoff h, int hold,
	void (*window)(void *arg), void *arg);

/* In the library: nonzero when this announcing store is to be held. */
int ma_test_handoff_hold(enum ma_handoff h);

/* In the library, after the loads: calls the armed window, disarms. */
void ma_test_handoff_window(enum ma_handoff h);

/* Moves the library's clock (ma_now_ns) on by ns, for tests. */
void ma_test_clock_advance(unsigned long long ns);

/* How far it was moved. */
unsigned long long ma_test_clock_skew(void);
/* Points where the test build can run a test's function (tests stop there). */
enum ma_test_hook_point {
	MA_HOOK_RING_CLAIMED, /* a producer claimed a ring position */
	MA_HOOK_POINTS,
};

/* Makes the point call fn(arg) from now on, or nothing (fn NULL). */
void ma_test_hook_set(enum ma_test_hook_point point, void (*fn)(void *),
	void *arg);

/* Calls the point's function, if one is set. */
void ma_test_hook(enum ma_test_hook_point point);

#else

#define ma_test_note(event, amount) ((void)0)
#define ma_test_handoff_hold(h) 0
#define ma_test_handoff_window(h) ((void)0)
#define ma_test_hook(point) ((void)0)

#define ma_malloc(size) malloc(size)
#define ma_aligned_alloc(alignment, size) aligned_alloc(alignment, size)
#define ma_thread_create(thread, fn, arg) pthread_create(thread, NULL, fn, arg)

#endif

#endif /* MA_FAULT_H */
