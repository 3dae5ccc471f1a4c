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

/* Nonzero when an item is in the queue or being put there. */
int ma_ringbuf_nonempty(struct ma_ringbuf *rb);

#endif /* MA_RINGBUF_H */
