/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * ringbuf.c -- the bounded many-to-many queue.
 *
 * Cell i of a queue of capacity C serves the positions p with p % C == i.
 * Its one 64-bit word holds a sequence number (high half) and the item
 * (low half), so an item and its publication are a single atomic store.
 * The sequence number is 2p when the cell is free for the producer of
 * position p, and 2p + 1 once that producer has stored its item, which
 * is then for the consumer of position p; that consumer sets it to
 * 2(p + C), freeing the cell for the next lap. (Doubling keeps "filled
 * for p" and "free for p + 1" apart even when C is 1; the numbers are
 * kept modulo 2^32 and compared by difference.) A producer (consumer)
 * claims its position with a compare-and-swap on the shared enqueue
 * (dequeue) counter.
 *
 * A producer that claimed its position but has not published yet (it
 * may have been preempted right there) would hold up every item queued
 * behind it. So when the cell at the head is claimed but unfilled and a
 * later one is filled, a consumer skips the head: it claims that
 * position and frees its cell for the next lap. The late producer's
 * publishing compare-and-swap then fails, and it queues its item again
 * at a new position. Nobody waits for a thread that is not running.
 *
 * For the same reason a claimed but unfilled position is not an item:
 * ma_ringbuf_nonempty says so only when a consumer would find one, so
 * that the threads mover's workers sleep (and do not spin) while the
 * only producer is stopped half-way.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "fault.h"
#include "internal.h"
#include "ringbuf.h"
#include "valgrind.h"

#define MAX_CAPACITY ((size_t)1 << 28) /* keeps 2C well inside 2^31 */

struct ma_ringbuf {
	_Alignas(MA_CACHELINE) _Atomic size_t enqueue_pos;
	_Alignas(MA_CACHELINE) _Atomic size_t dequeue_pos;
	_Alignas(MA_CACHELINE) size_t capacity;
	_Atomic uint64_t *cells; /* sequence << 32 | item */
};

static uint64_t
cell_word(size_t seq, uint32_t item)
{
	return (uint64_t)(uint32_t)seq << 32 | item;
}

/* How far the cell's sequence number is past the expected one. */
static int32_t
cell_diff(uint64_t word, size_t expected)
{
	return (int32_t)((uint32_t)(word >> 32) - (uint32_t)expected);
}

struct ma_ringbuf *
ma_ringbuf_new(size_t capacity)
{
	if (capacity == 0 || capacity > MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}

	struct ma_ringbuf *rb = ma_aligned_alloc(MA_CACHELINE, sizeof(*rb));

	if (rb == NULL)
		return NULL;
	rb->cells = ma_malloc(capacity * sizeof(*rb->cells));
	if (rb->cells == NULL) {
		free(rb);
		return NULL;
	}
	rb->capacity = capacity;
	for (size_t i = 0; i < capacity; i++)
		atomic_init(&rb->cells[i], cell_word(2 * i, 0));
	atomic_init(&rb->enqueue_pos, 0);
	atomic_init(&rb->dequeue_pos, 0);
	MA_ATOMIC_WORDS(rb->cells, capacity * sizeof(*rb->cells));
	MA_ATOMIC_WORDS(&rb->enqueue_pos, sizeof(size_t));
	MA_ATOMIC_WORDS(&rb->dequeue_pos, sizeof(size_t));
	return rb;
}

void
ma_ringbuf_delete(struct ma_ringbuf *rb)
{
	if (rb == NULL)
		return;
	MA_ATOMIC_WORDS_END(rb->cells, rb->capacity * sizeof(*rb->cells));
	MA_ATOMIC_WORDS_END(&rb->enqueue_pos, sizeof(size_t));
	MA_ATOMIC_WORDS_END(&rb->dequeue_pos, sizeof(size_t));
	free(rb->cells);
	free(rb);
}

int
ma_ringbuf_enqueue(struct ma_ringbuf *rb, uint32_t item)
{
	size_t pos = atomic_load_explicit(&rb->enqueue_pos,
		memory_order_relaxed);

	for (;;) {
		_Atomic uint64_t *cell = &rb->cells[pos % rb->capacity];
		/* acquire: pairs with the consumer's release of the cell */
		uint64_t word = atomic_load_explicit(cell,
			memory_order_acquire);
		int32_t diff = cell_diff(word, 2 * pos);

		if (diff == 0) {
			if (!atomic_compare_exchange_weak_explicit(
					&rb->enqueue_pos, &pos, pos + 1,
					memory_order_relaxed,
					memory_order_relaxed))
				continue;
			/* stops here in the test build when told to */
			ma_test_hook(MA_HOOK_RING_CLAIMED);
			/* release: what the item names, to the consumer */
			MA_HAPPENS_BEFORE(cell);
			if (atomic_compare_exchange_strong_explicit(cell,
					&word, cell_word(2 * pos + 1, item),
					memory_order_release,
					memory_order_relaxed))
				return 0;
			/* a consumer skipped the position: queue anew */
		} else if (diff < 0) {
			return -1; /* the cell is a lap behind: full */
		}
		pos = atomic_load_explicit(&rb->enqueue_pos,
			memory_order_relaxed);
	}
}

