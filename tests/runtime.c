/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * runtime.c -- tests of the runtime with futures of the test's own whose
 * work finishes on another thread ("remote" futures), signalled through
 * each of the three notifiers; includes the lost-wake-up stress test.
 */

#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <libminiasync.h>

#include "test_util.h"

/* A remote operation: done by a worker thread, then signalled. */
enum remote_state {
	REMOTE_NEW,
	REMOTE_SUBMITTED,
	REMOTE_DONE_WAKING, /* result written, waker being called */
	REMOTE_COMPLETE,
};

struct remote_op {
	_Atomic int state;
	enum future_notifier_type mode; /* how the future signals */
	struct future_waker waker;
	uint64_t word; /* the poller word */
	pid_t wait_sleeping; /* finish only once this thread sleeps */
	int value;
	int result;
	struct remote_op *next;
};

struct remote_data {
	struct remote_op *op;
	_Atomic unsigned *polls;
};

struct remote_output {
	int result;
};

FUTURE(remote_fut, struct remote_data, struct remote_output);

/* The worker threads and their job list. */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cond = PTHREAD_COND_INITIALIZER;
static struct remote_op *jobs_head;
static int jobs_stop;
#define NWORKERS 2
static pthread_t workers[NWORKERS];

static void
job_post(struct remote_op *op)
{
	pthread_mutex_lock(&jobs_lock);
	op->next = jobs_head;
	jobs_head = op;
	pthread_cond_signal(&jobs_cond);
	pthread_mutex_unlock(&jobs_lock);
}

/* Finishes one operation: publish the result, then signal. */
static void
job_finish(struct remote_op *op)
{
	if (op->wait_sleeping != 0 &&
			!test_wait_until_sleeping(op->wait_sleeping))
		op->value = -1; /* the waiter never slept: test fails */
	op->result = op->value;
	switch (op->mode) {
	case FUTURE_NOTIFIER_WAKER: {
		struct future_waker waker = op->waker;

		atomic_store_explicit(&op->state, REMOTE_DONE_WAKING,
			memory_order_release);
		FUTURE_WAKER_WAKE(&waker);
		atomic_store_explicit(&op->state, REMOTE_COMPLETE,
			memory_order_release);
		break;
	}
	case FUTURE_NOTIFIER_POLLER:
		/* a word that turns nonzero, and nobody woken; the state
		 * last, since after it the op may be reused */
		__atomic_store_n(&op->word, 1, __ATOMIC_RELEASE);
		atomic_store_explicit(&op->state, REMOTE_COMPLETE,
			memory_order_release);
		break;
	default:
		atomic_store_explicit(&op->state, REMOTE_COMPLETE,
			memory_order_release);
		break;
	}
}

static void *
worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&jobs_lock);
	for (;;) {
		while (jobs_head == NULL && !jobs_stop)
			pthread_cond_wait(&jobs_cond, &jobs_lock);
		if (jobs_head == NULL)
			break;
		struct remote_op *op = jobs_head;

		jobs_head = op->next;
		pthread_mutex_unlock(&jobs_lock);
		job_finish(op);
		pthread_mutex_lock(&jobs_lock);
	}
	pthread_mutex_unlock(&jobs_lock);
	return NULL;
}

static void
workers_start(void)
{
	jobs_stop = 0;
	for (int i = 0; i < NWORKERS; i++)
		ck_assert_int_eq(pthread_create(&workers[i], NULL, worker_main,
			NULL), 0);
}

static void
workers_stop(void)
{
	pthread_mutex_lock(&jobs_lock);
	jobs_stop = 1;
	pthread_cond_broadcast(&jobs_cond);
	pthread_mutex_unlock(&jobs_lock);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(workers[i], NULL);
}

/* Says how this poll's caller will hear of progress. */
static void
remote_promise(struct remote_op *op, struct future_notifier *n)
{
	if (n == NULL)
		return;
	n->notifier_used = op->mode;
	if (op->mode == FUTURE_NOTIFIER_POLLER)
		n->poller.ptr_to_monitor = &op->word;
}

static enum future_state
remote_task(struct future_context *ctx, struct future_notifier *n)
{
	struct remote_data *data = future_context_get_data(ctx);
	struct remote_output *out = future_context_get_output(ctx);
	struct remote_op *op = data->op;

	if (data->polls != NULL)
		atomic_fetch_add(data->polls, 1);
	if (atomic_load(&op->state) == REMOTE_NEW) {
		if (op->mode == FUTURE_NOTIFIER_WAKER)
			op->waker = n->waker;
		atomic_store(&op->state, REMOTE_SUBMITTED);
		job_post(op);
	}

	int state;

	/* the waker is in use for a moment: wait that out */
	while ((state = atomic_load_explicit(&op->state,
			memory_order_acquire)) == REMOTE_DONE_WAKING)
		future_cpu_pause();
	if (state == REMOTE_COMPLETE) {
		out->result = op->result;
		return FUTURE_STATE_COMPLETE;
	}
	remote_promise(op, n);
	return FUTURE_STATE_RUNNING;
}

