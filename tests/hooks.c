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

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include <libminiasync.h>

#include "fault.h"

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
	struct timespec start, now;

	(void)flags;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!atomic_load(&chain_finished) &&
		now.tv_sec - start.tv_sec < 20);
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

/* A future whose word a thread of the test sets: a foreign poller. */
struct word_data {
	_Atomic uint64_t *word;
};

struct word_output {
	int unused;
};

FUTURE(word_future, struct word_data, struct word_output);

static enum future_state
word_task(struct future_context *ctx, struct future_notifier *n)
{
	struct word_data *d = future_context_get_data(ctx);

	if (atomic_load(d->word) != 0)
		return FUTURE_STATE_COMPLETE;
	if (n != NULL) {
		n->notifier_used = FUTURE_NOTIFIER_POLLER;
		n->poller.ptr_to_monitor = (uint64_t *)d->word;
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
	struct word_future f;
	pthread_t setter;

	atomic_store(&word, 0);
	f.data.word = &word;
	FUTURE_INIT(&f, word_task);
	ma_test_count(MA_TEST_TIMED_SLEEP);
	ck_assert_int_eq(pthread_create(&setter, NULL, set_word_when_asleep,
		(void *)&word), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	pthread_join(setter, NULL);
	ck_assert_int_eq(FUTURE_STATE(&f), FUTURE_STATE_COMPLETE);
	runtime_delete(r);
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
	suite_add_tcase(s, tc);
	return s;
}
