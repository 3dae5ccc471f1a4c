/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * arena.c -- the arena and its lock-free stacks (lib/arena.h), white-box:
 * how indexes map to records as the arena grows, growth failing cleanly,
 * a stack's order, and stress runs of more threads than cores taking
 * records off stacks and putting them back, in which no record may be
 * lost, held twice (the ABA case) or handed over with stale contents.
 *
 * The threads of a stress case start together at a barrier, so that they
 * do overlap, report what they saw in their arguments, and the main thread
 * asserts after joining them: a Check assertion in another thread cannot
 * end the case when Check does not fork (under valgrind).
 */

#include "whitebox.h" /* first: before the library's headers */

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "arena.h"
#include "fault.h"
#include "internal.h"
#include "test_util.h"
#include "valgrind.h"

/* Where a record of the transfer stress is. */
#define ON_FREE 0 /* what growth zeroed */
#define ON_QUEUE 1

/* The records of the stack tests: one cache line. */
struct rec {
	_Atomic uint32_t link; /* the first stack's link */
	_Atomic uint32_t link2; /* the second stack's link */
	_Atomic uint32_t owner; /* the thread holding it, 0 while stacked */
	uint32_t index; /* its own index, written when it was added */
	uint64_t uses; /* times taken off a stack */
	uint64_t seq; /* transfer: producer id << 32 | its sequence number */
	uint64_t check; /* transfer: ~seq */
	uint32_t where; /* transfer: ON_FREE, ON_QUEUE */
};

_Static_assert(sizeof(struct rec) <= MA_CACHELINE, "a record, a line");

#define LINKS_SIZE (2 * sizeof(uint32_t)) /* link and link2 */

static struct rec *
rec_at(const struct ma_arena *a, uint32_t idx)
{
	return ma_arena_rec(a, idx);
}

/* Prepares the records [first, first + count) for the stacks. */
static void
recs_added(struct ma_arena *a, uint32_t first, uint32_t count)
{
	for (uint32_t i = first; i < first + count; i++) {
		struct rec *r = rec_at(a, i);

		r->index = i;
		/* only atomics touch the links (see lib/valgrind.h) */
		MA_ATOMIC_WORDS(&r->link, LINKS_SIZE);
	}
}

/* An arena of struct rec with nchunks chunks. */
static void
recs_new(struct ma_arena *a, unsigned nchunks)
{
	uint32_t first, count;

	ma_arena_init(a, MA_CACHELINE);
	for (unsigned k = 0; k < nchunks; k++) {
		ck_assert_int_eq(ma_arena_grow(a, &first, &count), 0);
		recs_added(a, first, count);
	}
}

/* The records the arena holds: BASE + 2 BASE + ... */
static uint32_t
recs_total(const struct ma_arena *a)
{
	return (uint32_t)MA_ARENA_BASE * ((1U << a->nchunks) - 1);
}

static void
recs_delete(struct ma_arena *a)
{
	for (uint32_t i = 0; i < recs_total(a); i++)
		MA_ATOMIC_WORDS_END(&rec_at(a, i)->link, LINKS_SIZE);
	ma_arena_fini(a);
}

/* ma_stack_init marked the head as atomic-only: unmark it. */
static void
stack_done(struct ma_stack *s)
{
	MA_ATOMIC_WORDS_END(&s->head, sizeof(s->head));
}

/*
 * Pops s empty, counting each index in seen[] (of total entries);
 * returns how many it popped. A cycle in the links fails, not hangs.
 */
static uint32_t
drain(struct ma_stack *s, unsigned char *seen, uint32_t total)
{
	uint32_t n = 0, idx;

	while (ma_stack_pop(s, &idx) == 0) {
		ck_assert_uint_lt(idx, total);
		ck_assert_uint_lt(seen[idx], 255);
		seen[idx]++;
		n++;
		ck_assert_uint_le(n, total);
	}
	return n;
}

/* Nonzero when the n bytes at p all hold the 32-bit word w. */
static int
all_words(const char *p, size_t n, uint32_t w)
{
	for (size_t i = 0; i + sizeof(w) <= n; i += sizeof(w)) {
		uint32_t v;

		memcpy(&v, p + i, sizeof(v));
		if (v != w)
			return 0;
	}
	return 1;
}

/*
 * Grows nchunks chunks of rec_size-byte records: each growth gives the
 * next range, twice the last one; the records come zeroed, aligned, one
 * after another in their chunk; writing each whole record with its own
 * index leaves every other intact, so no two overlap.
 */
