/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * idle.c -- make bench's group "idle": the CPU a thread burns waiting in
 * runtime_wait for a copy that takes 50 ms.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

#define IDLE_WAIT_NS 50000000L

/* When the slow copy may finish (CLOCK_MONOTONIC); set before it starts. */
static struct timespec idle_deadline;

/* A memcpy that first sleeps until idle_deadline: a 50 ms operation. */
static void *
slow_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &idle_deadline,
			NULL) == EINTR)
		;
	return memcpy(dst, src, n);
}

/* Per cent of one CPU used by this thread in runtime_wait on a 50 ms op. */
static double
idle_cpu_percent(struct runtime *r, struct vdm *vdm, char *dst, char *src)
{
	uint64_t start = now_ns();
	uint64_t deadline = start + IDLE_WAIT_NS;
	uint64_t cpu0 = thread_cpu_ns();

	idle_deadline.tv_sec = (time_t)(deadline / 1000000000u);
	idle_deadline.tv_nsec = (long)(deadline % 1000000000u);

	struct vdm_operation_future fut = vdm_memcpy(vdm, dst, src, SMALL, 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	uint64_t cpu = thread_cpu_ns() - cpu0;
	uint64_t wall = now_ns() - start;

	check_result(&fut, "threads mover 50 ms wait");
	return 100.0 * (double)cpu / (double)wall;
}

/* Figure: CPU burned by a thread waiting 50 ms in runtime_wait. */
void
bench_idle(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"threads: waiter CPU, 50 ms", "%", 0, 1, 0.1, "<=0.1 %",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double val[MAX_REPS];

	(void)sync_vdm;
	data_mover_threads_set_memcpy_fn(dmt, slow_memcpy);
	fill(src, SMALL, 4);
	memset(dst, 0, SMALL);
	for (unsigned i = 0; i < reps; i++)
		val[i] = idle_cpu_percent(r, vdm, dst, src);
	check_copied(dst, src, SMALL, "threads mover 50 ms wait");
	report(&f, val, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
