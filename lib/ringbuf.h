/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * ringbuf.h -- a bounded FIFO queue of 32-bit items (job indexes) for
 * many producers and many consumers, without locks. A cell's sequence
 * number says whose turn it is, so producers and consumers only contend
 * on their own position; and no consumer ever waits for a producer that
 * stopped half-way (see ringbuf.c).
 */

#ifndef MA_RINGBUF_H
#define MA_RINGBUF_H 1

#include <stddef.h>
#include <stdint.h>

struct ma_ringbuf;

/* A queue of capacity entries (1 to 2^28), or NULL with errno set. */
struct ma_ringbuf *ma_ringbuf_new(size_t capacity);

void ma_ringbuf_delete(struct ma_ringbuf *rb);

/* Appends item; 0 on success, -1 when the queue is full. */
int ma_ringbuf_enqueue(struct ma_ringbuf *rb, uint32_t item);

/* Takes the oldest item into *item: 0, or -1 when there is none. */
int ma_ringbuf_dequeue(struct ma_ringbuf *rb, uint32_t *item);

/*
 * As ma_ringbuf_dequeue, but only an item for which want(item, arg) is
 * nonzero: -1 when the oldest item is not wanted (it stays queued, the
 * first in the queue). Returns 1 when it took an item that was stored
 * while it skipped a stalled position (see ringbuf.c): that item is the
 * caller's, wanted or not. want may be called on items it does not get.
 */
int ma_ringbuf_dequeue_if(struct ma_ringbuf *rb, uint32_t *item,
	int (*want)(uint32_t item, void *arg), void *arg);

/*
 * Nonzero when a consumer would find an item: one has been stored. A
 * position claimed by a producer that has not stored its item yet does
 * not count (seq_cst loads: see the threads mover's sleep).
 */
int ma_ringbuf_nonempty(struct ma_ringbuf *rb);

/*
 * Empties the queue, forgetting its items and the positions claimed by
 * producers that never stored theirs. Only when no other thread uses it
 * (in a child process after fork).
 */
void ma_ringbuf_reset(struct ma_ringbuf *rb);

#endif /* MA_RINGBUF_H */