static void
check_mapping(size_t rec_size, unsigned nchunks)
{
	struct ma_arena a;
	uint32_t total = 0;
	uint32_t bad_zero = 0, bad_place = 0, bad_bytes = 0;

	ma_arena_init(&a, rec_size);
	for (unsigned k = 0; k < nchunks; k++) {
		uint32_t first = UINT32_MAX, count = 0;

		ck_assert_int_eq(ma_arena_grow(&a, &first, &count), 0);
		ck_assert_uint_eq(first, total);
		ck_assert_uint_eq(count, (uint32_t)MA_ARENA_BASE << k);
		ck_assert_uint_eq(a.nchunks, k + 1);

		char *base = ma_arena_rec(&a, first);

		ck_assert_ptr_eq(base, a.chunks[k]);
		ck_assert_uint_eq((uintptr_t)base % MA_CACHELINE, 0);
		for (uint32_t i = first; i < first + count; i++) {
			char *r = ma_arena_rec(&a, i);

			bad_place += r != base + (i - first) * rec_size;
			bad_zero += !all_words(r, rec_size, 0);
			for (size_t b = 0; b < rec_size; b += sizeof(i))
				memcpy(r + b, &i, sizeof(i));
		}
		total += count;
	}
	ck_assert_uint_eq(total, (uint32_t)MA_ARENA_BASE *
		((1U << nchunks) - 1));
	for (uint32_t i = 0; i < total; i++) {
		const char *r = ma_arena_rec(&a, i);

		bad_bytes += !all_words(r, rec_size, i);
		bad_place += (uintptr_t)r % MA_CACHELINE != 0;
	}
	ck_assert_uint_eq(bad_place, 0);
	ck_assert_uint_eq(bad_zero, 0);
	ck_assert_uint_eq(bad_bytes, 0);
	ma_arena_fini(&a);
}

START_TEST(test_index_mapping)
{
	check_mapping(MA_CACHELINE, 6);
	check_mapping(3 * MA_CACHELINE, 5);
}
END_TEST

/*
 * Every chunk's first and last index, and the last index of all, land in
 * the right chunk (records of size 0, so that each chunk can stand for
 * itself without being allocated); a full table grows no more.
 */
START_TEST(test_index_bounds)
{
	static char chunk_marks[MA_ARENA_CHUNKS];
	struct ma_arena a;
	uint64_t first = 0;
	uint32_t f, c;

	ma_arena_init(&a, 0);
	for (unsigned k = 0; k < MA_ARENA_CHUNKS; k++)
		a.chunks[k] = &chunk_marks[k];
	for (unsigned k = 0; k < MA_ARENA_CHUNKS; k++) {
		uint64_t count = (uint64_t)MA_ARENA_BASE << k;

		ck_assert_ptr_eq(ma_arena_rec(&a, (uint32_t)first),
			&chunk_marks[k]);
		ck_assert_ptr_eq(ma_arena_rec(&a, (uint32_t)(first + 1)),
			&chunk_marks[k]);
		ck_assert_ptr_eq(ma_arena_rec(&a, (uint32_t)(first +
			count - 1)), &chunk_marks[k]);
		first += count;
	}
	/* as arena.h says: 2^31 - 64 records, indexes in 31 bits */
	ck_assert_uint_eq(first, ((uint64_t)1 << 31) - MA_ARENA_BASE);
	ck_assert_ptr_eq(ma_arena_rec(&a, (uint32_t)first - 1),
		&chunk_marks[MA_ARENA_CHUNKS - 1]);

	a.nchunks = MA_ARENA_CHUNKS;
	ck_assert_int_eq(ma_arena_grow(&a, &f, &c), -1);
	ck_assert_uint_eq(a.nchunks, MA_ARENA_CHUNKS);
	/* nothing was allocated: nothing to free */
	memset(a.chunks, 0, sizeof(a.chunks));
	a.nchunks = 0;
	ma_arena_fini(&a);
}
END_TEST

