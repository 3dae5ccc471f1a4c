/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_threads.c -- the threads mover: op_start queues a job, a pool
 * of worker threads performs it and signals its completion.
 *
 * Jobs: each operation owns a job record from the mover's pool (grown a
 * chunk at a time, freed at mover deletion), taken by op_new and given
 * back by op_delete. Futures move by value, so the record holds its own
 * copy of the operation and of the waker.
 *
 * Completion: the job's state word is 0 while pending and turns nonzero
 * once the operation's bytes are written; it is the word handed out to
 * pollers. With a waker, the worker first marks the job DONE_WAKING, calls
 * the waker, then marks it COMPLETE: op_check reports COMPLETE only then
 * (waiting out the short DONE_WAKING phase), so no waker is ever called
 * after its future polls complete, and no wake comes before the result.
 *
 * Big copies are cut into chunks that idle workers share: the worker that
 * takes such a job puts it on the 'big' list, wakes the others, and every
 * worker claims chunks under big_lock until none is left; the job is
 * taken off the list with its last chunk, and completed by whoever
 * finishes the last one. Huge jobs (16 MiB and more) also bypass the CPU
 * caches (VDM_F_NO_CACHE_HINT): streaming stores are faster there, and
 * such a copy would only evict everything else.
 *
 * Workers: a worker with nothing to do spins a little, then sleeps on the
 * futex word work_seq. A submission wakes one sleeper, and only when no
 * worker is spinning (which would find the job anyway). The counters
 * 'spinning' and 'sleepers' and the queue's positions are used seq_cst so
 * that either the submitter sees a sleeper or the sleeper sees the job.
 */

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "internal.h"
#include "mem_ops.h"
#include "park.h"
#include "ringbuf.h"
#include "valgrind.h"
#include "libminiasync/data_mover_threads.h"

#define JOB_PENDING 0
#define JOB_COMPLETE 1
#define JOB_DONE_WAKING 2

#define JOBS_PER_CHUNK 64
#define BIG_CHUNK_SIZE ((size_t)1 << 20) /* a share of a big job */
#define HUGE_JOB_CHUNKS 16 /* from this many shares, bypass the caches */
#define WORKER_SPIN_NS 50000 /* an idle worker spins this long */

#define DEFAULT_MAX_THREADS 12
#define DEFAULT_RINGBUF_SIZE 128

struct job {
	/* the poller word: nonzero once the operation is done */
	_Alignas(MA_CACHELINE) _Atomic uint64_t state;
	struct vdm_operation op;
	enum future_notifier_type signal; /* how completion is told */
	struct future_waker waker;
	size_t nchunks; /* shares the job is cut into */
	size_t next_chunk; /* the next share to claim, under big_lock */
	_Atomic size_t chunks_left; /* shares not yet done */
	struct job *next; /* on the free list or the big list */
	struct data_mover_threads *dmt; /* the mover it belongs to */
};

/* A block of job records, freed with the mover. */
struct job_chunk {
	struct job jobs[JOBS_PER_CHUNK];
	struct job_chunk *next;
};

/*
 * Fields are grouped by who writes them, a cache line per group, so that
 * workers spinning on their words do not slow the submitting thread's
 * pool lock down (and the other way round).
 */
struct data_mover_threads {
	/* set at creation (and by the set_*_fn calls): read by all */
	struct vdm vdm; /* first: op_new gets the mover from it */
	enum future_notifier_type desired_notifier;
	_Atomic(memcpy_fn) copy;
	_Atomic(memmove_fn) move;
	_Atomic(memset_fn) set;
	struct ma_ringbuf *queue;
	size_t nthreads;
	pthread_t *threads;

	/* the record pool: taken and given back by the polling threads */
	_Alignas(MA_CACHELINE) pthread_mutex_t pool_lock;
	struct job *free_jobs; /* guarded by pool_lock, as is chunks */
	struct job_chunk *chunks;

