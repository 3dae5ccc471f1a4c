/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_sync.c -- tests of the synchronous mover: memcpy, memmove
 * (disjoint and overlapping both ways), memset and flush for every flag
 * combination, the sizes around every 16- and 64-byte edge and a large
 * one, at destination and source offsets 0..17 inside guarded buffers.
 * Each result must equal what the C library does, byte for byte, and
 * nothing around the destination may change. Also: n == 0 with NULL,
 * the output, completion on the first poll without a notifier, the
 * capabilities, the runtime wait functions and several threads sharing
 * one mover.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libminiasync.h>

#include "test_util.h"

#define TIMEOUT 60 /* seconds, per test (the large sizes, under sanitizers) */

#define GUARD 64 /* bytes checked on each side of a destination */
#define MAX_OFF 17 /* offsets 0..MAX_OFF from a 64-byte boundary */
#define NOFF (MAX_OFF + 1)
#define BIG ((size_t)1 << 20) /* sizes above this test fewer offset pairs */

static const size_t sizes[] = {
	0, 1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097,
	BIG + 3,
};

#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))

/* Both hints, each alone, none, and bits the mover must ignore. */
static const uint64_t flag_sets[] = {
	0,
	VDM_F_MEM_DURABLE,
	VDM_F_NO_CACHE_HINT,
	VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT,
	~(uint64_t)VDM_F_VALID_FLAGS,
	~(uint64_t)0,
	(uint64_t)1 << 2 | (uint64_t)1 << 40 | VDM_F_NO_CACHE_HINT,
};

#define NFLAGS (sizeof(flag_sets) / sizeof(flag_sets[0]))

/* memset values: plain, zero, and ints that convert to a byte */
static const int fill_values[] = { 0x5a, 0, 0xff, 0x1a7, -2 };

#define NFILLS (sizeof(fill_values) / sizeof(fill_values[0]))

static struct test_mover mover;
static struct vdm *vdm;

static void
mover_setup(void)
{
	vdm = test_mover_new(&mover, TEST_MOVER_SYNC, FUTURE_NOTIFIER_NONE);
}

static void
mover_teardown(void)
{
	test_mover_delete(&mover);
	vdm = NULL;
}

/* Like ck_assert_msg, but costs nothing while it holds (for hot loops). */
#define EXPECT(_cond, ...) do {\
	if (!(_cond))\
		ck_abort_msg(__VA_ARGS__);\
} while (0)

/* A 64-byte aligned buffer; the test fails if there is no memory. */
static unsigned char *
buf_alloc(size_t len)
{
	size_t rounded = (len + 63) & ~(size_t)63;
	unsigned char *buf = aligned_alloc(64, rounded);

	ck_assert_msg(buf != NULL, "no memory for %zu bytes", rounded);
	return buf;
}

/*
 * Fails, naming the case and the first byte that differs, unless the
 * len bytes of got and want are equal. arg_name (NULL for none) and arg
 * name the operation's other argument: "src at" an index, or "c".
 */
static void
expect_same(const unsigned char *got, const unsigned char *want, size_t len,
	const char *what, size_t n, size_t dest_at, const char *arg_name,
	long arg, uint64_t flags)
{
	if (memcmp(got, want, len) == 0)
		return;

	size_t i = 0;
	char arg_text[64] = "";

	while (got[i] == want[i])
		i++;
	if (arg_name != NULL)
		snprintf(arg_text, sizeof(arg_text), " %s %ld", arg_name, arg);
	ck_abort_msg("%s n=%zu dest at %zu%s flags %#" PRIx64
		": byte %zu of the buffer is %#x, expected %#x "
		"(destination is [%zu, %zu))", what, n, dest_at, arg_text,
		flags, i, got[i], want[i], dest_at, dest_at + n);
}

