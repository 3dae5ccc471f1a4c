/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * park.c -- futex wait and wake. Only the kernel reads the word here: the
 * callers publish and re-check it with atomics of their own.
 */

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "park.h"

void
ma_park_wait(const uint32_t *word, uint32_t expected,
	const struct timespec *timeout)
{
	/* EAGAIN (word changed), EINTR and ETIMEDOUT all mean: re-check. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, timeout,
		NULL, 0);
}

void
ma_park_wake(const uint32_t *word, int count)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}
