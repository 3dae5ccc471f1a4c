/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_threads.c -- the threads mover: op_start submits a job, a
 * pool of worker threads performs it and signals its completion.
 *
 * Jobs. Each operation owns a job record from the mover's arena, taken by
 * op_new from a lock-free free stack and given back once both its holders
 * let go: the future (op_delete sets DELETED in the phase word) and the
 * queue (QREF, cleared by the thread that took the job out of the queue,
 * when it is done with it, or by whoever completes a big job that thread
 * shared out). Whoever makes "DELETED and not QREF" true gives the record
 * back, so a record is never reused while a queue still names it, and
 * nobody waits to reuse one. Futures move by value, so the record holds
 * its own copy of the operation and wakers.
 *
 * Submission never fails: the job goes into the bounded ring queue, or,
 * when that is full, onto a lock-free overflow stack that the workers
 * drain as well; either way the future keeps its promise. A job started
 * by one of the mover's own workers (from a waker) runs at once in that
 * worker instead: queued, it could wait for that very worker.
 *
 * A job's phase word tells where it is:
 *   NEW -> QUEUED -> RUNNING -> [WAKING ->] COMPLETE
 * A worker takes a job out of a queue and claims it by compare-and-swap
 * (QUEUED -> RUNNING). A thread that polls without a notifier (a busy-
 * polling caller) does the same, while its own job is queued, with the
 * oldest queued job if that is small and has no waker armed (see
 * poll_help): it works instead of spinning while the workers may have no
 * CPU. A job is only ever performed by whoever took its queue entry, so
 * no entry stays behind holding a record: memory is bounded by what is
 * outstanding.
 *
 * The phase word also holds the waker: ARMED says a waker is held,
 * in wakers[SLOT]. A poll with another waker writes it into the other
 * slot and flips SLOT with a compare-and-swap, which fails once the
 * worker has left RUNNING; the worker reads the slot only after its own
 * compare-and-swap to WAKING, so the two never touch the same slot.
 *
 * Completion: with a waker, the worker moves the job to WAKING, calls the
 * waker, then stores COMPLETE; a poll reports COMPLETE only then, so no
 * waker is ever called after its future polled complete, and no wake
 * comes before the result. A poll never waits for the waker: from another
 * thread it sees RUNNING and is promised nothing (poll again); from
 * inside the waker itself (a waker that polls its own future) it sees
 * COMPLETE, which is safe because the worker will not touch the waker
 * again. The poller word 'done' turns 1 at completion, and the runtime
 * is signalled if it watches poller words (ma_poller_signal).
 *
 * Big copies are cut into shares that idle workers take from the 'big'
 * list under big_lock; the job completes with its last share. Huge jobs
 * (16 MiB and more) bypass the CPU caches (VDM_F_NO_CACHE_HINT).
 *
 * Workers: a worker with nothing to do spins a little, then sleeps on the
 * futex word work_seq. A submission wakes a sleeper when no worker
 * spins; a worker that takes a job and sees more queued wakes a sleeper
 * too, so every queued job finds an idle worker. A ring slot claimed by a
 * submitter that has not filled it yet is not work (ma_ringbuf_nonempty):
 * the workers sleep, and the submitter's call once it is filled wakes
 * one. The counters 'spinning' and 'sleepers' and the queues' cells and
 * positions are used seq_cst (after the submitter's fence) so that either
 * the submitter sees a sleeper or the sleeper sees the job.
 */

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "fault.h"
#include "fork.h"
#include "internal.h"
#include "mem_ops.h"
#include "movers.h"
#include "park.h"
#include "ringbuf.h"
#include "valgrind.h"
#include "libminiasync/data_mover_threads.h"

/* Phases, in the low bits of the phase word, and its flags. */
#define PH_NEW 0 /* taken by op_new, not started */
#define PH_QUEUED 1 /* submitted: may be claimed */
#define PH_RUNNING 2 /* claimed: its bytes are being written */
#define PH_WAKING 3 /* bytes written, the waker is being called */
#define PH_COMPLETE 4 /* done: the future may complete */
#define PH_MASK 7u
#define PH_ARMED 8u /* a waker is held... */
#define PH_SLOT 16u /* ...in wakers[1] (else wakers[0]) */
#define PH_QREF 32u /* a queue still names the job */
#define PH_DELETED 64u /* op_delete ran: the future let go */
#define PH_SHARED 128u /* cut into shares for the workers */
#define PH_POLLED 256u /* performed by a busy poller: no waker is armed */

#define BIG_SHARE ((size_t)1 << 20) /* a share of a big job */
#define HUGE_JOB_SHARES 16 /* from this many shares, bypass the caches */
#define WORKER_SPIN_NS 50000 /* an idle worker spins this long */
#define WAKING_SPINS 64 /* a poll waits this many pauses for a waker */
#define POLL_HELP_JOBS 64 /* a busy poll performs this many jobs at most */

#define MAX_RING 65536 /* the ring's capacity at most */
#define DEFAULT_MAX_THREADS 12
#define DEFAULT_RINGBUF_SIZE 128

struct job {
	/* the poller word: nonzero once the operation is done */
	_Alignas(MA_CACHELINE) _Atomic uint64_t done;
	_Atomic uint32_t phase; /* PH_* */
	_Atomic uint32_t free_link; /* arena stack links */
	_Atomic uint32_t overflow_link;
	uint32_t index; /* in the arena */
	struct vdm_operation op;
	struct future_waker wakers[2]; /* see PH_ARMED and PH_SLOT */
	size_t nshares; /* shares the job is cut into */
	size_t next_share; /* the next share to claim, under big_lock */
	_Atomic size_t shares_left; /* shares not yet done */
	struct job *big_next; /* on the big list */
	struct data_mover_threads *dmt; /* the mover it belongs to */
};

/*
 * Fields are grouped by who writes them, a cache line per group, so that
 * workers spinning on their words do not slow the submitting threads.
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
	struct ma_arena jobs;

	_Alignas(MA_CACHELINE) struct ma_stack free_jobs;
	_Alignas(MA_CACHELINE) struct ma_stack overflow;

	/* big jobs being shared out: the workers' */
	_Alignas(MA_CACHELINE) pthread_mutex_t big_lock;
	struct job *big_jobs; /* guarded by big_lock, as their next_share */
	_Atomic unsigned big_pending; /* jobs on the big list */

	/* the workers' sleep */
	_Alignas(MA_CACHELINE) _Atomic uint32_t work_seq; /* futex word */
	_Atomic uint32_t sleepers; /* workers asleep on work_seq */
	_Atomic uint32_t spinning; /* idle workers still spinning */
	_Atomic int stop; /* delete: finish the queue, then exit */

	struct ma_fork_node fork; /* its fork handlers (fork.h) */
};

