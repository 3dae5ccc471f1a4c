/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * hooks.c -- what a test cannot see from outside, read through the
 * counters of the test build of the library (lib/fault.h):
 * - a durable operation done by a user's function (set with
 *   data_mover_threads_set_memcpy_fn and its siblings) is written back
 *   by the mover after that function returns, byte for byte;
 * - a runtime waiting on poller words of the library's movers sleeps
 *   without a timeout: it is woken when a word is set, however many are
 *   pending, so no wake-up is late; only a poller word of a mover the
 *   library does not know makes it sleep with a timeout.
 */

#define _GNU_SOURCE
#include "whitebox.h" /* first: before the library's headers */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <check.h>

#include <libminiasync.h>

#include "fault.h"
#include "movers.h"
#include "test_util.h"
#include "valgrind.h"

/* A user's copy that ignores the flags, as one written for 0.2 does. */
static void *
plain_memcpy(void *dest, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	return memcpy(dest, src, n);
}

static void *
plain_memmove(void *dest, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	return memmove(dest, src, n);
}

static void *
plain_memset(void *str, int c, size_t n, unsigned flags)
{
	(void)flags;
	return memset(str, c, n);
}

/* Runs one operation future to completion with a runtime. */
static void
wait_one(struct vdm_operation_future *f)
{
	struct runtime *r = runtime_new();

	ck_assert_ptr_nonnull(r);
	runtime_wait(r, FUTURE_AS_RUNNABLE(f));
	ck_assert_int_eq(FUTURE_OUTPUT(f)->result, VDM_SUCCESS);
	runtime_delete(r);
}

/*
 * VDM_F_MEM_DURABLE through a user's function: every byte is written
 * back after it (small, and big enough to be cut into shares); without
 * the flag, or with the library's own function, nothing extra is.
 */
START_TEST(test_durable_after_user_function)
{
	static char src[5 << 20], dst[5 << 20];
	struct data_mover_threads *dmt = data_mover_threads_new(2, 4,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	size_t sizes[] = { 1, 63, 4096, sizeof(dst) };
	struct vdm_operation_future f;

	memset(src, 0x5a, sizeof(src));
	data_mover_threads_set_memcpy_fn(dmt, plain_memcpy);
	data_mover_threads_set_memmove_fn(dmt, plain_memmove);
	data_mover_threads_set_memset_fn(dmt, plain_memset);
	ma_test_count(MA_TEST_WRITTEN_BACK);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		f = vdm_memcpy(vdm, dst, src, n, VDM_F_MEM_DURABLE);
		wait_one(&f);
		ck_assert_uint_eq(ma_test_count(MA_TEST_WRITTEN_BACK), n);
		f = vdm_memmove(vdm, dst + 1, dst, n - 1 + (n == 1),
			VDM_F_MEM_DURABLE);
		wait_one(&f);
		ck_assert_uint_eq(ma_test_count(MA_TEST_WRITTEN_BACK),
			n - 1 + (n == 1));
		f = vdm_memset(vdm, dst, 7, n, VDM_F_MEM_DURABLE |
			VDM_F_NO_CACHE_HINT);
		wait_one(&f);
		ck_assert_uint_eq(ma_test_count(MA_TEST_WRITTEN_BACK), n);
		ck_assert_int_eq(dst[n - 1], 7);

		f = vdm_memcpy(vdm, dst, src, n, 0);
		wait_one(&f);
		ck_assert_uint_eq(ma_test_count(MA_TEST_WRITTEN_BACK), 0);
		ck_assert_int_eq(memcmp(dst, src, n), 0);
	}
	/* the library's own functions write back by themselves */
	data_mover_threads_set_memcpy_fn(dmt, NULL);
	f = vdm_memcpy(vdm, dst, src, 4096, VDM_F_MEM_DURABLE);
	wait_one(&f);
	ck_assert_uint_eq(ma_test_count(MA_TEST_WRITTEN_BACK), 0);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * Waits at most 'seconds' for done(arg): 1 if it came, else 0 (a hang
 * becomes a failure, not a stop).
 */
static int
wait_until(int (*done)(const void *), const void *arg, double seconds)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (done(arg))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) +
				(double)(now.tv_nsec - t0.tv_nsec) / 1e9 >
				seconds)
			return 0;
		sched_yield();
	}
}

