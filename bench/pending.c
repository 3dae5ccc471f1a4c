/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * pending.c -- make bench's group "pending": the CPU of a thread waiting
 * for 10,000 pending copies that complete one a millisecond.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

#define PEND_NFUTS 10000
#define PEND_FROM 20 /* the waiter's CPU is read from this completion */
#define PEND_TO 320 /* to this one */

/*
 * Pending futures: PEND_NFUTS 64-byte copies on a 2-worker WAKER mover
 * whose memcpy_fn holds each copy until its slot, one a millisecond, so
 * that one completes a millisecond; the CPU the waiting thread uses
 * (its CPU clock, read by another thread) from the PEND_FROM-th to the
 * PEND_TO-th completion, per wall-clock second. Then the rest complete
 * at once.
 */
static _Atomic uint64_t pend_t0; /* slot 0 */
static _Atomic unsigned pend_slot; /* the next slot handed out */
static _Atomic unsigned pend_done; /* copies completed */
static _Atomic int pend_fast; /* hold nothing any more */

static void *
pend_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	unsigned slot = atomic_fetch_add(&pend_slot, 1);
	uint64_t at = atomic_load(&pend_t0) + (uint64_t)slot * 1000000u;
	struct timespec ts;

	(void)flags;
	ts.tv_sec = (time_t)(at / 1000000000u);
	ts.tv_nsec = (long)(at % 1000000000u);
	while (!atomic_load(&pend_fast) && clock_nanosleep(CLOCK_MONOTONIC,
			TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	atomic_fetch_add(&pend_done, 1);
	return memcpy(dst, src, n);
}

struct pend_probe {
	pthread_t waiter;
	double cpu_s_per_s;
};
static void
pend_until(unsigned n)
{
	struct timespec ts = { 0, 100000 };

	while (atomic_load(&pend_done) < n)
		nanosleep(&ts, NULL);
}

static void *
pend_prober(void *arg)
{
	struct pend_probe *p = arg;

	pend_until(PEND_FROM);
	uint64_t c0 = other_thread_cpu_ns(p->waiter);
	uint64_t t0 = now_ns();

	pend_until(PEND_TO);
	uint64_t c1 = other_thread_cpu_ns(p->waiter);
	uint64_t t1 = now_ns();

	p->cpu_s_per_s = (double)(c1 - c0) / (double)(t1 - t0);
	atomic_store(&pend_fast, 1);
	return NULL;
}

static double
pend_cpu(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct vdm_operation_future *futs, struct future **ptrs)
{
	struct pend_probe probe;
	pthread_t prober;

	atomic_store(&pend_slot, 0);
	atomic_store(&pend_done, 0);
	atomic_store(&pend_fast, 0);
	atomic_store(&pend_t0, now_ns() + 20000000u);
	for (size_t i = 0; i < PEND_NFUTS; i++) {
		futs[i] = vdm_memcpy(vdm, dst + i * SMALL, src + i * SMALL,
			SMALL, 0);
		ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	probe.waiter = pthread_self();
	if (pthread_create(&prober, NULL, pend_prober, &probe) != 0)
		die("pthread_create");
	runtime_wait_multiple(r, ptrs, PEND_NFUTS);
	pthread_join(prober, NULL);
	for (size_t i = 0; i < PEND_NFUTS; i++)
		check_result(&futs[i], "pending");
	return probe.cpu_s_per_s;
}

/* Figure: the waiter's CPU, 10 000 pending, one completion a ms. */
void
bench_pending(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"runtime: 10k pending 1/ms", "cpu/s", 0, 1, 0.05, "<=0.05",
	};
	struct data_mover_threads *dmt = threads_mover();
	/* a destination each: no two workers write the same bytes */
	char *src = xalloc(PEND_NFUTS * SMALL);
	char *dst = xalloc(PEND_NFUTS * SMALL);
	struct vdm_operation_future *futs = xalloc(PEND_NFUTS *
		sizeof(*futs));
	struct future **ptrs = xalloc(PEND_NFUTS * sizeof(*ptrs));
	double val[MAX_REPS];

	(void)sync_vdm;
	data_mover_threads_set_memcpy_fn(dmt, pend_memcpy);
	fill(src, PEND_NFUTS * SMALL, 14);
	for (unsigned i = 0; i < reps; i++)
		val[i] = pend_cpu(r, data_mover_threads_get_vdm(dmt), dst,
			src, futs, ptrs);
	check_copied(dst, src, PEND_NFUTS * SMALL, "pending");
	report(&f, val, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
	free(futs);
	free(ptrs);
}
