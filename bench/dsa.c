/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa.c -- the DSA mover's figures, run by 'make bench' after bench/bench
 * (public interface only):
 *  model-op   one 64-byte memcpy future at a time, busy polled (NONE):
 *             wall and calling-thread CPU nanoseconds per operation, on
 *             the work-queue model (one engine) and on the threads mover
 *             (one worker), beside a plain 64-byte memcpy;
 *  model-64   64 x 4 KiB memcpy futures in flight, runtime_wait_multiple,
 *             WAKER: operations a second, both movers, beside memcpy;
 *  real       on a real work queue, when one is found (else a line says
 *             it was skipped): latency (one at a time) and throughput (16
 *             in flight) per size from 4 KiB to 4 MiB beside memcpy, and
 *             the caller's CPU seconds per wall second.
 * The two movers are measured alternately, -r rounds (default 5), and the
 * medians printed. The model's figures are the mover's own costs (its
 * engines are threads of this process, not a device): compare them with
 * the threads mover's, not with a device.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* ns per plain memcpy of n bytes. */
static double
memcpy_ns(void *dst, const void *src, size_t n, unsigned iters)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < iters; i++)
		plain_memcpy(dst, src, n);
	return (double)(now_ns() - t0) / iters;
}

/* One future at a time, busy polled: wall and CPU ns per operation. */
static void
one_at_a_time(struct vdm *vdm, size_t n, unsigned iters, double *wall,
	double *cpu)
{
	static char src[4 << 20], dst[4 << 20];
	uint64_t w0 = now_ns();
	uint64_t c0 = thread_cpu_ns();

	for (unsigned i = 0; i < iters; i++) {
		struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, n,
			0);

		FUTURE_BUSY_POLL(&f);
	}
	*wall = (double)(now_ns() - w0) / iters;
	*cpu = (double)(thread_cpu_ns() - c0) / iters;
}

/* Operations a second, INFLIGHT 4 KiB copies at a time. */
static double
in_flight(struct vdm *vdm, struct runtime *r, unsigned batches,
	double *cpu_per_s)
{
	static char src[INFLIGHT * 4096], dst[INFLIGHT * 4096];

	return 1e6 * inflight_mops(r, vdm, dst, src, 4096, batches,
		cpu_per_s);
}