static int
flag_set(const void *flag)
{
	return atomic_load((_Atomic int *)flag);
}

/* A future that runs STEPS copies one after another on one mover. */
#define STEPS 50
#define STEP_SIZE 4096

struct steps_data {
	struct vdm *vdm;
	char (*src)[STEP_SIZE];
	char (*dst)[STEP_SIZE];
	unsigned done;
	int started;
	struct vdm_operation_future current;
	_Atomic int *finished;
};

struct steps_output {
	unsigned steps;
};

FUTURE(steps_future, struct steps_data, struct steps_output);

static enum future_state
steps_task(struct future_context *ctx, struct future_notifier *n)
{
	struct steps_data *d = future_context_get_data(ctx);
	struct steps_output *out = future_context_get_output(ctx);

	for (;;) {
		if (!d->started) {
			d->current = vdm_memcpy(d->vdm, d->dst[d->done],
				d->src[d->done], STEP_SIZE, 0);
			d->started = 1;
		}
		if (future_poll(FUTURE_AS_RUNNABLE(&d->current), n) !=
				FUTURE_STATE_COMPLETE)
			return FUTURE_STATE_RUNNING;
		d->started = 0;
		if (++d->done == STEPS) {
			out->steps = d->done;
			atomic_store(d->finished, 1);
			return FUTURE_STATE_COMPLETE;
		}
	}
}

static int
steps_async(void *future, enum future_property property)
{
	(void)future;
	return property == FUTURE_PROPERTY_ASYNC;
}

static _Atomic int chain_finished;

/* A slow device: the copy waits for the chain to finish (at most 20 s). */
static void *
slow_memcpy(void *dest, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	wait_until(flag_set, &chain_finished, 20.0);
	return memcpy(dest, src, n);
}

/*
 * Two POLLER movers: a 50-step chain on one beside a slow copy on the
 * other (first in the list, so its word is the first one pending). The
 * waiting runtime is woken for every step: it never sleeps with a
 * timeout, which is what made each step late by up to a millisecond.
 */
START_TEST(test_many_poller_words_no_timeout)
{
	static char src[STEPS][STEP_SIZE], dst[STEPS][STEP_SIZE];
	static char slow_src[64], slow_dst[64];
	struct data_mover_threads *a = data_mover_threads_new(1, 8,
		FUTURE_NOTIFIER_POLLER);
	struct data_mover_threads *b = data_mover_threads_new(1, 8,
		FUTURE_NOTIFIER_POLLER);
	struct runtime *r = runtime_new();
	struct steps_future chain;

	for (unsigned i = 0; i < STEPS; i++)
		memset(src[i], (int)i + 1, STEP_SIZE);
	memset(slow_src, 0x77, sizeof(slow_src));
	atomic_store(&chain_finished, 0);
	data_mover_threads_set_memcpy_fn(b, slow_memcpy);

	struct vdm_operation_future slow = vdm_memcpy(
		data_mover_threads_get_vdm(b), slow_dst, slow_src,
		sizeof(slow_dst), 0);

	memset(&chain.data, 0, sizeof(chain.data));
	chain.data.vdm = data_mover_threads_get_vdm(a);
	chain.data.src = src;
	chain.data.dst = dst;
	chain.data.finished = &chain_finished;
	FUTURE_INIT_EXT(&chain, steps_task, steps_async);

	struct future *futs[] = {
		FUTURE_AS_RUNNABLE(&slow), FUTURE_AS_RUNNABLE(&chain),
	};

	ma_test_count(MA_TEST_TIMED_SLEEP);
	runtime_wait_multiple(r, futs, 2);
	ck_assert_uint_eq(ma_test_count(MA_TEST_TIMED_SLEEP), 0);
	ck_assert_uint_eq(FUTURE_OUTPUT(&chain)->steps, STEPS);
	for (unsigned i = 0; i < STEPS; i++)
		ck_assert_int_eq(memcmp(dst[i], src[i], STEP_SIZE), 0);
	ck_assert_int_eq(memcmp(slow_dst, slow_src, sizeof(slow_dst)), 0);
	runtime_delete(r);
	data_mover_threads_delete(a);
	data_mover_threads_delete(b);
}
END_TEST

