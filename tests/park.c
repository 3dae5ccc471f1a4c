/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * park.c -- the wait primitive of lib/park.h, with whichever implementation
 * configure chose (futex, or condition variables with --disable-futex):
 * a wait returns when the word differs, after a time-out, and when woken;
 * no wake-up is lost, also between words that share a bucket; the spin
 * helper stops after its limit; a child of a fork made while another
 * thread waits still waits and wakes. Links the test build of the
 * library.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whitebox.h" /* first: before the library's headers */

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "fault.h"
#include "park.h"
#include "test_util.h"
#include "valgrind.h"

/* Says once which primitive runs, so that the log shows it. */
static void
print_primitive(void)
{
	static atomic_flag said = ATOMIC_FLAG_INIT;

	if (!atomic_flag_test_and_set(&said))
		printf("park: wait primitive %s\n", ma_park_primitive());
}

START_TEST(test_primitive_name)
{
	const char *name = ma_park_primitive();

	print_primitive();
#ifdef MA_PARK_FUTEX
	ck_assert_str_eq(name, "futex");
#else
	ck_assert_str_eq(name, "condvar");
#endif
}
END_TEST

/* A word that differs from the expected value: no sleep at all. */
START_TEST(test_wait_returns_when_word_differs)
{
	_Atomic uint32_t word = 1;

	for (int i = 0; i < 100; i++)
		ma_park_wait((const uint32_t *)&word, 0, NULL);
	ck_assert_uint_eq(atomic_load(&word), 1);
}
END_TEST

/* Nobody wakes the word: each wait ends with its time-out. */
START_TEST(test_wait_times_out)
{
	_Atomic uint32_t word = 0;
	struct timespec timeout = { 0, 1000000 }; /* 1 ms */

	for (int i = 0; i < 5; i++)
		ma_park_wait((const uint32_t *)&word, 0, &timeout);
	timeout.tv_nsec = 0;
	ma_park_wait((const uint32_t *)&word, 0, &timeout);
	ck_assert_uint_eq(atomic_load(&word), 0);
}
END_TEST

START_TEST(test_wake_without_sleepers)
{
	_Atomic uint32_t word = 0;

	ma_park_wake((const uint32_t *)&word, 1);
	ma_park_wake((const uint32_t *)&word, INT_MAX);
	ck_assert_uint_eq(atomic_load(&word), 0);
}
END_TEST

/* A sleeper: waits until its word is nonzero, then says so. */
struct sleeper {
	_Atomic uint32_t *word;
	_Atomic pid_t tid;
	_Atomic int started; /* tid is set */
	_Atomic int done;
	pthread_t thread;
};

static void *
sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	atomic_store(&s->tid, test_gettid());
	atomic_store(&s->started, 1);
	/* acquire: pairs with the release store of the waker */
	while (atomic_load_explicit(s->word, memory_order_acquire) == 0)
		ma_park_wait((const uint32_t *)s->word, 0, NULL);
	atomic_store(&s->done, 1);
	return NULL;
}

static void
sleeper_start(struct sleeper *s, _Atomic uint32_t *word)
{
	s->word = word;
	atomic_init(&s->tid, 0);
	atomic_init(&s->started, 0);
	atomic_init(&s->done, 0);
	MA_ATOMIC_WORDS(&s->tid, sizeof(s->tid));
	MA_ATOMIC_WORDS(&s->started, sizeof(s->started));
	MA_ATOMIC_WORDS(&s->done, sizeof(s->done));
	ck_assert_int_eq(pthread_create(&s->thread, NULL, sleeper_main, s),
		0);
}

/* Joins the sleeper: it must have seen its word change. */
static void
sleeper_join(struct sleeper *s)
{
	pthread_join(s->thread, NULL);
	ck_assert_int_eq(atomic_load(&s->done), 1);
	MA_ATOMIC_WORDS_END(&s->tid, sizeof(s->tid));
	MA_ATOMIC_WORDS_END(&s->started, sizeof(s->started));
	MA_ATOMIC_WORDS_END(&s->done, sizeof(s->done));
}

/*
 * Waits until the sleeper is asleep in the kernel, where /proc tells
 * (else test_wait_until_sleeping says why it cannot prove it; the wake-up
 * is tested all the same).
 */
