/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * arena.h -- records of one size, named by 32-bit indexes, and lock-free
 * stacks of them.
 *
 * An arena grows a chunk at a time (chunk k holds MA_ARENA_BASE << k
 * records, so a fixed table of chunks addresses them all) and frees
 * nothing before it is destroyed: a record, once there, stays readable.
 * That is what makes the stacks safe: a stack links records through an
 * index field of theirs, and its head carries a generation count next to
 * the top index, so a pop whose view went stale (the ABA case) fails its
 * compare-and-swap instead of corrupting the stack. No operation waits
 * for another thread: push and pop only retry when another one succeeded.
 */

#ifndef MA_ARENA_H
#define MA_ARENA_H 1

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MA_ARENA_BASE 64 /* records in chunk 0 */
#define MA_ARENA_CHUNKS 25 /* then 2^31 - 64 records: indexes fit 31 bits */

struct ma_arena {
	size_t rec_size; /* a multiple of MA_CACHELINE */
	char *chunks[MA_ARENA_CHUNKS]; /* written under grow_lock, see grow */
	unsigned nchunks; /* under grow_lock */
	pthread_mutex_t grow_lock;
};

void ma_arena_init(struct ma_arena *a, size_t rec_size);

/* Frees every chunk; the records must be unused. */
void ma_arena_fini(struct ma_arena *a);

/*
 * Adds a chunk: its records are [*first, *first + *count), zeroed.
 * Returns 0, or -1 (nothing added) when memory or indexes run out.
 * Callers serialise growth (grow_lock is theirs to take).
 */
int ma_arena_grow(struct ma_arena *a, uint32_t *first, uint32_t *count);

/*
 * The record of an index that some chunk holds. The chunk pointer is
 * published to other threads by whatever made them learn the index (a
 * stack's release), so a plain read is enough.
 */
static inline void *
ma_arena_rec(const struct ma_arena *a, uint32_t idx)
{
	uint32_t q = idx / MA_ARENA_BASE + 1;
	unsigned k = 31 - (unsigned)__builtin_clz(q);
	size_t first = (size_t)MA_ARENA_BASE * ((1U << k) - 1);

	return a->chunks[k] + (idx - first) * a->rec_size;
}

/* A stack of records linked through the _Atomic uint32_t at link_off. */
struct ma_stack {
	_Atomic uint64_t head; /* generation << 32 | (top index + 1), or 0 */
	const struct ma_arena *arena;
	size_t link_off;
};

void ma_stack_init(struct ma_stack *s, const struct ma_arena *arena,
	size_t link_off);

/* Pushes record idx, which must be on no stack using the same link. */
void ma_stack_push(struct ma_stack *s, uint32_t idx);

/* Pops the top record into *idx: 0, or -1 when the stack is empty. */
int ma_stack_pop(struct ma_stack *s, uint32_t *idx);

/*
 * As ma_stack_pop, but only a top record for which want(idx, arg) is
 * nonzero (-1 when it is not wanted: it stays on top). want may be
 * called on records it does not get.
 */
int ma_stack_pop_if(struct ma_stack *s, uint32_t *idx,
	int (*want)(uint32_t idx, void *arg), void *arg);

/* Empties the stack. Only when no other thread uses it (after fork). */
void ma_stack_reset(struct ma_stack *s);

/* How many records the arena holds (every chunk's, in use or not). */
size_t ma_arena_records(struct ma_arena *a);

/* Nonzero when the stack holds a record (seq_cst: see its users). */
static inline int
ma_stack_nonempty(struct ma_stack *s)
{
	return (uint32_t)atomic_load(&s->head) != 0;
}

#endif /* MA_ARENA_H */