/* Runs a future on the sync mover: it must finish in its first poll. */
static void
poll_once(struct vdm_operation_future *fut, enum vdm_operation_type type,
	void *dest, const char *what, size_t n, uint64_t flags)
{
	struct future_notifier notifier;

	memset(&notifier, 0, sizeof(notifier));
	notifier.notifier_used = FUTURE_NOTIFIER_WAKER; /* must become NONE */
	EXPECT(FUTURE_STATE(fut) == FUTURE_STATE_IDLE,
		"%s n=%zu: new future in state %d", what, n, FUTURE_STATE(fut));

	enum future_state state = future_poll(FUTURE_AS_RUNNABLE(fut),
		&notifier);

	EXPECT(state == FUTURE_STATE_COMPLETE,
		"%s n=%zu flags %#" PRIx64 ": state %d after the first poll",
		what, n, flags, state);
	EXPECT(notifier.notifier_used == FUTURE_NOTIFIER_NONE,
		"%s n=%zu: notifier_used %d, expected NONE", what, n,
		notifier.notifier_used);
	EXPECT(fut->output.result == VDM_SUCCESS, "%s n=%zu: result %d",
		what, n, fut->output.result);
	EXPECT(fut->output.type == type, "%s n=%zu: output type %d", what, n,
		fut->output.type);
	if (type != VDM_OPERATION_FLUSH) {
		EXPECT(fut->output.output.memcpy.dest == dest,
			"%s n=%zu: output %p, expected the destination %p",
			what, n, fut->output.output.memcpy.dest, dest);
	}
}

/*
 * The (dest, src) offset pairs to try for size n: all of them, except for
 * the large size, where every dest offset is paired with one src offset
 * (every src offset still occurs) to keep the run short.
 */
static size_t
offset_pairs(size_t n, size_t pair, size_t *doff, size_t *soff)
{
	if (n < BIG) {
		if (pair >= NOFF * NOFF)
			return 0;
		*doff = pair / NOFF;
		*soff = pair % NOFF;
		return 1;
	}
	if (pair >= NOFF)
		return 0;
	*doff = pair;
	*soff = (pair * 7 + 3) % NOFF;
	return 1;
}

/*
 * memcpy or memmove between two separate buffers, for sizes[_i]: every
 * flag set and offset pair, against the C library's memcpy.
 */
static void
check_copy(int size_index, enum vdm_operation_type type)
{
	size_t n = sizes[size_index];
	size_t len = GUARD + MAX_OFF + n + GUARD;
	unsigned char *src = buf_alloc(len);
	unsigned char *src_orig = buf_alloc(len);
	unsigned char *dst = buf_alloc(len);
	unsigned char *ref = buf_alloc(len);
	unsigned char *orig = buf_alloc(len);
	const char *what = type == VDM_OPERATION_MEMCPY ? "memcpy" : "memmove";

	test_fill(src, len, 1);
	memcpy(src_orig, src, len);
	test_fill(orig, len, 2);
	memcpy(dst, orig, len);
	memcpy(ref, orig, len);

	for (size_t f = 0; f < NFLAGS; f++) {
		size_t doff, soff;

		for (size_t p = 0; offset_pairs(n, p, &doff, &soff); p++) {
			unsigned char *d = dst + GUARD + doff;
			unsigned char *s = src + GUARD + soff;
			struct vdm_operation_future fut =
				type == VDM_OPERATION_MEMCPY ?
				vdm_memcpy(vdm, d, s, n, flag_sets[f]) :
				vdm_memmove(vdm, d, s, n, flag_sets[f]);

			poll_once(&fut, type, d, what, n, flag_sets[f]);
			memcpy(ref + GUARD + doff, s, n);
			expect_same(dst, ref, len, what, n, GUARD + doff,
				"src at", (long)(GUARD + soff), flag_sets[f]);

			/* put back what the copy wrote */
			memcpy(d, orig + GUARD + doff, n);
			memcpy(ref + GUARD + doff, orig + GUARD + doff, n);
		}
		expect_same(src, src_orig, len, "source changed by", n, 0,
			NULL, 0, flag_sets[f]);
	}

	free(src);
	free(src_orig);
	free(dst);
	free(ref);
	free(orig);
}

START_TEST(test_memcpy)
{
	check_copy(_i, VDM_OPERATION_MEMCPY);
}
END_TEST

START_TEST(test_memmove_disjoint)
{
	check_copy(_i, VDM_OPERATION_MEMMOVE);
}
END_TEST

/*
 * memmove inside one buffer: the destination is the source moved by
 * delta, so ranges overlap forwards and backwards by every amount around
 * the 16- and 64-byte edges, and also just touch (|delta| == n) or just
 * miss (|delta| == n + 1).
 */
