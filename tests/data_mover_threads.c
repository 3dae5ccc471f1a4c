/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_threads.c -- tests of the threads mover: every operation
 * with every notifier, size and misalignment checked byte for byte; a
 * tiny queue; deletion with work queued; custom functions; bad
 * arguments; a child process after fork; many threads on one mover and
 * one runtime.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include <libminiasync.h>

#include "test_util.h"
#include "valgrind.h"

#define GUARD 64

static const size_t sizes[] = {
	0, 1, 7, 63, 64, 65, 4095, 4096, 4097,
	(2u << 20) + 5, /* cut into shares */
	(5u << 20) + 3,
};

static const unsigned flag_sets[] = {
	0, VDM_F_MEM_DURABLE, VDM_F_NO_CACHE_HINT,
	VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT, 1u << 7,
};

/*
 * Runs one operation of each kind at (size, dest offset, src offset)
 * and compares the whole guarded buffer with what libc computes.
 */
static void
check_operations(struct runtime *r, struct vdm *vdm, size_t n,
	size_t doff, size_t soff, unsigned flags)
{
	size_t len = n + 2 * GUARD + 64;
	unsigned char *src = malloc(len);
	unsigned char *dst = malloc(len);
	unsigned char *ref = malloc(len);

	ck_assert(src != NULL && dst != NULL && ref != NULL);
	test_fill(src, len, 1);

	/* memcpy */
	test_fill(dst, len, 2);
	memcpy(ref, dst, len);
	memcpy(ref + GUARD + doff, src + GUARD + soff, n);
	struct vdm_operation_future f = vdm_memcpy(vdm, dst + GUARD + doff,
		src + GUARD + soff, n, flags);

	test_wait_success(r, &f);
	ck_assert_ptr_eq(f.output.output.memcpy.dest, dst + GUARD + doff);
	ck_assert_msg(test_first_diff(dst, ref, len) == len,
		"memcpy n=%zu doff=%zu soff=%zu flags=%u: byte %zu differs",
		n, doff, soff, flags, test_first_diff(dst, ref, len));

	/* memmove, overlapping forwards within dst */
	test_fill(dst, len, 3);
	memcpy(ref, dst, len);
	size_t shift = soff + 1;

	if (n + shift + GUARD <= len - GUARD) {
		memmove(ref + GUARD + shift, ref + GUARD, n);
		f = vdm_memmove(vdm, dst + GUARD + shift, dst + GUARD, n,
			flags);
		test_wait_success(r, &f);
		ck_assert_ptr_eq(f.output.output.memmove.dest,
			dst + GUARD + shift);
		ck_assert_msg(test_first_diff(dst, ref, len) == len,
			"memmove n=%zu shift=%zu flags=%u: byte %zu differs",
			n, shift, flags, test_first_diff(dst, ref, len));
	}

	/* memset */
	test_fill(dst, len, 4);
	memcpy(ref, dst, len);
	memset(ref + GUARD + doff, 0xa5, n);
	f = vdm_memset(vdm, dst + GUARD + doff, 0xa5, n, flags);
	test_wait_success(r, &f);
	ck_assert_ptr_eq(f.output.output.memset.str, dst + GUARD + doff);
	ck_assert_msg(test_first_diff(dst, ref, len) == len,
		"memset n=%zu doff=%zu flags=%u: byte %zu differs",
		n, doff, flags, test_first_diff(dst, ref, len));

	/* flush changes nothing */
	f = vdm_flush(vdm, dst + GUARD + doff, n, flags);
	test_wait_success(r, &f);
	ck_assert_int_eq(f.output.type, VDM_OPERATION_FLUSH);
	ck_assert_msg(test_first_diff(dst, ref, len) == len,
		"flush changed data");

	free(src);
	free(dst);
	free(ref);
}

