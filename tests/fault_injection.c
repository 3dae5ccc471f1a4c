/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * fault_injection.c -- every allocation and thread start of each
 * constructor and operation made to fail in turn (the test build of the
 * library counts them): each failure gives a clean error (NULL and errno,
 * or VDM_ERROR_OUT_OF_MEMORY), leaks nothing (ASan, valgrind), and the
 * library keeps working afterwards.
 */

#include "whitebox.h" /* first: before the library's headers */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include <libminiasync.h>

#include "fault.h"

/* Disarms both kinds; fails the test if a sweep found no end. */
static void
disarm(void)
{
	ma_fault_arm(MA_FAULT_ALLOC, 0);
	ma_fault_arm(MA_FAULT_THREAD, 0);
}

START_TEST(test_runtime_new)
{
	ma_fault_arm(MA_FAULT_ALLOC, 1);
	errno = 0;
	ck_assert_ptr_null(runtime_new());
	ck_assert_int_eq(errno, ENOMEM);
	disarm();

	struct runtime *r = runtime_new();

	ck_assert_ptr_nonnull(r);
	runtime_delete(r);
}
END_TEST

START_TEST(test_data_mover_sync_new)
{
	ma_fault_arm(MA_FAULT_ALLOC, 1);
	errno = 0;
	ck_assert_ptr_null(data_mover_sync_new());
	ck_assert_int_eq(errno, ENOMEM);
	disarm();

	struct data_mover_sync *dms = data_mover_sync_new();

	ck_assert_ptr_nonnull(dms);
	data_mover_sync_delete(dms);
}
END_TEST

/* A mover that works: one copy through it, checked. */
static void
check_mover_works(struct data_mover_threads *dmt)
{
	struct runtime *r = runtime_new();
	uint64_t a = 0x1234567890abcdefu, b = 0;
	struct vdm_operation_future f = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), &b, &a, sizeof(a), 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	ck_assert_int_eq(f.output.result, VDM_SUCCESS);
	ck_assert_uint_eq(b, a);
	runtime_delete(r);
}

/* Fails the n-th allocation of new, for every n until none fails. */
START_TEST(test_threads_new_alloc_sweep)
{
	unsigned long n;

	for (n = 1; n < 100; n++) {
		ma_fault_arm(MA_FAULT_ALLOC, n);
		errno = 0;

		struct data_mover_threads *dmt = data_mover_threads_new(3, 8,
			FUTURE_NOTIFIER_WAKER);
		unsigned long calls = ma_fault_arm(MA_FAULT_ALLOC, 0);

		if (dmt != NULL) {
			ck_assert_uint_lt(calls, n);
			check_mover_works(dmt);
			data_mover_threads_delete(dmt);
			break;
		}
		ck_assert_int_eq(errno, ENOMEM);
	}
	ck_assert_msg(n > 1 && n < 100, "sweep ended at %lu", n);
	disarm();
}
END_TEST

/* Fails the n-th thread start: started workers are joined, EAGAIN. */
START_TEST(test_threads_new_thread_sweep)
{
	for (unsigned long n = 1; n <= 3; n++) {
		ma_fault_arm(MA_FAULT_THREAD, n);
		errno = 0;
		ck_assert_ptr_null(data_mover_threads_new(3, 8,
			FUTURE_NOTIFIER_WAKER));
		ck_assert_int_eq(errno, EAGAIN);
	}
	ma_fault_arm(MA_FAULT_THREAD, 4);

	struct data_mover_threads *dmt = data_mover_threads_new(3, 8,
		FUTURE_NOTIFIER_WAKER);

	ck_assert_ptr_nonnull(dmt);
	check_mover_works(dmt);
	data_mover_threads_delete(dmt);
	disarm();
}
END_TEST

/*
 * An operation that cannot get a record completes at once with
 * VDM_ERROR_OUT_OF_MEMORY; the others are unharmed and the mover works.
 */
