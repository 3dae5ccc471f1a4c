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

/* The half of a 64-bit word that holds its low bits, to sleep on. */
static inline const uint32_t *
ma_park_low_half(const uint64_t *word)
{
	const uint32_t *half = (const uint32_t *)(const void *)word;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return half + 1;
#else
	return half;
#endif
}

/* Wakes up to count threads sleeping on word. */
void ma_park_wake(const uint32_t *word, int count);

#endif /* MA_PARK_H */