/*
 * The futures of this file but the steps and the select: a task of the
 * test over one object of the test (a word, a gate, a library's word).
 */
struct obj_data {
	void *obj;
};

struct obj_output {
	int unused;
};

FUTURE(obj_future, struct obj_data, struct obj_output);

static struct obj_future
obj_future_new(future_task_fn task, void *obj)
{
	struct obj_future f;

	f.data.obj = obj;
	FUTURE_INIT(&f, task);
	return f;
}

static void *
obj_of(struct future_context *ctx)
{
	return ((struct obj_data *)future_context_get_data(ctx))->obj;
}

/* A future whose word a thread of the test sets: a foreign poller. */
static enum future_state
word_task(struct future_context *ctx, struct future_notifier *n)
{
	_Atomic uint64_t *word = obj_of(ctx);

	if (atomic_load(word) != 0)
		return FUTURE_STATE_COMPLETE;
	if (n != NULL) {
		n->notifier_used = FUTURE_NOTIFIER_POLLER;
		n->poller.ptr_to_monitor = (uint64_t *)word;
	}
	return FUTURE_STATE_RUNNING;
}

static void *
set_word_when_asleep(void *arg)
{
	_Atomic uint64_t *word = arg;

	/* after at least one timed sleep of the waiter, set the word */
	while (ma_test_count(MA_TEST_TIMED_SLEEP) == 0)
		sched_yield();
	atomic_store(word, 1);
	return NULL;
}

