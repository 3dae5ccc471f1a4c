/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * ringbuf.h -- a bounded queue of pointers for many producers and many
 * consumers, without locks. A cell's sequence number says whose turn it
 * is, so producers and consumers only contend on their own position.
 */

#ifndef MA_RINGBUF_H
#define MA_RINGBUF_H 1

#include <stddef.h>

struct ma_ringbuf;

/* A queue of capacity entries (at least 1), or NULL with errno set. */
struct ma_ringbuf *ma_ringbuf_new(size_t capacity);

void ma_ringbuf_delete(struct ma_ringbuf *rb);

/* Appends item; 0 on success, -1 when the queue is full. */
int ma_ringbuf_enqueue(struct ma_ringbuf *rb, void *item);

/* The oldest item, or NULL when the queue is (or looks) empty. */
void *ma_ringbuf_dequeue(struct ma_ringbuf *rb);

/* Nonzero when an item is in the queue or being put there. */
int ma_ringbuf_nonempty(struct ma_ringbuf *rb);

#endif /* MA_RINGBUF_H */