/* Every operation x notifier x size x flags x misalignment. */
START_TEST(test_operations)
{
	enum future_notifier_type notifier = test_notifiers[_i];
	struct data_mover_threads *dmt = data_mover_threads_new(2, 16,
		notifier);
	struct runtime *r = runtime_new();

	ck_assert_ptr_nonnull(dmt);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	/* fewer, smaller cases when the stress tests are cut down (valgrind) */
	int quick = test_stress_iterations(20000) < 20000;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		int big = sizes[s] > 65536;
		size_t offsets = quick ? (big ? 1 : 2) : (big ? 2 : 9);
		size_t nflags = quick && big ? 1 :
			sizeof(flag_sets) / sizeof(flag_sets[0]);

		if (quick && sizes[s] > (3u << 20))
			continue;

		for (size_t o = 0; o < offsets; o++)
			for (size_t fl = 0; fl < nflags; fl++)
				check_operations(o % 2 ? NULL : r, vdm,
					sizes[s], o * 7 % 17, o * 3 % 17,
					flag_sets[fl]);
	}
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* n == 0 touches nothing, even at NULL. */
START_TEST(test_zero_null)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *r = runtime_new();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct vdm_operation_future f[4] = {
		vdm_memcpy(vdm, NULL, NULL, 0, 0),
		vdm_memmove(vdm, NULL, NULL, 0, 0),
		vdm_memset(vdm, NULL, 1, 0, 0),
		vdm_flush(vdm, NULL, 0, VDM_F_MEM_DURABLE),
	};

	for (int i = 0; i < 4; i++)
		test_wait_success(r, &f[i]);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

START_TEST(test_properties)
{
	struct data_mover_threads *dmt = data_mover_threads_default();

	ck_assert_ptr_nonnull(dmt);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char a[8] = "abcdefg";
	char b[8];
	struct vdm_operation_future f = vdm_memcpy(vdm, b, a, 8, 0);

	ck_assert_int_eq(!!vdm_is_supported(vdm, VDM_F_MEM_DURABLE),
		test_durable_expected());
	ck_assert(vdm_is_supported(vdm, VDM_F_NO_CACHE_HINT));
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&f),
		FUTURE_PROPERTY_ASYNC), 1);
	ck_assert_int_eq(FUTURE_STATE(&f), FUTURE_STATE_IDLE);
	FUTURE_BUSY_POLL(&f);
	ck_assert_str_eq(b, "abcdefg");
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * The first poll queues the work and says how completion is told: the
 * waker is called exactly once, before the future polls complete; the
 * poller word turns nonzero.
 */
START_TEST(test_first_poll_notifier)
{
	enum future_notifier_type notifier = test_notifiers[_i];
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		notifier);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	static char a[4096];
	_Atomic unsigned woken = 0;
	struct vdm_operation_future f = vdm_memset(vdm, a, 3, sizeof(a), 0);
	struct future_notifier n;

	n = test_notifier(test_count_wake, &woken);
	enum future_state s = future_poll(FUTURE_AS_RUNNABLE(&f), &n);

	ck_assert_int_ne(s, FUTURE_STATE_IDLE);
	ck_assert_int_eq(n.notifier_used, notifier);
	if (notifier == FUTURE_NOTIFIER_POLLER) {
		ck_assert_ptr_nonnull(n.poller.ptr_to_monitor);
		while (__atomic_load_n(n.poller.ptr_to_monitor,
				__ATOMIC_ACQUIRE) == 0)
			future_cpu_pause();
	}
	/*
	 * Later polls promise the same, except one made while the worker
	 * is calling the waker: RUNNING, promising nothing (poll again).
	 */
	while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) !=
			FUTURE_STATE_COMPLETE)
		ck_assert(n.notifier_used == notifier ||
			(notifier == FUTURE_NOTIFIER_WAKER &&
			n.notifier_used == FUTURE_NOTIFIER_NONE));
	int wakes = atomic_load(&woken);

	ck_assert_int_eq(wakes, notifier == FUTURE_NOTIFIER_WAKER);
	ck_assert_int_eq(a[0], 3);
	ck_assert_int_eq(a[4095], 3);
	data_mover_threads_delete(dmt);
}
END_TEST