/* A foreign poller word is watched with timed sleeps, and completes. */
START_TEST(test_foreign_poller_word_timed)
{
	static _Atomic uint64_t word;
	struct runtime *r = runtime_new();
	struct obj_future f = obj_future_new(word_task, (void *)&word);
	pthread_t setter;

	atomic_store(&word, 0);
	ma_test_count(MA_TEST_TIMED_SLEEP);
	ck_assert_int_eq(pthread_create(&setter, NULL, set_word_when_asleep,
		(void *)&word), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	pthread_join(setter, NULL);
	ck_assert_int_eq(FUTURE_STATE(&f), FUTURE_STATE_COMPLETE);
	runtime_delete(r);
}
END_TEST


/*
 * A "select" future: polls a copy on a POLLER threads mover (handing it
 * the notifier) and a word of its own, completes when its own word is
 * set, and promises its own word: a foreign word, whatever the copy
 * marked during the poll.
 */
struct select_data {
	struct vdm_operation_future *copy;
	_Atomic uint64_t *word;
};

FUTURE(select_future, struct select_data, struct obj_output);

static enum future_state
select_task(struct future_context *ctx, struct future_notifier *n)
{
	struct select_data *d = future_context_get_data(ctx);

	future_poll(FUTURE_AS_RUNNABLE(d->copy), n);
	if (atomic_load(d->word) != 0)
		return FUTURE_STATE_COMPLETE;
	if (n != NULL) {
		n->notifier_used = FUTURE_NOTIFIER_POLLER;
		n->poller.ptr_to_monitor = (uint64_t *)d->word;
	}
	return FUTURE_STATE_RUNNING;
}

static _Atomic int copy_release;
static _Atomic int copy_finished;

/* A copy held until released (or 10 s passed). */
static void *
held_memcpy(void *dest, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	wait_until(flag_set, &copy_release, 10.0);
	atomic_store(&copy_finished, 1);
	return memcpy(dest, src, n);
}

struct setter_arg {
	_Atomic uint64_t *word;
	unsigned long timed_sleeps; /* the runtime's, before the word was set */
};

/*
 * Sets the word once the runtime has chosen a timed sleep, or after 10 s
 * if it never does (the test then fails on timed_sleeps). Not on the
 * waiter's thread state: under an emulator (qemu-user) the waiter shows
 * as sleeping in places of its own, before the runtime's sleep.
 */
static void *
set_word_after_timed_sleep(void *arg)
{
	struct setter_arg *a = arg;
	time_t end = time(NULL) + 10;

	while ((a->timed_sleeps = ma_test_count(MA_TEST_TIMED_SLEEP)) == 0 &&
			time(NULL) < end)
		sched_yield();
	atomic_store(a->word, 1);
	return NULL;
}

/*
 * The select future over a copy that stays pending and a word of its
 * own: the wait ends because the word was set, while the copy is still
 * held (a runtime that took the word for the mover's would sleep until
 * the copy ends).
 */
START_TEST(test_select_foreign_word)
{
	static char src[64], dst[64];
	static _Atomic uint64_t word;
	struct data_mover_threads *dmt = data_mover_threads_new(1, 8,
		FUTURE_NOTIFIER_POLLER);
	struct runtime *r = runtime_new();
	struct vdm_operation_future copy;
	struct select_future sel;
	struct setter_arg arg = { &word, 0 };
	pthread_t setter;

	atomic_store(&word, 0);
	atomic_store(&copy_release, 0);
	atomic_store(&copy_finished, 0);
	data_mover_threads_set_memcpy_fn(dmt, held_memcpy);
	memset(src, 0x3c, sizeof(src));
	copy = vdm_memcpy(data_mover_threads_get_vdm(dmt), dst, src,
		sizeof(dst), 0);
	sel.data.copy = &copy;
	sel.data.word = &word;
	FUTURE_INIT(&sel, select_task);
	ma_test_count(MA_TEST_TIMED_SLEEP);
	ck_assert_int_eq(pthread_create(&setter, NULL,
		set_word_after_timed_sleep, &arg), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&sel));
	ck_assert_msg(!atomic_load(&copy_finished),
		"the wait ended with the copy, not with the select's word");
	pthread_join(setter, NULL);
	ck_assert_uint_gt(arg.timed_sleeps, 0);
	atomic_store(&copy_release, 1);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&copy));
	ck_assert_int_eq(memcmp(dst, src, sizeof(dst)), 0);
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * Gates: futures of the test that promise the waker and complete once
 * opened (then woken). Every poll is counted; a poll of a slow gate
 * spins 200 us first, so that a pass takes long; a poll of a clock gate
 * moves the library's clock on by 100 s, so that a pass seems to.
 */
struct gate {
	_Atomic int open;
	_Atomic int armed;
	int slow;
	int clock;
	struct future_waker waker;
};

static _Atomic unsigned long gate_polls;

static enum future_state
gate_task(struct future_context *ctx, struct future_notifier *n)
{
	struct gate *g = obj_of(ctx);

	atomic_fetch_add(&gate_polls, 1);
	if (g->slow) {
		struct timespec t0, now;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &now);
		while ((now.tv_sec - t0.tv_sec) * 1000000000L +
			(now.tv_nsec - t0.tv_nsec) < 200000);
	}
	if (g->clock)
		ma_test_clock_advance(100ULL * 1000000000ULL);
	if (atomic_load(&g->open))
		return FUTURE_STATE_COMPLETE;
	if (!atomic_load(&g->armed)) {
		g->waker = n->waker;
		MA_HAPPENS_BEFORE(&g->armed); /* the waker, to gate_open */
		atomic_store(&g->armed, 1);
	}
	n->notifier_used = FUTURE_NOTIFIER_WAKER;
	return FUTURE_STATE_RUNNING;
}