/* The bytes of a job's atomic words from 'done' on. */
#define JOB_ATOMIC_HEAD (offsetof(struct job, index) - \
	offsetof(struct job, done))

/*
 * Thread-local, in the initial-exec model: read without a call (the
 * library is linked by its programs, not opened late; two pointers fit
 * in the static TLS space that dlopen leaves anyway).
 */
#define MA_TLS _Thread_local __attribute__((tls_model("initial-exec")))

/* The job whose waker this thread is calling, for re-entrant polls. */
static MA_TLS const struct job *waking_job;

/* The mover whose worker this thread is, if any. */
static MA_TLS const struct data_mover_threads *worker_of;

static struct job *
job_at(struct data_mover_threads *dmt, uint32_t idx)
{
	return ma_arena_rec(&dmt->jobs, idx);
}

/* Adds a chunk of records to the free stack, unless one was added. */
static int
pool_grow(struct data_mover_threads *dmt)
{
	uint32_t first, count;
	int ret = 0;

	pthread_mutex_lock(&dmt->jobs.grow_lock);
	if (!ma_stack_nonempty(&dmt->free_jobs)) {
		ret = ma_arena_grow(&dmt->jobs, &first, &count);
		for (uint32_t i = 0; ret == 0 && i < count; i++) {
			struct job *job = job_at(dmt, first + i);

			job->index = first + i;
			job->dmt = dmt;
			/* atomic-only words (see valgrind.h) */
			MA_ATOMIC_WORDS(&job->done, JOB_ATOMIC_HEAD);
			MA_ATOMIC_WORDS(&job->shares_left,
				sizeof(job->shares_left));
			ma_stack_push(&dmt->free_jobs, first + i);
		}
	}
	pthread_mutex_unlock(&dmt->jobs.grow_lock);
	return ret;
}

/*
 * Gives the record back if the phase word 'was' (just replaced by this
 * thread) makes the record free: the future and the queue let go.
 */
static void
job_release_if_free(struct job *job, uint32_t now)
{
	if ((now & (PH_DELETED | PH_QREF)) == PH_DELETED) {
		MA_HAPPENS_AFTER(&job->phase);
		ma_stack_push(&job->dmt->free_jobs, job->index);
	}
}