static void
sleeper_wait_asleep(struct sleeper *s)
{
	while (atomic_load(&s->started) == 0)
		sched_yield();
	ck_assert_msg(test_wait_until_sleeping(atomic_load(&s->tid)),
		"the waiting thread never went to sleep");
	ck_assert_int_eq(atomic_load(&s->done), 0);
}

static void
word_set_and_wake(_Atomic uint32_t *word, int count)
{
	/* release: pairs with the sleeper's acquire load */
	atomic_store_explicit(word, 1, memory_order_release);
	ma_park_wake((const uint32_t *)word, count);
}

/* One sleeper, asleep before the wake: the wake ends its wait. */
START_TEST(test_wake_wakes_sleeper)
{
	_Atomic uint32_t word = 0;
	struct sleeper s;

	MA_ATOMIC_WORDS(&word, sizeof(word));
	sleeper_start(&s, &word);
	sleeper_wait_asleep(&s);
	word_set_and_wake(&word, 1);
	sleeper_join(&s);
	MA_ATOMIC_WORDS_END(&word, sizeof(word));
}
END_TEST

/* Several sleepers on one word: one wake of INT_MAX ends every wait. */
START_TEST(test_wake_all)
{
	enum { N = 4 };
	_Atomic uint32_t word = 0;
	struct sleeper s[N];

	MA_ATOMIC_WORDS(&word, sizeof(word));
	for (int i = 0; i < N; i++)
		sleeper_start(&s[i], &word);
	for (int i = 0; i < N; i++)
		sleeper_wait_asleep(&s[i]);
	word_set_and_wake(&word, INT_MAX);
	for (int i = 0; i < N; i++)
		sleeper_join(&s[i]);
	MA_ATOMIC_WORDS_END(&word, sizeof(word));
}
END_TEST

/*
 * More sleeping words than the condition-variable implementation has
 * buckets, so that two share one: each is woken with a count of 1, in
 * turn, and each wake-up reaches its own sleeper.
 */
START_TEST(test_wake_one_per_word)
{
	enum { N = MA_PARK_BUCKETS + 1 };
	static _Atomic uint32_t words[N];
	static struct sleeper s[N];

	MA_ATOMIC_WORDS(words, sizeof(words));
	for (int i = 0; i < N; i++) {
		atomic_init(&words[i], 0);
		sleeper_start(&s[i], &words[i]);
	}
	for (int i = 0; i < N; i++)
		sleeper_wait_asleep(&s[i]);
	for (int i = 0; i < N; i++) {
		word_set_and_wake(&words[i], 1);
		sleeper_join(&s[i]);
	}
	MA_ATOMIC_WORDS_END(words, sizeof(words));
}
END_TEST

/*
 * Ping-pong: two threads pass a turn back and forth through one word,
 * each sleeping until the turn is its own. A lost wake-up leaves both
 * asleep for good (the case's time-out fails it).
 */
struct pingpong {
	_Atomic uint32_t turn; /* round r belongs to thread r % 2 */
	unsigned rounds;
};

static void
pingpong_play(struct pingpong *pp, uint32_t me)
{
	for (uint32_t r = me; r < pp->rounds; r += 2) {
		uint32_t t;

		/* acquire: pairs with the other player's release store */
		while ((t = atomic_load_explicit(&pp->turn,
				memory_order_acquire)) != r)
			ma_park_wait((const uint32_t *)&pp->turn, t, NULL);
		/* release: hands the round over with what came before */
		atomic_store_explicit(&pp->turn, r + 1, memory_order_release);
		ma_park_wake((const uint32_t *)&pp->turn, 1);
	}
}

static void *
pingpong_odd(void *arg)
{
	pingpong_play(arg, 1);
	return NULL;
}

START_TEST(test_pingpong_stress)
{
	struct pingpong pp;
	pthread_t other;

	atomic_init(&pp.turn, 0);
	pp.rounds = test_stress_iterations(20000);
	MA_ATOMIC_WORDS(&pp.turn, sizeof(pp.turn));
	ck_assert_int_eq(pthread_create(&other, NULL, pingpong_odd, &pp), 0);
	pingpong_play(&pp, 0);
	pthread_join(other, NULL);
	ck_assert_uint_eq(atomic_load(&pp.turn), pp.rounds);
	MA_ATOMIC_WORDS_END(&pp.turn, sizeof(pp.turn));
}
END_TEST