/* A 1-entry queue and hundreds of operations in flight at once. */
START_TEST(test_tiny_queue)
{
	enum future_notifier_type notifier = test_notifiers[_i];
	enum { NOPS = 300 };
	struct data_mover_threads *dmt = data_mover_threads_new(2, 1,
		notifier);
	struct runtime *r = runtime_new();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	static struct vdm_operation_future futs[NOPS];
	static struct future *list[NOPS];
	static uint32_t src[NOPS], dst[NOPS];

	for (int i = 0; i < NOPS; i++) {
		src[i] = (uint32_t)i * 2654435761u;
		dst[i] = 0;
		futs[i] = vdm_memcpy(vdm, &dst[i], &src[i], sizeof(dst[i]), 0);
		list[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	runtime_wait_multiple(r, list, NOPS);
	for (int i = 0; i < NOPS; i++) {
		ck_assert_int_eq(FUTURE_STATE(&futs[i]), FUTURE_STATE_COMPLETE);
		ck_assert_int_eq(futs[i].output.result, VDM_SUCCESS);
		ck_assert_uint_eq(dst[i], src[i]);
	}
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* Counting replacements for the workers' functions. */
static _Atomic unsigned custom_calls;
static _Atomic int gate_open;

static void *
counting_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	atomic_fetch_add(&custom_calls, 1);
	return memcpy(dst, src, n);
}

static void *
counting_memmove(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	atomic_fetch_add(&custom_calls, 1);
	return memmove(dst, src, n);
}

static void *
counting_memset(void *str, int c, size_t n, unsigned flags)
{
	(void)flags;
	atomic_fetch_add(&custom_calls, 1);
	return memset(str, c, n);
}

/*
 * A memcpy that waits for the gate to open before it copies (and, for
 * helgrind, after what the opener did before: see lib/valgrind.h).
 */
static void *
gated_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	while (!atomic_load(&gate_open))
		sched_yield();
	MA_HAPPENS_AFTER(&gate_open);
	return counting_memcpy(dst, src, n, flags);
}

START_TEST(test_custom_functions)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 8,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *r = runtime_new();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char a[16] = "0123456789", b[16] = { 0 };

	atomic_store(&custom_calls, 0);
	data_mover_threads_set_memcpy_fn(dmt, counting_memcpy);
	data_mover_threads_set_memmove_fn(dmt, counting_memmove);
	data_mover_threads_set_memset_fn(dmt, counting_memset);

	struct vdm_operation_future f = vdm_memcpy(vdm, b, a, 11, 0);

	test_wait_success(r, &f);
	f = vdm_memmove(vdm, b + 1, b, 5, 0);
	test_wait_success(r, &f);
	f = vdm_memset(vdm, a, 'x', 3, 0);
	test_wait_success(r, &f);
	ck_assert_uint_eq(atomic_load(&custom_calls), 3);
	ck_assert_str_eq(b, "0012346789");
	ck_assert_str_eq(a, "xxx3456789");

	/* NULL restores the library's own functions */
	data_mover_threads_set_memcpy_fn(dmt, NULL);
	data_mover_threads_set_memmove_fn(dmt, NULL);
	data_mover_threads_set_memset_fn(dmt, NULL);
	f = vdm_memcpy(vdm, b, a, 11, 0);
	test_wait_success(r, &f);
	f = vdm_memmove(vdm, b, b + 1, 3, 0);
	test_wait_success(r, &f);
	f = vdm_memset(vdm, b, 'y', 1, 0);
	test_wait_success(r, &f);
	ck_assert_uint_eq(atomic_load(&custom_calls), 3);
	ck_assert_str_eq(b, "yx33456789");
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* Opens the gate once the thread tid blocks (in delete's join). */
static void *
gate_opener(void *arg)
{
	test_wait_until_sleeping(*(pid_t *)arg);
	atomic_store(&gate_open, 1);
	return NULL;
}

/*
 * Delete with work queued: the only worker is held in the first copy
 * until the deleting thread blocks; every queued copy is still done.
 */
START_TEST(test_delete_finishes_queue)
{
	enum { NOPS = 12 };
	struct data_mover_threads *dmt = data_mover_threads_new(1, 16,
		FUTURE_NOTIFIER_NONE);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	static uint64_t src[NOPS], dst[NOPS];
	struct vdm_operation_future futs[NOPS];
	pid_t self = test_gettid();
	pthread_t opener;

	atomic_store(&custom_calls, 0);
	atomic_store(&gate_open, 0);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	for (int i = 0; i < NOPS; i++) {
		src[i] = 0x1000u + (uint64_t)i;
		dst[i] = 0;
		futs[i] = vdm_memcpy(vdm, &dst[i], &src[i], 8, 0);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&futs[i]),
			NULL), FUTURE_STATE_RUNNING);
	}
	ck_assert_int_eq(pthread_create(&opener, NULL, gate_opener, &self),
		0);
	data_mover_threads_delete(dmt);
	pthread_join(opener, NULL);
	ck_assert_uint_eq(atomic_load(&custom_calls), NOPS);
	for (int i = 0; i < NOPS; i++)
		ck_assert_uint_eq(dst[i], src[i]);
}
END_TEST

