/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * ringbuf.c -- white-box tests of the mover's bounded queue (lib/ringbuf.h):
 * capacity, FIFO order and emptiness on one thread, then many producers
 * and many consumers at once (more threads than processors), where every
 * item must come out exactly once and each producer's items in order.
 */

#include "whitebox.h" /* first: before the library's headers */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "fault.h"
#include "ringbuf.h"
#include "test_util.h"

/*
 * Items are nonzero integers below 2^32; these two are the only places
 * that know how the queue carries them.
 */
static int
put(struct ma_ringbuf *rb, uint32_t v)
{
	return ma_ringbuf_enqueue(rb, v);
}

/* 0 and the oldest item in *v, or -1 when there is none. */
static int
take(struct ma_ringbuf *rb, uint32_t *v)
{
	return ma_ringbuf_dequeue(rb, v);
}

static const size_t capacities[] = { 1, 2, 3, 7, 128 };

START_TEST(test_new_bad)
{
	errno = 0;
	ck_assert_ptr_null(ma_ringbuf_new(0));
	ck_assert_int_eq(errno, EINVAL);
	ma_ringbuf_delete(NULL);
}
END_TEST

/*
 * Capacity C takes exactly C items, then refuses; they come out in order;
 * then the queue is empty. Several laps, so that every cell is reused.
 */
START_TEST(test_capacity_fifo)
{
	size_t cap = capacities[_i];
	struct ma_ringbuf *rb = ma_ringbuf_new(cap);
	uint32_t next_in = 1, next_out = 1, v;

	ck_assert_ptr_nonnull(rb);
	for (int lap = 0; lap < 5; lap++) {
		ck_assert_int_eq(ma_ringbuf_nonempty(rb), 0);
		ck_assert_int_eq(take(rb, &v), -1);
		for (size_t i = 0; i < cap; i++) {
			ck_assert_int_eq(put(rb, next_in), 0);
			next_in++;
			ck_assert_int_ne(ma_ringbuf_nonempty(rb), 0);
		}
		ck_assert_int_eq(put(rb, 999999), -1);
		ck_assert_int_eq(put(rb, 999999), -1);
		for (size_t i = 0; i < cap; i++) {
			ck_assert_int_ne(ma_ringbuf_nonempty(rb), 0);
			ck_assert_int_eq(take(rb, &v), 0);
			ck_assert_uint_eq(v, next_out);
			next_out++;
		}
		ck_assert_int_eq(take(rb, &v), -1);
		ck_assert_int_eq(ma_ringbuf_nonempty(rb), 0);
	}
	ma_ringbuf_delete(rb);
}
END_TEST

/* Half-full laps: in and out interleaved, the order kept throughout. */
START_TEST(test_interleaved)
{
	size_t cap = capacities[_i];
	struct ma_ringbuf *rb = ma_ringbuf_new(cap);
	uint32_t next_in = 1, next_out = 1, v;
	size_t held = 0;

	ck_assert_ptr_nonnull(rb);
	for (unsigned step = 0; step < 1000; step++) {
		/* put 0..2 items in, take 0..2 out, in a fixed rhythm */
		unsigned puts = step % 3, takes = (step / 3) % 3;

		for (unsigned k = 0; k < puts; k++) {
			int ret = put(rb, next_in);

			if (held == cap) {
				ck_assert_int_eq(ret, -1);
			} else {
				ck_assert_int_eq(ret, 0);
				next_in++;
				held++;
			}
		}
		for (unsigned k = 0; k < takes; k++) {
			int ret = take(rb, &v);

			if (held == 0) {
				ck_assert_int_eq(ret, -1);
			} else {
				ck_assert_int_eq(ret, 0);
				ck_assert_uint_eq(v, next_out);
				next_out++;
				held--;
			}
		}
		ck_assert_int_eq(ma_ringbuf_nonempty(rb) != 0, held != 0);
	}
	ma_ringbuf_delete(rb);
}
END_TEST

/* A producer held at its claimed position (the test build's hook). */
struct held_producer {
	struct ma_ringbuf *rb;
	uint32_t item;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int claimed;
	int go;
};

static _Thread_local int is_held_producer;

