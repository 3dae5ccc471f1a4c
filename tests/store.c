/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * store.c -- the store paths of lib/mem_ops.c (x86-64: non-temporal
 * stores for durable and no-cache writes, SSE2 or AVX): which path the
 * processor's features choose, which sizes store non-temporally, and,
 * with each path forced and each way forced (non-temporal always, never,
 * or as chosen), memcpy, memmove (overlapping both ways) and memset of
 * every size from 0 to 4 KiB and around each threshold, at every source
 * and destination alignment within a line: every byte exact, no byte
 * outside the range written (guard bytes, guard pages), and no line
 * written back that was stored non-temporally. Off x86-64 the same
 * operations run on the plain path. Links the test build of the library.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whitebox.h" /* first: before the library's headers */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <libminiasync.h>

#include "mem_ops.h"
#include "test_util.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/*
 * An assertion that costs nothing when it holds (Check's ck_assert_*
 * record each passed one, too slow for millions of cases).
 */
#define EXPECT(cond) do { \
	if (!(cond)) \
		ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
} while (0)

#define LINE 64
#define GUARD 256 /* bytes checked on either side of a range */
#define MAXN 4224 /* the largest size tried */
#define AREA (2 * GUARD + 3 * MAXN + 2 * LINE)

static const unsigned flag_sets[] = {
	0,
	VDM_F_MEM_DURABLE,
	VDM_F_NO_CACHE_HINT,
	VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT,
};
#define NFLAGS (sizeof(flag_sets) / sizeof(flag_sets[0]))

/* The ways a test forces: as chosen at load time, always and never nt. */
enum mode { MODE_CHOSEN, MODE_ALWAYS_NT, MODE_NEVER_NT, MODES };
static const char *const mode_names[] = { "chosen", "always", "never" };
static const char *cur_mode = "chosen"; /* the way forced, for messages */

/* The store paths to force: every one the processor can run. */
static const char *const path_names[] = {
#if defined(__x86_64__)
	"sse2", "avx",
#else
	"none",
#endif
};
#define NPATHS (sizeof(path_names) / sizeof(path_names[0]))

/*
 * Forces path p and mode m; 0 if this processor cannot run the path (said
 * on stdout: that path is skipped, not passed).
 */
static int
force(size_t p, enum mode m)
{
	ma_store_path_reset();
	cur_mode = mode_names[m];
	if (ma_store_path_force(path_names[p]) != 0) {
		printf("store: path %s not on this processor: not tested\n",
			path_names[p]);
		return 0;
	}
	if (m == MODE_ALWAYS_NT)
		ma_store_nt_threshold_force(0, 0);
	else if (m == MODE_NEVER_NT)
		ma_store_nt_threshold_force(SIZE_MAX, SIZE_MAX);
	return 1;
}

/* Two areas, each a guard page on either side (PROT_NONE). */
static unsigned char *area_a;
static unsigned char *area_b;
static unsigned char ref[AREA];

static void
setup(void)
{
	if (area_a == NULL) {
		area_a = test_map_guarded(AREA);
		area_b = test_map_guarded(AREA);
	}
	test_fill(area_a, AREA, 0);
	test_fill(area_b, AREA, 1);
}

/*
 * Compares area b with ref over [lo, hi), saying where they differ and
 * what ran; resets that part of b to its pattern.
 */
static void
check_area(size_t lo, size_t hi, const char *op, size_t n, size_t doff,
	long soff, unsigned flags)
{
	EXPECT(hi <= AREA);
	for (size_t i = lo; i < hi; i++) {
		if (area_b[i] != ref[i])
			ck_abort_msg("%s n=%zu dest+%zu src%+ld flags=%u "
				"path=%s nt=%s: byte %ld from dest is %#x, "
				"not %#x", op, n, doff, soff, flags,
				ma_store_path_name(), cur_mode,
				(long)i - (long)(GUARD + doff), area_b[i],
				ref[i]);
	}
	for (size_t i = lo; i < hi; i++)
		area_b[i] = test_pattern(i, 1);
}