/* Sets flag (PH_DELETED) or clears it (PH_QREF), then maybe releases. */
static void
job_let_go(struct job *job, uint32_t flag)
{
	uint32_t was;

	/* acq_rel: every use of the record before its reuse */
	MA_HAPPENS_BEFORE(&job->phase);
	if (flag == PH_DELETED)
		was = atomic_fetch_or_explicit(&job->phase, flag,
			memory_order_acq_rel);
	else
		was = atomic_fetch_and_explicit(&job->phase, ~flag,
			memory_order_acq_rel);
	job_release_if_free(job, flag == PH_DELETED ? was | flag :
		was & ~flag);
}

/* Wakes sleeping workers: one for a new job, all for a big one. */
static void
workers_wake(struct data_mover_threads *dmt, int count)
{
	atomic_fetch_add(&dmt->work_seq, 1);
	ma_park_wake((const uint32_t *)&dmt->work_seq, count);
}

/* Nonzero when a queue holds a job. */
static int
jobs_queued(struct data_mover_threads *dmt)
{
	return ma_ringbuf_nonempty(dmt->queue) ||
		ma_stack_nonempty(&dmt->overflow);
}

/* Wakes a sleeping worker for queued work, unless one is spinning. */
static void
workers_call(struct data_mover_threads *dmt)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&dmt->sleepers) != 0 &&
			atomic_load(&dmt->spinning) == 0)
		workers_wake(dmt, 1);
}

static void *
threads_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	struct data_mover_threads *dmt = (struct data_mover_threads *)vdm;
	uint32_t idx;

	(void)type;
	while (ma_stack_pop(&dmt->free_jobs, &idx) != 0) {
		if (pool_grow(dmt) != 0)
			return NULL;
	}

	struct job *job = job_at(dmt, idx);

	atomic_store_explicit(&job->phase, PH_NEW, memory_order_relaxed);
	return job;
}

static void
threads_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	ma_op_output(operation, output);
	job_let_go(data, PH_DELETED);
}

static void job_run_whole(struct job *job, int drop_qref);

/* Writes a POLLER promise: the job's word, signalled by the mover. */
static void
promise_poller(struct job *job, struct future_notifier *n)
{
	n->notifier_used = FUTURE_NOTIFIER_POLLER;
	n->poller.ptr_to_monitor = (uint64_t *)&job->done;
	/* ours: signalled */
	ma_promised.word = n->poller.ptr_to_monitor;
	ma_promised.due_ns = 0;
}

/*
 * Submits the job. Never fails: a full ring sends it to the overflow
 * stack. Tells the poller how completion will be known.
 */
static int
threads_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	struct job *job = data;
	struct data_mover_threads *dmt = job->dmt;
	size_t size = ma_op_size(operation);
	uint32_t phase = PH_QUEUED | PH_QREF;

	job->op = *operation;
	if (dmt->desired_notifier == FUTURE_NOTIFIER_POLLER)
		atomic_store_explicit(&job->done, 0, memory_order_relaxed);
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	if (size == 0 || !ma_op_valid(operation)) {
		/* nothing to write: complete now (op_delete tells which) */
		atomic_store_explicit(&job->phase, PH_COMPLETE,
			memory_order_relaxed);
		return 0;
	}
	job->nshares = 1;
	if (size >= 2 * BIG_SHARE && ma_op_splits(operation))
		job->nshares = size / BIG_SHARE + (size % BIG_SHARE != 0);
	if (job->nshares > 1)
		phase |= PH_SHARED;
	if (job->nshares >= HUGE_JOB_SHARES)
		ma_op_add_flags(&job->op, VDM_F_NO_CACHE_HINT);
	job->next_share = 0;
	atomic_store_explicit(&job->shares_left, job->nshares,
		memory_order_relaxed);
	if (worker_of == dmt || dmt->nthreads == 0) {
		/*
		 * Started by one of our own workers (in a waker, say): run
		 * it now, within this poll, which then sees it complete (so
		 * no promise, no waker). Queued, it might wait for this very
		 * worker. So with no workers at all (none could be started
		 * again after a fork).
		 */
		atomic_store_explicit(&job->phase, PH_RUNNING,
			memory_order_relaxed);
		job_run_whole(job, 0);
		return 0;
	}
	if (n != NULL && dmt->desired_notifier == FUTURE_NOTIFIER_WAKER &&
			n->waker.wake != NULL) {
		/* a notifier without a waker (zeroed) gets no promise */
		job->wakers[0] = n->waker;
		phase |= PH_ARMED;
		n->notifier_used = FUTURE_NOTIFIER_WAKER;
	} else if (n != NULL &&
			dmt->desired_notifier == FUTURE_NOTIFIER_POLLER) {
		promise_poller(job, n);
	}
	/* release: the job's fields, to whoever claims it */
	MA_HAPPENS_BEFORE(&job->phase);
	atomic_store_explicit(&job->phase, phase, memory_order_release);

	if (ma_ringbuf_enqueue(dmt->queue, job->index) != 0)
		ma_stack_push(&dmt->overflow, job->index);
	workers_call(dmt);
	return 0;
}

