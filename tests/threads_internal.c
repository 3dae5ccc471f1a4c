/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * threads_internal.c -- white-box tests of the threads mover, on the test
 * build of the library (lib/fault.h):
 * - busy polling many small copies keeps the mover's pool of records
 *   bounded by a small multiple of the ring, whether the only worker is
 *   idle or busy with a slow copy (read from the pool, not from RSS);
 * - idle workers sleep while a producer is stopped after claiming a ring
 *   slot that it has not filled yet, and the job completes once it goes
 *   on;
 * - a job a busy poller performs for another future arms no waker: the
 *   waker is never called from the poller's thread;
 * - after fork, a child whose mover's workers cannot be started again
 *   still completes its operations (they run in the polling thread), and
 *   calls the wakers of those in flight at the fork within fork.
 */

#include "whitebox.h" /* first: before the library's headers */

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include <libminiasync.h>

#include "fault.h"
#include "movers.h"
#include "test_util.h"

#define SLOW_SIZE 4096 /* the size of the copy the slow memcpy holds up */
#define RING 16

/*
 * The gate of test_util.h, closed with test_gate_close(SLOW_SIZE): a copy
 * of SLOW_SIZE bytes waits (asleep) until it opens; others pass.
 */

/* The bound the pool must keep: a small multiple of the ring. */
static size_t
pool_bound(void)
{
	return 4 * RING > 64 ? 4 * RING : 64;
}

/*
 * Busy polls (NULL notifier) many 64-byte copies on a one-worker mover,
 * with its worker held by a slow copy (busy) or not (idle); then the
 * pool must still be within the bound: records a poller is done with
 * are reused, none is left held by a queue entry.
 */
static void
busy_poll_memory(int busy)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, RING,
		FUTURE_NOTIFIER_WAKER);

	ck_assert_ptr_nonnull(dmt);
	data_mover_threads_set_memcpy_fn(dmt, test_gated_memcpy);

	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	static char slow_src[SLOW_SIZE], slow_dst[SLOW_SIZE];
	struct vdm_operation_future slow;
	_Atomic unsigned woken = 0;

	test_gate_close(SLOW_SIZE);
	if (busy) {
		struct future_notifier n = test_notifier(test_count_wake,
			(void *)&woken);

		slow = vdm_memcpy(vdm, slow_dst, slow_src, SLOW_SIZE, 0);
		/* with a waker: for the worker, not for a busy poller */
		future_poll(FUTURE_AS_RUNNABLE(&slow), &n);
		test_gate_wait_held(1);
	}

	unsigned iters = test_stress_iterations(4000000);
	char src[64], dst[64];
	unsigned bad = 0;

	for (unsigned i = 0; i < iters; i++) {
		memset(src, (int)(i & 0xff), sizeof(src));

		struct vdm_operation_future f = vdm_memcpy(vdm, dst, src,
			sizeof(src), 0);

		FUTURE_BUSY_POLL(&f);
		/* (no ck_assert per copy: Check writes a record for each) */
		bad += FUTURE_OUTPUT(&f)->result != VDM_SUCCESS ||
			dst[63] != src[63];
	}
	ck_assert_uint_eq(bad, 0);

	size_t records = ma_threads_pool_records(dmt);

	test_gate_open();
	if (busy) {
		FUTURE_BUSY_POLL(&slow);
		ck_assert_uint_eq(atomic_load(&woken), 1);
	}
	data_mover_threads_delete(dmt);
	ck_assert_msg(records <= pool_bound(),
		"%u busy-polled copies (worker %s) left a pool of %zu "
		"records; bound %zu", iters, busy ? "busy" : "idle",
		records, pool_bound());
}

struct helper {
	struct vdm *vdm;
	char src[64];
	char dst[64];
};

/* Busy polls a small copy of its own: helps with the oldest queued job. */
static void *
helper_main(void *arg)
{
	struct helper *h = arg;
	struct vdm_operation_future k = vdm_memcpy(h->vdm, h->dst, h->src,
		sizeof(h->src), 0);

	FUTURE_BUSY_POLL(&k);
	return (void *)(uintptr_t)(FUTURE_OUTPUT(&k)->result == VDM_SUCCESS);
}