/* The spin helper stops once its limit has passed, whatever it is. */
START_TEST(test_spin_ends)
{
	static const uint64_t limits[] = { 0, 1000, 100000, 3000000 };
	struct ma_spin spin;

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		unsigned steps = 0;
		uint64_t start = ma_now_ns();

		for (ma_spin_begin(&spin); ma_spin_step(&spin, limits[i]);)
			steps++;
		ck_assert_uint_ge(ma_now_ns() - start, limits[i]);
		ck_assert_uint_ge(spin.waited, limits[i]);
		/* the clock is read every 16 steps: 15 steps at least */
		ck_assert_uint_ge(steps, 15);
		if (limits[i] == 0)
			ck_assert_uint_eq(steps, 15);
	}
}
END_TEST

/* ma_now_ns never goes back. */
START_TEST(test_now_monotonic)
{
	uint64_t last = ma_now_ns();

	for (int i = 0; i < 1000; i++) {
		uint64_t now = ma_now_ns();

		ck_assert_uint_ge(now, last);
		last = now;
	}
	ma_cpu_relax();
}
END_TEST


/*
 * The re-check's hand-off (lib/fault.h, MA_HANDOFF_PARK): a sleeper
 * counts itself, then calls ma_park_wait, whose re-check reads the word;
 * a waker bumps the word, then reads the count and wakes only if it saw
 * a sleeper. Its window runs the waker up to its read of the count.
 */
struct recheck {
	_Atomic uint32_t word;
	_Atomic uint32_t count;
	_Atomic int go; /* the waker may bump */
	_Atomic int read; /* it read the count */
	_Atomic int returned; /* the sleeper's ma_park_wait returned */
	int hold;
};

static void *
recheck_waker(void *arg)
{
	struct recheck *c = arg;

	while (!atomic_load(&c->go))
		sched_yield();
	atomic_fetch_add(&c->word, 1); /* seq_cst */
	uint32_t sleepers = atomic_load(&c->count); /* seq_cst */

	atomic_store(&c->read, 1);
	if (sleepers != 0)
		ma_park_wake((const uint32_t *)&c->word, INT_MAX);
	return NULL;
}

static void
recheck_window(void *arg)
{
	struct recheck *c = arg;

	atomic_store(&c->go, 1);
	while (!atomic_load(&c->read))
		sched_yield();
	if (c->hold)
		atomic_store_explicit(&c->count, 1, memory_order_relaxed);
}

static void *
recheck_sleeper(void *arg)
{
	struct recheck *c = arg;

	ma_test_handoff_arm(MA_HANDOFF_PARK, c->hold, recheck_window, c);
	if (!c->hold)
		atomic_store_explicit(&c->count, 1, memory_order_relaxed);
	ma_park_wait((const uint32_t *)&c->word, 0, NULL);
	atomic_store(&c->returned, 1);
	return NULL;
}

/* 1 if the sleeper returned by itself (1 s given when held, else 10 s). */
static int
recheck_run(int hold)
{
	struct recheck c;
	pthread_t sleeper, waker;
	uint64_t end;
	int returned;

	memset(&c, 0, sizeof(c));
	c.hold = hold;
	MA_ATOMIC_WORDS(&c, sizeof(c)); /* atomics only, but for hold */
	ck_assert_int_eq(pthread_create(&waker, NULL, recheck_waker, &c), 0);
	ck_assert_int_eq(pthread_create(&sleeper, NULL, recheck_sleeper, &c),
		0);
	end = ma_now_ns() + (hold ? 1000000000u : 10000000000u);
	while (!atomic_load(&c.returned) && ma_now_ns() < end)
		sched_yield();
	returned = atomic_load(&c.returned);
	pthread_join(waker, NULL);
	while (!atomic_load(&c.returned)) { /* the rescue */
		ma_park_wake((const uint32_t *)&c.word, INT_MAX);
		sched_yield();
	}
	pthread_join(sleeper, NULL);
	MA_ATOMIC_WORDS_END(&c, sizeof(c));
	return returned;
}