/* A failed allocation adds nothing; the next growth still works. */
START_TEST(test_grow_alloc_fails)
{
	struct ma_arena a;
	uint32_t first, count;

	ma_fault_arm(MA_FAULT_ALLOC, 0);
	ma_arena_init(&a, MA_CACHELINE);

	/* the first chunk */
	ma_fault_arm(MA_FAULT_ALLOC, 1);
	ck_assert_int_eq(ma_arena_grow(&a, &first, &count), -1);
	ck_assert_uint_eq(ma_fault_arm(MA_FAULT_ALLOC, 0), 1);
	ck_assert_uint_eq(a.nchunks, 0);
	ck_assert_ptr_null(a.chunks[0]);
	ck_assert_int_eq(ma_arena_grow(&a, &first, &count), 0);
	ck_assert_uint_eq(first, 0);
	ck_assert_uint_eq(count, MA_ARENA_BASE);

	/* a later one */
	ma_fault_arm(MA_FAULT_ALLOC, 1);
	ck_assert_int_eq(ma_arena_grow(&a, &first, &count), -1);
	ck_assert_uint_eq(ma_fault_arm(MA_FAULT_ALLOC, 0), 1);
	ck_assert_uint_eq(a.nchunks, 1);
	ck_assert_ptr_null(a.chunks[1]);
	ck_assert_int_eq(ma_arena_grow(&a, &first, &count), 0);
	ck_assert_uint_eq(first, MA_ARENA_BASE);
	ck_assert_uint_eq(count, 2 * MA_ARENA_BASE);
	ck_assert_uint_eq(a.nchunks, 2);

	/* the records of both are there, zeroed */
	for (uint32_t i = 0; i < first + count; i++)
		ck_assert(all_words(ma_arena_rec(&a, i), MA_CACHELINE, 0));
	ma_arena_fini(&a);
}
END_TEST

/* Last in, first out, with index 0 and records of both chunks. */
START_TEST(test_stack_lifo)
{
	static const uint32_t order[] = { 5, 0, 191, 64, 63, 1, 100 };
	const uint32_t n = sizeof(order) / sizeof(order[0]);
	struct ma_arena a;
	struct ma_stack s;
	uint32_t idx = UINT32_MAX;

	recs_new(&a, 2);
	ma_stack_init(&s, &a, offsetof(struct rec, link));
	ck_assert(!ma_stack_nonempty(&s));
	ck_assert_int_eq(ma_stack_pop(&s, &idx), -1);
	ck_assert_uint_eq(idx, UINT32_MAX);

	for (uint32_t i = 0; i < n; i++) {
		ma_stack_push(&s, order[i]);
		ck_assert(ma_stack_nonempty(&s));
	}
	for (uint32_t i = n; i-- > 0;) {
		ck_assert(ma_stack_nonempty(&s));
		ck_assert_int_eq(ma_stack_pop(&s, &idx), 0);
		ck_assert_uint_eq(idx, order[i]);
	}
	ck_assert(!ma_stack_nonempty(&s));
	ck_assert_int_eq(ma_stack_pop(&s, &idx), -1);

	/* pushes and pops interleaved; index 0 alone */
	ma_stack_push(&s, 0);
	ck_assert(ma_stack_nonempty(&s));
	ck_assert_int_eq(ma_stack_pop(&s, &idx), 0);
	ck_assert_uint_eq(idx, 0);
	ck_assert(!ma_stack_nonempty(&s));
	ma_stack_push(&s, 7);
	ma_stack_push(&s, 8);
	ck_assert_int_eq(ma_stack_pop(&s, &idx), 0);
	ck_assert_uint_eq(idx, 8);
	ma_stack_push(&s, 9);
	ck_assert_int_eq(ma_stack_pop(&s, &idx), 0);
	ck_assert_uint_eq(idx, 9);
	ck_assert_int_eq(ma_stack_pop(&s, &idx), 0);
	ck_assert_uint_eq(idx, 7);
	ck_assert_int_eq(ma_stack_pop(&s, &idx), -1);

	stack_done(&s);
	recs_delete(&a);
}
END_TEST

/* Records with an odd index are wanted. */
static int
want_odd_rec(uint32_t idx, void *arg)
{
	(void)arg;
	return idx & 1;
}

/* pop_if takes the top only when it is wanted; reset empties. */
START_TEST(test_pop_if)
{
	struct ma_arena a;
	struct ma_stack s;
	uint32_t idx;

	recs_new(&a, 1);
	ck_assert_uint_eq(ma_arena_records(&a), MA_ARENA_BASE);
	ma_stack_init(&s, &a, offsetof(struct rec, link));
	ck_assert_int_eq(ma_stack_pop_if(&s, &idx, want_odd_rec, NULL), -1);
	ma_stack_push(&s, 3);
	ma_stack_push(&s, 4);
	ck_assert_int_eq(ma_stack_pop_if(&s, &idx, want_odd_rec, NULL), -1);
	ck_assert_int_eq(ma_stack_pop(&s, &idx), 0);
	ck_assert_uint_eq(idx, 4);
	ck_assert_int_eq(ma_stack_pop_if(&s, &idx, want_odd_rec, NULL), 0);
	ck_assert_uint_eq(idx, 3);
	ma_stack_push(&s, 5);
	ma_stack_reset(&s);
	ck_assert(!ma_stack_nonempty(&s));
	stack_done(&s);
	recs_delete(&a);
}
END_TEST