/*
 * When set, the operations below run as futures of this mover (the
 * synchronous one), each complete after one poll; else by the functions.
 */
static struct vdm *via;

static void *
poll_once(struct vdm_operation_future *f)
{
	EXPECT(future_poll(FUTURE_AS_RUNNABLE(f), NULL) ==
		FUTURE_STATE_COMPLETE);
	EXPECT(FUTURE_OUTPUT(f)->result == VDM_SUCCESS);
	return FUTURE_OUTPUT(f)->output.memcpy.dest;
}

static void *
run_memcpy(void *d, void *s, size_t n, unsigned flags)
{
	if (via == NULL)
		return ma_memcpy(d, s, n, flags);
	struct vdm_operation_future f = vdm_memcpy(via, d, s, n, flags);

	return poll_once(&f);
}

static void *
run_memmove(void *d, void *s, size_t n, unsigned flags)
{
	if (via == NULL)
		return ma_memmove(d, s, n, flags);
	struct vdm_operation_future f = vdm_memmove(via, d, s, n, flags);

	return poll_once(&f);
}

static void *
run_memset(void *d, int c, size_t n, unsigned flags)
{
	if (via == NULL)
		return ma_memset(d, c, n, flags);
	struct vdm_operation_future f = vdm_memset(via, d, c, n, flags);

	return poll_once(&f);
}

/* memcpy of n bytes from a + GUARD + soff to b + GUARD + doff. */
static void
one_copy(size_t n, size_t doff, size_t soff, unsigned flags)
{
	size_t d = GUARD + doff;

	memcpy(ref + d - GUARD, area_b + d - GUARD, n + 2 * GUARD);
	memcpy(ref + d, area_a + GUARD + soff, n);
	EXPECT(run_memcpy(area_b + d, area_a + GUARD + soff, n, flags) ==
		area_b + d);
	check_area(d - GUARD, d + n + GUARD, "memcpy", n, doff, (long)soff,
		flags);
}

static void
one_set(size_t n, size_t doff, int c, unsigned flags)
{
	size_t d = GUARD + doff;

	memcpy(ref + d - GUARD, area_b + d - GUARD, n + 2 * GUARD);
	memset(ref + d, c, n);
	EXPECT(run_memset(area_b + d, c, n, flags) == area_b + d);
	check_area(d - GUARD, d + n + GUARD, "memset", n, doff, 0, flags);
}

/*
 * The ways a case runs: every path with every mode below modes, as
 * for (size_t w = 0; next_way(&w, modes); w++): forces way *w, or the
 * next one this processor can run (moving *w on); 0 after the last.
 */
static int
next_way(size_t *w, enum mode modes)
{
	for (; *w < NPATHS * (size_t)modes; ++*w)
		if (force(*w / (size_t)modes, (enum mode)(*w % (size_t)modes)))
			return 1;
	return 0;
}

/* memmove within area b: dest at GUARD + doff, src delta bytes from it. */
static void
one_move(size_t n, size_t doff, long delta, unsigned flags)
{
	size_t d = GUARD + doff;
	size_t s = (size_t)((long)d + delta);
	size_t lo = (d < s ? d : s) - GUARD;
	size_t hi = (d > s ? d : s) + n + GUARD;

	EXPECT((long)d + delta >= GUARD);
	EXPECT(hi <= AREA);
	memcpy(ref + lo, area_b + lo, hi - lo);
	memmove(ref + d, ref + s, n);
	EXPECT(run_memmove(area_b + d, area_b + s, n, flags) == area_b + d);
	check_area(lo, hi, "memmove", n, doff, delta, flags);
}

/*
 * 1, or 7 under valgrind (fewer stress iterations) and ThreadSanitizer:
 * they find nothing in these one-thread byte loops but run them 30 to
 * 100 times slower (the whole suite took 216 s under TSan). A step of 7
 * still meets every alignment in a line, 7 being prime to 64.
 */
