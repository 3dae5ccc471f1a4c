/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * lat.c -- make bench's latency figures of single 64-byte copies waited
 * for with runtime_wait: "lat", back to back (p50, p99), and "wake", each
 * 1 ms after the last, on a mover whose workers sleep.
 */

#define _GNU_SOURCE

#include <stdlib.h>
#include <time.h>

#include "common.h"

#define WAKE_SAMPLES 100 /* copies on an idle mover, 1 ms apart */

/*
 * Latency in us of LAT_SAMPLES single 64-byte copies, each created and
 * waited for with runtime_wait, back to back; p50 and p99.
 */
static void
lat_mover_us(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	double *lat, double *p50, double *p99)
{
	struct vdm_operation_future fut;

	for (size_t i = 0; i < LAT_SAMPLES; i++) {
		uint64_t t0 = now_ns();

		fut = vdm_memcpy(vdm, dst, src, SMALL, 0);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
		lat[i] = (double)(now_ns() - t0) / 1000.0;
	}
	check_result(&fut, "threads mover latency");
	*p50 = percentile(lat, LAT_SAMPLES, 0.50);
	*p99 = percentile(lat, LAT_SAMPLES, 0.99);
}

/* Figures: single 64-byte op latency through runtime_wait, p50 and p99. */
void
bench_lat(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f50 = {
		"threads: 64 B latency p50", "us", 0, 1, 1, "<=1 us",
	};
	static const struct figure f99 = {
		"threads: 64 B latency p99", "us", 0, 1, 20, "<=20 us",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double *lat = xalloc(LAT_SAMPLES * sizeof(*lat));
	double v50[MAX_REPS], v99[MAX_REPS], r50[MAX_REPS], r99[MAX_REPS];
	double d50, d99;

	(void)sync_vdm;
	fill(src, SMALL, 5);
	memset(dst, 0, SMALL);
	lat_mover_us(r, vdm, dst, src, lat, &d50, &d99);
	check_copied(dst, src, SMALL, "threads mover latency");

	for (unsigned i = 0; i < reps; i++) {
		lat_mover_us(r, vdm, dst, src, lat, &v50[i], &v99[i]);
		lat_plain_us(dst, src, lat, &r50[i], &r99[i]);
	}
	report(&f50, v50, r50);
	report(&f99, v99, r99);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
	free(lat);
}

/*
 * Figure: a 64-byte copy waited for with runtime_wait on a mover whose
 * workers sleep (the last copy was 1 ms ago; idle workers spin 50 us),
 * p50 of WAKE_SAMPLES; beside plain memcpy timed the same way.
 */
void
bench_wake(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"threads: wake idle mover p50", "us", 0, 1, 5, "<=5 us",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double lat[WAKE_SAMPLES], val[MAX_REPS], ref[MAX_REPS];
	struct vdm_operation_future fut;
	const struct timespec gap = { 0, 1000000 };

	(void)sync_vdm;
	fill(src, SMALL, 6);
	memset(dst, 0, SMALL);
	for (unsigned i = 0; i < reps; i++) {
		for (size_t k = 0; k < WAKE_SAMPLES; k++) {
			nanosleep(&gap, NULL);

			uint64_t t0 = now_ns();

			fut = vdm_memcpy(vdm, dst, src, SMALL, 0);
			runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
			lat[k] = (double)(now_ns() - t0) / 1000.0;
		}
		check_result(&fut, "threads mover wake");
		val[i] = percentile(lat, WAKE_SAMPLES, 0.50);
		for (size_t k = 0; k < WAKE_SAMPLES; k++) {
			uint64_t t0 = now_ns();

			plain_memcpy(dst, src, SMALL);
			CLOBBER();
			lat[k] = (double)(now_ns() - t0) / 1000.0;
		}
		ref[i] = percentile(lat, WAKE_SAMPLES, 0.50);
	}
	check_copied(dst, src, SMALL, "threads mover wake");
	report(&f, val, ref);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