static struct remote_fut
remote_fut_new(struct remote_op *op, enum future_notifier_type mode,
	int value, _Atomic unsigned *polls)
{
	struct remote_fut fut;

	memset(op, 0, sizeof(*op));
	atomic_init(&op->state, REMOTE_NEW);
	op->mode = mode;
	op->value = value;
	fut.data.op = op;
	fut.data.polls = polls;
	fut.output.result = 0;
	FUTURE_INIT(&fut, remote_task);
	return fut;
}

START_TEST(test_new_delete)
{
	struct runtime *r = runtime_new();

	ck_assert_ptr_nonnull(r);
	runtime_delete(r);
	runtime_delete(NULL);
}
END_TEST

/* A future that is complete already is not polled at all. */
START_TEST(test_wait_complete)
{
	struct runtime *r = runtime_new();
	struct test_countdown_fut fut = test_countdown_new(1, 0);

	FUTURE_INIT_COMPLETE(&fut);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	ck_assert_uint_eq(fut.output.polls, 0);
	runtime_wait_multiple(r, NULL, 0);
	runtime_delete(r);
}
END_TEST

/* NONE: the runtime polls until complete, and not once more. */
START_TEST(test_wait_polls_none)
{
	struct runtime *r = runtime_new();
	struct test_countdown_fut fut = test_countdown_new(1000, 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(fut.output.polls, 1000);
	runtime_delete(r);
}
END_TEST

/* Each notifier: the result arrives and the future is complete. */
START_TEST(test_wait_remote)
{
	struct runtime *r = runtime_new();

	workers_start();
	for (int i = 0; i < TEST_NNOTIFIERS; i++) {
		struct remote_op op;
		struct remote_fut fut = remote_fut_new(&op, test_notifiers[i],
			40 + i, NULL);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
		ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
		ck_assert_int_eq(fut.output.result, 40 + i);
	}
	workers_stop();
	runtime_delete(r);
}
END_TEST

/*
 * With a waker or a poller word the runtime sleeps: the worker finishes
 * only once the waiting thread is asleep, and the future is polled just
 * a few times (first poll, the one after the wake, spurious ones).
 */
static void
check_sleeps(enum future_notifier_type mode)
{
	struct runtime *r = runtime_new();
	_Atomic unsigned polls = 0;
	struct remote_op op;
	struct remote_fut fut = remote_fut_new(&op, mode, 7, &polls);

	op.wait_sleeping = test_gettid();
	workers_start();
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	workers_stop();
	ck_assert_msg(fut.output.result == 7,
		"the waiting thread never slept (result %d)",
		fut.output.result);
	if (mode == FUTURE_NOTIFIER_WAKER)
		ck_assert_uint_le(atomic_load(&polls), 4);
	runtime_delete(r);
}

START_TEST(test_sleeps_waker)
{
	check_sleeps(FUTURE_NOTIFIER_WAKER);
}
END_TEST

START_TEST(test_sleeps_poller)
{
	check_sleeps(FUTURE_NOTIFIER_POLLER);
}
END_TEST

/*
 * Lost-wake-up race: the worker completes while the runtime polls and
 * parks; the runtime is deleted as soon as each wait returns, so a wake
 * that touched it afterwards is a use after free (seen by ASan/TSan).
 */
START_TEST(test_stress_wake_race)
{
	unsigned n = test_stress_iterations(20000);

	workers_start();
	for (unsigned i = 0; i < n; i++) {
		struct runtime *r = runtime_new();
		struct remote_op op;
		struct remote_fut fut = remote_fut_new(&op,
			FUTURE_NOTIFIER_WAKER, (int)i, NULL);

		ck_assert_ptr_nonnull(r);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
		runtime_delete(r);
		ck_assert_int_eq(fut.output.result, (int)i);
	}
	workers_stop();
}
END_TEST

/* Several threads wait on one runtime at once. */
#define SHARED_THREADS 4

struct shared_arg {
	struct runtime *r;
	unsigned iterations;
	unsigned done;
};

static void *
shared_waiter(void *arg)
{
	struct shared_arg *a = arg;

	for (unsigned i = 0; i < a->iterations; i++) {
		struct remote_op ops[3];
		struct remote_fut futs[3];
		struct future *list[3];

		for (int k = 0; k < 3; k++) {
			futs[k] = remote_fut_new(&ops[k],
				(enum future_notifier_type)k, (int)(i * 3) + k,
				NULL);
			list[k] = FUTURE_AS_RUNNABLE(&futs[k]);
		}
		runtime_wait_multiple(a->r, list, 3);
		for (int k = 0; k < 3; k++)
			if (futs[k].output.result == (int)(i * 3) + k)
				a->done++;
	}
	return NULL;
}

START_TEST(test_stress_shared_runtime)
{
	struct runtime *r = runtime_new();
	pthread_t threads[SHARED_THREADS];
	struct shared_arg args[SHARED_THREADS];

	workers_start();
	for (int t = 0; t < SHARED_THREADS; t++) {
		args[t].r = r;
		args[t].iterations = test_stress_iterations(20000) / 10;
		args[t].done = 0;
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
			shared_waiter, &args[t]), 0);
	}
	for (int t = 0; t < SHARED_THREADS; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_uint_eq(args[t].done, args[t].iterations * 3);
	}
	workers_stop();
	runtime_delete(r);
}
END_TEST