START_TEST(test_bad_arguments)
{
	errno = 0;
	ck_assert_ptr_null(data_mover_threads_new(0, 8,
		FUTURE_NOTIFIER_WAKER));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(data_mover_threads_new(2, 0,
		FUTURE_NOTIFIER_WAKER));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(data_mover_threads_new(2, 8,
		(enum future_notifier_type)7));
	ck_assert_int_eq(errno, EINVAL);
	data_mover_threads_delete(NULL);

	/* a created but never polled future is reclaimed with the mover */
	struct data_mover_threads *dmt = data_mover_threads_new(1, 2,
		FUTURE_NOTIFIER_WAKER);
	char a[4], b[4];
	struct vdm_operation_future f = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), b, a, 4, 0);

	ck_assert_int_eq(FUTURE_STATE(&f), FUTURE_STATE_IDLE);
	data_mover_threads_delete(dmt);
}
END_TEST

static void *
gate_open_later(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++)
		sched_yield();
	atomic_store(&gate_open, 1);
	return NULL;
}

/*
 * Started with one waker, then waited for by a runtime: the runtime's
 * poll arms its own waker in place of the first one (the latest poller
 * is the one woken), so the first waker is never called.
 */
START_TEST(test_wait_with_other_waker)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *r = runtime_new();
	uint64_t a = 77, b = 0;
	_Atomic unsigned woken = 0;
	struct future_notifier n;
	pthread_t opener;

	atomic_store(&gate_open, 0);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	n = test_notifier(test_count_wake, &woken);

	struct vdm_operation_future f = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), &b, &a, 8, 0);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
		FUTURE_STATE_RUNNING);
	ck_assert_int_eq(pthread_create(&opener, NULL, gate_open_later,
		NULL), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	pthread_join(opener, NULL);
	int wakes = atomic_load(&woken);

	ck_assert_uint_eq(b, 77);
	ck_assert_int_eq(wakes, 0);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * A loop that polls with a zeroed notifier (it gives no waker, as the
 * POLLER example of data_mover_threads_new(3) does) on a WAKER mover:
 * no waker, so no WAKER promise, and nothing is called. Before, the
 * first poll armed the empty waker, said WAKER, and the worker that
 * finished the copy called a NULL function.
 */
START_TEST(test_zeroed_notifier)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_WAKER);
	uint64_t a = 0x5eed, b = 0;
	struct future_notifier n;

	ck_assert_ptr_nonnull(dmt);
	atomic_store(&gate_open, 0);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);

	struct vdm_operation_future f = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), &b, &a, 8, 0);

	memset(&n, 0, sizeof(n));
	/* the worker holds the copy at the gate: the first and a later poll */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
			FUTURE_STATE_RUNNING);
		ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_NONE);
	}
	MA_HAPPENS_BEFORE(&gate_open);
	atomic_store(&gate_open, 1);
	while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) !=
			FUTURE_STATE_COMPLETE) {
		ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_NONE);
		sched_yield();
	}
	ck_assert_int_eq(f.output.result, VDM_SUCCESS);
	ck_assert_uint_eq(b, 0x5eed);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * miniasync_vdm_threads(7): the first poll queues the operation and
 * returns at once, without waiting for it: RUNNING while a worker has it
 * (here the only worker is held in a copy), with each notifier and with
 * none; the first poll never performs a queued operation itself.
 */
START_TEST(test_first_poll_returns_at_once)
{
	enum future_notifier_type notifier = test_notifiers[_i % 3];
	int with_notifier = _i < 3;
	struct data_mover_threads *dmt = data_mover_threads_new(1, 8,
		notifier);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct runtime *r = runtime_new();
	uint64_t src[2] = { 11, 22 }, dst[2] = { 0, 0 };
	struct vdm_operation_future f[2];
	struct future_notifier n;

	atomic_store(&custom_calls, 0);
	atomic_store(&gate_open, 0);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	for (int i = 0; i < 2; i++) {
		/* never called: a runtime waits */
		n = test_notifier(test_count_wake, &custom_calls);
		f[i] = vdm_memcpy(vdm, &dst[i], &src[i], 8, 0);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f[i]),
			with_notifier ? &n : NULL), FUTURE_STATE_RUNNING);
		if (with_notifier)
			ck_assert_int_eq(n.notifier_used, notifier);
	}
	/* neither copy was done by a first poll: the gate is still shut */
	ck_assert_uint_eq(dst[0], 0);
	ck_assert_uint_eq(dst[1], 0);
	MA_HAPPENS_BEFORE(&gate_open);
	atomic_store(&gate_open, 1);
	test_wait_success(r, &f[0]);
	test_wait_success(r, &f[1]);
	ck_assert_uint_eq(dst[0], 11);
	ck_assert_uint_eq(dst[1], 22);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* A waker that starts and polls one more operation from the worker. */
struct nested_start {
	struct vdm *vdm;
	uint64_t src, dst;
	enum future_state first;
	enum vdm_operation_result result;
	_Atomic int done;
};