START_TEST(test_memmove_overlap)
{
	size_t n = sizes[_i];
	long ln = (long)n;
	const long deltas[] = {
		-1, 1, -2, 2, -8, 8, -15, 15, -16, 16, -17, 17, -63, 63,
		-64, 64, -65, 65, -(ln / 2), ln / 2, -(ln - 1), ln - 1,
		-ln, ln, -(ln + 1), ln + 1,
	};
	/* the source starts MAX_OFF + n + 1 bytes past the front guard */
	size_t base = GUARD + MAX_OFF + n + 1;
	size_t len = base + MAX_OFF + n + (n + 1) + GUARD;
	unsigned char *buf = buf_alloc(len);
	unsigned char *ref = buf_alloc(len);
	unsigned char *orig = buf_alloc(len);
	size_t ndeltas = sizeof(deltas) / sizeof(deltas[0]);
	int big = n >= BIG;

	test_fill(orig, len, 3);
	memcpy(buf, orig, len);
	memcpy(ref, orig, len);

	for (size_t f = 0; f < NFLAGS; f++) {
		/* the large size: fewer flag sets and source offsets */
		if (big && f % 3 != 0)
			continue;
		for (size_t k = 0; k < ndeltas; k++) {
			if (deltas[k] > ln + 1 || deltas[k] < -(ln + 1))
				continue;
			for (size_t soff = 0; soff <= MAX_OFF;
					soff += big ? MAX_OFF : 1) {
				size_t s_at = base + soff;
				size_t d_at = (size_t)((long)s_at + deltas[k]);
				struct vdm_operation_future fut = vdm_memmove(
					vdm, buf + d_at, buf + s_at, n,
					flag_sets[f]);

				poll_once(&fut, VDM_OPERATION_MEMMOVE,
					buf + d_at, "memmove (overlap)", n,
					flag_sets[f]);
				memmove(ref + d_at, ref + s_at, n);
				expect_same(buf, ref, len, "memmove (overlap)",
					n, d_at, "src at", (long)s_at,
					flag_sets[f]);

				memcpy(buf + d_at, orig + d_at, n);
				memcpy(ref + d_at, orig + d_at, n);
			}
		}
	}

	free(buf);
	free(ref);
	free(orig);
}
END_TEST

START_TEST(test_memset)
{
	size_t n = sizes[_i];
	size_t len = GUARD + MAX_OFF + n + GUARD;
	unsigned char *buf = buf_alloc(len);
	unsigned char *ref = buf_alloc(len);
	unsigned char *orig = buf_alloc(len);
	int big = n >= BIG;

	test_fill(orig, len, 4);
	memcpy(buf, orig, len);
	memcpy(ref, orig, len);

	for (size_t f = 0; f < NFLAGS; f++) {
		for (size_t v = 0; v < NFILLS; v++) {
			/* the large size: three values only */
			if (big && v > 1 && v != 3)
				continue;
			for (size_t doff = 0; doff <= MAX_OFF; doff++) {
				unsigned char *d = buf + GUARD + doff;
				struct vdm_operation_future fut = vdm_memset(
					vdm, d, fill_values[v], n,
					flag_sets[f]);

				int c = fut.data.operation.data.memset.c;

				EXPECT(c == fill_values[v],
					"memset: c is %d, not %d", c,
					fill_values[v]);
				poll_once(&fut, VDM_OPERATION_MEMSET, d,
					"memset", n, flag_sets[f]);
				memset(ref + GUARD + doff, fill_values[v], n);
				expect_same(buf, ref, len, "memset", n,
					GUARD + doff, "c", fill_values[v],
					flag_sets[f]);

				memcpy(d, orig + GUARD + doff, n);
				memcpy(ref + GUARD + doff, orig + GUARD + doff,
					n);
			}
		}
	}

	free(buf);
	free(ref);
	free(orig);
}
END_TEST

/* A flush writes nothing: the buffer is as it was, guards included. */
START_TEST(test_flush)
{
	size_t n = sizes[_i];
	size_t len = GUARD + MAX_OFF + n + GUARD;
	unsigned char *buf = buf_alloc(len);
	unsigned char *orig = buf_alloc(len);

	test_fill(orig, len, 5);
	memcpy(buf, orig, len);

	for (size_t f = 0; f < NFLAGS; f++) {
		for (size_t doff = 0; doff <= MAX_OFF; doff++) {
			unsigned char *d = buf + GUARD + doff;
			struct vdm_operation_future fut = vdm_flush(vdm, d, n,
				flag_sets[f]);

			poll_once(&fut, VDM_OPERATION_FLUSH, d, "flush", n,
				flag_sets[f]);
			expect_same(buf, orig, len, "flush", n, GUARD + doff,
				NULL, 0, flag_sets[f]);
		}
	}

	free(buf);
	free(orig);
}
END_TEST