static size_t
light_step(void)
{
#ifdef TEST_TSAN_BUILD
	return 7;
#else
	return test_stress_iterations(1000) >= 1000 ? 1 : 7;
#endif
}

/* The sizes tried at every alignment: around each threshold. */
static size_t
sizes_around(size_t *out)
{
	static const size_t fixed[] = {
		0, 1, 7, 15, 16, 17, 56, 63, 64, 65, 72, 120, 127, 128, 129,
		191, 192, 200, 320, 1000, 4096, 4104,
	};
	size_t k = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		out[k++] = fixed[i];
	/* and the thresholds of this build, when they are in range */
	for (int aligned = 0; aligned < 2; aligned++) {
		size_t t = ma_store_nt_threshold(aligned);

		for (size_t n = t - 1; t != SIZE_MAX && t > 0 && n <= t + 8 &&
				n <= MAXN; n++)
			out[k++] = n;
	}
	return k;
}

/*
 * Every size 0 to MAXN (light_step: every one to 136, then every 7th),
 * the alignments of source and destination walking through a line as the
 * size grows; each path, way and flag set.
 */
START_TEST(test_every_size)
{
	size_t step = light_step();

	for (size_t w = 0; next_way(&w, MODES); w++) {
		for (size_t f = 0; f < NFLAGS; f++)
		for (size_t n = 0; n <= MAXN;
				n += n < 2 * LINE + 8 ? 1 : step) {
			size_t doff = (n * 7) % LINE;
			size_t soff = (n * 13 + 5) % LINE;

			one_copy(n, doff, soff, flag_sets[f]);
			one_set(n, doff, (int)(n & 0xff), flag_sets[f]);
			one_copy(n, doff & ~(size_t)7, 0, flag_sets[f]);
		}
	}
	ma_store_path_reset();
}
END_TEST

/*
 * Each size around a threshold at every pair of alignments in a line
 * (light_step: every destination alignment with every 7th source one),
 * the flags that store non-temporally, each path, chosen or always
 * (never: test_every_size).
 */
START_TEST(test_every_alignment)
{
	static const unsigned flags[] = {
		VDM_F_MEM_DURABLE, VDM_F_NO_CACHE_HINT,
	};
	size_t step = light_step();
	size_t sizes[64];

	for (size_t w = 0; next_way(&w, MODE_NEVER_NT); w++) {
		size_t nsizes = sizes_around(sizes);

		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
		for (size_t k = 0; k < nsizes; k++)
		for (size_t doff = 0; doff < LINE; doff++) {
			for (size_t soff = doff % step; soff < LINE;
					soff += step)
				one_copy(sizes[k], doff, soff, flags[f]);
			one_set(sizes[k], doff, 0xa5, flags[f]);
		}
	}
	ma_store_path_reset();
}
END_TEST

/*
 * memmove, ranges overlapping both ways and not, at every alignment
 * (light_step: every 7th).
 */
START_TEST(test_overlap)
{
	size_t step = light_step();

	static const size_t sizes[] = {
		1, 8, 63, 64, 65, 128, 200, 256, 257, 512, 1000, 4096,
	};

	for (size_t w = 0; next_way(&w, MODES); w++) {
		for (size_t f = 0; f < NFLAGS; f++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			size_t n = sizes[k];
			long deltas[] = {
				0, 1, 7, 8, 9, 32, 63, 64, 65, 100,
				(long)n / 2, (long)n - 1, (long)n,
			};

			for (size_t j = 0; j < sizeof(deltas) / sizeof(*deltas);
					j++)
			for (size_t doff = 0; doff < LINE; doff += step) {
				long dl = deltas[j];

				if (dl > (long)n)
					continue;

				one_move(n, n + doff, dl, flag_sets[f]);
				one_move(n, n + doff, -dl, flag_sets[f]);
			}
		}
	}
	ma_store_path_reset();
}
END_TEST