static void
start_from_worker(void *data)
{
	struct nested_start *ns = data;
	struct vdm_operation_future f = vdm_memcpy(ns->vdm, &ns->dst, &ns->src,
		8, 0);

	ns->first = future_poll(FUTURE_AS_RUNNABLE(&f), NULL);
	ns->result = f.output.result;
	/* release: the fields above, to the test's acquire */
	MA_HAPPENS_BEFORE(&ns->done);
	atomic_store_explicit(&ns->done, 1, memory_order_release);
}

/*
 * ... or COMPLETE, when the operation is already done by then: always
 * for a first poll on one of the mover's own workers (it performs the
 * operation at once), now and then for a small operation on an idle
 * mover. A first poll that says COMPLETE has the work done and the
 * output written; any other answer is RUNNING, never IDLE.
 */
START_TEST(test_first_poll_complete_when_done)
{
	enum future_notifier_type notifier = test_notifiers[_i];
	struct data_mover_threads *dmt = data_mover_threads_new(2, 64,
		notifier);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct runtime *r = runtime_new();
	unsigned n_ops = test_stress_iterations(20000) / 10;
	unsigned complete = 0;

	for (unsigned i = 0; i < n_ops; i++) {
		uint64_t a = 0x5000 + i, b = 0;
		struct future_notifier n;
		struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a, 8, 0);

		n = test_notifier(test_count_wake, &custom_calls);
		enum future_state s = future_poll(FUTURE_AS_RUNNABLE(&f), &n);

		if (s == FUTURE_STATE_COMPLETE) {
			complete++;
			ck_assert_uint_eq(b, a);
			ck_assert_int_eq(f.output.result, VDM_SUCCESS);
			ck_assert_ptr_eq(f.output.output.memcpy.dest, &b);
		} else {
			ck_assert_int_eq(s, FUTURE_STATE_RUNNING);
			runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
			ck_assert_uint_eq(b, a);
		}
	}
	printf("first poll complete for %u of %u small copies\n", complete,
		n_ops);

	if (notifier == FUTURE_NOTIFIER_WAKER) {
		/* started on a worker: complete on its first poll, always */
		struct nested_start ns = { .vdm = vdm, .src = 0x77 };
		uint64_t a = 1, b = 0;
		struct future_notifier n;
		struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a, 8, 0);

		ns.first = FUTURE_STATE_IDLE;
		atomic_init(&ns.done, 0);
		MA_ATOMIC_WORDS(&ns.done, sizeof(ns.done));
		n = test_notifier(start_from_worker, &ns);
		if (future_poll(FUTURE_AS_RUNNABLE(&f), &n) !=
				FUTURE_STATE_COMPLETE) {
			ck_assert_int_eq(n.notifier_used,
				FUTURE_NOTIFIER_WAKER);
			/* acquire: pairs with the waker's release */
			while (!atomic_load_explicit(&ns.done,
					memory_order_acquire))
				future_cpu_pause();
			MA_HAPPENS_AFTER(&ns.done);
			ck_assert_int_eq(ns.first, FUTURE_STATE_COMPLETE);
			ck_assert_int_eq(ns.result, VDM_SUCCESS);
			ck_assert_uint_eq(ns.dst, 0x77);
		}
		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
		MA_ATOMIC_WORDS_END(&ns.done, sizeof(ns.done));
	}
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * data_mover_threads_set_memcpy_fn(3): the workers' functions get
 * VDM_F_NO_CACHE_HINT, asked for or not, on operations of more than
 * 15 MiB that are shared out among the workers; a move between
 * overlapping ranges is done in one piece, one call, with the program's
 * flags only.
 */
static _Atomic unsigned flag_calls, flags_all, flags_any;
static _Atomic size_t flag_bytes, flag_max_len;

static void
flags_reset(void)
{
	atomic_store(&flag_calls, 0);
	atomic_store(&flags_all, ~0u);
	atomic_store(&flags_any, 0);
	atomic_store(&flag_bytes, 0);
	atomic_store(&flag_max_len, 0);
}

static void
flags_record(size_t n, unsigned flags)
{
	size_t max = atomic_load(&flag_max_len);

	atomic_fetch_add(&flag_calls, 1);
	atomic_fetch_and(&flags_all, flags);
	atomic_fetch_or(&flags_any, flags);
	atomic_fetch_add(&flag_bytes, n);
	while (n > max && !atomic_compare_exchange_weak(&flag_max_len, &max,
			n))
		;
}

