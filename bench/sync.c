/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * sync.c -- make bench's figures of the synchronous mover: "sync", a
 * 64-byte memcpy future created and busy-polled beside a plain 64-byte
 * memcpy, and "wait", runtime_wait_multiple over 4096 such futures
 * created beforehand.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#include "common.h"

/*
 * Sync mover: 64-byte copies into SYNC_SLOTS cache lines (in L1), timed
 * in SYNC_CHUNKS chunks of SYNC_CHUNK copies per repetition.
 */
#define SYNC_CHUNK (1U << 16)
#define SYNC_CHUNKS 16
#define SYNC_SLOTS 64


/* runtime_wait_multiple over WAIT_NFUTS ready futures, WAIT_ROUNDS times. */
#define WAIT_NFUTS 4096
#define WAIT_ROUNDS 32
/* ns per plain 64-byte memcpy, in the loop shape of sync_future_ns(). */
static double
sync_plain_ns(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < SYNC_CHUNK; i++) {
		size_t off = (i % SYNC_SLOTS) * SMALL;

		plain_memcpy(dst + off, src + off, SMALL);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / SYNC_CHUNK;
}

/* ns per 64-byte memcpy future on the sync mover: create, busy-poll. */
static double
sync_future_ns(struct vdm *vdm, char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < SYNC_CHUNK; i++) {
		size_t off = (i % SYNC_SLOTS) * SMALL;
		struct vdm_operation_future fut =
			vdm_memcpy(vdm, dst + off, src + off, SMALL, 0);

		FUTURE_BUSY_POLL(&fut);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / SYNC_CHUNK;
}

/*
 * One repetition: SYNC_CHUNKS chunks of futures interleaved with as many
 * of plain copies (which goes first alternates), so that both meet the
 * same machine; each gets the median of its chunks.
 */
static void
sync_rep(struct vdm *vdm, char *dst, char *src, double *val, double *ref)
{
	double v[SYNC_CHUNKS], r[SYNC_CHUNKS];

	for (unsigned c = 0; c < SYNC_CHUNKS; c++) {
		if (c % 2) {
			r[c] = sync_plain_ns(dst, src);
			v[c] = sync_future_ns(vdm, dst, src);
		} else {
			v[c] = sync_future_ns(vdm, dst, src);
			r[c] = sync_plain_ns(dst, src);
		}
	}
	*val = median(v, SYNC_CHUNKS);
	*ref = median(r, SYNC_CHUNKS);
}

/* Figure: sync mover 64-byte memcpy future / plain memcpy. */
void
bench_sync(struct runtime *r, struct vdm *vdm)
{
	static const struct figure f = {
		"sync: 64 B memcpy future", "ns/op", 1, 1, 1.3, "ratio<=1.3",
	};
	size_t n = SYNC_SLOTS * SMALL;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	double val[MAX_REPS], ref[MAX_REPS];

	(void)r;
	fill(src, n, 1);
	memset(dst, 0, n);
	sync_future_ns(vdm, dst, src); /* warm up, and check */
	check_copied(dst, src, n, "sync mover");
	sync_plain_ns(dst, src);

	for (unsigned i = 0; i < reps; i++)
		sync_rep(vdm, dst, src, &val[i], &ref[i]);
	report(&f, val, ref);
	free(src);
	free(dst);
}

/*
 * Creates WAIT_NFUTS sync-mover 64-byte copies (untimed), then times
 * runtime_wait_multiple over them. Returns ns per future.
 */
static double
wait_futures_ns(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct vdm_operation_future *futs, struct future **ptrs)
{
	for (size_t i = 0; i < WAIT_NFUTS; i++) {
		futs[i] = vdm_memcpy(vdm, dst + i * SMALL, src + i * SMALL,
			SMALL, 0);
		ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	CLOBBER();
	uint64_t t0 = now_ns();

	runtime_wait_multiple(r, ptrs, WAIT_NFUTS);
	uint64_t t = now_ns() - t0;

	for (size_t i = 0; i < WAIT_NFUTS; i++)
		check_result(&futs[i], "wait");
	return (double)t / WAIT_NFUTS;
}

/* The same copies as wait_futures_ns(), by plain memcpy: ns per copy. */
static double
wait_plain_ns(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < WAIT_NFUTS; i++) {
		plain_memcpy(dst + i * SMALL, src + i * SMALL, SMALL);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / WAIT_NFUTS;
}

/* One repetition: WAIT_ROUNDS of each, interleaved; medians. */
static void
wait_rep(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct vdm_operation_future *futs, struct future **ptrs,
	double *val, double *ref)
{
	double v[WAIT_ROUNDS], p[WAIT_ROUNDS];

	for (unsigned c = 0; c < WAIT_ROUNDS; c++) {
		if (c % 2) {
			p[c] = wait_plain_ns(dst, src);
			v[c] = wait_futures_ns(r, vdm, dst, src, futs, ptrs);
		} else {
			v[c] = wait_futures_ns(r, vdm, dst, src, futs, ptrs);
			p[c] = wait_plain_ns(dst, src);
		}
	}
	*val = median(v, WAIT_ROUNDS);
	*ref = median(p, WAIT_ROUNDS);
}

/* Figure: runtime_wait_multiple over futures finished on first poll. */
void
bench_wait(struct runtime *r, struct vdm *vdm)
{
	static const struct figure f = {
		"wait_multiple 4096 ready", "ns/fut", 0, 1, 10, "<=10 ns",
	};
	size_t n = (size_t)WAIT_NFUTS * SMALL;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	struct vdm_operation_future *futs = xalloc(WAIT_NFUTS * sizeof(*futs));
	struct future **ptrs = xalloc(WAIT_NFUTS * sizeof(*ptrs));
	double val[MAX_REPS], ref[MAX_REPS];

	fill(src, n, 2);
	memset(dst, 0, n);
	wait_futures_ns(r, vdm, dst, src, futs, ptrs);
	check_copied(dst, src, n, "runtime_wait_multiple");
	wait_plain_ns(dst, src);

	for (unsigned i = 0; i < reps; i++)
		wait_rep(r, vdm, dst, src, futs, ptrs, &val[i], &ref[i]);
	report(&f, val, ref);
	free(src);
	free(dst);
	free(futs);
	free(ptrs);
}