	/* big jobs being shared out: the workers' */
	_Alignas(MA_CACHELINE) pthread_mutex_t big_lock;
	struct job *big_jobs; /* guarded by big_lock, as their next_chunk */
	_Atomic unsigned big_pending; /* jobs on the big list */

	/* the workers' sleep */
	_Alignas(MA_CACHELINE) _Atomic uint32_t work_seq; /* futex word */
	_Atomic uint32_t sleepers; /* workers asleep on work_seq */
	_Atomic uint32_t spinning; /* idle workers still spinning */
	_Atomic int stop; /* delete: finish the queue, then exit */
};

/* Adds a chunk of free records to the pool; caller holds pool_lock. */
static int
pool_grow(struct data_mover_threads *dmt)
{
	struct job_chunk *chunk = ma_aligned_alloc(MA_CACHELINE,
		sizeof(*chunk));

	if (chunk == NULL)
		return -1;
	for (size_t i = 0; i < JOBS_PER_CHUNK; i++) {
		struct job *job = &chunk->jobs[i];

		MA_ATOMIC_WORDS(&job->state, sizeof(job->state));
		MA_ATOMIC_WORDS(&job->chunks_left, sizeof(job->chunks_left));
		job->next = dmt->free_jobs;
		dmt->free_jobs = job;
	}
	chunk->next = dmt->chunks;
	dmt->chunks = chunk;
	return 0;
}

static void
pool_free(struct data_mover_threads *dmt)
{
	while (dmt->chunks != NULL) {
		struct job_chunk *next = dmt->chunks->next;

		for (size_t i = 0; i < JOBS_PER_CHUNK; i++) {
			struct job *job = &dmt->chunks->jobs[i];

			MA_ATOMIC_WORDS_END(&job->state, sizeof(job->state));
			MA_ATOMIC_WORDS_END(&job->chunks_left,
				sizeof(job->chunks_left));
		}
		free(dmt->chunks);
		dmt->chunks = next;
	}
	dmt->free_jobs = NULL;
}

/* Wakes sleeping workers: one for a new job, all for a big one. */
static void
workers_wake(struct data_mover_threads *dmt, int count)
{
	atomic_fetch_add(&dmt->work_seq, 1);
	ma_park_wake((const uint32_t *)&dmt->work_seq, count);
}

static void *
threads_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	struct data_mover_threads *dmt = (struct data_mover_threads *)vdm;
	struct job *job = NULL;

	(void)type;
	pthread_mutex_lock(&dmt->pool_lock);
	if (dmt->free_jobs != NULL || pool_grow(dmt) == 0) {
		job = dmt->free_jobs;
		dmt->free_jobs = job->next;
	}
	pthread_mutex_unlock(&dmt->pool_lock);
	if (job == NULL)
		return NULL;
	job->dmt = dmt;
	atomic_store_explicit(&job->state, JOB_PENDING, memory_order_relaxed);
	return job;
}

static void
threads_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	struct job *job = data;
	struct data_mover_threads *dmt = job->dmt;

	ma_mem_operation_output(operation, output);
	pthread_mutex_lock(&dmt->pool_lock);
	job->next = dmt->free_jobs;
	dmt->free_jobs = job;
	pthread_mutex_unlock(&dmt->pool_lock);
}

/* The number of bytes an operation writes (or flushes). */
static size_t
operation_size(const struct vdm_operation *op)
{
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		return op->data.memcpy.n;
	case VDM_OPERATION_MEMMOVE:
		return op->data.memmove.n;
	case VDM_OPERATION_MEMSET:
		return op->data.memset.n;
	case VDM_OPERATION_FLUSH:
		return op->data.flush.n;
	}
	return 0;
}