static void
hold_hook(void *arg)
{
	struct held_producer *hp = arg;

	if (!is_held_producer)
		return;
	pthread_mutex_lock(&hp->lock);
	hp->claimed = 1;
	pthread_cond_broadcast(&hp->cond);
	while (!hp->go)
		pthread_cond_wait(&hp->cond, &hp->lock);
	pthread_mutex_unlock(&hp->lock);
}

static void *
held_producer_main(void *arg)
{
	struct held_producer *hp = arg;

	is_held_producer = 1;
	return (void *)(intptr_t)put(hp->rb, hp->item);
}

/* Odd items are wanted. */
static int
want_odd(uint32_t item, void *arg)
{
	(void)arg;
	return item & 1;
}

/*
 * A position claimed but not filled is no item: the queue says it is
 * empty (so a worker sleeps) until its producer stores the item, or an
 * item is stored behind it (then consumers skip it and take that one,
 * and the late producer queues its item anew).
 */
START_TEST(test_claimed_not_filled)
{
	struct held_producer hp = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
		.item = 11,
	};
	pthread_t t;
	void *ret;
	uint32_t v;
	int behind = _i;

	hp.rb = ma_ringbuf_new(4);
	ck_assert_ptr_nonnull(hp.rb);
	ma_test_hook_set(MA_HOOK_RING_CLAIMED, hold_hook, &hp);
	ck_assert_int_eq(pthread_create(&t, NULL, held_producer_main, &hp),
		0);
	pthread_mutex_lock(&hp.lock);
	while (!hp.claimed)
		pthread_cond_wait(&hp.cond, &hp.lock);
	pthread_mutex_unlock(&hp.lock);

	ck_assert(!ma_ringbuf_nonempty(hp.rb));
	ck_assert_int_eq(take(hp.rb, &v), -1);
	if (behind) {
		ck_assert_int_eq(put(hp.rb, 22), 0);
		ck_assert(ma_ringbuf_nonempty(hp.rb));
		/* the oldest item (22) is not odd: stays */
		ck_assert_int_eq(ma_ringbuf_dequeue_if(hp.rb, &v, want_odd,
			NULL), -1);
		ck_assert_int_eq(take(hp.rb, &v), 0);
		ck_assert_uint_eq(v, 22);
		ck_assert(!ma_ringbuf_nonempty(hp.rb));
	}

	pthread_mutex_lock(&hp.lock);
	hp.go = 1;
	pthread_cond_broadcast(&hp.cond);
	pthread_mutex_unlock(&hp.lock);
	pthread_join(t, &ret);
	ma_test_hook_set(MA_HOOK_RING_CLAIMED, NULL, NULL);
	ck_assert_ptr_eq(ret, (void *)0);
	ck_assert(ma_ringbuf_nonempty(hp.rb));
	ck_assert_int_eq(ma_ringbuf_dequeue_if(hp.rb, &v, want_odd, NULL), 0);
	ck_assert_uint_eq(v, 11);
	ck_assert(!ma_ringbuf_nonempty(hp.rb));

	/* reset forgets items */
	ck_assert_int_eq(put(hp.rb, 5), 0);
	ma_ringbuf_reset(hp.rb);
	ck_assert(!ma_ringbuf_nonempty(hp.rb));
	ck_assert_int_eq(take(hp.rb, &v), -1);
	ma_ringbuf_delete(hp.rb);
}
END_TEST

/* Many producers and consumers on one queue. */
#define PRODUCERS 3
#define CONSUMERS 3
#define SEQ_BITS 24 /* an item is (producer + 1) << SEQ_BITS | seq */

struct mpmc {
	struct ma_ringbuf *rb;
	unsigned per_producer;
	_Atomic unsigned taken; /* items dequeued so far, by anybody */
	_Atomic unsigned char *seen; /* [producer][seq]: times dequeued */
};

struct producer {
	struct mpmc *m;
	unsigned id;
};

struct consumer {
	struct mpmc *m;
	unsigned out_of_order; /* items older than one seen before */
	unsigned bad; /* items that no producer made */
};

static void *
producer_main(void *arg)
{
	struct producer *p = arg;

	for (unsigned seq = 0; seq < p->m->per_producer; seq++) {
		uint32_t v = ((uint32_t)(p->id + 1) << SEQ_BITS) | seq;

		while (put(p->m->rb, v) != 0)
			sched_yield(); /* full: a consumer will make room */
	}
	return NULL;
}

