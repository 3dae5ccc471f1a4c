/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * ringbuf.c -- the bounded many-to-many queue.
 *
 * Cell i of a queue of capacity C serves the positions p with p % C == i.
 * Its sequence number is 2p when it is free for the producer of position
 * p, and 2p + 1 once that producer has stored its item, which is then for
 * the consumer of position p; that consumer sets it to 2(p + C), freeing
 * the cell for the next lap. (Doubling keeps "filled for p" and "free for
 * p + 1" apart even when C is 1.) A producer (consumer) claims its
 * position with a compare-and-swap on the shared enqueue (dequeue)
 * counter.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "fault.h"
#include "internal.h"
#include "ringbuf.h"
#include "valgrind.h"

struct cell {
	_Atomic size_t seq;
	void *item;
};

struct ma_ringbuf {
	_Alignas(MA_CACHELINE) _Atomic size_t enqueue_pos;
	_Alignas(MA_CACHELINE) _Atomic size_t dequeue_pos;
	_Alignas(MA_CACHELINE) size_t capacity;
	struct cell *cells;
};

struct ma_ringbuf *
ma_ringbuf_new(size_t capacity)
{
	if (capacity == 0 || capacity > SIZE_MAX / 4 / sizeof(struct cell)) {
		errno = EINVAL;
		return NULL;
	}

	struct ma_ringbuf *rb = ma_aligned_alloc(MA_CACHELINE, sizeof(*rb));

	if (rb == NULL)
		return NULL;
	rb->cells = ma_malloc(capacity * sizeof(struct cell));
	if (rb->cells == NULL) {
		free(rb);
		return NULL;
	}
	rb->capacity = capacity;
	for (size_t i = 0; i < capacity; i++) {
		atomic_init(&rb->cells[i].seq, 2 * i);
		rb->cells[i].item = NULL;
		MA_ATOMIC_WORDS(&rb->cells[i].seq, sizeof(size_t));
	}
	atomic_init(&rb->enqueue_pos, 0);
	atomic_init(&rb->dequeue_pos, 0);
	MA_ATOMIC_WORDS(&rb->enqueue_pos, sizeof(size_t));
	MA_ATOMIC_WORDS(&rb->dequeue_pos, sizeof(size_t));
	return rb;
}

void
ma_ringbuf_delete(struct ma_ringbuf *rb)
{
	if (rb == NULL)
		return;
	for (size_t i = 0; i < rb->capacity; i++)
		MA_ATOMIC_WORDS_END(&rb->cells[i].seq, sizeof(size_t));
	MA_ATOMIC_WORDS_END(&rb->enqueue_pos, sizeof(size_t));
	MA_ATOMIC_WORDS_END(&rb->dequeue_pos, sizeof(size_t));
	free(rb->cells);
	free(rb);
}

int
ma_ringbuf_enqueue(struct ma_ringbuf *rb, void *item)
{
	size_t pos = atomic_load_explicit(&rb->enqueue_pos,
		memory_order_relaxed);

	for (;;) {
		struct cell *cell = &rb->cells[pos % rb->capacity];
		/* acquire: pairs with the consumer's release of the cell */
		size_t seq = atomic_load_explicit(&cell->seq,
			memory_order_acquire);
		intptr_t diff = (intptr_t)seq - (intptr_t)(2 * pos);

		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
					&rb->enqueue_pos, &pos, pos + 1,
					memory_order_relaxed,
					memory_order_relaxed)) {
				MA_HAPPENS_AFTER(&cell->seq);
				cell->item = item;
				/* release: publishes item to the consumer */
				MA_HAPPENS_BEFORE(&cell->seq);
				atomic_store_explicit(&cell->seq, 2 * pos + 1,
					memory_order_release);
				return 0;
			}
		} else if (diff < 0) {
			return -1; /* the cell is a lap behind: full */
		} else {
			pos = atomic_load_explicit(&rb->enqueue_pos,
				memory_order_relaxed);
		}
	}
}

void *
ma_ringbuf_dequeue(struct ma_ringbuf *rb)
{
	size_t pos = atomic_load_explicit(&rb->dequeue_pos,
		memory_order_relaxed);

	for (;;) {
		struct cell *cell = &rb->cells[pos % rb->capacity];
		/* acquire: pairs with the producer's release of the item */
		size_t seq = atomic_load_explicit(&cell->seq,
			memory_order_acquire);
		intptr_t diff = (intptr_t)seq - (intptr_t)(2 * pos + 1);

		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
					&rb->dequeue_pos, &pos, pos + 1,
					memory_order_relaxed,
					memory_order_relaxed)) {
				MA_HAPPENS_AFTER(&cell->seq);
				void *item = cell->item;

				/* release: the cell is free for a producer */
				MA_HAPPENS_BEFORE(&cell->seq);
				atomic_store_explicit(&cell->seq,
					2 * (pos + rb->capacity),
					memory_order_release);
				return item;
			}
		} else if (diff < 0) {
			return NULL; /* not filled yet: empty */
		} else {
			pos = atomic_load_explicit(&rb->dequeue_pos,
				memory_order_relaxed);
		}
	}
}

/* seq_cst: orders against the sleep protocol of the threads mover. */
int
ma_ringbuf_nonempty(struct ma_ringbuf *rb)
{
	return atomic_load(&rb->enqueue_pos) != atomic_load(&rb->dequeue_pos);
}
