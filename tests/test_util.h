/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * test_util.h -- helpers the suites share: how long stress tests run, and
 * whether a thread is asleep (to prove a waiter sleeps, without sleeps).
 */

#ifndef TEST_UTIL_H
#define TEST_UTIL_H 1

#include <sys/types.h>

/* $MINIASYNC_STRESS_ITERATIONS, else dflt. */
unsigned test_stress_iterations(unsigned dflt);

/* The thread's own id, for the two below (0 where there is none). */
pid_t test_gettid(void);

/* The state letter of a thread of this process ('S': asleep), or '?'. */
char test_thread_state(pid_t tid);

/*
 * Waits until thread tid is asleep, at most 10 s; 1 if it got there, 0 if
 * not. Where /proc cannot tell (no such file, or tid 0), says so on stdout
 * and returns 1 at once: the proof is skipped, not failed.
 */
int test_wait_until_sleeping(pid_t tid);

/*
 * Whether the library's movers may promise VDM_F_MEM_DURABLE on this
 * machine: where a write-back instruction reaches persistence (x86-64;
 * aarch64 with dc cvap, HWCAP_DCPOP; POWER), not elsewhere (s390x...).
 */
int test_durable_expected(void);

#endif /* TEST_UTIL_H */