static void *
flags_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	flags_record(n, flags);
	return memcpy(dst, src, n);
}

static void *
flags_memmove(void *dst, const void *src, size_t n, unsigned flags)
{
	flags_record(n, flags);
	return memmove(dst, src, n);
}

static void *
flags_memset(void *str, int c, size_t n, unsigned flags)
{
	flags_record(n, flags);
	return memset(str, c, n);
}

/* Runs f and checks what the workers' function was given. */
static void
check_flags(struct runtime *r, struct vdm_operation_future f, size_t n,
	int hint, int one_piece, const char *what)
{
	flags_reset();
	test_wait_success(r, &f);
	unsigned calls = atomic_load(&flag_calls);
	unsigned all = atomic_load(&flags_all), any = atomic_load(&flags_any);

	ck_assert_msg(atomic_load(&flag_bytes) == n,
		"%s: %zu bytes passed to the function, want %zu", what,
		atomic_load(&flag_bytes), n);
	if (hint)
		ck_assert_msg(calls > 1 && (all & VDM_F_NO_CACHE_HINT),
			"%s: %u calls, flags %#x in all, want the hint in "
			"every one of several", what, calls, all);
	else
		ck_assert_msg((any & VDM_F_NO_CACHE_HINT) == 0,
			"%s: flags %#x in some call, want no hint", what, any);
	if (one_piece)
		ck_assert_msg(calls == 1 && atomic_load(&flag_max_len) == n,
			"%s: %u calls, longest %zu bytes, want one of %zu",
			what, calls, atomic_load(&flag_max_len), n);
}

START_TEST(test_huge_operation_flags)
{
	const size_t mib = (size_t)1 << 20, huge = 16 * mib;
	struct data_mover_threads *dmt = data_mover_threads_new(2, 8,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct runtime *r = runtime_new();
	unsigned char *a = malloc(huge + 64), *b = malloc(huge + 64);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	test_fill(a, huge + 64, 3);
	data_mover_threads_set_memcpy_fn(dmt, flags_memcpy);
	data_mover_threads_set_memmove_fn(dmt, flags_memmove);
	data_mover_threads_set_memset_fn(dmt, flags_memset);

	check_flags(r, vdm_memcpy(vdm, b, a, 15 * mib, 0), 15 * mib, 0, 0,
		"memcpy of 15 MiB");
	check_flags(r, vdm_memcpy(vdm, b, a, 15 * mib + 1, 0), 15 * mib + 1,
		1, 0, "memcpy of 15 MiB + 1");
	ck_assert_uint_eq(test_first_diff(a, b, 15 * mib + 1), 15 * mib + 1);
	check_flags(r, vdm_memset(vdm, b, 9, huge, 0), huge, 1, 0,
		"memset of 16 MiB");
	check_flags(r, vdm_memmove(vdm, b, a, huge, 0), huge, 1, 0,
		"memmove of 16 MiB, apart");
	check_flags(r, vdm_memmove(vdm, a + 1, a, huge, 0), huge, 0, 1,
		"memmove of 16 MiB, overlapping");
	ck_assert_uint_eq(test_first_diff(a + 1, b, huge), huge);
	check_flags(r, vdm_memmove(vdm, a, a + 1, huge, 0), huge, 0, 1,
		"memmove of 16 MiB, overlapping downwards");
	ck_assert_uint_eq(test_first_diff(a, b, huge), huge);

	free(a);
	free(b);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* Many threads submit to one mover and wait on one runtime. */
#define SUBMITTERS 4

struct submitter {
	struct vdm *vdm;
	struct runtime *r;
	unsigned iterations;
	unsigned seed;
	unsigned ok;
};

static void *
submitter_main(void *arg)
{
	struct submitter *s = arg;
	enum { BATCH = 8, LEN = 300 };
	unsigned char src[BATCH][LEN], dst[BATCH][LEN];

	for (unsigned it = 0; it < s->iterations; it++) {
		struct vdm_operation_future futs[BATCH];
		struct future *list[BATCH];

		for (int k = 0; k < BATCH; k++) {
			size_t n = (it * 13 + (unsigned)k * 37) % LEN;

			test_fill(src[k], LEN, s->seed + it + (unsigned)k);
			memset(dst[k], 0, LEN);
			futs[k] = k % 2 ? vdm_memcpy(s->vdm, dst[k], src[k], n,
				0) : vdm_memmove(s->vdm, dst[k], src[k], n, 0);
			list[k] = FUTURE_AS_RUNNABLE(&futs[k]);
		}
		if (it % 3 == 0) {
			runtime_wait_multiple(s->r, list, BATCH);
		} else {
			/* poll by hand, moving the futures between polls */
			struct vdm_operation_future moved[BATCH];

			for (int k = 0; k < BATCH; k++) {
				future_poll(list[k], NULL);
				moved[k] = futs[k];
				list[k] = FUTURE_AS_RUNNABLE(&moved[k]);
			}
			runtime_wait_multiple(s->r, list, BATCH);
			memcpy(futs, moved, sizeof(futs));
		}
		for (int k = 0; k < BATCH; k++) {
			size_t n = (it * 13 + (unsigned)k * 37) % LEN;

			if (futs[k].output.result == VDM_SUCCESS &&
					memcmp(dst[k], src[k], n) == 0 &&
					(n == LEN || dst[k][n] == 0))
				s->ok++;
		}
	}
	return NULL;
}

START_TEST(test_stress_submitters)
{
	enum future_notifier_type notifier = test_notifiers[_i];
	struct data_mover_threads *dmt = data_mover_threads_new(2, 8,
		notifier);
	struct runtime *r = runtime_new();
	pthread_t threads[SUBMITTERS];
	struct submitter subs[SUBMITTERS];

	for (int t = 0; t < SUBMITTERS; t++) {
		subs[t].vdm = data_mover_threads_get_vdm(dmt);
		subs[t].r = r;
		subs[t].iterations = test_stress_iterations(20000) / 20;
		subs[t].seed = (unsigned)t * 1000;
		subs[t].ok = 0;
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
			submitter_main, &subs[t]), 0);
	}
	for (int t = 0; t < SUBMITTERS; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_uint_eq(subs[t].ok, subs[t].iterations * 8);
	}
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* Runtime created and deleted around every wait on a threads-mover op. */
START_TEST(test_stress_runtime_per_wait)
{
	enum future_notifier_type notifier = test_notifiers[_i];
	struct data_mover_threads *dmt = data_mover_threads_new(2, 4,
		notifier);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	unsigned n = test_stress_iterations(20000) / 2;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = i, b = 0;
		struct runtime *r = runtime_new();
		struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a, 8, 0);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
		runtime_delete(r);
		ck_assert_uint_eq(b, i);
	}
	data_mover_threads_delete(dmt);
}
END_TEST