/* n == 0 is a valid operation even on NULL: it touches nothing. */
START_TEST(test_zero_null)
{
	for (size_t f = 0; f < NFLAGS; f++) {
		uint64_t flags = flag_sets[f];
		struct vdm_operation_future fut;

		fut = vdm_memcpy(vdm, NULL, NULL, 0, flags);
		poll_once(&fut, VDM_OPERATION_MEMCPY, NULL, "memcpy NULL", 0,
			flags);
		fut = vdm_memmove(vdm, NULL, NULL, 0, flags);
		poll_once(&fut, VDM_OPERATION_MEMMOVE, NULL, "memmove NULL", 0,
			flags);
		fut = vdm_memset(vdm, NULL, 0x33, 0, flags);
		poll_once(&fut, VDM_OPERATION_MEMSET, NULL, "memset NULL", 0,
			flags);
		fut = vdm_flush(vdm, NULL, 0, flags);
		poll_once(&fut, VDM_OPERATION_FLUSH, NULL, "flush NULL", 0,
			flags);
	}
}
END_TEST

/* Polled with no notifier, and busy polled: the same result. */
START_TEST(test_null_notifier)
{
	unsigned char src[100], dst[100];

	memset(src, 0x11, sizeof(src));
	memset(dst, 0x22, sizeof(dst));

	struct vdm_operation_future fut = vdm_memcpy(vdm, dst, src, 50, 0);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(fut.output.result, VDM_SUCCESS);
	ck_assert_ptr_eq(fut.output.output.memcpy.dest, dst);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);

	fut = vdm_memset(vdm, dst + 50, 0x33, 50, VDM_F_MEM_DURABLE);
	FUTURE_BUSY_POLL(&fut);
	ck_assert_ptr_eq(fut.output.output.memset.str, dst + 50);
	for (size_t i = 0; i < sizeof(dst); i++) {
		ck_assert_msg(dst[i] == (i < 50 ? 0x11 : 0x33),
			"byte %zu is %#x", i, dst[i]);
	}
}
END_TEST

START_TEST(test_capabilities)
{
	/* durable only where the architecture can write lines back */
	int durable = test_durable_expected();

	ck_assert_uint_eq(vdm->capabilities & VDM_F_MEM_DURABLE,
		durable ? VDM_F_MEM_DURABLE : 0);
	ck_assert_uint_eq(vdm->capabilities & VDM_F_NO_CACHE_HINT,
		VDM_F_NO_CACHE_HINT);
	ck_assert_int_eq(!!vdm_is_supported(vdm, VDM_F_MEM_DURABLE), durable);
	ck_assert_int_ne(vdm_is_supported(vdm, VDM_F_NO_CACHE_HINT), 0);
	ck_assert_int_eq(!!vdm_is_supported(vdm, VDM_F_VALID_FLAGS), durable);

	/* its futures finish on the calling thread: they are not async */
	char c = 0;
	struct vdm_operation_future fut = vdm_memset(vdm, &c, 1, 1, 0);

	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 0);
	FUTURE_BUSY_POLL(&fut);
	ck_assert_int_eq(c, 1);
}
END_TEST

START_TEST(test_new_delete)
{
	data_mover_sync_delete(NULL);

	struct data_mover_sync *other = data_mover_sync_new();

	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_ne(other, mover.dms);
	ck_assert_ptr_eq(data_mover_sync_get_vdm(other),
		data_mover_sync_get_vdm(other));
	ck_assert_ptr_ne(data_mover_sync_get_vdm(other), vdm);

	/* a future made on one mover runs after another is deleted */
	unsigned char b[8] = { 0 };
	struct vdm_operation_future fut = vdm_memset(vdm, b, 9, sizeof(b), 0);

	data_mover_sync_delete(other);
	FUTURE_BUSY_POLL(&fut);
	ck_assert_int_eq(b[7], 9);
}
END_TEST