static void
gate_open(struct gate *g)
{
	while (!atomic_load(&g->armed))
		sched_yield();
	MA_HAPPENS_AFTER(&g->armed);
	atomic_store(&g->open, 1);
	FUTURE_WAKER_WAKE(&g->waker);
}

struct gates {
	size_t n;
	struct gate *g;
	struct obj_future *f; /* the gates' futures (gate_task) */
	struct future **ptrs;
	struct runtime *r;
	_Atomic pid_t tid;
	_Atomic int returned;
	struct rusage ru;
};

static void *
gates_waiter(void *arg)
{
	struct gates *gs = arg;

	atomic_store(&gs->tid, test_gettid());
	runtime_wait_multiple(gs->r, gs->ptrs, gs->n);
	getrusage(RUSAGE_THREAD, &gs->ru);
	atomic_store(&gs->returned, 1);
	return NULL;
}

/* n gates waited for by a thread of their own; slow / clock as said. */
static void
gates_start(struct gates *gs, size_t n, int slow, int clock, pthread_t *t)
{
	gs->n = n;
	gs->g = calloc(n, sizeof(*gs->g));
	gs->f = calloc(n, sizeof(*gs->f));
	gs->ptrs = calloc(n, sizeof(*gs->ptrs));
	ck_assert(gs->g != NULL && gs->f != NULL && gs->ptrs != NULL);
	for (size_t i = 0; i < n; i++) {
		gs->g[i].slow = slow;
		gs->f[i] = obj_future_new(gate_task, &gs->g[i]);
		gs->ptrs[i] = FUTURE_AS_RUNNABLE(&gs->f[i]);
	}
	gs->g[n - 1].clock = clock;
	gs->r = runtime_new();
	atomic_store(&gs->tid, 0);
	atomic_store(&gs->returned, 0);
	ck_assert_int_eq(pthread_create(t, NULL, gates_waiter, gs), 0);
	for (size_t i = 0; i < n; i++)
		while (!atomic_load(&gs->g[i].armed))
			sched_yield();
	while (atomic_load(&gs->tid) == 0)
		sched_yield();
}

/* Opens the gates not yet open, joins the waiter, prints its CPU. */
static void
gates_end(struct gates *gs, pthread_t t, const char *what)
{
	for (size_t i = 0; i < gs->n; i++)
		if (!atomic_load(&gs->g[i].open))
			gate_open(&gs->g[i]);
	pthread_join(t, NULL);
	printf("%s: the waiting thread used %ld.%06ld s of CPU\n", what,
		(long)(gs->ru.ru_utime.tv_sec + gs->ru.ru_stime.tv_sec),
		(long)(gs->ru.ru_utime.tv_usec + gs->ru.ru_stime.tv_usec));
	runtime_delete(gs->r);
	free(gs->g);
	free(gs->f);
	free(gs->ptrs);
}

/*
 * After one gate opens, the waiter (with 16 or more pending) defers its
 * next pass and sleeps meanwhile: seen asleep in the deferral before any
 * further poll. A gate each try, while 16 stay pending.
 */
static int
deferral_sleeps(struct gates *gs)
{
	pid_t tid = atomic_load(&gs->tid);

	if (test_thread_state(tid) == '?') {
		printf("/proc cannot tell whether the waiter sleeps here\n");
		return 1;
	}
	/* up to 20 tries, each with 16 or more still pending */
	for (size_t k = 0; k < 20 && (k + 16 < gs->n || k == 0); k++) {
		if (!test_wait_until_sleeping(tid))
			return 0;
		ma_test_count(MA_TEST_DEFERRED_SLEEP);

		unsigned long polls = atomic_load(&gate_polls);
		unsigned long deferred = 0;

		gate_open(&gs->g[k]);
		while (atomic_load(&gate_polls) == polls) {
			deferred += ma_test_count(MA_TEST_DEFERRED_SLEEP);
			if (deferred != 0 && test_thread_state(tid) == 'S' &&
					atomic_load(&gate_polls) == polls)
				return 1;
		}
	}
	return 0;
}