/* A copy of FORK_SLOW bytes waits (asleep) until the gate opens. */
#define FORK_SLOW 12345

static pthread_mutex_t fork_gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fork_gate_cond = PTHREAD_COND_INITIALIZER;
static int fork_gate_entered; /* under fork_gate_lock */
static int fork_gate_open; /* under fork_gate_lock */
/*
 * Open in the child, which must not use the condition variable: the
 * parent's worker waits on it, a waiter the child does not have.
 */
static _Atomic int fork_gate_open_in_child;
static pid_t fork_parent; /* set before the mover starts */

static void *
fork_gated_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	if (n == FORK_SLOW && getpid() != fork_parent) {
		/* in the child: the copy performed again there */
		while (!atomic_load(&fork_gate_open_in_child))
			sched_yield();
	} else if (n == FORK_SLOW) {
		pthread_mutex_lock(&fork_gate_lock);
		fork_gate_entered = 1;
		pthread_cond_broadcast(&fork_gate_cond);
		while (!fork_gate_open)
			pthread_cond_wait(&fork_gate_cond, &fork_gate_lock);
		pthread_mutex_unlock(&fork_gate_lock);
	}
	return memcpy(dst, src, n);
}

static void
fork_gate_release(void)
{
	pthread_mutex_lock(&fork_gate_lock);
	fork_gate_open = 1;
	pthread_cond_broadcast(&fork_gate_cond);
	pthread_mutex_unlock(&fork_gate_lock);
}

/*
 * What a child process can do with the mover it inherits: finish the
 * copy a worker was performing at the fork (performed again there), a
 * big copy busy polled, a big and a small one waited for by a runtime.
 * The child's alarm turns a hang into a failure.
 */