START_TEST(test_operation_alloc_failure)
{
	enum { NOPS = 200 };
	struct data_mover_threads *dmt = data_mover_threads_new(2, 8,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *r = runtime_new();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	static struct vdm_operation_future futs[NOPS];
	static struct future *list[NOPS];
	static uint32_t src[NOPS], dst[NOPS];
	unsigned failed = 0;

	/* every allocation while the pool grows fails */
	ma_fault_arm(MA_FAULT_ALLOC, 1);
	for (int i = 0; i < NOPS; i++) {
		src[i] = (uint32_t)i + 1;
		dst[i] = 0;
		if (i == NOPS / 2)
			disarm();
		futs[i] = vdm_memcpy(vdm, &dst[i], &src[i], 4, 0);
		list[i] = FUTURE_AS_RUNNABLE(&futs[i]);
		if (FUTURE_STATE(&futs[i]) == FUTURE_STATE_COMPLETE) {
			ck_assert_int_eq(futs[i].output.result,
				VDM_ERROR_OUT_OF_MEMORY);
			failed++;
		}
		if (i < NOPS / 2 && FUTURE_STATE(&futs[i]) ==
				FUTURE_STATE_COMPLETE)
			ma_fault_arm(MA_FAULT_ALLOC, 1);
	}
	disarm();
	ck_assert_uint_gt(failed, 0);
	runtime_wait_multiple(r, list, NOPS);
	for (int i = 0; i < NOPS; i++) {
		if (futs[i].output.result == VDM_SUCCESS)
			ck_assert_uint_eq(dst[i], src[i]);
		else
			ck_assert_uint_eq(dst[i], 0);
	}
	check_mover_works(dmt);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/* DSA movers of the sweeps below: each notifier, both queue modes. */
static const char *const dsa_wqs[] = {
	"emulated", "emulated:mode=shared,engines=3",
};

/* A DSA mover that works: a copy of several descriptors, checked. */
static void
check_dsa_works(struct data_mover_dsa *dmd)
{
	static char a[20000], b[20000];
	struct vdm_operation_future f;

	memset(a, 0x5a, sizeof(a));
	memset(b, 0, sizeof(b));
	f = vdm_memcpy(data_mover_dsa_get_vdm(dmd), b, a, sizeof(a), 0);
	FUTURE_BUSY_POLL(&f);
	ck_assert_int_eq(f.output.result, VDM_SUCCESS);
	ck_assert(memcmp(a, b, sizeof(a)) == 0);
}

/*
 * data_mover_dsa_new with its n-th allocation, then its n-th thread
 * start, failed: NULL and ENOMEM (data_mover_dsa_new(3)), nothing
 * leaked; once no failure is left in it, a mover that works.
 */
START_TEST(test_dsa_new_sweep)
{
	const char *wq = dsa_wqs[_i % 2];
	enum future_notifier_type nt = (enum future_notifier_type)(_i / 2);
	enum ma_fault_kind kinds[] = { MA_FAULT_ALLOC, MA_FAULT_THREAD };

	for (unsigned k = 0; k < 2; k++) {
		unsigned long n;

		for (n = 1; n < 100; n++) {
			ma_fault_arm(kinds[k], n);
			errno = 0;

			struct data_mover_dsa *dmd = data_mover_dsa_new(wq,
				nt);
			int err = errno;
			unsigned long calls = ma_fault_arm(kinds[k], 0);

			if (dmd != NULL) {
				ck_assert_uint_lt(calls, n);
				check_dsa_works(dmd);
				data_mover_dsa_delete(dmd);
				break;
			}
			ck_assert_int_eq(err, ENOMEM);
		}
		ck_assert_msg(n > 1 && n < 100, "sweep ended at %lu", n);
	}
	disarm();
}
END_TEST

/*
 * DSA operations whose allocations fail: the record (the future is
 * complete at once with VDM_ERROR_OUT_OF_MEMORY), or the descriptors of
 * a large one (done all the same); the mover works on.
 */
START_TEST(test_dsa_operation_alloc_failure)
{
	static char a[50000], b[50000];

	memset(a, 0x33, sizeof(a));
	for (unsigned long n = 1; n <= 3; n++) {
		/* a new mover each time: its pool holds no record yet */
		struct data_mover_dsa *dmd = data_mover_dsa_new(
			"emulated:max_transfer_size=4096",
			(enum future_notifier_type)_i);

		ck_assert_ptr_nonnull(dmd);
		memset(b, 0, sizeof(b));
		ma_fault_arm(MA_FAULT_ALLOC, n);

		struct vdm_operation_future f = vdm_memcpy(
			data_mover_dsa_get_vdm(dmd), b, a, sizeof(a), 0);
		int born_complete = FUTURE_STATE(&f) == FUTURE_STATE_COMPLETE;

		FUTURE_BUSY_POLL(&f);

		unsigned long calls = ma_fault_arm(MA_FAULT_ALLOC, 0);

		if (born_complete) {
			ck_assert_uint_eq(n, 1);
			ck_assert_int_eq(f.output.result,
				VDM_ERROR_OUT_OF_MEMORY);
			ck_assert_int_eq(b[0], 0);
		} else {
			ck_assert_int_eq(f.output.result, VDM_SUCCESS);
			ck_assert(memcmp(a, b, sizeof(a)) == 0);
		}
		if (n == 3)
			ck_assert_uint_lt(calls, n); /* no third allocation */
		check_dsa_works(dmd);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/*
 * Records go back to the pool: a long run of operations allocates
 * nothing after the mover's start (a leaked record would make the pool
 * grow), for every notifier.
 */
START_TEST(test_no_allocation_per_operation)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 8,
		(enum future_notifier_type)_i);
	struct runtime *r = runtime_new();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	ma_fault_arm(MA_FAULT_ALLOC, 0);
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t a[4] = { i, i + 1, i + 2, i + 3 }, b[4] = { 0 };
		struct vdm_operation_future f[2] = {
			vdm_memcpy(vdm, b, a, 16, 0),
			vdm_memcpy(vdm, b + 2, a + 2, 16, 0),
		};
		struct future *list[2] = {
			FUTURE_AS_RUNNABLE(&f[0]), FUTURE_AS_RUNNABLE(&f[1]),
		};

		runtime_wait_multiple(r, list, 2);
		ck_assert_uint_eq(b[3], i + 3);
	}
	ck_assert_uint_eq(ma_fault_arm(MA_FAULT_ALLOC, 0), 0);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("fault_injection");
	TCase *tc = tcase_create("faults");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_runtime_new);
	tcase_add_test(tc, test_data_mover_sync_new);
	tcase_add_test(tc, test_threads_new_alloc_sweep);
	tcase_add_test(tc, test_threads_new_thread_sweep);
	tcase_add_test(tc, test_operation_alloc_failure);
	tcase_add_loop_test(tc, test_dsa_new_sweep, 0, 6);
	tcase_add_loop_test(tc, test_dsa_operation_alloc_failure, 0, 3);
	tcase_add_loop_test(tc, test_no_allocation_per_operation, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
