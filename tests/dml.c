/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dml.c -- libminiasync-vdm-dml, as a program written for miniasync
 * 0.2's DML mover uses it: every type, every operation, byte for byte;
 * HARDWARE without a work queue fails with ENODEV, AUTO falls back to
 * the CPU; durability is offered as 0.2 offered it.
 */

#include <errno.h>
#include <string.h>

#include <check.h>

#include <libminiasync.h>
#include <libminiasync-vdm-dml.h>

#include "test_util.h"

static void
run_all(struct vdm *vdm, struct runtime *r)
{
	static char a[100000], b[100000];
	struct vdm_operation_future f;

	memset(a, 0x11, sizeof(a));
	memset(b, 0, sizeof(b));
	f = vdm_memcpy(vdm, b, a, sizeof(a), VDM_F_MEM_DURABLE);
	test_wait_success(r, &f);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	f = vdm_memmove(vdm, b + 10, b, 5000, 0);
	test_wait_success(NULL, &f);
	f = vdm_memset(vdm, b, 0x22, 333, 0);
	test_wait(r, &f);
	ck_assert_int_eq(b[332], 0x22);
	ck_assert_int_eq(b[333], 0x11);
	f = vdm_flush(vdm, b, sizeof(b), 0);
	test_wait_success(r, &f);
}

START_TEST(test_types)
{
	struct runtime *r = runtime_new();
	struct data_mover_dml *dmd;

	ck_assert_int_eq(DATA_MOVER_DML_SOFTWARE, 0);
	ck_assert_int_eq(DATA_MOVER_DML_HARDWARE, 1);
	ck_assert_int_eq(DATA_MOVER_DML_AUTO, 2);

	dmd = data_mover_dml_new(DATA_MOVER_DML_SOFTWARE);
	ck_assert_ptr_nonnull(dmd);
	ck_assert_int_eq(vdm_is_supported(data_mover_dml_get_vdm(dmd),
		VDM_F_MEM_DURABLE), test_durable_expected());
	run_all(data_mover_dml_get_vdm(dmd), r);
	data_mover_dml_delete(dmd);

	dmd = data_mover_dml_new(DATA_MOVER_DML_AUTO);
	ck_assert_ptr_nonnull(dmd);
	run_all(data_mover_dml_get_vdm(dmd), r);
	data_mover_dml_delete(dmd);

	errno = 0;
	dmd = data_mover_dml_new(DATA_MOVER_DML_HARDWARE);
	if (dmd == NULL) {
		ck_assert_int_eq(errno, ENODEV); /* no work queue here */
	} else {
		run_all(data_mover_dml_get_vdm(dmd), r);
		data_mover_dml_delete(dmd);
	}
	errno = 0;
	ck_assert_ptr_null(data_mover_dml_new((enum data_mover_dml_type)9));
	ck_assert_int_eq(errno, EINVAL);
	data_mover_dml_delete(NULL);
	runtime_delete(r);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("dml");
	TCase *tc = tcase_create("dml");

	tcase_add_test(tc, test_types);
	suite_add_tcase(s, tc);
	return s;
}