/*
 * With its fence, the condition-variable build's re-check never misses
 * the bump of a waker that counted no sleeper; with the count held back
 * past the re-check (what a processor may do without the fence), the
 * sleeper sleeps for good. The futex's re-check is the kernel's, after
 * the window: the sleeper returns either way.
 */
START_TEST(test_recheck_handoff)
{
	int futex = strcmp(ma_park_primitive(), "futex") == 0;

	ck_assert_int_eq(recheck_run(0), 1);
	ck_assert_int_eq(recheck_run(1), futex);
}
END_TEST

/*
 * Fork while another thread is inside a wait on a word, holding the
 * condition-variable build's bucket lock (the re-check's window, lib/
 * fault.h, keeps it there), and a third sleeps on the same bucket's
 * condition variable: the child, whose only thread is the one that
 * forked, must still wait and wake on every word (the movers' workers and
 * the runtime do so there). Before the bucket table was set up again in
 * the child, its wake blocked for good on the lock that a thread of the
 * parent held. The futex build has no lock to inherit.
 *
 * The window holds the lock until the fork has returned in the parent,
 * or until the forking thread, inside fork, is asleep (were a prepare
 * handler of the library to take the bucket locks, it would wait for
 * that very lock, which a thread never holds for long outside this
 * test). The window reads the forking
 * thread's state through a file opened beforehand: no allocation, no
 * lock of the C library, which fork takes too.
 */
struct fork_window {
	_Atomic int in; /* the waiter is in the window, under the lock */
	_Atomic int forking; /* the forking thread is about to fork */
	_Atomic int forked; /* fork returned in the parent */
	int stat_fd; /* /proc/self/task/TID/stat of the forking thread */
};

/* Whether the thread of the stat file fd is asleep ('S'). */
static int
stat_fd_asleep(int fd)
{
	char buf[256];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);

	if (len <= 0)
		return 0;
	buf[len] = '\0';

	char *close_paren = strrchr(buf, ')');

	return close_paren != NULL && close_paren[1] == ' ' &&
		close_paren[2] == 'S';
}

static void
fork_window_fn(void *arg)
{
	struct fork_window *f = arg;

	atomic_store(&f->in, 1);
	while (!atomic_load(&f->forked) && !(atomic_load(&f->forking) &&
			stat_fd_asleep(f->stat_fd)))
		sched_yield();
}

struct fork_waiter {
	_Atomic uint32_t *word;
	struct fork_window *window;
};

static void *
fork_waiter_main(void *arg)
{
	struct fork_waiter *w = arg;

	ma_test_handoff_arm(MA_HANDOFF_PARK, 0, fork_window_fn, w->window);
	/* acquire: pairs with the release store of the waker */
	while (atomic_load_explicit(w->word, memory_order_acquire) == 0)
		ma_park_wait((const uint32_t *)w->word, 0, NULL);
	return NULL;
}

/* In the child: a wake, a timed wait and a sleeper woken, on the word. */
static int
fork_child_parks(_Atomic uint32_t *word)
{
	struct timespec timeout = { 0, 1000000 }; /* 1 ms */
	_Atomic uint32_t mine = 0;
	struct sleeper s;

	/* a child that hangs is killed (Check's handler would kill all) */
	signal(SIGALRM, SIG_DFL);
	alarm(20);
	ma_park_wake((const uint32_t *)word, INT_MAX);
	ma_park_wait((const uint32_t *)word, 0, &timeout);
	MA_ATOMIC_WORDS(&mine, sizeof(mine));
	sleeper_start(&s, &mine);
	while (atomic_load(&s.started) == 0)
		sched_yield();
	word_set_and_wake(&mine, INT_MAX);
	pthread_join(s.thread, NULL);
	return atomic_load(&s.done) == 1 ? 0 : 1;
}