/* Two stacks with their own links hold the same records independently. */
START_TEST(test_two_links)
{
	struct ma_arena a;
	struct ma_stack s1, s2;
	uint32_t idx;

	recs_new(&a, 2);
	ma_stack_init(&s1, &a, offsetof(struct rec, link));
	ma_stack_init(&s2, &a, offsetof(struct rec, link2));

	ma_stack_push(&s1, 1);
	ma_stack_push(&s1, 2);
	ma_stack_push(&s1, 70);
	ma_stack_push(&s2, 70);
	ma_stack_push(&s2, 1);
	ma_stack_push(&s2, 2);
	ck_assert_uint_eq(rec_at(&a, 70)->link, 2 + 1);
	ck_assert_uint_eq(rec_at(&a, 70)->link2, 0);

	/* taking 70 off s1 leaves it second on s2 */
	ck_assert_int_eq(ma_stack_pop(&s1, &idx), 0);
	ck_assert_uint_eq(idx, 70);
	ck_assert_int_eq(ma_stack_pop(&s2, &idx), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(ma_stack_pop(&s2, &idx), 0);
	ck_assert_uint_eq(idx, 1);

	/* and 1, on s1 again at the top, is still under 2 there */
	ma_stack_push(&s2, 1);
	ck_assert_int_eq(ma_stack_pop(&s1, &idx), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(ma_stack_pop(&s1, &idx), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert(!ma_stack_nonempty(&s1));

	ck_assert_int_eq(ma_stack_pop(&s2, &idx), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(ma_stack_pop(&s2, &idx), 0);
	ck_assert_uint_eq(idx, 70);
	ck_assert_int_eq(ma_stack_pop(&s2, &idx), -1);
	ck_assert_int_eq(ma_stack_pop(&s1, &idx), -1);

	stack_done(&s1);
	stack_done(&s2);
	recs_delete(&a);
}
END_TEST

/*
 * Takes a record off a stack for thread id: it must be free and be
 * itself. Returns nonzero when it was not.
 */
static int
rec_take(struct rec *r, uint32_t idx, uint32_t id)
{
	/* relaxed: the stack orders the holders; this sees two at once */
	int bad = atomic_exchange_explicit(&r->owner, id,
		memory_order_relaxed) != 0;

	bad |= r->index != idx;
	r->uses++;
	return bad;
}

/* Gives the record back (before the push); nonzero when not ours. */
static int
rec_give(struct rec *r, uint32_t id)
{
	/* relaxed: as in rec_take */
	return atomic_exchange_explicit(&r->owner, 0,
		memory_order_relaxed) != id;
}

/*
 * The ABA case made to happen: a timer signal interrupts the thread in
 * the middle of its pops and pushes, and the handler, on the same stack,
 * pops the top two records, pushes back the one it kept from its last run
 * and then the first, keeping the second. A pop interrupted between
 * reading the top's link and its compare-and-swap then finds the same top
 * index over a different link: without the generation count its swap
 * would succeed, putting the record the handler keeps back on the stack.
 */
#define ABA_RECS 4
#define ABA_SIGNAL SIGUSR2
#define ABA_PERIOD_NS 20000
#define ABA_HANDLER_ID 1000 /* its owner mark */

/* The handler's: the stack it works on, the record it holds (+ 1). */
static struct ma_stack *aba_stack;
static _Atomic uint32_t aba_held;
static _Atomic unsigned aba_taken; /* records it popped */
static _Atomic unsigned aba_bad; /* records it found held or misplaced */

static void
aba_handler(int sig)
{
	const struct ma_arena *a = aba_stack->arena;
	uint32_t held = atomic_load(&aba_held);
	uint32_t top, below;
	int popped;

	(void)sig;
	popped = ma_stack_pop(aba_stack, &top) == 0;
	if (popped) {
		aba_bad += rec_take(rec_at(a, top), top, ABA_HANDLER_ID);
		aba_taken++;
	}
	if (popped && ma_stack_pop(aba_stack, &below) == 0) {
		aba_bad += rec_take(rec_at(a, below), below, ABA_HANDLER_ID);
		aba_taken++;
		atomic_store(&aba_held, below + 1);
	} else {
		atomic_store(&aba_held, 0);
	}
	if (held != 0) {
		aba_bad += rec_give(rec_at(a, held - 1), ABA_HANDLER_ID);
		ma_stack_push(aba_stack, held - 1);
	}
	if (popped) {
		aba_bad += rec_give(rec_at(a, top), ABA_HANDLER_ID);
		ma_stack_push(aba_stack, top);
	}
}

START_TEST(test_aba_signal_stress)
{
	struct ma_arena a;
	struct ma_stack s;
	struct sigaction sa = { .sa_handler = aba_handler };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
		.sigev_signo = ABA_SIGNAL };
	struct itimerspec its = { .it_value.tv_nsec = ABA_PERIOD_NS,
		.it_interval.tv_nsec = ABA_PERIOD_NS };
	timer_t timer;
	unsigned n = test_stress_iterations(20000) * 10;
	unsigned char seen[MA_ARENA_BASE] = { 0 };
	uint64_t taken = 0, uses = 0;
	unsigned bad = 0;
	uint32_t idx;

	recs_new(&a, 1);
	ma_stack_init(&s, &a, offsetof(struct rec, link));
	for (uint32_t i = 0; i < ABA_RECS; i++)
		ma_stack_push(&s, i);
	aba_stack = &s;
	atomic_store(&aba_held, 0);
	atomic_store(&aba_taken, 0);
	atomic_store(&aba_bad, 0);

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(ABA_SIGNAL, &sa, NULL), 0);
	ck_assert_int_eq(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
	ck_assert_int_eq(timer_settime(timer, 0, &its, NULL), 0);
	for (unsigned i = 0; i < n; i++) {
		if (ma_stack_pop(&s, &idx) != 0)
			continue;
		bad += rec_take(rec_at(&a, idx), idx, 1);
		taken++;
		bad += rec_give(rec_at(&a, idx), 1);
		ma_stack_push(&s, idx);
	}
	ck_assert_int_eq(timer_delete(timer), 0);
	/* a signal still pending is dropped, not fatal */
	sa.sa_handler = SIG_IGN;
	ck_assert_int_eq(sigaction(ABA_SIGNAL, &sa, NULL), 0);

	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(atomic_load(&aba_bad), 0);
	idx = atomic_load(&aba_held);
	if (idx != 0) {
		ck_assert_int_eq(rec_give(rec_at(&a, idx - 1),
			ABA_HANDLER_ID), 0);
		ma_stack_push(&s, idx - 1);
	}
	ck_assert_uint_eq(drain(&s, seen, sizeof(seen)), ABA_RECS);
	for (uint32_t i = 0; i < sizeof(seen); i++) {
		ck_assert_uint_eq(seen[i], i < ABA_RECS);
		uses += rec_at(&a, i)->uses;
	}
	ck_assert_uint_eq(uses, taken + atomic_load(&aba_taken));

	stack_done(&s);
	recs_delete(&a);
}
END_TEST

/* Many threads take records off one stack, hold a few, give them back. */
#define OWNER_THREADS 8
#define OWNER_RECS 6 /* on the stack, fewer than all can hold */
#define OWNER_HOLD 3
#define OWNER_STRIDE 12 /* records 0, 12, ... 180: both chunks */

struct owner_arg {
	struct ma_arena *a;
	struct ma_stack *s;
	pthread_barrier_t *start;
	uint32_t id; /* from 1 */
	unsigned iterations;
	uint64_t taken; /* records it popped */
	unsigned bad; /* records found held or not themselves */
};

static void *
owner_main(void *p)
{
	struct owner_arg *arg = p;
	uint32_t held[OWNER_HOLD];

	pthread_barrier_wait(arg->start);
	for (unsigned i = 0; i < arg->iterations; i++) {
		unsigned want = i % OWNER_HOLD + 1, n = 0;

		while (n < want && ma_stack_pop(arg->s, &held[n]) == 0) {
			arg->bad += rec_take(rec_at(arg->a, held[n]),
				held[n], arg->id);
			n++;
		}
		arg->taken += n;
		/* back in the order taken or the reverse: reshapes it */
		for (unsigned k = 0; k < n; k++) {
			uint32_t idx = held[i & 1 ? k : n - 1 - k];

			arg->bad += rec_give(rec_at(arg->a, idx), arg->id);
			ma_stack_push(arg->s, idx);
		}
	}
	return NULL;
}

START_TEST(test_owner_stress)
{
	struct ma_arena a;
	struct ma_stack s;
	pthread_t threads[OWNER_THREADS];
	struct owner_arg args[OWNER_THREADS];
	pthread_barrier_t start;
	unsigned char seen[3 * MA_ARENA_BASE] = { 0 };
	uint64_t taken = 0, uses = 0;

	recs_new(&a, 2);
	ck_assert_uint_eq(recs_total(&a), sizeof(seen));
	ma_stack_init(&s, &a, offsetof(struct rec, link));
	for (uint32_t i = 0; i < OWNER_RECS; i++)
		ma_stack_push(&s, i * OWNER_STRIDE);

	pthread_barrier_init(&start, NULL, OWNER_THREADS);
	for (unsigned t = 0; t < OWNER_THREADS; t++) {
		args[t] = (struct owner_arg){ .a = &a, .s = &s, .start = &start,
			.id = t + 1,
			.iterations = test_stress_iterations(20000) };
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
			owner_main, &args[t]), 0);
	}
	for (unsigned t = 0; t < OWNER_THREADS; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_msg(args[t].bad == 0,
			"thread %u found %u records held or misplaced",
			args[t].id, args[t].bad);
		taken += args[t].taken;
	}
	pthread_barrier_destroy(&start);

	/* each record on the stack once, free, taken as often as counted */
	ck_assert_uint_eq(drain(&s, seen, sizeof(seen)), OWNER_RECS);
	for (uint32_t i = 0; i < sizeof(seen); i++) {
		struct rec *r = rec_at(&a, i);

		ck_assert_uint_eq(seen[i], i % OWNER_STRIDE == 0 &&
			i / OWNER_STRIDE < OWNER_RECS);
		ck_assert_uint_eq(r->owner, 0);
		uses += r->uses;
	}
	ck_assert_uint_eq(uses, taken);

	stack_done(&s);
	recs_delete(&a);
}
END_TEST

/*
 * Producers move records from a free stack to a queue stack (the second
 * link), with a sequence payload; consumers move them back and check it.
 */
#define XFER_PRODUCERS 4
#define XFER_CONSUMERS 4
#define XFER_RECS 16

struct xfer {
	struct ma_arena a;
	struct ma_stack free, queue;
	pthread_barrier_t start;
	_Atomic unsigned producers_left;
};

struct xfer_arg {
	struct xfer *x;
	uint32_t id; /* producers from 1 */
	unsigned iterations; /* producers */
	uint64_t count; /* records produced or consumed */
	uint64_t sum; /* of their seq */
	unsigned bad; /* records on the wrong stack or garbled */
};

static void *
producer_main(void *p)
{
	struct xfer_arg *arg = p;
	struct xfer *x = arg->x;
	uint32_t idx;

	pthread_barrier_wait(&x->start);
	for (unsigned i = 0; i < arg->iterations; i++) {
		/* the consumers have them all: let them run */
		while (ma_stack_pop(&x->free, &idx) != 0)
			sched_yield();
		struct rec *r = rec_at(&x->a, idx);
		uint64_t seq = (uint64_t)arg->id << 32 | i;

		arg->bad += rec_take(r, idx, arg->id);
		arg->bad += r->where != ON_FREE;
		r->seq = seq;
		r->check = ~seq;
		r->where = ON_QUEUE;
		arg->bad += rec_give(r, arg->id);
		ma_stack_push(&x->queue, idx);
		arg->count++;
		arg->sum += seq;
	}
	/* release: this producer's pushes come before a consumer's stop */
	atomic_fetch_sub_explicit(&x->producers_left, 1,
		memory_order_release);
	return NULL;
}

static void *
consumer_main(void *p)
{
	struct xfer_arg *arg = p;
	struct xfer *x = arg->x;
	uint32_t idx;

	pthread_barrier_wait(&x->start);
	/* acquire: pairs with the producers' last decrement */
	while (atomic_load_explicit(&x->producers_left,
			memory_order_acquire) != 0) {
		if (ma_stack_pop(&x->queue, &idx) != 0) {
			sched_yield();
			continue;
		}

		struct rec *r = rec_at(&x->a, idx);

		arg->bad += rec_take(r, idx, arg->id);
		arg->bad += r->where != ON_QUEUE;
		arg->bad += r->check != ~r->seq;
		arg->bad += (r->seq >> 32) - 1 >= XFER_PRODUCERS;
		arg->count++;
		arg->sum += r->seq;
		r->where = ON_FREE;
		arg->bad += rec_give(r, arg->id);
		ma_stack_push(&x->free, idx);
	}
	return NULL;
}

START_TEST(test_transfer_stress)
{
	struct xfer x;
	pthread_t threads[XFER_PRODUCERS + XFER_CONSUMERS];
	struct xfer_arg args[XFER_PRODUCERS + XFER_CONSUMERS];
	unsigned char seen[MA_ARENA_BASE] = { 0 };
	uint64_t produced = 0, consumed = 0, psum = 0, csum = 0;
	uint64_t qsum = 0;

	recs_new(&x.a, 1);
	ma_stack_init(&x.free, &x.a, offsetof(struct rec, link));
	ma_stack_init(&x.queue, &x.a, offsetof(struct rec, link2));
	atomic_init(&x.producers_left, XFER_PRODUCERS);
	MA_ATOMIC_WORDS(&x.producers_left, sizeof(x.producers_left));
	for (uint32_t i = 0; i < XFER_RECS; i++)
		ma_stack_push(&x.free, i * 3);

	pthread_barrier_init(&x.start, NULL,
		XFER_PRODUCERS + XFER_CONSUMERS);
	for (unsigned t = 0; t < XFER_PRODUCERS + XFER_CONSUMERS; t++) {
		int producer = t < XFER_PRODUCERS;

		args[t] = (struct xfer_arg){ .x = &x, .id = t + 1,
			.iterations = test_stress_iterations(20000) };
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
			producer ? producer_main : consumer_main,
			&args[t]), 0);
	}
	for (unsigned t = 0; t < XFER_PRODUCERS + XFER_CONSUMERS; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_msg(args[t].bad == 0,
			"thread %u found %u records garbled or misplaced",
			args[t].id, args[t].bad);
		if (t < XFER_PRODUCERS) {
			produced += args[t].count;
			psum += args[t].sum;
		} else {
			consumed += args[t].count;
			csum += args[t].sum;
		}
	}
	pthread_barrier_destroy(&x.start);
	ck_assert_uint_eq(produced, (uint64_t)XFER_PRODUCERS *
		test_stress_iterations(20000));

	/* what is still queued is what was produced and not consumed */
	uint32_t queued = drain(&x.queue, seen, sizeof(seen));

	for (uint32_t i = 0; i < sizeof(seen); i++) {
		if (seen[i] == 0)
			continue;
		ck_assert_uint_eq(rec_at(&x.a, i)->where, ON_QUEUE);
		qsum += rec_at(&x.a, i)->seq;
	}
	ck_assert_uint_eq(produced - consumed, queued);
	ck_assert_uint_eq(psum - csum, qsum);

	/* and every record is on exactly one of the two */
	ck_assert_uint_eq(queued + drain(&x.free, seen, sizeof(seen)),
		XFER_RECS);
	for (uint32_t i = 0; i < sizeof(seen); i++) {
		ck_assert_uint_eq(seen[i], i % 3 == 0 && i / 3 < XFER_RECS);
		ck_assert_uint_eq(rec_at(&x.a, i)->owner, 0);
	}

	MA_ATOMIC_WORDS_END(&x.producers_left, sizeof(x.producers_left));
	stack_done(&x.free);
	stack_done(&x.queue);
	recs_delete(&x.a);
}
END_TEST

