/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * flush.c -- the flush path of lib/mem_ops.c on this machine: the one the
 * processor calls for is chosen (x86-64: cpuid; aarch64: HWCAP_DCPOP;
 * POWER: dcbf; elsewhere a fence), VDM_F_MEM_DURABLE is advertised exactly
 * where that path reaches persistence, and flushes and durable copies of
 * odd sizes and alignments run, change no byte, and touch no line outside
 * their range. Links the test build of the library (ma_flush_path_name).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whitebox.h" /* first: before the library's headers */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <libminiasync.h>

#include "mem_ops.h"
#include "test_util.h"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#ifdef __linux__
#include <sys/auxv.h>
#endif
#ifndef HWCAP_DCPOP
#define HWCAP_DCPOP (1UL << 16)
#endif
#endif

/* The path this processor calls for, found independently of the library. */
static const char *
expected_path(void)
{
#if defined(__x86_64__)
	unsigned eax, ebx, ecx, edx;

	if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
		if (ebx & (1U << 24))
			return "clwb";
		if (ebx & (1U << 23))
			return "clflushopt";
	}
	return "clflush";
#elif defined(__aarch64__)
#ifdef __linux__
	if (getauxval(AT_HWCAP) & HWCAP_DCPOP)
		return "dc cvap";
#endif
	return "dc cvac";
#elif defined(__powerpc__) || defined(__powerpc64__)
	return "dcbf";
#else
	return "fence";
#endif
}

/* Whether a path's write-back reaches persistence. */
static int
path_is_durable(const char *name)
{
	static const char *const durable[] = {
		"clwb", "clflushopt", "clflush", "dc cvap", "dcbf",
	};

	for (size_t i = 0; i < sizeof(durable) / sizeof(durable[0]); i++)
		if (strcmp(name, durable[i]) == 0)
			return 1;
	return 0;
}

START_TEST(test_path_chosen)
{
	const char *name = ma_flush_path_name();
	size_t line = ma_flush_line_size();

	printf("flush: path \"%s\", line %zu bytes, durable %s\n", name,
		line, path_is_durable(name) ? "yes" : "no");
	ck_assert_str_eq(name, expected_path());
	if (strcmp(name, "fence") == 0) {
		ck_assert_uint_eq(line, 0);
	} else {
		ck_assert_uint_ge(line, 32);
		ck_assert_uint_le(line, 4096);
		ck_assert_uint_eq(line & (line - 1), 0);
	}
#if defined(__x86_64__)
	ck_assert_uint_eq(line, 64);
#endif
}
END_TEST

#if defined(__aarch64__)
/* The choice itself, for either answer of the kernel, whatever runs this. */
START_TEST(test_aarch64_pick)
{
	ck_assert_str_eq(ma_flush_path_for_hwcap(0), "dc cvac");
	ck_assert_str_eq(ma_flush_path_for_hwcap(~HWCAP_DCPOP), "dc cvac");
	ck_assert_str_eq(ma_flush_path_for_hwcap(HWCAP_DCPOP), "dc cvap");
	ck_assert_str_eq(ma_flush_path_for_hwcap(~0UL), "dc cvap");
}
END_TEST
#endif

/* Durability is advertised exactly where the path backs it, by every mover. */
START_TEST(test_capabilities)
{
	unsigned caps = ma_mem_capabilities();
	unsigned durable = path_is_durable(ma_flush_path_name()) ?
		VDM_F_MEM_DURABLE : 0;

	ck_assert_uint_eq(caps & VDM_F_MEM_DURABLE, durable);
	ck_assert_uint_eq(caps & VDM_F_NO_CACHE_HINT, VDM_F_NO_CACHE_HINT);
	ck_assert_uint_eq(caps & ~(unsigned)VDM_F_VALID_FLAGS, 0);

	for (int k = 0; k < TEST_MOVER_KINDS; k++) {
		struct test_mover m;
		struct vdm *vdm = test_mover_new(&m, (enum test_mover_kind)k,
			FUTURE_NOTIFIER_NONE);

		ck_assert_uint_eq(vdm->capabilities, caps);
		ck_assert_int_eq(!!vdm_is_supported(vdm, VDM_F_MEM_DURABLE),
			durable != 0);
		test_mover_delete(&m);
	}
}
END_TEST

static const size_t sizes[] = {
	1, 2, 3, 7, 15, 31, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000,
	4095, 4097,
};
static const size_t offsets[] = { 0, 1, 7, 31, 33, 63, 64, 100, 127, 255 };