static void
check_deferral_sleeps(size_t n, int slow)
{
	struct gates gs;
	pthread_t t;
	int slept;

	gates_start(&gs, n, slow, 0, &t);
	slept = deferral_sleeps(&gs);
	gates_end(&gs, t, n == 16 ? "16 pending" : "10000 pending");
	ck_assert_msg(slept, "%zu pending: the waiter never slept while a "
		"pass was deferred", n);
}

START_TEST(test_deferral_sleeps_16)
{
	check_deferral_sleeps(16, 1);
}
END_TEST

START_TEST(test_deferral_sleeps_10000)
{
	check_deferral_sleeps(10000, 0);
}
END_TEST

/* Whether the runtime went to sleep on its wake count (arg unused). */
static int
wakes_slept(const void *arg)
{
	(void)arg;
	return ma_test_count(MA_TEST_WAKES_SLEEP) != 0;
}

/* Whether a gate was polled since the count was *polls. */
static int
gate_polled_since(const void *polls)
{
	return atomic_load(&gate_polls) != *(const unsigned long *)polls;
}

/*
 * The age that ends a deferral is read when it is tested: passes seem
 * to take 100 s (a clock gate), so a deferral is due about an hour after
 * its first news; the clock is moved on by 10 000 s, and the next wake
 * finds the age passed at once and makes a pass (one that read a clock
 * saved earlier would sleep on for an hour).
 */
START_TEST(test_batch_age_clock)
{
	struct gates gs;
	pthread_t t;
	pid_t tid;
	unsigned long polls;

	ma_test_count(MA_TEST_WAKES_SLEEP);
	gates_start(&gs, 32, 0, 1, &t);
	tid = atomic_load(&gs.tid);
	/*
	 * Asleep in the runtime's own sleep, not only shown as sleeping
	 * (under qemu-user a thread shows so in the emulator's waits too)
	 */
	ck_assert(wait_until(wakes_slept, NULL, 10.0));
	ck_assert(test_wait_until_sleeping(tid));
	ma_test_count(MA_TEST_DEFERRED_SLEEP);
	polls = atomic_load(&gate_polls);
	gate_open(&gs.g[0]);
	while (ma_test_count(MA_TEST_DEFERRED_SLEEP) == 0)
		sched_yield();
	ck_assert_uint_eq(atomic_load(&gate_polls), polls);
	ma_test_clock_advance(10000ULL * 1000000000ULL);
	gate_open(&gs.g[1]);

	int passed = wait_until(gate_polled_since, &polls, 10.0);

	gates_end(&gs, t, "age clock");
	ck_assert_msg(passed, "no pass after the deferral's age passed");
}
END_TEST

/*
 * A future that promises a word the library signals (as the threads
 * mover's do: it leaves the word in ma_promised), set by the test.
 */
struct libword {
	_Atomic uint64_t word;
	_Atomic int done;
};

static enum future_state
libword_task(struct future_context *ctx, struct future_notifier *n)
{
	struct libword *w = obj_of(ctx);

	if (atomic_load(&w->done))
		return FUTURE_STATE_COMPLETE;
	n->notifier_used = FUTURE_NOTIFIER_POLLER;
	n->poller.ptr_to_monitor = (uint64_t *)&w->word;
	ma_promised.word = n->poller.ptr_to_monitor;
	ma_promised.due_ns = 0;
	return FUTURE_STATE_RUNNING;
}

struct handoff_wait {
	struct runtime *r;
	struct future **futs;
	size_t n;
	_Atomic int returned;
};

static void *
handoff_waiter(void *arg)
{
	struct handoff_wait *hw = arg;

	runtime_wait_multiple(hw->r, hw->futs, hw->n);
	atomic_store(&hw->returned, 1);
	return NULL;
}