static void
model_figures(int rounds)
{
	struct data_mover_dsa *dsa = data_mover_dsa_new("emulated:engines=1",
		FUTURE_NOTIFIER_NONE);
	struct data_mover_dsa *dsaw = data_mover_dsa_new("emulated",
		FUTURE_NOTIFIER_WAKER);
	struct data_mover_threads *thr = data_mover_threads_new(1, 128,
		FUTURE_NOTIFIER_NONE);
	struct data_mover_threads *thrw = data_mover_threads_new(2, 128,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *r = runtime_new();
	double dw[32], dc[32], tw[32], tc[32], mc[32];
	double d64[32], t64[32], d64c[32], t64c[32], m4k[32];
	static char a[4096], b[4096];

	if (dsa == NULL || dsaw == NULL || thr == NULL || thrw == NULL ||
			r == NULL) {
		perror("bench dsa: creating the movers");
		exit(1);
	}
	for (int i = 0; i < rounds; i++) {
		one_at_a_time(data_mover_dsa_get_vdm(dsa), 64, 20000, &dw[i],
			&dc[i]);
		one_at_a_time(data_mover_threads_get_vdm(thr), 64, 20000,
			&tw[i], &tc[i]);
		mc[i] = memcpy_ns(b, a, 64, 1000000);
		d64[i] = in_flight(data_mover_dsa_get_vdm(dsaw), r, 200,
			&d64c[i]);
		t64[i] = in_flight(data_mover_threads_get_vdm(thrw), r, 200,
			&t64c[i]);
		m4k[i] = 1e9 / memcpy_ns(b, a, 4096, 100000);
	}
	printf("model-op  64 B memcpy, one at a time, busy poll (ns/op, "
		"median of %d):\n", rounds);
	printf("  dsa mover (model, 1 engine): %8.0f wall %8.0f caller cpu\n",
		median(dw, rounds), median(dc, rounds));
	printf("  threads mover (1 worker):    %8.0f wall %8.0f caller cpu\n",
		median(tw, rounds), median(tc, rounds));
	printf("  plain memcpy:                %8.1f\n", median(mc, rounds));
	printf("model-64  64 x 4 KiB in flight, runtime_wait_multiple, "
		"WAKER (ops/s):\n");
	printf("  dsa mover (model, 2 engines): %10.0f  caller %.2f "
		"cpu-s/s\n", median(d64, rounds), median(d64c, rounds));
	printf("  threads mover (2 workers):    %10.0f  caller %.2f "
		"cpu-s/s\n", median(t64, rounds), median(t64c, rounds));
	printf("  plain memcpy, one thread:     %10.0f\n",
		median(m4k, rounds));
	runtime_delete(r);
	data_mover_dsa_delete(dsa);
	data_mover_dsa_delete(dsaw);
	data_mover_threads_delete(thr);
	data_mover_threads_delete(thrw);
}

static void
real_figures(int rounds)
{
	struct data_mover_dsa *dmd = data_mover_dsa_new(NULL,
		FUTURE_NOTIFIER_WAKER);
	struct data_mover_dsa *dmp = NULL;
	static char a[4 << 20], b[4 << 20];

	if (dmd == NULL) {
		printf("real      skipped: no DSA work queue (%s)\n",
			strerror(errno));
		return;
	}
	dmp = data_mover_dsa_new(NULL, FUTURE_NOTIFIER_NONE);
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b)); /* pre-faulted */
	printf("real      size     latency us (dsa / memcpy)   GB/s 16 in "
		"flight (dsa / memcpy)  caller cpu-s/s\n");
	for (size_t n = 4096; n <= (4u << 20); n *= 4) {
		double lat[32], thr[32], cpu[32], mlat[32];
		struct runtime *r = runtime_new();

		for (int i = 0; i < rounds; i++) {
			double c;

			one_at_a_time(data_mover_dsa_get_vdm(dmp ? dmp : dmd),
				n, 200, &lat[i], &c);
			mlat[i] = memcpy_ns(b, a, n, 200);

			uint64_t w0 = now_ns();
			uint64_t c0 = thread_cpu_ns();
			struct vdm_operation_future f[16];
			struct future *fp[16];

			for (int k = 0; k < 16; k++) {
				f[k] = vdm_memcpy(data_mover_dsa_get_vdm(dmd),
					b + (n * k) % (sizeof(b) - n),
					a + (n * k) % (sizeof(a) - n), n, 0);
				fp[k] = FUTURE_AS_RUNNABLE(&f[k]);
			}
			runtime_wait_multiple(r, fp, 16);

			double s = (double)(now_ns() - w0) /
				1e9;

			thr[i] = 16.0 * (double)n / s / 1e9;
			cpu[i] = (double)(thread_cpu_ns() -
				c0) / 1e9 / s;
		}
		double ml = median(mlat, rounds);

		printf("          %7zu  %8.2f / %8.2f          %6.2f / %6.2f"
			"              %.2f\n", n, median(lat, rounds) / 1000,
			ml / 1000, median(thr, rounds), (double)n / ml,
			median(cpu, rounds));
		runtime_delete(r);
	}
	data_mover_dsa_delete(dmp);
	data_mover_dsa_delete(dmd);
}

int
main(int argc, char *argv[])
{
	int rounds = 5;

	if (argc == 3 && strcmp(argv[1], "-r") == 0)
		rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > 31)
		rounds = 5;
	printf("bench/dsa: the DSA mover (machine possibly shared: compare "
		"within a run)\n");
	model_figures(rounds);
	real_figures(rounds);
	return 0;
}