/*
 * Source and destination ending at the last byte before a guard page, or
 * starting at the first after one: no byte outside is read or written
 * (either would fault).
 */
START_TEST(test_page_edges)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = ((AREA + (size_t)page - 1) / (size_t)page) *
		(size_t)page;
	static const size_t sizes[] = { 1, 8, 63, 64, 65, 200, 256, 300, 4096 };

	for (size_t w = 0; next_way(&w, MODES); w++) {
		for (size_t f = 0; f < NFLAGS; f++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			size_t n = sizes[k];
			unsigned fl = flag_sets[f];
			unsigned char *a_end = area_a + len - n;
			unsigned char *b_end = area_b + len - n;

			ma_memcpy(b_end, area_a, n, fl);
			ck_assert_int_eq(memcmp(b_end, area_a, n), 0);
			ma_memcpy(area_b, a_end, n, fl);
			ck_assert_int_eq(memcmp(area_b, a_end, n), 0);
			ma_memmove(b_end, b_end - 1, n, fl);
			ma_memmove(area_b, area_b + 1, n, fl);
			ma_memset(b_end, 0x3c, n, fl);
			ma_memset(area_b, 0x3c, n, fl);
			ck_assert_uint_eq(b_end[n - 1], 0x3c);
			ck_assert_uint_eq(area_b[0], 0x3c);
		}
	}
	ma_store_path_reset();
	setup();
}
END_TEST

/* Which path the processor's features choose, found without the library. */
START_TEST(test_path_chosen)
{
	const char *name = ma_store_path_name();

	printf("store: path \"%s\", thresholds %zu (any), %zu (8-byte "
		"aligned)\n", name, ma_store_nt_threshold(0),
		ma_store_nt_threshold(1));
#if defined(__x86_64__)
	unsigned eax, ebx, ecx, edx, lo, hi;
	int avx = 0;

	ck_assert(__get_cpuid(1, &eax, &ebx, &ecx, &edx));
	if ((ecx & (1U << 28)) && (ecx & (1U << 27))) {
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		avx = (lo & 6) == 6;
	}
	ck_assert_str_eq(name, avx ? "avx" : "sse2");
	ck_assert_str_eq(ma_store_path_for(0), "sse2");
	ck_assert_str_eq(ma_store_path_for(MA_CPU_AVX), "avx");
	ck_assert_str_eq(ma_store_path_for(~0U), "avx");
	ck_assert_int_eq(ma_store_path_force("sse2"), 0);
	ck_assert_str_eq(ma_store_path_name(), "sse2");
	ck_assert_int_eq(ma_store_path_force("avx"), avx ? 0 : -1);
	ck_assert_int_eq(ma_store_path_force("avx512"), -1);
	ma_store_path_reset();
	ck_assert_str_eq(ma_store_path_name(), name);
#else
	ck_assert_str_eq(name, "none");
	ck_assert_int_eq(ma_store_path_force("sse2"), -1);
#endif
}
END_TEST

/* Which sizes store non-temporally, for each flag set and alignment. */
START_TEST(test_choice)
{
	char *base = (char *)(uintptr_t)4096; /* never dereferenced */

	ma_store_path_reset();
	for (size_t n = 0; n <= 1024; n++)
	for (size_t off = 0; off < 16; off++) {
		char *d = base + off;
		int aligned = ((off | n) & 7) == 0;
		int durable = 0, nocache = 0;

#if defined(__x86_64__)
		ck_assert_uint_eq(ma_store_nt_threshold(0), 256);
		ck_assert_uint_eq(ma_store_nt_threshold(1), 8);
		durable = n >= 256 || (aligned && n >= 8);
		nocache = n > 0;
#else
		(void)aligned;
#endif
		EXPECT(ma_store_uses_nt(d, n, 0) == 0);
		EXPECT(ma_store_uses_nt(d, n, VDM_F_MEM_DURABLE) == durable);
		EXPECT(ma_store_uses_nt(d, n,
			VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT) == durable);
		EXPECT(ma_store_uses_nt(d, n, VDM_F_NO_CACHE_HINT) ==
			nocache);
	}
}
END_TEST

