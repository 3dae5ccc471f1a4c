/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * tput.c -- make bench's group "tput": 4 KiB copies, 64 in flight, on a
 * 2-worker threads mover beside plain copies on one thread, and the CPU
 * of the thread that waits for them beside that of a thread waiting for
 * libuv's thread pool to do the same work (when built with -DBENCH_LIBUV:
 * configure found libuv).
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#ifdef BENCH_LIBUV
#include <uv.h>
#endif

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

#ifdef BENCH_LIBUV
/* One copy of a batch, as a work item of libuv's thread pool. */
struct uv_copy {
	uv_work_t req;
	char *dst;
	const char *src;
	unsigned *left; /* the batch's copies not done yet */
};

/* In a thread of the pool: the copy. */
static void
uv_copy_work(uv_work_t *req)
{
	struct uv_copy *c = req->data;

	plain_memcpy(c->dst, c->src, TPUT_SIZE);
}

/* In the loop's thread, once the copy is done. */
static void
uv_copy_done(uv_work_t *req, int status)
{
	struct uv_copy *c = req->data;

	if (status != 0) {
		fprintf(stderr, "bench: libuv: %s\n", uv_strerror(status));
		exit(1);
	}
	--*c->left;
}

/*
 * The work of inflight_mops() through libuv's thread pool: each batch
 * of INFLIGHT copies queued with uv_queue_work, then uv_run until
 * all are done. Millions of copies per second; *cpu gets the CPU seconds
 * this (the loop's) thread used per wall-clock second.
 */
static double
tput_uv_mops(uv_loop_t *loop, char *dst, char *src, double *cpu)
{
	struct uv_copy c[INFLIGHT];
	unsigned left;
	uint64_t cpu0 = thread_cpu_ns();
	uint64_t t0 = now_ns();

	for (unsigned b = 0; b < TPUT_BATCHES; b++) {
		left = INFLIGHT;
		for (size_t i = 0; i < INFLIGHT; i++) {
			c[i].req.data = &c[i];
			c[i].dst = dst + i * TPUT_SIZE;
			c[i].src = src + i * TPUT_SIZE;
			c[i].left = &left;
			if (uv_queue_work(loop, &c[i].req, uv_copy_work,
					uv_copy_done) != 0)
				die("uv_queue_work");
		}
		uv_run(loop, UV_RUN_DEFAULT);
		if (left != 0) {
			fprintf(stderr, "bench: libuv: %u copies lost\n", left);
			exit(1);
		}
	}
	uint64_t t = now_ns() - t0;

	*cpu = (double)(thread_cpu_ns() - cpu0) / (double)t;
	return (double)TPUT_BATCHES * INFLIGHT * 1000.0 / (double)t;
}
#endif /* BENCH_LIBUV */

/*
 * Figures: 4 KiB copies, 64 in flight, on 2 workers, against plain 4 KiB
 * copies on one thread; and the CPU the waiting thread used meanwhile,
 * against that of libuv's loop thread while its pool of 2 threads does
 * the same copies (measured in turn with ours), or, without libuv,
 * against a fixed bound.
 */
void
bench_tput(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"threads: 4 KiB x64 flight", "Mops/s", 1, 0, 1, "ratio>=1",
	};
#ifdef BENCH_LIBUV
	static const struct figure fcpu = {
		"threads: x64 waiter CPU", "cpu/s", 1, 1, 1, "<=libuv",
	};
	/* the same, per copy: the two do not copy at the same rate */
	static const struct figure fop = {
		"threads: x64 waiter CPU/op", "ns", 1, 1, 1, "<=libuv",
	};
	double uv[MAX_REPS], uvcpu[MAX_REPS], op[MAX_REPS], uvop[MAX_REPS];
	uv_loop_t loop;

	/* libuv reads it once, when its pool starts: before any use */
	if (setenv("UV_THREADPOOL_SIZE", "2", 1) != 0)
		die("setenv");
	if (uv_loop_init(&loop) != 0)
		die("uv_loop_init");
#else
	static const struct figure fcpu = {
		"threads: x64 waiter CPU", "cpu/s", 0, 1, 0.39, "<=0.39",
	};
#endif
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
#ifdef BENCH_LIBUV
	memset(dst, 0, n);
	tput_uv_mops(&loop, dst, src, &uvcpu[0]);
	check_copied(dst, src, n, "libuv thread pool");
#endif

	/* ours, plain and libuv's in turn, which goes first alternating */
	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
#ifdef BENCH_LIBUV
			uv[i] = tput_uv_mops(&loop, dst, src, &uvcpu[i]);
#endif
			ref[i] = tput_plain_mops(dst, src);
			val[i] = inflight_mops(r, vdm, dst, src, TPUT_SIZE,
				TPUT_BATCHES, &cpu[i]);
		} else {
			val[i] = inflight_mops(r, vdm, dst, src, TPUT_SIZE,
				TPUT_BATCHES, &cpu[i]);
			ref[i] = tput_plain_mops(dst, src);
#ifdef BENCH_LIBUV
			uv[i] = tput_uv_mops(&loop, dst, src, &uvcpu[i]);
#endif
		}
	}
	report(&f, val, ref);
#ifdef BENCH_LIBUV
	report(&fcpu, cpu, uvcpu);
	for (unsigned i = 0; i < reps; i++) {
		op[i] = cpu[i] * 1000.0 / val[i]; /* cpu-s/s over Mops/s */
		uvop[i] = uvcpu[i] * 1000.0 / uv[i];
	}
	report(&fop, op, uvop);
	printf("  (memcpy column of the waiter CPU rows: libuv's thread pool, "
		"2 threads, the\n  same copies, %.2f Mops/s)\n",
		median(uv, reps));
	if (uv_loop_close(&loop) != 0)
		die("uv_loop_close");
#else
	report(&fcpu, cpu, NULL);
	printf("  (the waiter CPU's libuv reference was skipped: built "
		"without libuv)\n");
#endif
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