/*
 * Threads hold more records than the arena has at first: one that finds
 * the stack empty grows the arena (under its lock, as the threads mover
 * does) and pushes the new records while the others pop and push. Each
 * thread first takes its most and waits for the others at a barrier, so
 * the arena grows however the threads are scheduled.
 */
#define GROW_THREADS 8
#define GROW_HOLD 24 /* 8 x 24 = 192 held: at most 64 + 128 + 256 */
#define GROW_MAX_CHUNKS 3

struct grow_arg {
	struct ma_arena *a;
	struct ma_stack *s;
	pthread_barrier_t *start;
	uint32_t id;
	unsigned iterations;
	uint64_t taken;
	unsigned bad; /* records held twice, or growth failed */
};

/* Adds a chunk to the stack, unless another thread refilled it. */
static int
grow_stack(struct ma_arena *a, struct ma_stack *s)
{
	uint32_t first, count;
	int ret = 0;

	pthread_mutex_lock(&a->grow_lock);
	if (!ma_stack_nonempty(s)) {
		ret = ma_arena_grow(a, &first, &count);
		if (ret == 0) {
			recs_added(a, first, count);
			for (uint32_t i = first; i < first + count; i++)
				ma_stack_push(s, i);
		}
	}
	pthread_mutex_unlock(&a->grow_lock);
	return ret;
}