/* The lines a durable write of n bytes at d writes back. */
static unsigned long
lines_expected(uintptr_t d, size_t n, int nt)
{
	if (n == 0)
		return 0;
	if (!nt)
		return (unsigned long)(((d + n + LINE - 1) / LINE) - d / LINE);
	size_t head = (size_t)(-d & (LINE - 1));

	if (head > n)
		head = n;
	size_t tail = (n - head) % LINE;
	unsigned long lines = 0;

	/* an edge is written back unless stored 8 bytes at a time */
	if (head != 0 && ((d | head) & 7) != 0)
		lines++;
	if (tail != 0 && ((d + n - tail) | tail) & 7)
		lines++;
	return lines;
}

/*
 * Durable writes write back exactly the lines they stored in the cache:
 * none of those stored non-temporally. No-cache writes write back none.
 */
START_TEST(test_write_backs)
{
	static const size_t sizes[] = {
		1, 8, 24, 63, 64, 65, 72, 128, 255, 256, 257, 264, 1000, 4096,
	};
	unsigned char *b = area_b + GUARD;

	if (!test_durable_expected()) {
		printf("store: no durable flush path here: not tested\n");
		return;
	}
#if !defined(__x86_64__)
	/* elsewhere lines are the processor's size (POWER: 128 bytes) */
	(void)sizes;
	(void)b;
	printf("store: write-back counts are for x86-64's 64-byte lines: "
		"not tested here\n");
	return;
#endif
	for (size_t w = 0; next_way(&w, MODES); w++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (size_t off = 0; off < LINE; off++) {
			size_t n = sizes[k];
			unsigned long want = lines_expected(
				(uintptr_t)(b + off), n,
				ma_store_uses_nt(b + off, n,
					VDM_F_MEM_DURABLE));

			ma_lines_written_back();
			ma_memcpy(b + off, area_a, n, VDM_F_MEM_DURABLE);
			EXPECT(ma_lines_written_back() == want);
			ma_memmove(b + off, b + off + 3, n, VDM_F_MEM_DURABLE);
			EXPECT(ma_lines_written_back() == want);
			ma_memset(b + off, 1, n, VDM_F_MEM_DURABLE |
				VDM_F_NO_CACHE_HINT);
			EXPECT(ma_lines_written_back() == want);
			ma_memcpy(b + off, area_a, n, VDM_F_NO_CACHE_HINT);
			EXPECT(ma_lines_written_back() == 0);
		}
	}
	ma_store_path_reset();
	setup();
}
END_TEST

/*
 * The synchronous mover's poll, which goes straight to the store loop
 * for whole lines (ma_op_run_complete): whole and partial lines, at and
 * off line boundaries, overlapping both ways and not, each path, way and
 * flag set, complete on the first poll, every byte exact, and (durable)
 * the same lines written back as by the functions.
 */
