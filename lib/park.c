/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * park.c -- wait and wake on a 32-bit word. Two implementations, chosen by
 * configure (MA_PARK_FUTEX, see "which wait primitive to use"):
 * - Linux futexes: only the kernel reads the word here; the callers
 *   publish and re-check it with atomics of their own.
 * - elsewhere (or --disable-futex): a fixed table of buckets, each a mutex
 *   and a condition variable, that words share by the hash of their
 *   address. A sleeper checks its word under its bucket's lock and sleeps
 *   on the bucket's condition variable; a waker takes the same lock and
 *   wakes every sleeper of the bucket, each of which re-checks its word.
 *   A fork handler hands the child a table with no lock held and no
 *   sleeper.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdatomic.h>
#include <stdlib.h>

#include "fault.h"
#include "internal.h"
#include "park.h"
#include "valgrind.h"

#ifdef MA_PARK_FUTEX

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

void
ma_park_wait(const uint32_t *word, uint32_t expected,
	const struct timespec *timeout)
{
	/*
	 * The kernel re-checks the word after a barrier of its own, so a
	 * test's window (lib/fault.h) comes before it, whatever it holds.
	 */
	(void)ma_test_handoff_hold(MA_HANDOFF_PARK);
	ma_test_handoff_window(MA_HANDOFF_PARK);
	/* EAGAIN (word changed), EINTR and ETIMEDOUT all mean: re-check. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, timeout,
		NULL, 0);
}

void
ma_park_wake(const uint32_t *word, int count)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

void
ma_park_fork_init(void)
{
}

const char *
ma_park_primitive(void)
{
	return "futex";
}

#else /* POSIX mutexes and condition variables */

#include <pthread.h>

/*
 * A bucket: sleepers counts the threads waiting on cond, under lock. Each
 * bucket has a cache line (or more) of its own.
 */
struct park_bucket {
	_Alignas(MA_CACHELINE) pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned sleepers;
};

static struct park_bucket park_table[MA_PARK_BUCKETS];
static pthread_once_t park_once = PTHREAD_ONCE_INIT;
/* The clock of the condition variables' deadlines; set by park_init. */
static clockid_t park_clock = CLOCK_REALTIME;

/* Lock failures cannot happen with these default mutexes: abort if so. */
static void
park_lock(struct park_bucket *b)
{
	if (pthread_mutex_lock(&b->lock) != 0)
		abort();
}

static void
park_unlock(struct park_bucket *b)
{
	if (pthread_mutex_unlock(&b->lock) != 0)
		abort();
}

/* The buckets, their deadlines on the monotonic clock if possible. */
static void
park_table_init(void)
{
	pthread_condattr_t attr;

	if (pthread_condattr_init(&attr) != 0)
		abort();
#ifdef HAVE_PTHREAD_CONDATTR_SETCLOCK
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0)
		park_clock = CLOCK_MONOTONIC;
#endif
	for (size_t i = 0; i < MA_PARK_BUCKETS; i++) {
		if (pthread_mutex_init(&park_table[i].lock, NULL) != 0 ||
				pthread_cond_init(&park_table[i].cond,
					&attr) != 0)
			abort();
		park_table[i].sleepers = 0;
	}
	pthread_condattr_destroy(&attr);
}

/*
 * Fork. The child has only the thread that forked: a bucket lock that
 * another thread held at the fork would stay locked there, and a
 * condition variable would still count the parent's sleepers (glibc's
 * would wait for them). The lock guards nothing but the bucket's count
 * of sleepers, none of which exists in the child: so the child's handler
 * sets the whole table up anew, locks included (the condition variables
 * not destroyed first: that would wait for the sleepers too). Nothing
 * is taken before the fork (64 locks held at once would also be more
 * than ThreadSanitizer can follow).
 */
static void
park_fork_child(void)
{
	MA_NEW_MEMORY(park_table, sizeof(park_table)); /* see valgrind.h */
	park_table_init();
}

/* Once: the table and its fork handler. */
static void
park_init(void)
{
	park_table_init();
	if (pthread_atfork(NULL, NULL, park_fork_child) != 0)
		abort();
}

void
ma_park_fork_init(void)
{
	if (pthread_once(&park_once, park_init) != 0)
		abort();
}

/* The bucket of a word: Fibonacci hashing of its address. */
static struct park_bucket *
park_bucket_of(const uint32_t *word)
{
	uint64_t h = (uint64_t)((uintptr_t)word >> 2) *
		UINT64_C(0x9e3779b97f4a7c15);

	if (pthread_once(&park_once, park_init) != 0)
		abort();
	return &park_table[h >> 58]; /* the top 6 bits: 64 buckets */
}

_Static_assert(MA_PARK_BUCKETS == 64, "park_bucket_of takes 6 bits");

void
ma_park_wait(const uint32_t *word, uint32_t expected,
	const struct timespec *timeout)
{
	struct park_bucket *b = park_bucket_of(word);
	struct timespec deadline;

	if (timeout != NULL) {
		clock_gettime(park_clock, &deadline);
		deadline.tv_sec += timeout->tv_sec;
		deadline.tv_nsec += timeout->tv_nsec;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec += deadline.tv_nsec / 1000000000L;
			deadline.tv_nsec %= 1000000000L;
		}
	}
	park_lock(b);
	/*
	 * seq_cst: the caller's stores before the call (it counted itself a
	 * sleeper) before the re-check below, as the futex's barrier does;
	 * against a waker that bumps the word, then reads that count, and
	 * calls ma_park_wake only if it saw a sleeper. The lock alone does
	 * not order a store before it against a load after it.
	 */
	int held = ma_test_handoff_hold(MA_HANDOFF_PARK);

	if (!held)
		atomic_thread_fence(memory_order_seq_cst);

	/*
	 * Relaxed: the bucket lock orders this load against a waker that
	 * calls ma_park_wake. It changes the word before it takes the lock;
	 * if it took the lock before us, its unlock happens before our lock
	 * and this load sees the change; if after, we are on the condition
	 * variable by then (pthread_cond_wait releases the lock atomically)
	 * and it wakes us.
	 */
	uint32_t now = __atomic_load_n(word, __ATOMIC_RELAXED);

	ma_test_handoff_window(MA_HANDOFF_PARK);
	if (now == expected) {
		int cancel;

		/*
		 * No cancellation point, as with the futex: a thread
		 * cancelled here would end holding the bucket's lock, still
		 * counted a sleeper, and every wake of the bucket would
		 * block for good.
		 */
		(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
		b->sleepers++;
		/* a time-out, a wake or a spurious return: callers re-check */
		if (timeout != NULL)
			(void)pthread_cond_timedwait(&b->cond, &b->lock,
				&deadline);
		else
			(void)pthread_cond_wait(&b->cond, &b->lock);
		b->sleepers--;
		(void)pthread_setcancelstate(cancel, NULL);
	}
	park_unlock(b);
}

/*
 * Wakes every sleeper of the word's bucket, whatever count says: others'
 * words may share the bucket, and waking only count of them could pick
 * the wrong ones and lose the wake-up.
 */
void
ma_park_wake(const uint32_t *word, int count)
{
	struct park_bucket *b = park_bucket_of(word);

	(void)count;
	park_lock(b);
	if (b->sleepers != 0 && pthread_cond_broadcast(&b->cond) != 0)
		abort();
	park_unlock(b);
}

const char *
ma_park_primitive(void)
{
	return "condvar";
}

#endif /* MA_PARK_FUTEX */