/* Shares a job is cut into: one unless it is big and may be cut. */
static size_t
operation_chunks(const struct vdm_operation *op)
{
	size_t n = operation_size(op);

	if (n < 2 * BIG_CHUNK_SIZE)
		return 1;
	if (op->type == VDM_OPERATION_MEMMOVE) {
		/* overlapping moves are done in one go */
		uintptr_t d = (uintptr_t)op->data.memmove.dest;
		uintptr_t s = (uintptr_t)op->data.memmove.src;

		if (!(d + n <= s || s + n <= d))
			return 1;
	}
	return (n + BIG_CHUNK_SIZE - 1) / BIG_CHUNK_SIZE;
}

/*
 * Adds VDM_F_NO_CACHE_HINT to a huge operation: its bytes would only push
 * everything else out of the caches, and streaming stores are faster.
 */
static void
operation_bypass_caches(struct vdm_operation *op)
{
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		op->data.memcpy.flags |= VDM_F_NO_CACHE_HINT;
		break;
	case VDM_OPERATION_MEMMOVE:
		op->data.memmove.flags |= VDM_F_NO_CACHE_HINT;
		break;
	case VDM_OPERATION_MEMSET:
		op->data.memset.flags |= VDM_F_NO_CACHE_HINT;
		break;
	case VDM_OPERATION_FLUSH:
		break;
	}
}

/*
 * Queues the job; nonzero (the future stays IDLE, the caller polls again)
 * when the queue is full. Tells the poller how completion will be known.
 */
static int
threads_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	struct job *job = data;
	struct data_mover_threads *dmt = job->dmt;
	enum future_notifier_type signal = FUTURE_NOTIFIER_NONE;

	if (n != NULL) {
		signal = dmt->desired_notifier;
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	}
	job->op = *operation;
	job->signal = signal;
	if (signal == FUTURE_NOTIFIER_WAKER)
		job->waker = n->waker;
	job->nchunks = operation_chunks(operation);
	if (job->nchunks >= HUGE_JOB_CHUNKS)
		operation_bypass_caches(&job->op);
	job->next_chunk = 0;
	atomic_store_explicit(&job->chunks_left, job->nchunks,
		memory_order_relaxed);

	/* release (in the queue): the job's fields go with it */
	if (ma_ringbuf_enqueue(dmt->queue, job) != 0)
		return 1;
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&dmt->sleepers) != 0 &&
			atomic_load(&dmt->spinning) == 0)
		workers_wake(dmt, 1);

	if (signal == FUTURE_NOTIFIER_POLLER)
		n->poller.ptr_to_monitor = (uint64_t *)&job->state;
	if (n != NULL)
		n->notifier_used = signal;
	return 0;
}

/* COMPLETE once the job is done and its waker (if any) has returned. */
static enum future_state
threads_op_check(void *data, const struct vdm_operation *operation)
{
	struct job *job = data;
	struct ma_spin spin;

	(void)operation;
	/* acquire: pairs with the worker's release; the bytes are written */
	uint64_t state = atomic_load_explicit(&job->state,
		memory_order_acquire);

	if (state == JOB_DONE_WAKING) {
		/* the worker is in the waker; it may need this very CPU */
		ma_spin_begin(&spin);
		while ((state = atomic_load_explicit(&job->state,
				memory_order_acquire)) == JOB_DONE_WAKING)
			ma_spin_step(&spin, UINT64_MAX);
	}
	if (state != JOB_COMPLETE)
		return FUTURE_STATE_RUNNING;
	MA_HAPPENS_AFTER(&job->state);
	return FUTURE_STATE_COMPLETE;
}

static int
threads_has_property(void *future, enum future_property property)
{
	(void)future;
	return property == FUTURE_PROPERTY_ASYNC;
}