/*
 * A job that a busy poller performs for another future: a poll of that
 * future with a waker meanwhile is promised nothing (wakers are called
 * by workers only), and the waker is never called from the poller.
 */
START_TEST(test_polled_job_arms_no_waker)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, RING,
		FUTURE_NOTIFIER_WAKER);
	static char ssrc[SLOW_SIZE], sdst[SLOW_SIZE];
	static char jsrc[SLOW_SIZE], jdst[SLOW_SIZE];
	struct helper h = { 0 };
	_Atomic unsigned woken_slow = 0, woken_j = 0;
	struct future_notifier n = { 0 };
	pthread_t t;
	void *ret;

	ck_assert_ptr_nonnull(dmt);
	data_mover_threads_set_memcpy_fn(dmt, test_gated_memcpy);
	h.vdm = data_mover_threads_get_vdm(dmt);
	memset(jsrc, 0x77, sizeof(jsrc));
	test_gate_close(SLOW_SIZE);

	/* the only worker: held at the gate */
	struct vdm_operation_future slow = vdm_memcpy(h.vdm, sdst, ssrc,
		SLOW_SIZE, 0);

	n = test_notifier(test_count_wake, (void *)&woken_slow);
	future_poll(FUTURE_AS_RUNNABLE(&slow), &n);
	test_gate_wait_held(1);

	/* queued with no waker: a busy poller may take it */
	struct vdm_operation_future j = vdm_memcpy(h.vdm, jdst, jsrc,
		SLOW_SIZE, 0);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&j), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_int_eq(pthread_create(&t, NULL, helper_main, &h), 0);
	test_gate_wait_held(2); /* the helper performs j, held at the gate */

	n = test_notifier(test_count_wake, (void *)&woken_j);
	n.notifier_used = FUTURE_NOTIFIER_WAKER;
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&j), &n),
		FUTURE_STATE_RUNNING);
	ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_NONE);

	test_gate_open();
	pthread_join(t, &ret);
	ck_assert_ptr_eq(ret, (void *)1);
	FUTURE_BUSY_POLL(&j);
	ck_assert_int_eq(memcmp(jdst, jsrc, SLOW_SIZE), 0);
	ck_assert_uint_eq(atomic_load(&woken_j), 0);
	FUTURE_BUSY_POLL(&slow);
	ck_assert_uint_eq(atomic_load(&woken_slow), 1);
	data_mover_threads_delete(dmt);
}
END_TEST

START_TEST(test_busy_poll_memory_busy_worker)
{
	busy_poll_memory(1);
}
END_TEST

START_TEST(test_busy_poll_memory_idle_worker)
{
	busy_poll_memory(0);
}
END_TEST

/* The producer stopped at its claimed ring slot, and what lets it go. */
struct stall {
	_Atomic pid_t producer_tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopped;
	int go;
};

static struct stall stall = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static _Thread_local int is_producer;

/* The hook at MA_HOOK_RING_CLAIMED: stops the producer until told. */
static void
stall_hook(void *arg)
{
	struct stall *st = arg;

	if (!is_producer)
		return;
	pthread_mutex_lock(&st->lock);
	st->stopped = 1;
	pthread_cond_broadcast(&st->cond);
	while (!st->go)
		pthread_cond_wait(&st->cond, &st->lock);
	pthread_mutex_unlock(&st->lock);
}

struct produce {
	struct vdm *vdm;
	char src[256];
	char dst[256];
	_Atomic unsigned woken;
};

static void *
producer_main(void *arg)
{
	struct produce *p = arg;
	struct future_notifier n = test_notifier(test_count_wake,
		(void *)&p->woken);

	is_producer = 1;
	atomic_store(&stall.producer_tid, test_gettid());

	struct vdm_operation_future f = vdm_memcpy(p->vdm, p->dst, p->src,
		sizeof(p->src), 0);

	/* queues it: stops in the hook, between claiming and filling */
	future_poll(FUTURE_AS_RUNNABLE(&f), &n);
	/* armed with a waker: only a worker can perform it */
	FUTURE_BUSY_POLL(&f);
	return (void *)(uintptr_t)(FUTURE_OUTPUT(&f)->result == VDM_SUCCESS);
}

