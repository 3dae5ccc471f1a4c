/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * park.h -- sleeping on a 32-bit word until another thread changes it and
 * wakes the sleepers: Linux futexes (process-private) where configure
 * found them, else a hashed table of POSIX mutexes and condition
 * variables (lib/park.c); and spinning politely, per architecture.
 */

#ifndef MA_PARK_H
#define MA_PARK_H 1

#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "fault.h"

/*
 * Sleeps while *word == expected, at most timeout (NULL: no limit; else a
 * relative time). Returns at once if *word differs; may also return
 * spuriously: callers re-check.
 *
 * No wake-up is lost: a thread that changes *word and then calls
 * ma_park_wake(word, ...) either makes a concurrent ma_park_wait see the
 * new value, or wakes it. The word is read with atomic loads only.
 *
 * Its re-check of the word is ordered after every store the caller made
 * before the call, as by a seq_cst fence (the futex system call's own
 * barrier; a fence in the condition-variable build): a caller may count
 * itself a sleeper and then call it, against a waker that bumps the word
 * with a seq_cst operation and then reads that count seq_cst.
 */
void ma_park_wait(const uint32_t *word, uint32_t expected,
	const struct timespec *timeout);

static inline uint64_t
ma_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
#ifdef MA_FAULT_INJECTION
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
		ma_test_clock_skew(); /* moved on by tests */
#else
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/*
 * A moment's pause inside a spin loop, kind to a sibling hardware thread:
 * x86 pause, aarch64 yield, POWER's "or 27,27,27" (the yield hint); on
 * other processors (s390x among them) only a compiler barrier, as the
 * Linux kernel's cpu_relax there.
 */
static inline void
ma_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#elif defined(__powerpc__) || defined(__powerpc64__)
	__asm__ __volatile__("or 27,27,27" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#define MA_SPIN_PAUSE_NS 2000 /* pause this long, then yield the CPU */

/*
 * Spinning while another thread finishes something: a CPU pause a step
 * during the first MA_SPIN_PAUSE_NS, then a yield a step, so that a
 * spinner gives way to runnable threads on a busy machine (perhaps the
 * very thread it waits for). The clock is read every 16 steps. Usage:
 *	struct ma_spin spin;
 *	for (ma_spin_begin(&spin); ma_spin_step(&spin, limit);)
 *		if (done()) ...
 */
struct ma_spin {
	uint64_t start; /* when the spin began */
	uint64_t waited; /* nanoseconds since, as last read */
	unsigned steps;
};

static inline void
ma_spin_begin(struct ma_spin *spin)
{
	spin->start = ma_now_ns();
	spin->waited = 0;
	spin->steps = 0;
}

/* Waits one step; 0 (without waiting) once limit_ns have passed. */
static inline int
ma_spin_step(struct ma_spin *spin, uint64_t limit_ns)
{
	if (++spin->steps % 16 == 0) {
		spin->waited = ma_now_ns() - spin->start;
		if (spin->waited >= limit_ns)
			return 0;
	}
	if (spin->waited < MA_SPIN_PAUSE_NS)
		ma_cpu_relax();
	else
		sched_yield();
	return 1;
}

/*
 * Wakes up to count threads sleeping on word (the condition-variable
 * implementation may wake more: every sleeper re-checks its word).
 */
void ma_park_wake(const uint32_t *word, int count);

/*
 * Buckets of the condition-variable implementation: words whose addresses
 * hash alike share one (tests use this many words to force a collision).
 */
#define MA_PARK_BUCKETS 64

/*
 * Makes sure the wait table is set up and its fork handler registered
 * (the condition-variable build; nothing with futexes). lib/fork.c calls
 * it before it registers the movers' handlers, so that in the child the
 * table is set up anew before theirs run: they may wake sleepers.
 */
void ma_park_fork_init(void);

/* The wait primitive this build uses: "futex" or "condvar". */
const char *ma_park_primitive(void);

#endif /* MA_PARK_H */