START_TEST(test_runtime_wait)
{
	struct runtime *r = runtime_new();
	unsigned char src[300], dst[300];

	ck_assert_ptr_nonnull(r);
	test_fill(src, sizeof(src), 6);
	memset(dst, 0, sizeof(dst));

	struct vdm_operation_future fut = vdm_memcpy(vdm, dst, src,
		sizeof(src), VDM_F_NO_CACHE_HINT);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(fut.output.result, VDM_SUCCESS);
	ck_assert_ptr_eq(fut.output.output.memcpy.dest, dst);
	expect_same(dst, src, sizeof(dst), "runtime_wait memcpy",
		sizeof(src), 0, "src at", 0, VDM_F_NO_CACHE_HINT);

	/* waiting for a complete future returns at once */
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);

	runtime_delete(r);
}
END_TEST

#define NFUTS 12
#define FUT_BYTES 777

START_TEST(test_runtime_wait_multiple)
{
	struct runtime *r = runtime_new();
	static unsigned char src[NFUTS][FUT_BYTES], dst[NFUTS][FUT_BYTES];
	static unsigned char ref[NFUTS][FUT_BYTES];
	struct vdm_operation_future futs[NFUTS];
	struct future *runnable[NFUTS];

	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < NFUTS; i++) {
		uint64_t flags = flag_sets[(size_t)i % NFLAGS];
		size_t n = FUT_BYTES - (size_t)i * 3;

		test_fill(src[i], FUT_BYTES, 10 + (unsigned)i);
		test_fill(dst[i], FUT_BYTES, 40 + (unsigned)i);
		memcpy(ref[i], dst[i], FUT_BYTES);
		switch (i % 3) {
		case 0:
			futs[i] = vdm_memcpy(vdm, dst[i], src[i], n, flags);
			memcpy(ref[i], src[i], n);
			break;
		case 1:
			futs[i] = vdm_memmove(vdm, dst[i] + 1, dst[i], n - 1,
				flags);
			memmove(ref[i] + 1, ref[i], n - 1);
			break;
		default:
			futs[i] = vdm_memset(vdm, dst[i] + 2, i, n - 2, flags);
			memset(ref[i] + 2, i, n - 2);
			break;
		}
		runnable[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}

	runtime_wait_multiple(r, runnable, NFUTS);
	for (int i = 0; i < NFUTS; i++) {
		ck_assert_msg(FUTURE_STATE(&futs[i]) == FUTURE_STATE_COMPLETE,
			"future %d: state %d", i, FUTURE_STATE(&futs[i]));
		ck_assert_int_eq(futs[i].output.result, VDM_SUCCESS);
		ck_assert_ptr_eq(futs[i].output.output.memcpy.dest,
			dst[i] + i % 3);
		expect_same(dst[i], ref[i], FUT_BYTES, "runtime_wait_multiple",
			FUT_BYTES, (size_t)(i % 3), "future", i,
			flag_sets[(size_t)i % NFLAGS]);
	}

	/* all complete already, and none at all */
	runtime_wait_multiple(r, runnable, NFUTS);
	runtime_wait_multiple(r, runnable, 0);
	runtime_delete(r);
}
END_TEST

/*
 * Threads sharing one mover. Each works in its own buffers, checks every
 * result itself and reports the first failure; the main thread asserts
 * (Check's assertions belong on the test's own thread).
 */
#define NTHREADS 4
#define THREAD_ITERATIONS 1500
#define THREAD_MAX_N 4097

struct worker {
	pthread_t thread;
	pthread_barrier_t *start;
	unsigned id;
	unsigned failures;
	char first_failure[200];
};