/* Asynchronous futures are polled first, whatever their place. */
START_TEST(test_wait_multiple_async_first)
{
	struct runtime *r = runtime_new();
	_Atomic unsigned order = 0;
	struct test_countdown_fut futs[8];
	struct future *list[8];

	for (int i = 0; i < 8; i++) {
		futs[i] = test_countdown_new(3 + (unsigned)i, i % 3 == 2);
		futs[i].data.order = &order;
		list[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	runtime_wait_multiple(r, list, 8);

	unsigned nasync = 0;

	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(FUTURE_STATE(&futs[i]), FUTURE_STATE_COMPLETE);
		ck_assert_uint_eq(futs[i].output.polls, 3 + (unsigned)i);
		nasync += (unsigned)futs[i].data.async;
	}
	for (int i = 0; i < 8; i++)
		if (futs[i].data.async)
			ck_assert_uint_lt(futs[i].data.ticket, nasync);
		else
			ck_assert_uint_ge(futs[i].data.ticket, nasync);
	/* the list may be reordered, but holds each future once */
	for (int i = 0; i < 8; i++) {
		int seen = 0;

		for (int k = 0; k < 8; k++)
			seen += list[k] == FUTURE_AS_RUNNABLE(&futs[i]);
		ck_assert_int_eq(seen, 1);
	}
	runtime_delete(r);
}
END_TEST

/*
 * A chain whose first entry promised a wake and whose second promises
 * nothing: the first promise must not outlive its entry, or the runtime
 * sleeps for ever.
 */
struct two_step_data {
	FUTURE_CHAIN_ENTRY(struct remote_fut, remote);
	FUTURE_CHAIN_ENTRY_LAST(struct test_countdown_fut, countdown);
};

struct two_step_output {
	int unused;
};

FUTURE(two_step_fut, struct two_step_data, struct two_step_output);

START_TEST(test_chain_promise_changes)
{
	struct runtime *r = runtime_new();
	struct remote_op op;
	struct two_step_fut fut;

	workers_start();
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.remote,
		remote_fut_new(&op, FUTURE_NOTIFIER_WAKER, 5, NULL), NULL,
		NULL);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.countdown,
		test_countdown_new(50, 0), NULL, NULL);
	FUTURE_CHAIN_INIT(&fut);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	ck_assert_int_eq(fut.data.remote.fut.output.result, 5);
	ck_assert_uint_eq(fut.data.countdown.fut.output.polls, 50);
	workers_stop();
	runtime_delete(r);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *basic = tcase_create("basic");
	TCase *stress = tcase_create("stress");

	tcase_set_timeout(basic, 60);
	tcase_add_test(basic, test_new_delete);
	tcase_add_test(basic, test_wait_complete);
	tcase_add_test(basic, test_wait_polls_none);
	tcase_add_test(basic, test_wait_remote);
	tcase_add_test(basic, test_sleeps_waker);
	tcase_add_test(basic, test_sleeps_poller);
	tcase_add_test(basic, test_wait_multiple_async_first);
	tcase_add_test(basic, test_chain_promise_changes);
	suite_add_tcase(s, basic);

	tcase_set_timeout(stress, 120);
	tcase_add_test(stress, test_stress_wake_race);
	tcase_add_test(stress, test_stress_shared_runtime);
	suite_add_tcase(s, stress);
	return s;
}