/* Claims a queued job (QUEUED -> RUNNING); 0 if it was not queued. */
static int
job_claim(struct job *job)
{
	uint32_t cur = atomic_load_explicit(&job->phase,
		memory_order_relaxed);

	while ((cur & PH_MASK) == PH_QUEUED) {
		/* acquire: the fields op_start wrote */
		if (atomic_compare_exchange_weak_explicit(&job->phase, &cur,
				(cur & ~PH_MASK) | PH_RUNNING,
				memory_order_acquire, memory_order_relaxed)) {
			MA_HAPPENS_AFTER(&job->phase);
			return 1;
		}
	}
	return 0;
}

/*
 * The operation is done: publish that, then signal as promised. The
 * thread that took the job out of the queue (or was handed that role for
 * a big job) passes drop_qref: the COMPLETE store then also lets the
 * queue's hold go. After that store the job may be reused at once:
 * nothing here touches it afterwards.
 */
static void
job_complete(struct job *job, int drop_qref)
{
	int signal_pollers = job->dmt->desired_notifier ==
		FUTURE_NOTIFIER_POLLER;
	uint32_t drop = drop_qref ? PH_QREF : 0;
	uint32_t cur = atomic_load_explicit(&job->phase,
		memory_order_relaxed);

	if (signal_pollers)
		atomic_store_explicit(&job->done, 1, memory_order_release);
	for (;;) {
		uint32_t flags = cur & ~PH_MASK;

		if (!(flags & PH_ARMED)) {
			/* release: the bytes, and the end of our use */
			MA_HAPPENS_BEFORE(&job->phase);
			if (atomic_compare_exchange_weak_explicit(&job->phase,
					&cur, (flags & ~drop) | PH_COMPLETE,
					memory_order_release,
					memory_order_relaxed))
				break;
			continue; /* a waker was armed meanwhile */
		}
		/* acquire: the waker a poller armed; release: the bytes */
		if (!atomic_compare_exchange_weak_explicit(&job->phase, &cur,
				flags | PH_WAKING, memory_order_acq_rel,
				memory_order_relaxed))
			continue;
		MA_HAPPENS_AFTER(&job->phase);

		struct future_waker waker =
			job->wakers[(flags & PH_SLOT) ? 1 : 0];

		waking_job = job;
		FUTURE_WAKER_WAKE(&waker);
		waking_job = NULL;
		/*
		 * Only this thread moves the phase on from WAKING; the waker
		 * may have polled the future to its end (DELETED).
		 */
		cur = atomic_load_explicit(&job->phase, memory_order_acquire);
		flags = (cur & ~PH_MASK & ~drop) | PH_COMPLETE;
		if ((flags & (PH_DELETED | PH_QREF)) == PH_DELETED) {
			job_release_if_free(job, flags);
			break;
		}
		MA_HAPPENS_BEFORE(&job->phase);
		atomic_store_explicit(&job->phase, flags,
			memory_order_release);
		break;
	}
	if (signal_pollers)
		ma_poller_signal();
}

/* The functions the mover writes bytes with now. */
static void
mover_fns(struct data_mover_threads *dmt, struct ma_mem_fns *fns)
{
	fns->copy = atomic_load_explicit(&dmt->copy, memory_order_relaxed);
	fns->move = atomic_load_explicit(&dmt->move, memory_order_relaxed);
	fns->set = atomic_load_explicit(&dmt->set, memory_order_relaxed);
}

/* Performs a claimed job in one go and completes it. */
static void
job_run_whole(struct job *job, int drop_qref)
{
	struct ma_mem_fns fns;

	mover_fns(job->dmt, &fns);
	ma_op_run(&fns, &job->op, 0, ma_op_size(&job->op));
	job_complete(job, drop_qref);
}

/*
 * A poll that finds the worker in the waker: COMPLETE for the waker's
 * own thread; else waits a few pauses for the waker to return (never on
 * it), then RUNNING, promising nothing.
 */
static enum future_state
job_waking(const struct job *job, int until_complete)
{
	struct ma_spin spin;
	unsigned spins = 0;

	if (waking_job == job)
		return FUTURE_STATE_COMPLETE;
	for (ma_spin_begin(&spin);; ma_spin_step(&spin, UINT64_MAX)) {
		/* acquire: pairs with the worker's release of COMPLETE */
		uint32_t cur = atomic_load_explicit(&job->phase,
			memory_order_acquire);

		if ((cur & PH_MASK) == PH_COMPLETE) {
			MA_HAPPENS_AFTER(&job->phase);
			return FUTURE_STATE_COMPLETE;
		}
		if (!until_complete && ++spins == WAKING_SPINS)
			return FUTURE_STATE_RUNNING;
	}
}

