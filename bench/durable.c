/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * durable.c -- make bench's figures for durable writes: memcpy, memmove
 * (overlapping, dest below and above src) and memset futures with
 * VDM_F_MEM_DURABLE, with and without VDM_F_NO_CACHE_HINT, on the
 * synchronous mover, at 256 B, 4 KiB, 64 KiB, 1 MiB, 16 MiB and 128 MiB,
 * beside the reference measured in the same run:
 * - built with libpmem (configure found it: -DBENCH_LIBPMEM), libpmem's
 *   pmem_memcpy_persist, pmem_memmove_persist and pmem_memset_persist;
 *   and vdm_flush beside pmem_persist (after a plain memset of the range).
 *   Also (no target) the same calls made by a mover of this file whose
 *   op_start calls them, as libpmem2's own mover does: the same future
 *   machinery as ours around libpmem's stores;
 * - else the same operation by the C library followed by a vdm_flush
 *   (cached stores, then every line written back).
 * Target: ours / reference >= 1.0 at every size (doc/design.md). Each
 * repetition times the three (ours, ours with the hint, the reference)
 * back to back, in an order that turns from one repetition to the next;
 * the table shows medians. Destinations walk through a 64 MiB window (or
 * the size, when bigger), larger than the caches, as writes to a
 * persistent log or table would. Public interface only.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#ifdef BENCH_LIBPMEM
#include <libpmem.h>
#endif

#include "common.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define WINDOW (64 * MIB) /* the destinations walk through this */
#define BATCH (64 * MIB) /* bytes written per timing, at least one op */

enum op { OP_COPY, OP_MOVE_UP, OP_MOVE_DOWN, OP_SET, OP_FLUSH, OPS };

static const char *const op_names[] = {
	"memcpy", "memmove<", "memmove>", "memset", "flush",
};

/*
 * Who writes: ours (durable), ours (durable, no cache), the reference,
 * and (with libpmem) the reference inside a mover of its own.
 */
#ifdef BENCH_LIBPMEM
enum who { OURS, OURS_NC, REF, REF_VDM, WHO };
#else
enum who { OURS, OURS_NC, REF, WHO };
#endif

static const size_t sizes[] = {
	256, 4 * KIB, 64 * KIB, 1 * MIB, 16 * MIB, 128 * MIB,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static struct vdm *vdm;
static char *src_area;
static char *dst_area;

/* The C library's functions, called for real on every use. */
#ifndef BENCH_LIBPMEM
static void *(*volatile plain_memmove)(void *, const void *, size_t) =
	memmove;
#endif
static void *(*volatile plain_memset)(void *, int, size_t) = memset;

static void
run_future(struct vdm_operation_future *f)
{
	FUTURE_BUSY_POLL(f);
	if (FUTURE_OUTPUT(f)->result != VDM_SUCCESS) {
		fprintf(stderr, "bench: durable: an operation failed\n");
		exit(1);
	}
}

/* Our durable write of n bytes; flags add VDM_F_NO_CACHE_HINT or not. */
static void
ours(struct vdm *v, enum op op, char *d, char *s, size_t n, int c,
	uint64_t flags)
{
	struct vdm_operation_future f;

	switch (op) {
	case OP_COPY:
		f = vdm_memcpy(v, d, s, n, flags);
		break;
	case OP_MOVE_UP:
	case OP_MOVE_DOWN:
		f = vdm_memmove(v, d, s, n, flags);
		break;
	case OP_SET:
		f = vdm_memset(v, d, c, n, flags);
		break;
	default:
		plain_memset(d, c, n);
		f = vdm_flush(v, d, n, 0);
		break;
	}
	run_future(&f);
}

#ifdef BENCH_LIBPMEM
/* A mover that runs libpmem's calls in op_start, like libpmem2's. */
static void *
pmem_op_new(struct vdm *v, const enum vdm_operation_type type)
{
	(void)type;
	return v;
}

static int
pmem_op_start(void *data, const struct vdm_operation *op,
	struct future_notifier *n)
{
	(void)data;
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		pmem_memcpy_persist(op->data.memcpy.dest, op->data.memcpy.src,
			op->data.memcpy.n);
		break;
	case VDM_OPERATION_MEMMOVE:
		pmem_memmove_persist(op->data.memmove.dest,
			op->data.memmove.src, op->data.memmove.n);
		break;
	case VDM_OPERATION_MEMSET:
		pmem_memset_persist(op->data.memset.str, op->data.memset.c,
			op->data.memset.n);
		break;
	default:
		pmem_persist(op->data.flush.dest, op->data.flush.n);
		break;
	}
	return 0;
}

