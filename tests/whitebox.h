/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * whitebox.h -- included first by each white-box suite, the suites that
 * tests/local.mk links with the test build of the library
 * (ma_whitebox_ldadd): the library's internal headers then declare what
 * that build has (lib/fault.h: armable faults, counters and hooks), as
 * they do when the library itself is built with MA_FAULT_INJECTION.
 */

#ifndef TEST_WHITEBOX_H
#define TEST_WHITEBOX_H 1

#ifndef MA_FAULT_INJECTION
#define MA_FAULT_INJECTION 1
#endif

#endif /* TEST_WHITEBOX_H */
