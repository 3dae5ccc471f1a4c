/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * test_main.c -- the main() of every Check suite: runs the suite that the
 * test file's test_suite() builds and exits 0 only if every case passed.
 */

#include <stdlib.h>

#include <check.h>

Suite *test_suite(void);

int
main(void)
{
	SRunner *sr = srunner_create(test_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