/*
 * op_check, as binaries built with the 0.3 headers call it (their task
 * repeats op_start's promise by itself). It waits out the WAKING phase
 * only when the waker is the library's runtime, which never blocks:
 * that keeps those binaries' runtime waits from sleeping on a wake that
 * already came.
 */
enum future_state
ma_threads_op_check(void *data, const struct vdm_operation *operation)
{
	const struct job *job = data;
	/* acquire: pairs with the worker's release; the bytes are written */
	uint32_t cur = atomic_load_explicit(&job->phase, memory_order_acquire);

	(void)operation;
	switch (cur & PH_MASK) {
	case PH_COMPLETE:
		MA_HAPPENS_AFTER(&job->phase);
		return FUTURE_STATE_COMPLETE;
	case PH_WAKING:
		return job_waking(job, job->wakers[(cur & PH_SLOT) ? 1 : 0]
			.wake == ma_runtime_wake);
	default:
		return FUTURE_STATE_RUNNING;
	}
}

/* Same waker: the same function with the same data. */
static int
waker_equal(const struct future_waker *a, const struct future_waker *b)
{
	return a->wake == b->wake && a->data == b->data;
}

/*
 * Whether a busy poller may perform job idx, judged before taking it
 * from a queue: a small job that no poll handed a waker (wakers are
 * called by workers only: a poller's thread may hold locks a waker
 * takes). Only a hint: the phase may change until poller_claim.
 */
static int
poller_may_run(uint32_t idx, void *arg)
{
	struct data_mover_threads *dmt = arg;
	uint32_t cur = atomic_load_explicit(&job_at(dmt, idx)->phase,
		memory_order_relaxed);

	return (cur & (PH_MASK | PH_ARMED | PH_SHARED)) == PH_QUEUED;
}

/* Claims a job taken from a queue for a poller: 0 if it may not run it. */
static int
poller_claim(struct job *job)
{
	uint32_t cur = atomic_load_explicit(&job->phase,
		memory_order_relaxed);

	while ((cur & (PH_MASK | PH_ARMED | PH_SHARED)) == PH_QUEUED) {
		/* acquire: the fields op_start wrote */
		if (atomic_compare_exchange_weak_explicit(&job->phase, &cur,
				(cur & ~PH_MASK) | PH_RUNNING | PH_POLLED,
				memory_order_acquire, memory_order_relaxed)) {
			MA_HAPPENS_AFTER(&job->phase);
			return 1;
		}
	}
	return 0;
}

/*
 * Busy-poll helping: while own is queued, takes the oldest job from a
 * queue, as a worker does, and performs it, if it is one a poller may
 * run (see poller_may_run). Taking the queue's entry is what keeps
 * memory bounded: a job is only ever performed by whoever took its
 * entry, so no entry is left behind holding a record that its job no
 * longer needs. Returns nonzero if it performed a job.
 */
static int
poll_help(struct data_mover_threads *dmt, struct job *own)
{
	int helped = 0;

	for (unsigned i = 0; i < POLL_HELP_JOBS; i++) {
		uint32_t cur = atomic_load_explicit(&own->phase,
			memory_order_relaxed);
		uint32_t idx;

		if ((cur & PH_MASK) != PH_QUEUED)
			break;
		if (ma_ringbuf_dequeue_if(dmt->queue, &idx, poller_may_run,
				dmt) < 0 && ma_stack_pop_if(&dmt->overflow,
				&idx, poller_may_run, dmt) != 0)
			break;

		struct job *job = job_at(dmt, idx);

		if (poller_claim(job)) {
			job_run_whole(job, 1);
			helped = 1;
			continue;
		}
		if ((atomic_load_explicit(&job->phase, memory_order_relaxed) &
				PH_MASK) == PH_QUEUED) {
			/* a waker came meanwhile: the workers' job */
			ma_stack_push(&dmt->overflow, idx);
			workers_call(dmt);
			break;
		}
		job_let_go(job, PH_QREF); /* somebody else performed it */
	}
	return helped;
}

