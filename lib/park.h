/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * park.h -- sleeping on a 32-bit word until another thread changes it and
 * wakes the sleepers (Linux futexes, process-private).
 */

#ifndef MA_PARK_H
#define MA_PARK_H 1

#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "libminiasync/future.h"

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

static inline uint64_t
ma_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define MA_SPIN_PAUSE_NS 2000 /* pause this long, then yield the CPU */

/*
 * Spinning before a sleep, for up to limit_ns: a CPU pause a step during
 * the first MA_SPIN_PAUSE_NS, then a yield a step, so that a spinner gives
 * way to runnable threads on a busy machine. Usage:
 *	for (uint64_t t0 = ma_now_ns(); ma_spin_step(t0, limit);)
 *		if (done()) ...
 */
static inline int
ma_spin_step(uint64_t start, uint64_t limit_ns)
{
	uint64_t waited = ma_now_ns() - start;

	if (waited >= limit_ns)
		return 0;
	if (waited < MA_SPIN_PAUSE_NS)
		future_cpu_pause();
	else
		sched_yield();
	return 1;
}

/* Wakes up to count threads sleeping on word. */
void ma_park_wake(const uint32_t *word, int count);

#endif /* MA_PARK_H */