START_TEST(test_fork_inside_wait)
{
	_Atomic uint32_t word = 0;
	struct fork_window window;
	struct fork_waiter waiter = { &word, &window };
	struct sleeper s;
	pthread_t t;
	int status;

	char path[64];

	print_primitive();
#ifdef TEST_TSAN_BUILD
	/* it cannot follow a child forked from a process with threads */
	printf("test_fork_inside_wait left out: ThreadSanitizer build\n");
	return;
#endif
	if (test_emulated("test_fork_inside_wait"))
		return;

	/*
	 * helgrind and DRD keep the waiter holding its bucket lock in the
	 * child, where that thread does not exist: the child's new table
	 * looks to them like a lock taken from its holder.
	 */
	if (test_thread_checker("test_fork_inside_wait"))
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat",
		(int)test_gettid());
	window.stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (window.stat_fd < 0) {
		printf("not forking inside a wait: %s is not readable here, "
			"and the test needs it\n", path);
		return;
	}
	MA_ATOMIC_WORDS(&word, sizeof(word));
	atomic_init(&window.in, 0);
	atomic_init(&window.forking, 0);
	atomic_init(&window.forked, 0);
	MA_ATOMIC_WORDS(&window, offsetof(struct fork_window, stat_fd));
	sleeper_start(&s, &word);
	sleeper_wait_asleep(&s);
	ck_assert_int_eq(pthread_create(&t, NULL, fork_waiter_main, &waiter),
		0);
	while (!atomic_load(&window.in))
		sched_yield();
	atomic_store(&window.forking, 1);

	pid_t pid = fork();

	if (pid == 0)
		_exit(fork_child_parks(&word));
	ck_assert_int_ge(pid, 0);
	atomic_store(&window.forked, 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	word_set_and_wake(&word, INT_MAX);
	pthread_join(t, NULL);
	sleeper_join(&s);
	close(window.stat_fd);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child's waits and wakes did not end (status %#x)",
		status);
	MA_ATOMIC_WORDS_END(&window, offsetof(struct fork_window, stat_fd));
	MA_ATOMIC_WORDS_END(&word, sizeof(word));
}
END_TEST

/*
 * A thread cancelled (pthread_cancel) while asleep in a wait: the wait
 * is no cancellation point, so the thread sleeps on until woken, and
 * every word goes on waking. Before, the condition-variable build's
 * pthread_cond_wait acted on the cancellation: the thread ended holding
 * its bucket's lock, still counted a sleeper, and the next wake on that
 * bucket blocked for good.
 */
START_TEST(test_cancel_asleep)
{
	_Atomic uint32_t word = 0;
	struct sleeper s, t;
	void *ret;

	print_primitive();
	MA_ATOMIC_WORDS(&word, sizeof(word));
	sleeper_start(&s, &word);
	sleeper_wait_asleep(&s);
	ck_assert_int_eq(pthread_cancel(s.thread), 0);
	word_set_and_wake(&word, INT_MAX);
	ck_assert_int_eq(pthread_join(s.thread, &ret), 0);
	ck_assert_msg(ret != PTHREAD_CANCELED && atomic_load(&s.done) == 1,
		"the wait acted on the cancellation");
	MA_ATOMIC_WORDS_END(&s.tid, sizeof(s.tid));
	MA_ATOMIC_WORDS_END(&s.started, sizeof(s.started));
	MA_ATOMIC_WORDS_END(&s.done, sizeof(s.done));
	/* the same word, and so the same bucket, still sleeps and wakes */
	atomic_store(&word, 0);
	sleeper_start(&t, &word);
	sleeper_wait_asleep(&t);
	word_set_and_wake(&word, INT_MAX);
	sleeper_join(&t);
	MA_ATOMIC_WORDS_END(&word, sizeof(word));
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("park");
	TCase *tc = tcase_create("park");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_primitive_name);
	tcase_add_test(tc, test_wait_returns_when_word_differs);
	tcase_add_test(tc, test_wait_times_out);
	tcase_add_test(tc, test_wake_without_sleepers);
	tcase_add_test(tc, test_wake_wakes_sleeper);
	tcase_add_test(tc, test_wake_all);
	tcase_add_test(tc, test_wake_one_per_word);
	tcase_add_test(tc, test_pingpong_stress);
	tcase_add_test(tc, test_spin_ends);
	tcase_add_test(tc, test_recheck_handoff);
	tcase_add_test(tc, test_now_monotonic);
	tcase_add_test(tc, test_fork_inside_wait);
	tcase_add_test(tc, test_cancel_asleep);
	suite_add_tcase(s, tc);
	return s;
}
