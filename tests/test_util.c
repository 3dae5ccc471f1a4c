/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * test_util.c -- helpers the suites share (see test_util.h).
 */

#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_DCPOP
#define HWCAP_DCPOP (1UL << 16)
#endif
#endif

#include "test_util.h"

unsigned
test_stress_iterations(unsigned dflt)
{
	const char *s = getenv("MINIASYNC_STRESS_ITERATIONS");

	return s != NULL ? (unsigned)strtoul(s, NULL, 10) : dflt;
}

/* 0 where there are no thread ids (not Linux): nothing can be seen then. */
pid_t
test_gettid(void)
{
#ifdef SYS_gettid
	return (pid_t)syscall(SYS_gettid);
#else
	return 0;
#endif
}

char
test_thread_state(pid_t tid)
{
	char path[64];
	char buf[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return '?';
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[len] = '\0';

	/* "tid (name) S ...": the name may hold spaces and parentheses */
	char *close_paren = strrchr(buf, ')');

	return close_paren != NULL && close_paren[1] == ' ' ?
		close_paren[2] : '?';
}

int
test_wait_until_sleeping(pid_t tid)
{
	time_t end = time(NULL) + 10;

	if (tid == 0 || test_thread_state(tid) == '?') {
		printf("not proving that thread %d sleeps: "
			"/proc/self/task/%d/stat is not readable here\n",
			(int)tid, (int)tid);
		return 1;
	}

	while (time(NULL) < end) {
		if (test_thread_state(tid) == 'S')
			return 1;
		sched_yield();
	}
	return 0;
}

int
test_durable_expected(void)
{
#if defined(__x86_64__) || defined(__powerpc__) || defined(__powerpc64__)
	return 1;
#elif defined(__linux__) && defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_DCPOP) != 0;
#else
	return 0;
#endif
}