static int
fork_child_work(struct data_mover_threads *dmt,
	struct vdm_operation_future *slow, const char *slow_src,
	const char *slow_dst)
{
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	size_t big = (size_t)4 << 20;
	char *src = malloc(big), *dst = malloc(big);
	struct runtime *r = runtime_new();
	int ok = src != NULL && dst != NULL && r != NULL;

	atomic_store(&fork_gate_open_in_child, 1);
	FUTURE_BUSY_POLL(slow);
	ok = ok && FUTURE_OUTPUT(slow)->result == VDM_SUCCESS &&
		memcmp(slow_dst, slow_src, FORK_SLOW) == 0;
	if (!ok)
		return 0;
	test_fill(src, big, 7);

	struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, big, 0);

	FUTURE_BUSY_POLL(&f);
	ok = FUTURE_OUTPUT(&f)->result == VDM_SUCCESS &&
		memcmp(dst, src, big) == 0;
	memset(dst, 0, big);

	struct vdm_operation_future g[2] = {
		vdm_memcpy(vdm, dst, src, big / 2, 0),
		vdm_memcpy(vdm, dst + big / 2, src + big / 2, 64, 0),
	};

	runtime_wait_multiple(r, (struct future *[]){
		FUTURE_AS_RUNNABLE(&g[0]), FUTURE_AS_RUNNABLE(&g[1]) }, 2);
	ok = ok && memcmp(dst, src, big / 2 + 64) == 0;
	runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	runtime_delete(r);
	free(src);
	free(dst);
	return ok;
}

START_TEST(test_fork)
{
	struct data_mover_threads *dmt;
	static char slow_src[FORK_SLOW], slow_dst[FORK_SLOW];
	struct future_notifier n = { 0 };
	_Atomic unsigned woken = 0;
	int status;

	/* qemu-user aborts in a child forked from a threaded process */
	if (test_emulated("test_fork"))
		return;
	fork_parent = getpid();
	dmt = data_mover_threads_new(2, 8, FUTURE_NOTIFIER_WAKER);
	ck_assert_ptr_nonnull(dmt);
	/* the workers started and idle: none is starting at the fork */
	ck_assert(test_wait_others_sleeping());
	data_mover_threads_set_memcpy_fn(dmt, fork_gated_memcpy);
	test_fill(slow_src, FORK_SLOW, 3);
	n = test_notifier(test_count_wake, (void *)&woken);

	struct vdm_operation_future slow = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), slow_dst, slow_src,
		FORK_SLOW, 0);

	/* a worker performs it, held at the gate, while the process forks */
	future_poll(FUTURE_AS_RUNNABLE(&slow), &n);
	pthread_mutex_lock(&fork_gate_lock);
	while (!fork_gate_entered)
		pthread_cond_wait(&fork_gate_cond, &fork_gate_lock);
	pthread_mutex_unlock(&fork_gate_lock);

	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(60);

		int ok = fork_child_work(dmt, &slow, slow_src, slow_dst);

		data_mover_threads_delete(dmt);
		_exit(ok ? 0 : 1);
	}
	fork_gate_release();
	FUTURE_BUSY_POLL(&slow);
	ck_assert_int_eq(memcmp(slow_dst, slow_src, FORK_SLOW), 0);
	ck_assert_uint_eq(atomic_load(&woken), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child's operations failed or hung (status %d)", status);
	data_mover_threads_delete(dmt);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("data_mover_threads");
	TCase *ops = tcase_create("operations");
	TCase *api = tcase_create("api");
	TCase *stress = tcase_create("stress");

	tcase_set_timeout(ops, 120);
	tcase_add_loop_test(ops, test_operations, 0, 3);
	suite_add_tcase(s, ops);

	tcase_set_timeout(api, 60);
	tcase_add_test(api, test_zero_null);
	tcase_add_test(api, test_properties);
	tcase_add_loop_test(api, test_first_poll_notifier, 0, 3);
	tcase_add_loop_test(api, test_tiny_queue, 0, 3);
	tcase_add_test(api, test_custom_functions);
	tcase_add_test(api, test_delete_finishes_queue);
	tcase_add_test(api, test_wait_with_other_waker);
	tcase_add_test(api, test_zeroed_notifier);
	tcase_add_test(api, test_bad_arguments);
	tcase_add_loop_test(api, test_first_poll_returns_at_once, 0, 6);
	tcase_add_loop_test(api, test_first_poll_complete_when_done, 0, 3);
	tcase_add_test(api, test_huge_operation_flags);
/* ThreadSanitizer: see test_util.h; every other build runs test_fork */
#ifndef TEST_TSAN_BUILD
	tcase_add_test(api, test_fork);
#else
	(void)test_fork;
	printf("test_fork left out: ThreadSanitizer build\n");
#endif
	suite_add_tcase(s, api);

	tcase_set_timeout(stress, 120);
	tcase_add_loop_test(stress, test_stress_submitters, 0, 3);
	tcase_add_loop_test(stress, test_stress_runtime_per_wait, 0, 3);
	suite_add_tcase(s, stress);
	return s;
}
