/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * arena.c -- growing the arena; the stacks' push and pop (see arena.h).
 */

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fault.h"
#include "internal.h"
#include "valgrind.h"

void
ma_arena_init(struct ma_arena *a, size_t rec_size)
{
	memset(a->chunks, 0, sizeof(a->chunks));
	a->rec_size = rec_size;
	a->nchunks = 0;
	pthread_mutex_init(&a->grow_lock, NULL);
}

void
ma_arena_fini(struct ma_arena *a)
{
	for (unsigned k = 0; k < a->nchunks; k++)
		free(a->chunks[k]);
	a->nchunks = 0;
	pthread_mutex_destroy(&a->grow_lock);
}

int
ma_arena_grow(struct ma_arena *a, uint32_t *first, uint32_t *count)
{
	unsigned k = a->nchunks;

	if (k == MA_ARENA_CHUNKS)
		return -1;

	size_t n = (size_t)MA_ARENA_BASE << k;
	char *chunk = ma_aligned_alloc(MA_CACHELINE, n * a->rec_size);

	if (chunk == NULL)
		return -1;
	memset(chunk, 0, n * a->rec_size);
	a->chunks[k] = chunk;
	a->nchunks = k + 1;
	*first = (uint32_t)(MA_ARENA_BASE * ((1U << k) - 1));
	*count = (uint32_t)n;
	return 0;
}

void
ma_stack_init(struct ma_stack *s, const struct ma_arena *arena,
	size_t link_off)
{
	atomic_init(&s->head, 0);
	s->arena = arena;
	s->link_off = link_off;
	MA_ATOMIC_WORDS(&s->head, sizeof(s->head));
}

static _Atomic uint32_t *
link_of(const struct ma_stack *s, uint32_t idx)
{
	return (_Atomic uint32_t *)(void *)
		((char *)ma_arena_rec(s->arena, idx) + s->link_off);
}

void
ma_stack_push(struct ma_stack *s, uint32_t idx)
{
	_Atomic uint32_t *link = link_of(s, idx);
	uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
	uint64_t next;

	do {
		atomic_store_explicit(link, (uint32_t)head,
			memory_order_relaxed);
		next = ((head >> 32) + 1) << 32 | (idx + 1);
		MA_HAPPENS_BEFORE(&s->head);
		/* release: the record's contents go with it to the popper */
	} while (!atomic_compare_exchange_weak_explicit(&s->head, &head, next,
			memory_order_release, memory_order_relaxed));
}

int
ma_stack_pop(struct ma_stack *s, uint32_t *idx)
{
	return ma_stack_pop_if(s, idx, NULL, NULL);
}

void
ma_stack_reset(struct ma_stack *s)
{
	atomic_store_explicit(&s->head, 0, memory_order_relaxed);
}

size_t
ma_arena_records(struct ma_arena *a)
{
	pthread_mutex_lock(&a->grow_lock);

	size_t n = (size_t)MA_ARENA_BASE * ((1U << a->nchunks) - 1);

	pthread_mutex_unlock(&a->grow_lock);
	return n;
}

int
ma_stack_pop_if(struct ma_stack *s, uint32_t *idx,
	int (*want)(uint32_t idx, void *arg), void *arg)
{
	/* acquire: pairs with the push that put the top there */
	uint64_t head = atomic_load_explicit(&s->head, memory_order_acquire);
	uint64_t next;

	do {
		uint32_t top = (uint32_t)head;

		/*
		 * For helgrind, after the acquire load (or failed swap) that
		 * read head: the top's chunk pointer below is published by it.
		 */
		MA_HAPPENS_AFTER(&s->head);
		if (top == 0 || (want != NULL && !want(top - 1, arg)))
			return -1;
		/*
		 * The top may be popped and pushed again meanwhile, so this
		 * link may be stale: then the generation has moved and the
		 * compare-and-swap fails.
		 */
		uint32_t below = atomic_load_explicit(link_of(s, top - 1),
			memory_order_relaxed);

		next = ((head >> 32) + 1) << 32 | below;
	} while (!atomic_compare_exchange_weak_explicit(&s->head, &head, next,
			memory_order_acquire, memory_order_acquire));
	MA_HAPPENS_AFTER(&s->head);
	*idx = (uint32_t)head - 1;
	return 0;
}
