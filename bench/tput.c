/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * tput.c -- make bench's group "tput": 4 KiB copies, 64 in flight, on a
 * 2-worker threads mover beside plain copies on one thread, and the CPU
 * of the thread that waits for them.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>


#include "common.h"

#define TPUT_SIZE 4096
#define TPUT_BATCHES 512

/* The same copies by plain memcpy on this thread: millions per second. */
static double
tput_plain_mops(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (unsigned b = 0; b < TPUT_BATCHES; b++) {
		for (size_t i = 0; i < INFLIGHT; i++) {
			plain_memcpy(dst + i * TPUT_SIZE, src + i * TPUT_SIZE,
				TPUT_SIZE);
			CLOBBER();
		}
	}
	return (double)TPUT_BATCHES * INFLIGHT * 1000.0 /
		(double)(now_ns() - t0);
}

/*
 * Figures: 4 KiB copies, 64 in flight, on 2 workers, against plain 4 KiB
 * copies on one thread; and the CPU the waiting thread used meanwhile.
 */
void
bench_tput(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"threads: 4 KiB x64 flight", "Mops/s", 1, 0, 1, "ratio>=1",
	};
	static const struct figure fcpu = {
		"threads: x64 waiter CPU", "cpu/s", 0, 1, 0.39, "<=0.39",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	size_t n = (size_t)INFLIGHT * TPUT_SIZE;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	double val[MAX_REPS], ref[MAX_REPS], cpu[MAX_REPS];

	(void)sync_vdm;
	fill(src, n, 3);
	memset(dst, 0, n);
	inflight_mops(r, vdm, dst, src, TPUT_SIZE, TPUT_BATCHES, &cpu[0]);
	check_copied(dst, src, n, "threads mover throughput");
	tput_plain_mops(dst, src);

	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
			ref[i] = tput_plain_mops(dst, src);
			val[i] = inflight_mops(r, vdm, dst, src, TPUT_SIZE,
				TPUT_BATCHES, &cpu[i]);
		} else {
			val[i] = inflight_mops(r, vdm, dst, src, TPUT_SIZE,
				TPUT_BATCHES, &cpu[i]);
			ref[i] = tput_plain_mops(dst, src);
		}
	}
	report(&f, val, ref);
	report(&fcpu, cpu, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