/* Takes want records into held[]; nonzero when growth failed. */
static int
grow_take(struct grow_arg *arg, uint32_t *held, unsigned want)
{
	for (unsigned n = 0; n < want; n++) {
		while (ma_stack_pop(arg->s, &held[n]) != 0) {
			if (grow_stack(arg->a, arg->s) != 0)
				return -1;
		}
		arg->bad += rec_take(rec_at(arg->a, held[n]), held[n],
			arg->id);
	}
	arg->taken += want;
	return 0;
}

static void
grow_give(struct grow_arg *arg, const uint32_t *held, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		arg->bad += rec_give(rec_at(arg->a, held[k]), arg->id);
		ma_stack_push(arg->s, held[k]);
	}
}

static void *
grow_main(void *p)
{
	struct grow_arg *arg = p;
	uint32_t held[GROW_HOLD];

	pthread_barrier_wait(arg->start);
	if (grow_take(arg, held, GROW_HOLD) != 0) {
		arg->bad++;
		/* the others wait for this one */
		pthread_barrier_wait(arg->start);
		return NULL;
	}
	pthread_barrier_wait(arg->start);
	grow_give(arg, held, GROW_HOLD);

	for (unsigned i = 0; i < arg->iterations; i++) {
		unsigned want = i % GROW_HOLD + 1;

		if (grow_take(arg, held, want) != 0) {
			arg->bad++;
			return NULL;
		}
		grow_give(arg, held, want);
	}
	return NULL;
}