/*
 * Nonzero when a position after pos that a producer claimed holds its
 * item: then pos, claimed but unfilled, is holding items up.
 */
static int
filled_after(struct ma_ringbuf *rb, size_t pos)
{
	size_t end = atomic_load_explicit(&rb->enqueue_pos,
		memory_order_relaxed);

	for (size_t q = pos + 1; q != end && q - pos <= rb->capacity; q++) {
		uint64_t word = atomic_load_explicit(
			&rb->cells[q % rb->capacity], memory_order_relaxed);

		if (cell_diff(word, 2 * q + 1) == 0)
			return 1;
	}
	return 0;
}

int
ma_ringbuf_dequeue_if(struct ma_ringbuf *rb, uint32_t *item,
	int (*want)(uint32_t item, void *arg), void *arg)
{
	size_t pos = atomic_load_explicit(&rb->dequeue_pos,
		memory_order_relaxed);
	int ret = 0;

	for (;;) {
		_Atomic uint64_t *cell = &rb->cells[pos % rb->capacity];
		/* acquire: pairs with the producer's release of the item */
		uint64_t word = atomic_load_explicit(cell,
			memory_order_acquire);
		int32_t diff = cell_diff(word, 2 * pos + 1);

		if (diff == 0 && want != NULL && !want((uint32_t)word, arg))
			return -1; /* the oldest item is not for us */
		if (diff == 0 || (diff == -1 && filled_after(rb, pos))) {
			if (!atomic_compare_exchange_weak_explicit(
					&rb->dequeue_pos, &pos, pos + 1,
					memory_order_relaxed,
					memory_order_relaxed))
				continue;
			/* position pos is ours: take its item, or skip it */
			uint64_t free_word = cell_word(2 * (pos +
				rb->capacity), 0);

			while (cell_diff(word, 2 * pos + 1) != 0) {
				/* release: the cell, to the next producer */
				if (atomic_compare_exchange_weak_explicit(cell,
						&word, free_word,
						memory_order_release,
						memory_order_acquire))
					break;
			}
			if (cell_diff(word, 2 * pos + 1) != 0) {
				pos++; /* skipped: try the next one */
				continue;
			}
			if (want != NULL && !want((uint32_t)word, arg)) {
				/*
				 * Filled while we skipped: the position is
				 * ours, so is the item, wanted or not.
				 */
				ret = 1;
			}
			MA_HAPPENS_AFTER(cell);
			*item = (uint32_t)word;
			/* release: the cell is free for a producer */
			atomic_store_explicit(cell, free_word,
				memory_order_release);
			return ret;
		} else if (diff < 0) {
			return -1; /* not filled yet: empty */
		}
		pos = atomic_load_explicit(&rb->dequeue_pos,
			memory_order_relaxed);
	}
}

int
ma_ringbuf_dequeue(struct ma_ringbuf *rb, uint32_t *item)
{
	return ma_ringbuf_dequeue_if(rb, item, NULL, NULL);
}

/*
 * seq_cst loads: with the fence a producer makes after queuing (see the
 * threads mover's workers_call), either it sees a worker going to sleep
 * or that worker, here, sees its item.
 */
int
ma_ringbuf_nonempty(struct ma_ringbuf *rb)
{
	size_t pos = atomic_load(&rb->dequeue_pos);
	size_t end = atomic_load(&rb->enqueue_pos);

	for (size_t q = pos; q != end && q - pos <= rb->capacity; q++) {
		int32_t diff = cell_diff(atomic_load(
			&rb->cells[q % rb->capacity]), 2 * q + 1);

		if (diff == 0)
			return 1; /* filled */
		if (diff > 0)
			return 1; /* taken meanwhile: the queue moved on */
	}
	return 0;
}

void
ma_ringbuf_reset(struct ma_ringbuf *rb)
{
	for (size_t i = 0; i < rb->capacity; i++)
		atomic_store_explicit(&rb->cells[i], cell_word(2 * i, 0),
			memory_order_relaxed);
	atomic_store_explicit(&rb->enqueue_pos, 0, memory_order_relaxed);
	atomic_store_explicit(&rb->dequeue_pos, 0, memory_order_relaxed);
}