static void *
consumer_main(void *arg)
{
	struct consumer *c = arg;
	struct mpmc *m = c->m;
	unsigned total = PRODUCERS * m->per_producer;
	long last[PRODUCERS];

	for (int i = 0; i < PRODUCERS; i++)
		last[i] = -1;
	while (atomic_load(&m->taken) < total) {
		uint32_t v;

		if (take(m->rb, &v) != 0) {
			sched_yield();
			continue;
		}
		atomic_fetch_add(&m->taken, 1);

		uint32_t id = (v >> SEQ_BITS) - 1;
		uint32_t seq = v & ((1u << SEQ_BITS) - 1);

		if (id >= PRODUCERS || seq >= m->per_producer) {
			c->bad++;
			continue;
		}
		if ((long)seq <= last[id])
			c->out_of_order++;
		last[id] = (long)seq;
		atomic_fetch_add(&m->seen[id * m->per_producer + seq], 1);
	}
	return NULL;
}

static void
run_mpmc(size_t capacity, unsigned per_producer)
{
	struct mpmc m;
	struct producer prod[PRODUCERS];
	struct consumer cons[CONSUMERS];
	pthread_t pt[PRODUCERS], ct[CONSUMERS];

	ck_assert_uint_lt(per_producer, 1u << SEQ_BITS);
	m.rb = ma_ringbuf_new(capacity);
	ck_assert_ptr_nonnull(m.rb);
	m.per_producer = per_producer;
	atomic_init(&m.taken, 0);
	m.seen = calloc((size_t)PRODUCERS * per_producer, sizeof(*m.seen));
	ck_assert_ptr_nonnull(m.seen);

	for (unsigned i = 0; i < CONSUMERS; i++) {
		cons[i].m = &m;
		cons[i].out_of_order = 0;
		cons[i].bad = 0;
		ck_assert_int_eq(pthread_create(&ct[i], NULL, consumer_main,
			&cons[i]), 0);
	}
	for (unsigned i = 0; i < PRODUCERS; i++) {
		prod[i].m = &m;
		prod[i].id = i;
		ck_assert_int_eq(pthread_create(&pt[i], NULL, producer_main,
			&prod[i]), 0);
	}
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_join(pt[i], NULL);
	for (unsigned i = 0; i < CONSUMERS; i++)
		pthread_join(ct[i], NULL);

	for (unsigned i = 0; i < CONSUMERS; i++) {
		ck_assert_msg(cons[i].bad == 0, "consumer %u: %u bad items",
			i, cons[i].bad);
		ck_assert_msg(cons[i].out_of_order == 0,
			"consumer %u: %u items out of a producer's order", i,
			cons[i].out_of_order);
	}
	for (size_t k = 0; k < (size_t)PRODUCERS * per_producer; k++)
		ck_assert_msg(atomic_load(&m.seen[k]) == 1,
			"producer %zu item %zu dequeued %u times",
			k / per_producer, k % per_producer,
			(unsigned)atomic_load(&m.seen[k]));
	uint32_t v;

	ck_assert_int_eq(take(m.rb, &v), -1);
	ck_assert_int_eq(ma_ringbuf_nonempty(m.rb), 0);
	free(m.seen);
	ma_ringbuf_delete(m.rb);
}

/* Small queues are full most of the time, big ones rarely. */
START_TEST(test_mpmc_stress)
{
	static const size_t caps[] = { 1, 4, 64 };

	run_mpmc(caps[_i], test_stress_iterations(20000) * 2);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("ringbuf");
	TCase *single = tcase_create("single");
	TCase *stress = tcase_create("stress");
	int ncaps = (int)(sizeof(capacities) / sizeof(capacities[0]));

	tcase_set_timeout(single, 20);
	tcase_add_test(single, test_new_bad);
	tcase_add_loop_test(single, test_capacity_fifo, 0, ncaps);
	tcase_add_loop_test(single, test_interleaved, 0, ncaps);
	tcase_add_loop_test(single, test_claimed_not_filled, 0, 2);
	suite_add_tcase(s, single);

	tcase_set_timeout(stress, 120);
	tcase_add_loop_test(stress, test_mpmc_stress, 0, 3);
	suite_add_tcase(s, stress);
	return s;
}
