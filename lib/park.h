/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * park.h -- sleeping on a 32-bit word until another thread changes it and
 * wakes the sleepers (Linux futexes, process-private).
 */

#ifndef MA_PARK_H
#define MA_PARK_H 1

#include <stdint.h>
#include <time.h>

/*
 * Sleeps while *word == expected, at most timeout (NULL: no limit). Returns
 * at once if *word differs; may also return spuriously: callers re-check.
 */
void ma_park_wait(const uint32_t *word, uint32_t expected,
	const struct timespec *timeout);

/* Wakes up to count threads sleeping on word. */
void ma_park_wake(const uint32_t *word, int count);

#endif /* MA_PARK_H */
