/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * big.c -- make bench's group "big": a 256 MiB copy through the threads
 * mover beside the best plain memcpy (one thread or two).
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define BIG_SIZE ((size_t)256 << 20)

/* One half of a plain two-thread copy, started with the other at once. */
struct half_copy {
	pthread_barrier_t *start;
	char *dst;
	const char *src;
	size_t n;
};

static void *
half_copy_thread(void *arg)
{
	struct half_copy *h = arg;

	pthread_barrier_wait(h->start);
	plain_memcpy(h->dst, h->src, h->n);
	return NULL;
}

/*
 * GB/s of a plain copy of n bytes split over nthreads (1 or 2) threads,
 * this one included; the clock starts when all have passed the barrier.
 */
static double
big_plain_gbs(char *dst, char *src, size_t n, unsigned nthreads)
{
	pthread_barrier_t start;
	pthread_t helper;
	struct half_copy h;
	size_t mine = n;
	uint64_t t0;

	if (nthreads > 1) {
		mine = n / 2;
		h.start = &start;
		h.dst = dst + mine;
		h.src = src + mine;
		h.n = n - mine;
		pthread_barrier_init(&start, NULL, 2);
		errno = pthread_create(&helper, NULL, half_copy_thread, &h);
		if (errno != 0)
			die("pthread_create");
		pthread_barrier_wait(&start);
	}
	t0 = now_ns();
	plain_memcpy(dst, src, mine);
	if (nthreads > 1) {
		pthread_join(helper, NULL);
		pthread_barrier_destroy(&start);
	}
	CLOBBER();
	return (double)n / (double)(now_ns() - t0);
}

/* GB/s of one n-byte copy through the threads mover and runtime_wait. */
static double
big_mover_gbs(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	size_t n)
{
	uint64_t t0 = now_ns();
	struct vdm_operation_future fut = vdm_memcpy(vdm, dst, src, n, 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	uint64_t t = now_ns() - t0;

	check_result(&fut, "threads mover 256 MiB copy");
	return (double)n / (double)t;
}

/*
 * Figure: a 256 MiB copy through the threads mover against the best plain
 * memcpy of this run (two threads copying half each, or one thread if
 * that is faster).
 */
void
bench_big(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"threads: 256 MiB copy", "GB/s", 1, 0, 1.35, "ratio>=1.35",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(BIG_SIZE);
	char *dst = xalloc(BIG_SIZE);
	double val[MAX_REPS], ref[MAX_REPS];

	(void)sync_vdm;
	/* Fault every page in first; check one copy by the mover. */
	fill(src, BIG_SIZE, 6);
	memset(dst, 0, BIG_SIZE);
	big_mover_gbs(r, vdm, dst, src, BIG_SIZE);
	check_copied(dst, src, BIG_SIZE, "threads mover 256 MiB copy");
	big_plain_gbs(dst, src, BIG_SIZE, 2);

	for (unsigned i = 0; i < reps; i++) {
		double two, one;

		if (i % 2) {
			two = big_plain_gbs(dst, src, BIG_SIZE, 2);
			one = big_plain_gbs(dst, src, BIG_SIZE, 1);
			val[i] = big_mover_gbs(r, vdm, dst, src, BIG_SIZE);
		} else {
			val[i] = big_mover_gbs(r, vdm, dst, src, BIG_SIZE);
			one = big_plain_gbs(dst, src, BIG_SIZE, 1);
			two = big_plain_gbs(dst, src, BIG_SIZE, 2);
		}
		ref[i] = two > one ? two : one;
		if (verbose)
			fprintf(stderr, "big: plain 1 thread %.2f, 2 threads "
				"%.2f GB/s\n", one, two);
	}
	report(&f, val, ref);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