#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define NOFFSETS (sizeof(offsets) / sizeof(offsets[0]))

/* Flushes of every size at every offset leave every byte as it was. */
START_TEST(test_flush_odd)
{
	enum { LEN = 8192 + 512 };
	static unsigned char buf[LEN] __attribute__((aligned(4096)));

	for (size_t i = 0; i < LEN; i++)
		buf[i] = test_pattern(i, 0);
	for (size_t s = 0; s < NSIZES; s++)
		for (size_t o = 0; o < NOFFSETS; o++)
			ma_flush(buf + offsets[o], sizes[s]);
	ma_flush(buf, 0);
	ma_flush(NULL, 0);
	for (size_t i = 0; i < LEN; i++)
		ck_assert_uint_eq(buf[i], test_pattern(i, 0));
}
END_TEST

/* Durable copies, moves and fills of every size at every offset. */
START_TEST(test_durable_ops_odd)
{
	enum { LEN = 4097 + 256 };
	static unsigned char src[LEN], dst[LEN];
	unsigned flags = VDM_F_MEM_DURABLE;

	for (int hint = 0; hint < 2; hint++, flags |= VDM_F_NO_CACHE_HINT)
	for (size_t s = 0; s < NSIZES; s++)
	for (size_t o = 0; o < NOFFSETS; o++) {
		size_t n = sizes[s], off = offsets[o];

		for (size_t i = 0; i < LEN; i++) {
			src[i] = test_pattern(i, 0);
			dst[i] = 0;
		}
		ma_memcpy(dst + off, src, n, flags);
		ck_assert_int_eq(memcmp(dst + off, src, n), 0);
		ma_memset(dst + off, 0x5a, n, flags);
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(dst[off + i], 0x5a);
		ma_memmove(src + off, src, n, flags);
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(src[off + i], test_pattern(i, 0));
		ck_assert_uint_eq(dst[off + n], 0);
		if (off > 0)
			ck_assert_uint_eq(dst[off - 1], 0);
	}
}
END_TEST

/*
 * A flush that ends on the last byte of a mapping, before an inaccessible
 * page, and one that starts on the first: the loop touches no line
 * outside the range (a write-back of a line of the guard page faults).
 */
START_TEST(test_flush_page_edges)
{
	long page = sysconf(_SC_PAGESIZE);

	ck_assert_int_gt(page, 0);
	unsigned char *mid = test_map_guarded((size_t)page);
	unsigned char *end = mid + page;

	memset(mid, 0x33, (size_t)page);
	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s] < (size_t)page ? sizes[s] : (size_t)page;

		ma_flush(end - n, n);
		ma_flush(mid, n);
		ma_memset(end - n, 0x44, n, VDM_F_MEM_DURABLE);
		ma_memset(mid, 0x44, n, VDM_F_MEM_DURABLE);
	}
	ma_flush(mid, (size_t)page);
	ck_assert_uint_eq(mid[0], 0x44);
	ck_assert_uint_eq(end[-1], 0x44);
	test_unmap_guarded(mid, (size_t)page);
}
END_TEST

/*
 * vdm_flush through the synchronous mover, at odd alignments: each line
 * of the range written back once (the poll calls the flush directly).
 */
START_TEST(test_vdm_flush)
{
	static unsigned char buf[4096 + 256];
	struct test_mover m;
	struct vdm *vdm = test_mover_new(&m, TEST_MOVER_SYNC,
		FUTURE_NOTIFIER_NONE);
	uintptr_t line = ma_flush_line_size();

	for (size_t o = 0; o < NOFFSETS; o++) {
		uintptr_t lo = (uintptr_t)(buf + offsets[o]);
		size_t n = 4096 - offsets[o];
		struct vdm_operation_future f = vdm_flush(vdm,
			buf + offsets[o], n, 0);

		ma_lines_written_back();
		test_wait_success(NULL, &f);
		ck_assert_uint_eq(ma_lines_written_back(), line == 0 ? 0 :
			(lo + n + line - 1) / line - lo / line);
	}
	test_mover_delete(&m);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("flush");
	TCase *tc = tcase_create("flush");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_path_chosen);
#if defined(__aarch64__)
	tcase_add_test(tc, test_aarch64_pick);
#endif
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_flush_odd);
	tcase_add_test(tc, test_durable_ops_odd);
	tcase_add_test(tc, test_flush_page_edges);
	tcase_add_test(tc, test_vdm_flush);
	suite_add_tcase(s, tc);
	return s;
}