static enum future_state
pmem_op_check(void *data, const struct vdm_operation *op)
{
	(void)data;
	(void)op;
	return FUTURE_STATE_COMPLETE;
}

static void
pmem_op_delete(void *data, const struct vdm_operation *op,
	struct vdm_operation_output *output)
{
	(void)data;
	output->type = op->type;
	output->result = VDM_SUCCESS;
	output->output.memcpy.dest = op->data.memcpy.dest;
}

static struct vdm pmem_vdm = {
	.op_new = pmem_op_new,
	.op_delete = pmem_op_delete,
	.op_start = pmem_op_start,
	.op_check = pmem_op_check,
	.capabilities = VDM_F_MEM_DURABLE,
	.has_property = NULL,
};
#endif

/* The reference's durable write of n bytes. */
static void
reference(enum op op, char *d, char *s, size_t n, int c)
{
#ifdef BENCH_LIBPMEM
	switch (op) {
	case OP_COPY:
		pmem_memcpy_persist(d, s, n);
		break;
	case OP_MOVE_UP:
	case OP_MOVE_DOWN:
		pmem_memmove_persist(d, s, n);
		break;
	case OP_SET:
		pmem_memset_persist(d, c, n);
		break;
	default:
		plain_memset(d, c, n);
		pmem_persist(d, n);
		break;
	}
#else
	struct vdm_operation_future f;

	if (op == OP_SET || op == OP_FLUSH)
		plain_memset(d, c, n);
	else
		plain_memmove(d, s, n);
	f = vdm_flush(vdm, d, n, 0);
	run_future(&f);
#endif
}

/*
 * ns per operation of who, over a batch of BATCH bytes (at least one
 * operation), the destination walking through the window. Overlapping
 * moves: source and destination half a size apart in the same window.
 */
static double
batch_ns(enum who who, enum op op, size_t n)
{
	size_t iters = BATCH / n > 0 ? BATCH / n : 1;
	size_t window = (n > WINDOW ? n : WINDOW);
	size_t shift = op == OP_MOVE_UP || op == OP_MOVE_DOWN ? n / 2 : 0;
	size_t off = 0;
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < iters; i++) {
		char *d = dst_area + off;
		char *s = src_area + off;
		int c = (int)(i & 0xff);

		if (op == OP_MOVE_UP)
			s = d + shift;
		else if (op == OP_MOVE_DOWN)
			s = d, d += shift;
		if (who == OURS)
			ours(vdm, op, d, s, n, c, VDM_F_MEM_DURABLE);
		else if (who == OURS_NC)
			ours(vdm, op, d, s, n, c,
				VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT);
		else if (who == REF)
			reference(op, d, s, n, c);
#ifdef BENCH_LIBPMEM
		else
			ours(&pmem_vdm, op, d, s, n, c, VDM_F_MEM_DURABLE);
#endif
		off += n;
		if (off + n + shift > window)
			off = 0;
	}
	return (double)(now_ns() - t0) / (double)iters;
}