enum future_state
ma_threads_poll(void *data, struct future_notifier *n)
{
	struct job *job = data;
	struct data_mover_threads *dmt = job->dmt;
	/* acquire: pairs with the worker's release; the bytes are written */
	uint32_t cur = atomic_load_explicit(&job->phase, memory_order_acquire);

	for (;;) {
		uint32_t flags = cur & ~PH_MASK;

		switch (cur & PH_MASK) {
		case PH_COMPLETE:
			MA_HAPPENS_AFTER(&job->phase);
			return FUTURE_STATE_COMPLETE;
		case PH_WAKING:
			return job_waking(job, 0);
		default:
			break;
		}
		if (n == NULL || dmt->desired_notifier == FUTURE_NOTIFIER_NONE) {
			/* a busy-polling caller (no notifier) lends a hand */
			if (n == NULL && (cur & PH_MASK) == PH_QUEUED &&
					poll_help(dmt, job)) {
				cur = atomic_load_explicit(&job->phase,
					memory_order_acquire);
				continue;
			}
			return FUTURE_STATE_RUNNING;
		}
		if (dmt->desired_notifier == FUTURE_NOTIFIER_POLLER) {
			promise_poller(job, n);
			return FUTURE_STATE_RUNNING;
		}
		if (flags & PH_POLLED) {
			/*
			 * A busy poller's thread performs it: wakers are
			 * called by workers only, so promise nothing (the
			 * job is small: poll again).
			 */
			n->notifier_used = FUTURE_NOTIFIER_NONE;
			return FUTURE_STATE_RUNNING;
		}
		if (n->waker.wake == NULL) {
			/* no waker to arm (a zeroed notifier): no promise */
			n->notifier_used = FUTURE_NOTIFIER_NONE;
			return FUTURE_STATE_RUNNING;
		}
		/* a waker: the one held, or arm this one in the other slot */
		unsigned slot = (flags & PH_SLOT) ? 1 : 0;

		if ((flags & PH_ARMED) &&
				waker_equal(&job->wakers[slot], &n->waker)) {
			n->notifier_used = FUTURE_NOTIFIER_WAKER;
			return FUTURE_STATE_RUNNING;
		}
		unsigned other = (flags & PH_ARMED) ? !slot : 0;

		job->wakers[other] = n->waker;
		/* release: the waker, to the worker's acquire */
		MA_HAPPENS_BEFORE(&job->phase);
		if (atomic_compare_exchange_strong_explicit(&job->phase, &cur,
				(cur & ~PH_SLOT) | PH_ARMED |
				(other ? PH_SLOT : 0),
				memory_order_acq_rel, memory_order_acquire)) {
			n->notifier_used = FUTURE_NOTIFIER_WAKER;
			return FUTURE_STATE_RUNNING;
		}
		/* the phase moved on: look again */
	}
}

static int
threads_has_property(void *future, enum future_property property)
{
	(void)future;
	return property == FUTURE_PROPERTY_ASYNC;
}