START_TEST(test_sync_poll)
{
	static const size_t sizes[] = {
		0, 8, 64, 100, 128, 192, 256, 257, 320, 1024, 4096, 4160,
	};
	static const size_t doffs[] = { 0, 1, 8, 64 };
	static const long deltas[] = { 0, 1, 32, 64, 128, 4096 };
	struct data_mover_sync *dms = data_mover_sync_new();
	int count = test_durable_expected();

	ck_assert_ptr_nonnull(dms);
	via = data_mover_sync_get_vdm(dms);
#if !defined(__x86_64__)
	count = 0; /* write-back counts are for 64-byte lines */
#endif
	for (size_t w = 0; next_way(&w, MODES); w++)
	for (size_t f = 0; f < NFLAGS; f++)
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
	for (size_t o = 0; o < sizeof(doffs) / sizeof(doffs[0]); o++) {
		size_t n = sizes[k], doff = doffs[o];
		unsigned fl = flag_sets[f];
		unsigned char *d = area_b + GUARD + doff;
		unsigned long want = (fl & VDM_F_MEM_DURABLE) ? lines_expected(
			(uintptr_t)d, n, ma_store_uses_nt(d, n, fl)) : 0;

		ma_lines_written_back();
		one_copy(n, doff, doff, fl);
		EXPECT(!count || ma_lines_written_back() == want);
		one_copy(n, doff, doff + 3, fl);
		EXPECT(!count || ma_lines_written_back() == want);
		one_set(n, doff, 0x5a, fl);
		EXPECT(!count || ma_lines_written_back() == want);
		for (size_t j = 0; j < sizeof(deltas) / sizeof(deltas[0]); j++)
		{
			if (deltas[j] > (long)n)
				continue;
			one_move(n, n + doff, deltas[j], fl);
			one_move(n, n + doff, -deltas[j], fl);
		}
	}
	via = NULL;
	data_mover_sync_delete(dms);
	ma_store_path_reset();
}
END_TEST

/*
 * The movers run the same functions: durable and no-cache operations of
 * several sizes (big ones shared out among the threads mover's workers)
 * at odd alignments come out exact.
 */
START_TEST(test_movers)
{
	static const size_t sizes[] = {
		100, 256, 4097, (2u << 20) + 72, (5u << 20) + 3,
	};
	size_t max = (6u << 20) + 128;
	unsigned char *src = malloc(max);
	unsigned char *dst = malloc(max);
	struct test_mover movers[TEST_MOVER_KINDS];
	struct vdm *vdms[TEST_MOVER_KINDS];
	struct runtime *r = runtime_new();

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dst);
	ck_assert_ptr_nonnull(r);
	for (int k = 0; k < TEST_MOVER_KINDS; k++)
		vdms[k] = test_mover_new(&movers[k], (enum test_mover_kind)k,
			FUTURE_NOTIFIER_NONE);
	test_fill(src, max, 0);
	for (size_t v = 0; v < TEST_MOVER_KINDS; v++)
	for (size_t f = 1; f < NFLAGS; f++)
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		uint64_t fl = flag_sets[f];

		memset(dst, 0, max);
		struct vdm_operation_future c = vdm_memcpy(vdms[v], dst + 8,
			src + 3, n, fl);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&c));
		ck_assert_int_eq(FUTURE_OUTPUT(&c)->result, VDM_SUCCESS);
		ck_assert_int_eq(memcmp(dst + 8, src + 3, n), 0);
		ck_assert_uint_eq(dst[7], 0);
		ck_assert_uint_eq(dst[8 + n], 0);

		struct vdm_operation_future mv = vdm_memmove(vdms[v],
			dst + 40, dst + 8, n, fl);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&mv));
		ck_assert_int_eq(memcmp(dst + 40, src + 3, n), 0);

		unsigned char after = dst[1 + n];
		struct vdm_operation_future s = vdm_memset(vdms[v], dst + 1,
			0x77, n, fl);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&s));
		for (size_t i = 0; i < n; i++)
			EXPECT(dst[1 + i] == 0x77);
		ck_assert_uint_eq(dst[0], 0);
		ck_assert_uint_eq(dst[1 + n], after);
	}
	runtime_delete(r);
	for (int k = 0; k < TEST_MOVER_KINDS; k++)
		test_mover_delete(&movers[k]);
	free(src);
	free(dst);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_path_chosen);
	tcase_add_test(tc, test_choice);
	tcase_add_test(tc, test_write_backs);
	tcase_add_test(tc, test_every_size);
	tcase_add_test(tc, test_every_alignment);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_page_edges);
	tcase_add_test(tc, test_sync_poll);
	tcase_add_test(tc, test_movers);
	suite_add_tcase(s, tc);
	return s;
}