static void
worker_fail(struct worker *w, unsigned iteration, const char *what,
	size_t n, size_t at)
{
	if (w->failures++ == 0) {
		snprintf(w->first_failure, sizeof(w->first_failure),
			"thread %u iteration %u: %s n=%zu wrong at byte %zu",
			w->id, iteration, what, n, at);
	}
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	size_t len = GUARD + MAX_OFF + 2 * THREAD_MAX_N + GUARD;
	unsigned char *src = malloc(len);
	unsigned char *buf = malloc(len);
	unsigned char *ref = malloc(len);

	if (src == NULL || buf == NULL || ref == NULL) {
		worker_fail(w, 0, "malloc", len, 0);
		pthread_barrier_wait(w->start);
		goto out;
	}
	test_fill(src, len, 100 + w->id);
	test_fill(buf, len, 200 + w->id);
	memcpy(ref, buf, len);
	pthread_barrier_wait(w->start);

	for (unsigned it = 0; it < THREAD_ITERATIONS; it++) {
		size_t n = sizes[(it + w->id) % (NSIZES - 1)];
		size_t doff = GUARD + (it * 5 + w->id) % NOFF;
		size_t soff = GUARD + (it * 3) % NOFF;
		uint64_t flags = flag_sets[(it / 4) % NFLAGS];
		unsigned op = (it + w->id) % 4;
		struct vdm_operation_future fut;
		const char *what;
		void *dest = buf + doff;

		switch (op) {
		case 0:
			what = "memcpy";
			fut = vdm_memcpy(vdm, dest, src + soff, n, flags);
			memcpy(ref + doff, src + soff, n);
			break;
		case 1:
			what = "memmove";
			fut = vdm_memmove(vdm, dest, src + soff, n, flags);
			memmove(ref + doff, src + soff, n);
			break;
		case 2:
			what = "memmove (overlap)";
			fut = vdm_memmove(vdm, dest, buf + soff + 9, n, flags);
			memmove(ref + doff, ref + soff + 9, n);
			break;
		default:
			what = "memset";
			fut = vdm_memset(vdm, dest, (int)it, n, flags);
			memset(ref + doff, (int)it, n);
			break;
		}

		struct future_notifier notifier;

		memset(&notifier, 0, sizeof(notifier));
		if (future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier) !=
				FUTURE_STATE_COMPLETE ||
				fut.output.result != VDM_SUCCESS ||
				fut.output.output.memcpy.dest != dest ||
				notifier.notifier_used !=
				FUTURE_NOTIFIER_NONE) {
			worker_fail(w, it, what, n, doff);
			continue;
		}
		if (memcmp(buf, ref, len) != 0) {
			size_t i = 0;

			while (buf[i] == ref[i])
				i++;
			worker_fail(w, it, what, n, i);
			memcpy(buf, ref, len);
		}
	}
out:
	free(src);
	free(buf);
	free(ref);
	return NULL;
}

START_TEST(test_threads)
{
	struct worker workers[NTHREADS];
	pthread_barrier_t start;

	ck_assert_int_eq(pthread_barrier_init(&start, NULL, NTHREADS), 0);
	for (unsigned i = 0; i < NTHREADS; i++) {
		memset(&workers[i], 0, sizeof(workers[i]));
		workers[i].id = i;
		workers[i].start = &start;
		ck_assert_int_eq(pthread_create(&workers[i].thread, NULL,
			worker_run, &workers[i]), 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(workers[i].thread, NULL), 0);
	pthread_barrier_destroy(&start);

	for (unsigned i = 0; i < NTHREADS; i++) {
		ck_assert_msg(workers[i].failures == 0,
			"%u failures, first: %s", workers[i].failures,
			workers[i].first_failure);
	}
}
END_TEST

/* A case for one kind of test, with the mover set up for each test. */
static TCase *
mover_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_checked_fixture(tc, mover_setup, mover_teardown);
	return tc;
}

Suite *
test_suite(void)
{
	Suite *s = suite_create("data_mover_sync");
	TCase *tc;

	/* one loop iteration per size: a failure names the size index */
	tc = mover_tcase("memcpy");
	tcase_add_loop_test(tc, test_memcpy, 0, NSIZES);
	suite_add_tcase(s, tc);

	tc = mover_tcase("memmove");
	tcase_add_loop_test(tc, test_memmove_disjoint, 0, NSIZES);
	tcase_add_loop_test(tc, test_memmove_overlap, 0, NSIZES);
	suite_add_tcase(s, tc);

	tc = mover_tcase("memset");
	tcase_add_loop_test(tc, test_memset, 0, NSIZES);
	suite_add_tcase(s, tc);

	tc = mover_tcase("flush");
	tcase_add_loop_test(tc, test_flush, 0, NSIZES);
	suite_add_tcase(s, tc);

	tc = mover_tcase("mover");
	tcase_add_test(tc, test_zero_null);
	tcase_add_test(tc, test_null_notifier);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_new_delete);
	suite_add_tcase(s, tc);

	tc = mover_tcase("runtime");
	tcase_add_test(tc, test_runtime_wait);
	tcase_add_test(tc, test_runtime_wait_multiple);
	suite_add_tcase(s, tc);

	tc = mover_tcase("threads");
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	return s;
}