/* Claims a share of a big job under big_lock; NULL when none is left. */
static struct job *
big_claim(struct data_mover_threads *dmt, size_t *share)
{
	struct job *job;

	pthread_mutex_lock(&dmt->big_lock);
	job = dmt->big_jobs;
	if (job != NULL) {
		*share = job->next_share++;
		if (job->next_share == job->nshares) {
			/* its last share: nobody finds it any more */
			dmt->big_jobs = job->big_next;
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
	struct ma_mem_fns fns;
	struct job *job;
	size_t share;
	int helped = 0;

	mover_fns(dmt, &fns);
	while ((job = big_claim(dmt, &share)) != NULL) {
		size_t offset = share * BIG_SHARE;
		size_t len = ma_op_size(&job->op) - offset;

		if (len > BIG_SHARE)
			len = BIG_SHARE;
		ma_op_run(&fns, &job->op, offset, len);
		/* acq_rel: the last share sees every other share's bytes */
		MA_HAPPENS_BEFORE(&job->shares_left);
		if (atomic_fetch_sub(&job->shares_left, 1) == 1) {
			MA_HAPPENS_AFTER(&job->shares_left);
			/* with the queue's hold, handed on to us */
			job_complete(job, 1);
		}
		helped = 1;
	}
	return helped;
}

/*
 * Performs a job taken from a queue, if nobody claimed it first, sharing
 * it out if it is big. The queue's hold goes with the completion; for a
 * big job, whoever finishes its last share completes it (and may call a
 * waker that polls the future to its end), so the hold goes to them.
 */
static void
worker_run(struct data_mover_threads *dmt, struct job *job)
{
	/* pass the rest on (cheap when nobody sleeps) */
	if (atomic_load_explicit(&dmt->sleepers, memory_order_relaxed) != 0 &&
			jobs_queued(dmt))
		workers_call(dmt);
	if (!job_claim(job)) {
		job_let_go(job, PH_QREF); /* claimed by another */
		return;
	}
	if (job->nshares == 1) {
		job_run_whole(job, 1);
		return;
	}
	pthread_mutex_lock(&dmt->big_lock);
	job->big_next = dmt->big_jobs;
	dmt->big_jobs = job;
	atomic_fetch_add(&dmt->big_pending, 1);
	pthread_mutex_unlock(&dmt->big_lock);
	if (atomic_load(&dmt->sleepers) != 0)
		workers_wake(dmt, INT_MAX);
	big_help(dmt);
}

/* The records the mover's pool holds (for white-box tests). */
size_t
ma_threads_pool_records(struct data_mover_threads *dmt)
{
	return ma_arena_records(&dmt->jobs);
}

/* The next queued job; the ring and the overflow take turns. */
static struct job *
queue_take(struct data_mover_threads *dmt, unsigned *turn)
{
	uint32_t idx;

	if ((++*turn & 1) && ma_stack_pop(&dmt->overflow, &idx) == 0)
		return job_at(dmt, idx);
	if (ma_ringbuf_dequeue(dmt->queue, &idx) == 0 ||
			ma_stack_pop(&dmt->overflow, &idx) == 0)
		return job_at(dmt, idx);
	return NULL;
}

/* Nonzero when a worker has something to do (or must exit). */
static int
work_available(struct data_mover_threads *dmt)
{
	return jobs_queued(dmt) || atomic_load(&dmt->big_pending) != 0 ||
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

/* A worker: performs jobs until the mover stops and the queues are empty. */
static void *
worker_main(void *arg)
{
	struct data_mover_threads *dmt = arg;
	unsigned turn = 0;

	worker_of = dmt;
	for (;;) {
		if (atomic_load_explicit(&dmt->big_pending,
				memory_order_relaxed) != 0 && big_help(dmt))
			continue;

		struct job *job = queue_take(dmt, &turn);

		if (job != NULL) {
			worker_run(dmt, job);
			continue;
		}
		if (atomic_load(&dmt->stop) && !jobs_queued(dmt) &&
				atomic_load(&dmt->big_pending) == 0)
			return NULL;
		worker_idle(dmt);
	}
}

/* The vdm task's poll (movers.h). */
static enum future_state
threads_poll(void *data, const struct vdm_operation *operation, int first,
	struct future_notifier *n, struct vdm_operation_output *output)
{
	enum future_state state;

	if (first) {
		if (threads_op_start(data, operation, n) != 0)
			return FUTURE_STATE_IDLE;
		state = ma_threads_op_check(data, operation);
	} else {
		state = ma_threads_poll(data, n);
	}
	if (state == FUTURE_STATE_COMPLETE)
		threads_op_delete(data, operation, output);
	return state;
}

MA_KEEP_LIBRARY_TASK(threads_task);

const struct ma_mover_ops ma_threads_mover_ops = {
	.op_start = threads_op_start,
	.op_check = ma_threads_op_check,
	.op_delete = threads_op_delete,
	.poll = threads_poll,
};

static const struct vdm threads_vdm = {
	.op_new = threads_op_new,
	.op_delete = threads_op_delete,
	.op_start = threads_op_start,
	.op_check = ma_threads_op_check,
	.capabilities = 0, /* set at creation: known at run time */
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

/* Ends helgrind's view of the records as atomic-only, then frees them. */
static void
pool_free(struct data_mover_threads *dmt)
{
	for (unsigned k = 0; k < dmt->jobs.nchunks; k++) {
		size_t n = (size_t)MA_ARENA_BASE << k;
		uint32_t first = (uint32_t)(MA_ARENA_BASE * ((1U << k) - 1));

		for (size_t i = 0; i < n; i++) {
			struct job *job = job_at(dmt, first + (uint32_t)i);

			MA_ATOMIC_WORDS_END(&job->done, JOB_ATOMIC_HEAD);
			MA_ATOMIC_WORDS_END(&job->shares_left,
				sizeof(job->shares_left));
		}
	}
	ma_arena_fini(&dmt->jobs);
}

/* Stops the workers once the queues are done, joins them, frees all. */
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
	MA_ATOMIC_WORDS_END(&dmt->free_jobs.head, sizeof(uint64_t));
	MA_ATOMIC_WORDS_END(&dmt->overflow.head, sizeof(uint64_t));
	mover_atomic_words(dmt, 0);
	pthread_mutex_destroy(&dmt->big_lock);
	free(dmt);
}

/*
 * Fork. A child process has only the thread that forked, so the movers
 * it inherits have no workers, and whatever the parent's other threads
 * were doing with the queues stopped half-way. The child handler (run
 * in the child, before fork returns, while no other thread exists there)
 * rebuilds each mover from its records, which are the truth: every job
 * not yet complete is queued again (one that a worker had begun is
 * performed again from its start), one whose waker was being called is
 * complete; then it starts the workers again. The prepare handler takes
 * the movers' locks, so that none is inherited locked.
 */
/* The fork node's container. */
#define FORK_MOVER(node) ((struct data_mover_threads *)(void *) \
	((char *)(node) - offsetof(struct data_mover_threads, fork)))

static void
fork_prepare(struct ma_fork_node *node)
{
	struct data_mover_threads *d = FORK_MOVER(node);

	pthread_mutex_lock(&d->jobs.grow_lock);
	pthread_mutex_lock(&d->big_lock);
}

static void
fork_parent(struct ma_fork_node *node)
{
	struct data_mover_threads *d = FORK_MOVER(node);

	pthread_mutex_unlock(&d->big_lock);
	pthread_mutex_unlock(&d->jobs.grow_lock);
}

/* Queues a job again, in the child, as op_start queued it. */
static void
job_requeue(struct data_mover_threads *dmt, struct job *job, uint32_t cur)
{
	job->next_share = 0;
	atomic_store_explicit(&job->shares_left, job->nshares,
		memory_order_relaxed);
	atomic_store_explicit(&job->phase,
		(cur & ~PH_MASK & ~PH_POLLED) | PH_QUEUED | PH_QREF,
		memory_order_relaxed);
	if (ma_ringbuf_enqueue(dmt->queue, job->index) != 0)
		ma_stack_push(&dmt->overflow, job->index);
}

/* Rebuilds a mover in the child of a fork and starts its workers. */
static void
mover_after_fork(struct data_mover_threads *dmt)
{
	size_t started = 0;
	size_t records;

	pthread_mutex_unlock(&dmt->big_lock);
	pthread_mutex_unlock(&dmt->jobs.grow_lock);
	ma_ringbuf_reset(dmt->queue);
	ma_stack_reset(&dmt->overflow);
	dmt->big_jobs = NULL;
	atomic_store(&dmt->big_pending, 0);
	atomic_store(&dmt->sleepers, 0);
	atomic_store(&dmt->spinning, 0);
	records = ma_arena_records(&dmt->jobs);
	for (uint32_t i = 0; i < records; i++) {
		struct job *job = job_at(dmt, i);
		uint32_t cur = atomic_load_explicit(&job->phase,
			memory_order_relaxed);

		switch (cur & PH_MASK) {
		case PH_QUEUED:
		case PH_RUNNING:
			job_requeue(dmt, job, cur);
			break;
		case PH_WAKING:
			/* the bytes are written; the waker is not called */
			cur = (cur & ~PH_MASK & ~PH_QREF) | PH_COMPLETE;
			atomic_store(&job->done, 1);
			atomic_store(&job->phase, cur);
			job_release_if_free(job, cur);
			break;
		default:
			break;
		}
	}
	while (started < dmt->nthreads && ma_thread_create(
			&dmt->threads[started], worker_main, dmt) == 0)
		started++;
	dmt->nthreads = started;
	if (started == 0) {
		/* no worker: jobs run where they start (op_start), and now */
		struct job *job;
		unsigned turn = 0;

		while ((job = queue_take(dmt, &turn)) != NULL)
			worker_run(dmt, job);
	}
}

static void
fork_child(struct ma_fork_node *node)
{
	mover_after_fork(FORK_MOVER(node));
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
	ma_arena_init(&dmt->jobs, sizeof(struct job));
	ma_stack_init(&dmt->free_jobs, &dmt->jobs,
		offsetof(struct job, free_link));
	ma_stack_init(&dmt->overflow, &dmt->jobs,
		offsetof(struct job, overflow_link));
	pthread_mutex_init(&dmt->big_lock, NULL);
	mover_atomic_words(dmt, 1);
	dmt->nthreads = nthreads;

	/* a bigger ring would only cost memory: the overflow takes the rest */
	dmt->queue = ma_ringbuf_new(ringbuf_size < MAX_RING ? ringbuf_size :
		MAX_RING);
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
	ma_fork_register(&dmt->fork, fork_prepare, fork_parent, fork_child);
	return dmt;

err_pool:
	ma_ringbuf_delete(dmt->queue);
err_queue:
	pool_free(dmt);
	MA_ATOMIC_WORDS_END(&dmt->free_jobs.head, sizeof(uint64_t));
	MA_ATOMIC_WORDS_END(&dmt->overflow.head, sizeof(uint64_t));
	mover_atomic_words(dmt, 0);
	pthread_mutex_destroy(&dmt->big_lock);
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
	if (dmt == NULL)
		return;
	ma_fork_unregister(&dmt->fork);
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