/* Performs bytes [offset, offset + len) of the operation. */
static void
job_run_share(struct data_mover_threads *dmt, const struct vdm_operation *op,
	size_t offset, size_t len)
{
	unsigned flags;

	if (len == 0)
		return; /* touches nothing, not even a NULL pointer's offset */
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		flags = (unsigned)op->data.memcpy.flags;
		atomic_load_explicit(&dmt->copy, memory_order_relaxed)(
			(char *)op->data.memcpy.dest + offset,
			(char *)op->data.memcpy.src + offset, len, flags);
		return;
	case VDM_OPERATION_MEMMOVE:
		flags = (unsigned)op->data.memmove.flags;
		atomic_load_explicit(&dmt->move, memory_order_relaxed)(
			(char *)op->data.memmove.dest + offset,
			(char *)op->data.memmove.src + offset, len, flags);
		return;
	case VDM_OPERATION_MEMSET:
		flags = (unsigned)op->data.memset.flags;
		atomic_load_explicit(&dmt->set, memory_order_relaxed)(
			(char *)op->data.memset.str + offset,
			op->data.memset.c, len, flags);
		return;
	case VDM_OPERATION_FLUSH:
		ma_flush((char *)op->data.flush.dest + offset, len);
		return;
	}
}

/*
 * The operation is done: publish that, then signal as promised. After the
 * COMPLETE store the job may be reused at once: only its address is used.
 */
static void
job_complete(struct job *job)
{
	enum future_notifier_type signal = job->signal;

	if (signal == FUTURE_NOTIFIER_WAKER) {
		struct future_waker waker = job->waker;

		/* release: the bytes, before the waiter can see the state */
		atomic_store_explicit(&job->state, JOB_DONE_WAKING,
			memory_order_release);
		FUTURE_WAKER_WAKE(&waker);
	}
	/* release: the bytes, and the end of this thread's use of the job */
	MA_HAPPENS_BEFORE(&job->state);
	atomic_store_explicit(&job->state, JOB_COMPLETE, memory_order_release);
	if (signal == FUTURE_NOTIFIER_POLLER) {
		/* a runtime may sleep on the word; at worst a stray wake */
		ma_park_wake(ma_park_low_half((uint64_t *)&job->state),
			INT_MAX);
	}
}

/* Claims a share of a big job under big_lock; NULL when none is left. */
static struct job *
big_claim(struct data_mover_threads *dmt, size_t *chunk)
{
	struct job *job;

	pthread_mutex_lock(&dmt->big_lock);
	job = dmt->big_jobs;
	if (job != NULL) {
		*chunk = job->next_chunk++;
		if (job->next_chunk == job->nchunks) {
			/* its last share: nobody finds it any more */
			dmt->big_jobs = job->next;
			atomic_fetch_sub(&dmt->big_pending, 1);
		}
	}
	pthread_mutex_unlock(&dmt->big_lock);
	return job;
}

/* Performs shares of big jobs while there are any; 0 if there were none. */
static int
big_help(struct data_mover_threads *dmt)
{
	struct job *job;
	size_t chunk;
	int helped = 0;

	while ((job = big_claim(dmt, &chunk)) != NULL) {
		size_t offset = chunk * BIG_CHUNK_SIZE;
		size_t len = operation_size(&job->op) - offset;

		if (len > BIG_CHUNK_SIZE)
			len = BIG_CHUNK_SIZE;
		job_run_share(dmt, &job->op, offset, len);
		/* acq_rel: the last share sees every other share's bytes */
		MA_HAPPENS_BEFORE(&job->chunks_left);
		if (atomic_fetch_sub(&job->chunks_left, 1) == 1) {
			MA_HAPPENS_AFTER(&job->chunks_left);
			job_complete(job);
		}
		helped = 1;
	}
	return helped;
}

/* Performs a job taken from the queue, sharing it out if it is big. */
static void
job_run(struct data_mover_threads *dmt, struct job *job)
{
	if (job->nchunks == 1) {
		job_run_share(dmt, &job->op, 0, operation_size(&job->op));
		job_complete(job);
		return;
	}
	pthread_mutex_lock(&dmt->big_lock);
	job->next = dmt->big_jobs;
	dmt->big_jobs = job;
	atomic_fetch_add(&dmt->big_pending, 1);
	pthread_mutex_unlock(&dmt->big_lock);
	if (atomic_load(&dmt->sleepers) != 0)
		workers_wake(dmt, INT_MAX);
	big_help(dmt);
}

