/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * futex.c -- make bench's group "futex": the futex system calls of the
 * whole process per 64-byte copy waited for with runtime_wait, counted by
 * a syscall() of this program that stands in for the C library's.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

#define FUTEX_OPS 20000
#define FUTEX_WARMUP 1000
#define FUTEX_PROBE_NS 20000000L

/* Futex calls are counted while futex_counting is set. */
static _Atomic int futex_counting;
static _Atomic uint64_t futex_calls;

#ifndef BENCH_NO_SYSCALL_HOOK
/*
 * Counting futex calls: this definition of syscall() in the executable
 * takes the place of the C library's for the whole process (the library
 * makes its futex calls through syscall()), counts futex calls while
 * futex_counting is set, and hands every call on to the real syscall().
 * Like the C library's own, it takes six argument words, whatever the
 * call uses. A fully static build, where dlsym() finds nothing to hand
 * the calls on to, is built with -DBENCH_NO_SYSCALL_HOOK instead.
 */
typedef long (*syscall_fn)(long number, ...);

static _Atomic(syscall_fn) real_syscall;

/* The C library's syscall(), or NULL where the dynamic linker is not. */
static syscall_fn
find_real_syscall(void)
{
	syscall_fn fn = atomic_load_explicit(&real_syscall,
		memory_order_relaxed);

	if (fn == NULL) {
		void *p = dlsym(RTLD_NEXT, "syscall");

		/* POSIX lets a dlsym result be converted so */
		memcpy(&fn, &p, sizeof(fn));
		/* relaxed: every thread would find the same function */
		atomic_store_explicit(&real_syscall, fn, memory_order_relaxed);
	}
	return fn;
}

static int
is_futex_call(long number)
{
	if (number == SYS_futex)
		return 1;
#ifdef SYS_futex_time64
	if (number == SYS_futex_time64)
		return 1;
#endif
#ifdef SYS_futex_waitv
	if (number == SYS_futex_waitv)
		return 1;
#endif
#ifdef SYS_futex_wake
	if (number == SYS_futex_wake)
		return 1;
#endif
#ifdef SYS_futex_wait
	if (number == SYS_futex_wait)
		return 1;
#endif
#ifdef SYS_futex_requeue
	if (number == SYS_futex_requeue)
		return 1;
#endif
	return 0;
}

long
syscall(long number, ...)
{
	long a[6];
	va_list ap;
	syscall_fn fn;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (atomic_load_explicit(&futex_counting, memory_order_relaxed) &&
			is_futex_call(number))
		atomic_fetch_add_explicit(&futex_calls, 1,
			memory_order_relaxed);
	fn = find_real_syscall();
	if (fn == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return fn(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
#endif /* BENCH_NO_SYSCALL_HOOK */

/*
 * Counting on and off. The futex calls of other threads that happen
 * before the start and after the end of the counted loop are ordered by
 * the operations' own synchronisation; a call racing with the switch may
 * or may not be counted, which is within the figure's noise.
 */
static void
futex_count_start(void)
{
	atomic_store_explicit(&futex_calls, 0, memory_order_relaxed);
	atomic_store_explicit(&futex_counting, 1, memory_order_relaxed);
}

static uint64_t
futex_count_stop(void)
{
	atomic_store_explicit(&futex_counting, 0, memory_order_relaxed);
	return atomic_load_explicit(&futex_calls, memory_order_relaxed);
}
#ifdef BENCH_NO_SYSCALL_HOOK
static const char *
futex_count_unusable(struct runtime *r)
{
	(void)r;
	return "built with BENCH_NO_SYSCALL_HOOK: nothing counts them";
}
#else
static void *
probe_slow_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	return sleep_then_copy(FUTEX_PROBE_NS, dst, src, n);
}

/*
 * Whether the futex count can be trusted: NULL if so, else why not. A
 * thread that waits 20 ms in runtime_wait on a WAKER mover must sleep,
 * and somebody must wake it; if no futex call was counted meanwhile, the
 * library's calls do not reach our syscall() (a static build, a checker
 * that intercepts syscall(), or a library that sleeps some other way),
 * and a count of 0 would be a lie.
 */
static const char *
futex_count_unusable(struct runtime *r)
{
	struct data_mover_threads *dmt;
	char src[SMALL], dst[SMALL];
	uint64_t n;

	if (find_real_syscall() == NULL)
		return "dlsym(RTLD_NEXT) finds no syscall(): a static build?";
	dmt = data_mover_threads_new(1, DMT_RING, FUTURE_NOTIFIER_WAKER);
	if (dmt == NULL)
		die("data_mover_threads_new");
	data_mover_threads_set_memcpy_fn(dmt, probe_slow_memcpy);
	fill(src, SMALL, 9);

	struct vdm_operation_future fut = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), dst, src, SMALL, 0);

	futex_count_start();
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	n = futex_count_stop();
	check_result(&fut, "futex probe");
	check_copied(dst, src, SMALL, "futex probe");
	data_mover_threads_delete(dmt);
	if (n == 0)
		return "no futex call reached this program's syscall() "
			"while a thread slept in runtime_wait for 20 ms";
	return NULL;
}
#endif /* BENCH_NO_SYSCALL_HOOK */

/* Futex calls per op of FUTEX_OPS back-to-back waited 64-byte copies. */
static double
futex_per_op(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	size_t nops)
{
	struct vdm_operation_future fut;
	uint64_t t0 = now_ns();
	uint64_t n;

	futex_count_start();
	for (size_t i = 0; i < nops; i++) {
		fut = vdm_memcpy(vdm, dst, src, SMALL, 0);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	}
	n = futex_count_stop();
	check_result(&fut, "futex calls");
	if (verbose)
		fprintf(stderr, "futex: %llu calls in %.2f ms\n",
			(unsigned long long)n, (double)(now_ns() - t0) / 1e6);
	return (double)n / (double)nops;
}

/* Figures: futex calls per op on a POLLER and on a WAKER mover. */
void
bench_futex(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f[2] = {
		{ "futex: calls/op, POLLER", "calls", 0, 1, 0.01, "<=0.01" },
		{ "futex: calls/op, WAKER", "calls", 0, 1, 0, NULL },
	};
	static const enum future_notifier_type type[2] = {
		FUTURE_NOTIFIER_POLLER, FUTURE_NOTIFIER_WAKER,
	};
	const char *why = futex_count_unusable(r);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double val[MAX_REPS];

	(void)sync_vdm;
	fill(src, SMALL, 10);
	for (int m = 0; m < 2; m++) {
		if (why != NULL) {
			report_na(&f[m], why);
			continue;
		}

		struct data_mover_threads *dmt = data_mover_threads_new(
			DMT_THREADS, DMT_RING, type[m]);

		if (dmt == NULL)
			die("data_mover_threads_new");
		struct vdm *vdm = data_mover_threads_get_vdm(dmt);

		memset(dst, 0, SMALL);
		futex_per_op(r, vdm, dst, src, FUTEX_WARMUP);
		check_copied(dst, src, SMALL, "futex calls");
		for (unsigned i = 0; i < reps; i++)
			val[i] = futex_per_op(r, vdm, dst, src, FUTEX_OPS);
		report(&f[m], val, NULL);
		data_mover_threads_delete(dmt);
	}
	free(src);
	free(dst);
}