/* Every thread of this process but ours and skip: asleep? */
static int
others_asleep(pid_t skip)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int ok = 1;
	pid_t self = test_gettid();

	if (d == NULL || self == 0) {
		printf("not proving that the workers sleep: "
			"/proc/self/task is not readable here\n");
		if (d != NULL)
			closedir(d);
		return 1;
	}
	while (ok && (e = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid > 0 && tid != self && tid != skip)
			ok = test_wait_until_sleeping(tid);
	}
	closedir(d);
	return ok;
}

START_TEST(test_stalled_producer)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 8,
		FUTURE_NOTIFIER_WAKER);
	struct produce p = { 0 };
	pthread_t producer;
	void *ret;

	ck_assert_ptr_nonnull(dmt);
	p.vdm = data_mover_threads_get_vdm(dmt);
	memset(p.src, 0x5a, sizeof(p.src));
	stall.stopped = 0;
	stall.go = 0;
	ma_test_hook_set(MA_HOOK_RING_CLAIMED, stall_hook, &stall);
	pthread_mutex_lock(&stall.lock);
	ck_assert_int_eq(pthread_create(&producer, NULL, producer_main,
		&p), 0);
	while (!stall.stopped)
		pthread_cond_wait(&stall.cond, &stall.lock);
	pthread_mutex_unlock(&stall.lock);

	/* the slot is claimed, not filled: no worker may spin on it */
	ck_assert_msg(others_asleep(atomic_load(&stall.producer_tid)),
		"a worker spins on a ring slot nobody has filled");

	pthread_mutex_lock(&stall.lock);
	stall.go = 1;
	pthread_cond_broadcast(&stall.cond);
	pthread_mutex_unlock(&stall.lock);
	pthread_join(producer, &ret);
	ma_test_hook_set(MA_HOOK_RING_CLAIMED, NULL, NULL);
	ck_assert_ptr_eq(ret, (void *)1);
	ck_assert_uint_eq(atomic_load(&p.woken), 1);
	ck_assert_int_eq(memcmp(p.dst, p.src, sizeof(p.src)), 0);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * A child whose mover's workers cannot be started again (the first
 * thread start fails there) completes a big copy, busy polled and
 * waited for by a runtime, and a small one: in the polling thread.
 */
START_TEST(test_fork_no_workers)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 8,
		FUTURE_NOTIFIER_WAKER);
	size_t big = (size_t)4 << 20;
	char *src = malloc(big), *dst = malloc(big);
	int status;

	ck_assert_ptr_nonnull(dmt);
	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dst);
	memset(src, 0x3c, big);
	ma_fault_arm(MA_FAULT_THREAD, 1);

	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(60); /* a hang fails the test instead of stopping it */

		struct vdm *vdm = data_mover_threads_get_vdm(dmt);
		struct vdm_operation_future f = vdm_memcpy(vdm, dst, src,
			big, 0);
		struct runtime *r = runtime_new();
		int ok = r != NULL;

		FUTURE_BUSY_POLL(&f);
		ok = ok && FUTURE_OUTPUT(&f)->result == VDM_SUCCESS &&
			memcmp(dst, src, big) == 0;
		memset(dst, 0, big);
		f = vdm_memcpy(vdm, dst, src, big, 0);
		if (r != NULL)
			runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
		ok = ok && memcmp(dst, src, big) == 0;
		f = vdm_memcpy(vdm, dst, src, 64, 0);
		FUTURE_BUSY_POLL(&f);
		ok = ok && FUTURE_OUTPUT(&f)->result == VDM_SUCCESS;
		data_mover_threads_delete(dmt);
		runtime_delete(r);
		_exit(ok ? 0 : 1);
	}
	ma_fault_arm(MA_FAULT_THREAD, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child's operations failed or hung (status %d)", status);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
END_TEST

/*
 * The same, with a job whose waker is a runtime's on which a thread of
 * the parent sleeps: the child performs the job within fork (no worker
 * can be started there) and calls that waker, which wakes the sleepers
 * it counts. The condition-variable build's wait table must be set up
 * for the child before the movers are: its child handler runs first, its
 * prepare handler last. When the movers' handlers came first, the child
 * woke on a bucket whose lock the wait table's prepare handler had taken
 * in that very thread, and hung inside fork.
 */
static pid_t waker_gate_pid; /* the copy waits in this process only */
static _Atomic int waker_gate_open;

static void *
waker_gated_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	while (!atomic_load(&waker_gate_open) && getpid() == waker_gate_pid)
		sched_yield();
	return memcpy(dst, src, n);
}