static void
print_row(enum op op, size_t n, const double t[WHO][MAX_REPS])
{
	double ratio[2][MAX_REPS];
	char size[32];

	for (unsigned r = 0; r < reps; r++) {
		ratio[0][r] = t[REF][r] / t[OURS][r];
		ratio[1][r] = t[REF][r] / t[OURS_NC][r];
	}
	if (n >= MIB)
		snprintf(size, sizeof(size), "%zu MiB", n / MIB);
	else if (n >= KIB)
		snprintf(size, sizeof(size), "%zu KiB", n / KIB);
	else
		snprintf(size, sizeof(size), "%zu B", n);
	printf("%-9s %-8s %8.2f %8.2f %8.2f", op_names[op], size,
		(double)n / median(t[OURS], reps),
		(double)n / median(t[OURS_NC], reps),
		(double)n / median(t[REF], reps));
	for (int k = 0; k < 2; k++) {
		double q = median(ratio[k], reps);
		/* flush has no hint: one figure */
		int pass = q >= 1.0;

		if (op == OP_FLUSH && k == 1) {
			printf(" %6s %-4s", "-", "");
			continue;
		}
		printf(" %6.2f %-4s", q, pass ? "PASS" : "MISS");
		if (pass)
			npass++;
		else
			nmiss++;
	}
#ifdef BENCH_LIBPMEM
	for (unsigned r = 0; r < reps; r++)
		ratio[0][r] = t[REF_VDM][r] / t[OURS][r];
	printf(" %6.2f", median(ratio[0], reps));
#endif
	printf("\n");
	fflush(stdout);
}

void
bench_durable(struct runtime *r, struct vdm *v)
{
	static double t[WHO][MAX_REPS];

	(void)r;
	vdm = v;
	if (!vdm_is_supported(vdm, VDM_F_MEM_DURABLE)) {
		printf("\ndurable: n/a (the mover does not offer "
			"VDM_F_MEM_DURABLE here)\n");
		return;
	}
	size_t area_size = 2 * 128 * MIB;

	src_area = xalloc(area_size);
	dst_area = xalloc(area_size);
	memset(src_area, 0x11, area_size);
	memset(dst_area, 0x22, area_size);

#ifdef BENCH_LIBPMEM
	const char *ref_name = "libpmem pmem_*_persist";
#else
	const char *ref_name = "C library + vdm_flush";
#endif
	printf("\ndurable writes, sync mover, GB/s: ours (VDM_F_MEM_DURABLE), "
		"ours+nc (and\nVDM_F_NO_CACHE_HINT), ref (%s); ratio = ours / "
		"ref, median\nof %u repetitions, each timing the three back "
		"to back; target ratio >= 1.0\n", ref_name, reps);
#ifdef BENCH_LIBPMEM
	printf("vdm: ours / libpmem's calls made by a mover of the benchmark "
		"(the same\nfuture around them as around ours; no target)\n");
#endif
	printf("%-9s %-8s %8s %8s %8s %6s %-4s %6s %-4s%s\n", "op", "size",
		"ours", "ours+nc", "ref", "ratio", "", "+nc", "",
#ifdef BENCH_LIBPMEM
		"    vdm"
#else
		""
#endif
		);
	for (enum op op = 0; op < OPS; op++)
	for (size_t k = 0; k < NSIZES; k++) {
		size_t n = sizes[k];

		for (unsigned r = 0; r < reps; r++)
			for (unsigned w = 0; w < WHO; w++) {
				enum who who = (enum who)((w + r) % WHO);

				if (op == OP_FLUSH && who == OURS_NC)
					t[who][r] = 1; /* no such figure */
				else
					t[who][r] = batch_ns(who, op, n);
			}
		if (op == OP_FLUSH)
			for (unsigned r = 0; r < reps; r++)
				t[OURS_NC][r] = t[OURS][r];
		print_row(op, n, (const double (*)[MAX_REPS])t);
		if (verbose) {
			fprintf(stderr, "durable %s %zu:", op_names[op], n);
			for (unsigned r = 0; r < reps; r++)
				fprintf(stderr, " %.4g/%.4g/%.4g", t[OURS][r],
					t[OURS_NC][r], t[REF][r]);
			fprintf(stderr, "\n");
		}
	}
	free(src_area);
	free(dst_area);
}