/* Nonzero when a worker has something to do (or must exit). */
static int
work_available(struct data_mover_threads *dmt)
{
	return ma_ringbuf_nonempty(dmt->queue) ||
		atomic_load(&dmt->big_pending) != 0 ||
		atomic_load(&dmt->stop);
}

/* Spins for a while, then sleeps, until there is work (or a wake). */
static void
worker_idle(struct data_mover_threads *dmt)
{
	struct ma_spin spin;

	atomic_fetch_add(&dmt->spinning, 1);
	for (ma_spin_begin(&spin); ma_spin_step(&spin, WORKER_SPIN_NS);) {
		if (work_available(dmt)) {
			atomic_fetch_sub(&dmt->spinning, 1);
			return;
		}
	}
	atomic_fetch_sub(&dmt->spinning, 1);
	atomic_fetch_add(&dmt->sleepers, 1);

	uint32_t seen = atomic_load(&dmt->work_seq);

	if (!work_available(dmt))
		ma_park_wait((const uint32_t *)&dmt->work_seq, seen, NULL);
	atomic_fetch_sub(&dmt->sleepers, 1);
}

/* A worker: performs jobs until the mover stops and the queue is empty. */
static void *
worker_main(void *arg)
{
	struct data_mover_threads *dmt = arg;

	for (;;) {
		if (atomic_load_explicit(&dmt->big_pending,
				memory_order_relaxed) != 0 && big_help(dmt))
			continue;

		struct job *job = ma_ringbuf_dequeue(dmt->queue);

		if (job != NULL) {
			job_run(dmt, job);
			continue;
		}
		if (atomic_load(&dmt->stop) &&
				!ma_ringbuf_nonempty(dmt->queue) &&
				atomic_load(&dmt->big_pending) == 0)
			return NULL;
		worker_idle(dmt);
	}
}

static const struct vdm threads_vdm = {
	.op_new = threads_op_new,
	.op_delete = threads_op_delete,
	.op_start = threads_op_start,
	.op_check = threads_op_check,
	.capabilities = 0, /* set at creation: known only at run time */
	.has_property = threads_has_property,
};

/* Marks the mover's atomic-only words for helgrind (see valgrind.h). */
static void
mover_atomic_words(struct data_mover_threads *dmt, int atomic_only)
{
	if (atomic_only) {
		MA_ATOMIC_WORDS(&dmt->copy, 3 * sizeof(memcpy_fn));
		MA_ATOMIC_WORDS(&dmt->big_pending, sizeof(dmt->big_pending));
		MA_ATOMIC_WORDS(&dmt->work_seq, 4 * sizeof(uint32_t));
	} else {
		MA_ATOMIC_WORDS_END(&dmt->copy, 3 * sizeof(memcpy_fn));
		MA_ATOMIC_WORDS_END(&dmt->big_pending,
			sizeof(dmt->big_pending));
		MA_ATOMIC_WORDS_END(&dmt->work_seq, 4 * sizeof(uint32_t));
	}
}

/* Stops the workers once the queue is done, joins them, frees all. */
static void
mover_destroy(struct data_mover_threads *dmt, size_t nstarted)
{
	atomic_store(&dmt->stop, 1);
	workers_wake(dmt, INT_MAX);
	for (size_t i = 0; i < nstarted; i++)
		pthread_join(dmt->threads[i], NULL);
	free(dmt->threads);
	ma_ringbuf_delete(dmt->queue);
	pool_free(dmt);
	mover_atomic_words(dmt, 0);
	pthread_mutex_destroy(&dmt->big_lock);
	pthread_mutex_destroy(&dmt->pool_lock);
	free(dmt);
}