struct fork_waiter {
	struct runtime *r;
	struct vdm_operation_future *f;
	_Atomic pid_t tid;
};

static void *
fork_waiter_main(void *arg)
{
	struct fork_waiter *w = arg;

	atomic_store(&w->tid, test_gettid());
	runtime_wait(w->r, FUTURE_AS_RUNNABLE(w->f));
	return NULL;
}

START_TEST(test_fork_no_workers_waker)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 8,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *r = runtime_new();
	static char src[64], dst[64];
	struct fork_waiter w;
	pthread_t t;
	int status;

	ck_assert_ptr_nonnull(dmt);
	ck_assert_ptr_nonnull(r);

	/*
	 * helgrind and DRD do not see that a fork orders what the parent's
	 * other threads did before it (the waiter's op_start here) before
	 * the child's handlers, which rebuild the mover from that.
	 */
	if (test_thread_checker("test_fork_no_workers_waker")) {
		data_mover_threads_delete(dmt);
		runtime_delete(r);
		return;
	}
	memset(src, 0x6b, sizeof(src));
	waker_gate_pid = getpid();
	atomic_store(&waker_gate_open, 0);
	data_mover_threads_set_memcpy_fn(dmt, waker_gated_memcpy);

	struct vdm_operation_future f = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), dst, src, sizeof(src), 0);

	w.r = r;
	w.f = &f;
	atomic_init(&w.tid, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, fork_waiter_main, &w), 0);
	while (atomic_load(&w.tid) == 0)
		sched_yield();
	/* it sleeps on the runtime: the job is held, its waker armed */
	ck_assert(test_wait_until_sleeping(atomic_load(&w.tid)));
	ma_fault_arm(MA_FAULT_THREAD, 1);

	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the job was done within fork, by this thread */
		int ok = memcmp(dst, src, sizeof(src)) == 0;
		struct vdm_operation_future g = vdm_memset(
			data_mover_threads_get_vdm(dmt), dst, 1, sizeof(dst),
			0);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&g));
		ok = ok && dst[0] == 1 && dst[sizeof(dst) - 1] == 1;
		_exit(ok ? 0 : 1);
	}
	ma_fault_arm(MA_FAULT_THREAD, 0);
	atomic_store(&waker_gate_open, 1);
	pthread_join(t, NULL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child's operations failed (status %d)", status);
	ck_assert_int_eq(memcmp(dst, src, sizeof(src)), 0);
	data_mover_threads_delete(dmt);
	runtime_delete(r);
}
END_TEST

Suite *test_suite(void);

Suite *
test_suite(void)
{
	Suite *s = suite_create("threads_internal");
	TCase *memory = tcase_create("memory");
	TCase *memory_idle = tcase_create("memory_idle");
	TCase *sleep = tcase_create("sleep");
	TCase *fork_tc = tcase_create("fork");

	tcase_set_timeout(memory, 600);
	tcase_add_test(memory, test_busy_poll_memory_busy_worker);
	suite_add_tcase(s, memory);
	tcase_set_timeout(memory_idle, 600);
	tcase_add_test(memory_idle, test_busy_poll_memory_idle_worker);
	suite_add_tcase(s, memory_idle);
	tcase_set_timeout(sleep, 60);
	tcase_add_test(sleep, test_stalled_producer);
	tcase_add_test(sleep, test_polled_job_arms_no_waker);
	suite_add_tcase(s, sleep);
	tcase_set_timeout(fork_tc, 120);
	tcase_add_test(fork_tc, test_fork_no_workers);
	tcase_add_test(fork_tc, test_fork_no_workers_waker);
	suite_add_tcase(s, fork_tc);
	return s;
}