/*
 * Waits for the n futures on a runtime of its own, in a thread, with the
 * hand-off armed; 1 if the wait returned by itself (within 10 s when
 * fenced; a held one is given 1 s, and must hang), else rescues it with
 * a signal.
 */
static int
handoff_run(struct future **futs, size_t n, enum ma_handoff h, int hold,
	void (*window)(void *), void *arg)
{
	struct handoff_wait hw = { runtime_new(), futs, n, 0 };
	pthread_t t;
	int returned;

	ck_assert_ptr_nonnull(hw.r);
	ma_test_handoff_arm(h, hold, window, arg);
	ck_assert_int_eq(pthread_create(&t, NULL, handoff_waiter, &hw), 0);
	returned = wait_until(flag_set, &hw.returned, hold ? 1.0 : 10.0);
	while (!atomic_load(&hw.returned)) {
		ma_poller_signal(); /* the rescue: watchers are counted */
		sched_yield();
	}
	pthread_join(t, NULL);
	runtime_delete(hw.r);
	return returned;
}

/* The window of the join: the word set and signalled, as a mover does. */
static void
join_window(void *arg)
{
	struct libword *w = arg;

	atomic_store(&w->done, 1);
	atomic_store_explicit(&w->word, 1, memory_order_release);
	ma_poller_signal();
}

/*
 * The POLLER join: the runtime joins the watchers, then passes (loads
 * the word's state); a mover sets the word, then reads the watchers in
 * ma_poller_signal. Held, the mover sees no watcher and the runtime no
 * word: it sleeps without a timeout.
 */
START_TEST(test_handoff_poller_join)
{
	for (int hold = 0; hold < 2; hold++) {
		struct libword w = { 0, 0 };
		struct obj_future f = obj_future_new(libword_task, &w);
		struct future *futs[] = { FUTURE_AS_RUNNABLE(&f) };

		ck_assert_int_eq(handoff_run(futs, 1, MA_HANDOFF_POLLER_JOIN,
			hold, join_window, &w), !hold);
	}
}
END_TEST

struct sleep_window_arg {
	struct libword *w;
	struct gate *g;
};

/* The window of the poller sleep: a waker called (the word not set). */
static void
sleep_window(void *arg)
{
	struct sleep_window_arg *a = arg;

	atomic_store(&a->w->done, 1);
	gate_open(a->g);
}

/*
 * The POLLER sleep: the runtime counts itself a poller sleeper, then
 * reads the wake count; a waker bumps the wake count, then reads the
 * poller sleepers. Held, neither sees the other, and the runtime sleeps
 * on the poller count with nothing to wake it.
 */
START_TEST(test_handoff_poller_sleep)
{
	for (int hold = 0; hold < 2; hold++) {
		struct libword w = { 0, 0 };
		struct gate g = { 0 };
		struct obj_future fw = obj_future_new(libword_task, &w);
		struct obj_future fg = obj_future_new(gate_task, &g);
		struct future *futs[] = {
			FUTURE_AS_RUNNABLE(&fw), FUTURE_AS_RUNNABLE(&fg),
		};
		struct sleep_window_arg a = { &w, &g };

		ck_assert_int_eq(handoff_run(futs, 2, MA_HANDOFF_POLLER_SLEEP,
			hold, sleep_window, &a), !hold);
	}
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("hooks");
	TCase *tc = tcase_create("hooks");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_durable_after_user_function);
	tcase_add_test(tc, test_many_poller_words_no_timeout);
	tcase_add_test(tc, test_foreign_poller_word_timed);
	tcase_add_test(tc, test_select_foreign_word);
	tcase_add_test(tc, test_deferral_sleeps_16);
	tcase_add_test(tc, test_deferral_sleeps_10000);
	tcase_add_test(tc, test_batch_age_clock);
	tcase_add_test(tc, test_handoff_poller_join);
	tcase_add_test(tc, test_handoff_poller_sleep);
	suite_add_tcase(s, tc);
	return s;
}