MA_EXPORT struct data_mover_threads *
data_mover_threads_new(size_t nthreads, size_t ringbuf_size,
	enum future_notifier_type desired_notifier)
{
	if (nthreads == 0 || ringbuf_size == 0 ||
			nthreads > SIZE_MAX / sizeof(pthread_t) ||
			(desired_notifier != FUTURE_NOTIFIER_NONE &&
			desired_notifier != FUTURE_NOTIFIER_WAKER &&
			desired_notifier != FUTURE_NOTIFIER_POLLER)) {
		errno = EINVAL;
		return NULL;
	}

	struct data_mover_threads *dmt = ma_aligned_alloc(MA_CACHELINE,
		sizeof(*dmt));

	if (dmt == NULL)
		goto err;
	memset(dmt, 0, sizeof(*dmt));
	dmt->vdm = threads_vdm;
	dmt->vdm.capabilities = MA_MEM_CAPABILITIES;
	dmt->desired_notifier = desired_notifier;
	atomic_init(&dmt->copy, ma_memcpy);
	atomic_init(&dmt->move, ma_memmove);
	atomic_init(&dmt->set, ma_memset);
	pthread_mutex_init(&dmt->pool_lock, NULL);
	pthread_mutex_init(&dmt->big_lock, NULL);
	mover_atomic_words(dmt, 1);
	dmt->nthreads = nthreads;

	dmt->queue = ma_ringbuf_new(ringbuf_size);
	if (dmt->queue == NULL)
		goto err_queue;
	if (pool_grow(dmt) != 0)
		goto err_pool;
	dmt->threads = ma_malloc(nthreads * sizeof(pthread_t));
	if (dmt->threads == NULL)
		goto err_pool;
	for (size_t i = 0; i < nthreads; i++) {
		int ret = ma_thread_create(&dmt->threads[i], worker_main, dmt);

		if (ret != 0) {
			mover_destroy(dmt, i);
			errno = ret;
			return NULL;
		}
	}
	return dmt;

err_pool:
	pool_free(dmt);
	ma_ringbuf_delete(dmt->queue);
err_queue:
	mover_atomic_words(dmt, 0);
	pthread_mutex_destroy(&dmt->big_lock);
	pthread_mutex_destroy(&dmt->pool_lock);
	free(dmt);
err:
	errno = ENOMEM;
	return NULL;
}

/* As many workers as processors (at most 12), a queue of 128. */
MA_EXPORT struct data_mover_threads *
data_mover_threads_default(void)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = ncpus < 1 ? 1 : (size_t)ncpus;

	if (nthreads > DEFAULT_MAX_THREADS)
		nthreads = DEFAULT_MAX_THREADS;
	return data_mover_threads_new(nthreads, DEFAULT_RINGBUF_SIZE,
		FUTURE_NOTIFIER_WAKER);
}

MA_EXPORT struct vdm *
data_mover_threads_get_vdm(struct data_mover_threads *dmt)
{
	return &dmt->vdm;
}

MA_EXPORT void
data_mover_threads_delete(struct data_mover_threads *dmt)
{
	if (dmt != NULL)
		mover_destroy(dmt, dmt->nthreads);
}

MA_EXPORT void
data_mover_threads_set_memcpy_fn(struct data_mover_threads *dmt,
	memcpy_fn op_memcpy)
{
	atomic_store_explicit(&dmt->copy, op_memcpy != NULL ? op_memcpy :
		ma_memcpy, memory_order_relaxed);
}

MA_EXPORT void
data_mover_threads_set_memmove_fn(struct data_mover_threads *dmt,
	memmove_fn op_memmove)
{
	atomic_store_explicit(&dmt->move, op_memmove != NULL ? op_memmove :
		ma_memmove, memory_order_relaxed);
}

MA_EXPORT void
data_mover_threads_set_memset_fn(struct data_mover_threads *dmt,
	memset_fn op_memset)
{
	atomic_store_explicit(&dmt->set, op_memset != NULL ? op_memset :
		ma_memset, memory_order_relaxed);
}