START_TEST(test_grow_stress)
{
	static unsigned char seen[MA_ARENA_BASE * ((1U << GROW_MAX_CHUNKS) -
		1)];
	struct ma_arena a;
	struct ma_stack s;
	pthread_t threads[GROW_THREADS];
	struct grow_arg args[GROW_THREADS];
	pthread_barrier_t start;
	uint64_t taken = 0, uses = 0;

	memset(seen, 0, sizeof(seen));
	recs_new(&a, 1);
	ma_stack_init(&s, &a, offsetof(struct rec, link));
	for (uint32_t i = 0; i < MA_ARENA_BASE; i++)
		ma_stack_push(&s, i);

	pthread_barrier_init(&start, NULL, GROW_THREADS);
	for (unsigned t = 0; t < GROW_THREADS; t++) {
		args[t] = (struct grow_arg){ .a = &a, .s = &s, .start = &start,
			.id = t + 1,
			.iterations = test_stress_iterations(20000) / 10 };
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
			grow_main, &args[t]), 0);
	}
	for (unsigned t = 0; t < GROW_THREADS; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_msg(args[t].bad == 0,
			"thread %u found %u records held twice, or no memory",
			args[t].id, args[t].bad);
		taken += args[t].taken;
	}
	pthread_barrier_destroy(&start);

	/* grown, but no more than the threads could hold; all stacked once */
	ck_assert_uint_ge(a.nchunks, 2);
	ck_assert_uint_le(a.nchunks, GROW_MAX_CHUNKS);
	ck_assert_uint_eq(drain(&s, seen, recs_total(&a)), recs_total(&a));
	for (uint32_t i = 0; i < recs_total(&a); i++) {
		ck_assert_uint_eq(seen[i], 1);
		ck_assert_uint_eq(rec_at(&a, i)->owner, 0);
		uses += rec_at(&a, i)->uses;
	}
	ck_assert_uint_eq(uses, taken);

	stack_done(&s);
	recs_delete(&a);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *basic = tcase_create("basic");
	TCase *stress = tcase_create("stress");

	tcase_set_timeout(basic, 60);
	tcase_add_test(basic, test_index_mapping);
	tcase_add_test(basic, test_index_bounds);
	tcase_add_test(basic, test_grow_alloc_fails);
	tcase_add_test(basic, test_stack_lifo);
	tcase_add_test(basic, test_two_links);
	tcase_add_test(basic, test_pop_if);
	suite_add_tcase(s, basic);

	tcase_set_timeout(stress, 120);
	tcase_add_test(stress, test_aba_signal_stress);
	tcase_add_test(stress, test_owner_stress);
	tcase_add_test(stress, test_transfer_stress);
	tcase_add_test(stress, test_grow_stress);
	suite_add_tcase(s, stress);
	return s;
}
