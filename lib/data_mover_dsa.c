/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_dsa.c -- the DSA mover: each operation becomes descriptors
 * for a DSA work queue (a real one, lib/dsa_wq.c, or the model,
 * lib/dsa_model.c), submitted through the one seam of dsa_hw.h.
 *
 * An operation owns a record (struct dsa_op) from the mover's pool. It
 * is cut into pieces of at most the queue's max_transfer_size, handed to
 * the device a round at a time: one descriptor, or, when a round has
 * several pieces and the queue takes batches, one batch of up to
 * max_batch_size members (else several descriptors: where the queue
 * takes no batches, or does not offer the BATCH opcode). An operation
 * whose opcode the queue does not offer (op_cap) is done on the CPU, and
 * a queue without MEMMOVE is refused. A memmove whose
 * ranges overlap runs its pieces in the safe order (upwards when the
 * destination is below the source, else downwards), fenced in a batch,
 * one at a time without one. A round is over when the device wrote every
 * record of it; its outcome moves the pieces on:
 * - success: the piece is done;
 * - page fault (partial completion): bytes_completed are done (the top
 *   ones of a piece the device copied backwards, result 1), the rest of
 *   the piece is done on the CPU when it is small or faulted often, else
 *   the page is touched (written for a write fault) and it goes again;
 * - not run (after a failed member of a fenced batch): it goes again;
 * - an invalid-descriptor status (a bug: never crash on one): the
 *   operation ends with VDM_ERROR_JOB_CORRUPTED once its round is over.
 * Nothing is refused or lost: a dedicated queue gets at most its size in
 * descriptors (the mover counts the entries it holds in wq_free and
 * keeps the rest of a round until entries come back), a refused shared
 * submission is retried with a growing pause, and later polls (or the
 * watcher) retry what still waits.
 *
 * Who moves an operation on, by notifier:
 * - NONE and POLLER: whoever polls it (ma_dsa_poll); a POLLER promise is
 *   the first eight bytes of the record of the round in flight;
 * - WAKER: the mover's watcher thread, which watches every record in
 *   flight in proportion to the work (it sleeps until shortly before a
 *   round's expected end, then spins briefly, with UMWAIT where the
 *   processor has it, then backs off), and calls the waker. The phase
 *   word protects the waker as in the threads mover: RUN -> WAKING (the
 *   waker being called) -> COMPLETE; a poll reports COMPLETE only at the
 *   end, except to the waker's own thread, and op_delete during WAKING
 *   leaves the record for the watcher to give back. An operation started
 *   inside one of those wakers is driven to its end in its first poll,
 *   by the watcher that calls the waker (nobody else would move it on).
 * data_mover_dsa_delete() finishes every started operation first.
 *
 * ma_dsa_poll() is the whole poll with its promise; the four callbacks
 * of struct vdm wrap it (op_check without a notifier).
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "dsa_hw.h"
#include "dsa_mover.h"
#include "movers.h"
#include "fault.h"
#include "fork.h"
#include "internal.h"
#include "mem_ops.h"
#include "park.h"
#include "valgrind.h"
#include "libminiasync/data_mover_dsa.h"

#define MAX_SLOTS 32 /* pieces in one round */
#define MULTI_SLOTS 8 /* ... when each is a descriptor of its own */
#define FAULT_CPU_BYTES 16384 /* rest of a faulted piece done on the CPU */
#define FAULT_RESUBMITS 3 /* faults of one piece before the CPU does it */
#define SUBMIT_TRIES 8 /* refused submissions retried within a poll */
#define LATENCY_NS 2000 /* the device's fixed cost of a descriptor */
#define STUCK_NS 100000000 /* a round this late, or no submission this */
	/* long: is the queue still enabled? (asked at most every ...) */
#define STUCK_ASK_NS 10000000

/* Phases of an operation, in the low bits of its phase word. */
#define P_NEW 0 /* taken by op_new */
#define P_RUN 1 /* started: in the mover or on the device */
#define P_WAKING 2 /* done, its waker being called */
#define P_COMPLETE 3 /* done: the future may complete */
#define P_MASK 3u
#define P_DELETED 4u /* op_delete ran */

/* What drive() found. */
enum drive { D_DONE, D_INFLIGHT, D_PENDING };

/* A piece of the operation: [off, off + len) of its bytes. */
struct slot {
	size_t off, len;
	unsigned faults;
};

/* Descriptors and records for operations of several pieces. */
struct ext {
	struct ma_dsa_desc desc[MAX_SLOTS];
	struct ma_dsa_record rec[MAX_SLOTS];
};

struct dsa_op {
	struct ma_dsa_desc desc; /* the only piece's, or the batch's */
	struct ma_dsa_record rec; /* the only piece's record */
	struct ma_dsa_record brec; /* the batch's record */
	_Atomic uint32_t phase; /* P_* */
	struct data_mover_dsa *dmd;
	struct vdm_operation op;
	struct ext *ext; /* kept for reuse once allocated */
	pthread_mutex_t lock; /* its progress, and the waker */
	struct future_waker waker;
	int armed;
	/* progress, touched by the one thread moving it on */
	size_t total, next; /* bytes, and those handed to slots */
	int ordered, backward, error, cpu_flush;
	uint32_t dflags; /* descriptor flags besides CRAV and RCR */
	unsigned opcode;
	unsigned nslots; /* slots holding work */
	struct slot slot[MAX_SLOTS];
	unsigned round; /* slots in the round in flight, 0: none */
	unsigned submitted; /* descriptors of it submitted */
	int batch; /* the round is one batch descriptor */
	uint32_t held; /* dedicated entries it holds: bit i, descriptor i */
	uint64_t expect_ns; /* when the round should be done */
	struct dsa_op *next_all, *next_free, *next_active;
};

struct data_mover_dsa {
	struct vdm vdm; /* first: op_new gets the mover from it */
	struct ma_dsa_wq *wq;
	enum future_notifier_type notifier;
	uint32_t cc_flags; /* MA_DSA_F_BOF where the queue allows it */
	int drdbk; /* the device reads destinations back */
	_Atomic uint32_t wq_free; /* dedicated entries not held */
	_Atomic int wq_failed; /* a submission failed for good: CPU only */
	_Atomic int wq_dead; /* disabled: what it held is lost, too */
	_Atomic uint64_t stuck_since; /* submissions refused since, or 0 */
	_Atomic uint64_t asked_at; /* when enabled() was last asked */

	pthread_mutex_t pool_lock; /* guards all and free */
	struct dsa_op *all, *free;

	/* WAKER: the watcher and the operations it watches */
	pthread_mutex_t active_lock; /* guards active */
	struct dsa_op *active; /* newest first */
	_Atomic int short_of_entries; /* the watcher holds some that wait */
	pthread_t watcher;
	int has_watcher;
	_Atomic uint32_t wseq; /* futex word: new work or stop */
	_Atomic int stop;

	struct ma_fork_node fork; /* its fork handlers (fork.h) */
};

/* The operation whose waker this thread is calling. */
static _Thread_local const struct dsa_op *waking_op;

static int have_waitpkg; /* UMONITOR and UMWAIT */

/* The destination and source of the operation (NULL: none). */
static char *
op_dst(const struct vdm_operation *op)
{
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		return op->data.memcpy.dest;
	case VDM_OPERATION_MEMMOVE:
		return op->data.memmove.dest;
	case VDM_OPERATION_MEMSET:
		return op->data.memset.str;
	default:
		return op->data.flush.dest;
	}
}

static const char *
op_src(const struct vdm_operation *op)
{
	if (op->type == VDM_OPERATION_MEMCPY)
		return op->data.memcpy.src;
	if (op->type == VDM_OPERATION_MEMMOVE)
		return op->data.memmove.src;
	return NULL;
}

static uint64_t
op_flags(const struct vdm_operation *op)
{
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		return op->data.memcpy.flags;
	case VDM_OPERATION_MEMMOVE:
		return op->data.memmove.flags;
	case VDM_OPERATION_MEMSET:
		return op->data.memset.flags;
	default:
		return op->data.flush.flags;
	}
}

static struct ma_dsa_desc *
slot_desc(struct dsa_op *o, unsigned i)
{
	return o->ext != NULL ? &o->ext->desc[i] : &o->desc;
}

static struct ma_dsa_record *
slot_rec(struct dsa_op *o, unsigned i)
{
	return o->ext != NULL ? &o->ext->rec[i] : &o->rec;
}

/* The opcode of an operation's descriptors. */
static unsigned
op_opcode(const struct vdm_operation *op)
{
	switch (op->type) {
	case VDM_OPERATION_MEMSET:
		return MA_DSA_OP_MEMFILL;
	case VDM_OPERATION_FLUSH:
		return MA_DSA_OP_CFLUSH;
	default:
		return MA_DSA_OP_MEMMOVE;
	}
}

/*
 * The descriptor flags of an operation (see miniasync_vdm_dsa(7)):
 * CC unless VDM_F_NO_CACHE_HINT or a durable write with readback, and
 * only where gen_cap lets the opcode have it (the device takes CC on a
 * memmove or fill only with CC_MEM, on a flush only with CC_FLUSH);
 * DRDBK for VDM_F_MEM_DURABLE where the device has it, else the CPU
 * writes the destination back after completion; BOF where allowed.
 */
static void
op_plan(struct dsa_op *o)
{
	struct data_mover_dsa *dmd = o->dmd;
	uint64_t flags = op_flags(&o->op);
	uint64_t cc_cap;
	uint32_t f = dmd->cc_flags;

	o->cpu_flush = 0;
	o->opcode = op_opcode(&o->op);
	cc_cap = o->opcode == MA_DSA_OP_CFLUSH ? MA_DSA_CAP_CC_FLUSH :
		MA_DSA_CAP_CC_MEM;
	if (!(flags & VDM_F_NO_CACHE_HINT) && (dmd->wq->gen_cap & cc_cap))
		f |= MA_DSA_F_CC;
	if ((flags & VDM_F_MEM_DURABLE) && o->opcode != MA_DSA_OP_CFLUSH) {
		if (dmd->drdbk)
			f = (f & ~MA_DSA_F_CC) | MA_DSA_F_DRDBK;
		else
			o->cpu_flush = 1;
	}
	o->dflags = f;

	const char *s = op_src(&o->op);
	char *d = op_dst(&o->op);

	o->ordered = 0;
	o->backward = 0;
	if (s != NULL && o->total > dmd->wq->max_transfer_size &&
			(uintptr_t)d < (uintptr_t)s + o->total &&
			(uintptr_t)s < (uintptr_t)d + o->total) {
		o->ordered = 1;
		o->backward = (uintptr_t)d > (uintptr_t)s;
	}
}

/* Nonzero when o is a memmove (or memcpy) between overlapping ranges. */
static int
op_overlaps(const struct dsa_op *o)
{
	uintptr_t s = (uintptr_t)op_src(&o->op);
	uintptr_t d = (uintptr_t)op_dst(&o->op);

	return s != 0 && d < s + o->total && s < d + o->total;
}

/* Builds the descriptor of slot i (fenced: after the earlier members). */
static void
desc_build(struct dsa_op *o, unsigned i, int fence)
{
	struct ma_dsa_desc *d = slot_desc(o, i);
	struct ma_dsa_record *r = slot_rec(o, i);
	const struct slot *sl = &o->slot[i];
	uint32_t flags = MA_DSA_F_CRAV | MA_DSA_F_RCR | o->dflags;

	memset(d, 0, sizeof(*d));
	memset(r, 0, sizeof(*r));
	if (fence)
		flags |= MA_DSA_F_FENCE;
	d->flags_opcode = ma_dsa_flags_opcode(flags, o->opcode);
	d->completion_addr = (uintptr_t)r;
	d->dst = (uintptr_t)(op_dst(&o->op) + sl->off);
	if (o->opcode == MA_DSA_OP_MEMMOVE) {
		d->src = (uintptr_t)(op_src(&o->op) + sl->off);
	} else if (o->opcode == MA_DSA_OP_MEMFILL) {
		uint64_t c = (uint8_t)o->op.data.memset.c;

		d->src = c * 0x0101010101010101ull;
	}
	d->size = (uint32_t)sl->len;
}

/*
 * Starts a new round: drops the finished slots (keeping the order),
 * fills free ones from the bytes not yet handed out, and builds the
 * descriptors. Returns the slots of the round, 0 when all is done.
 */
static unsigned
round_build(struct dsa_op *o)
{
	struct ma_dsa_wq *wq = o->dmd->wq;
	int batches = wq->max_batch_size >= 2 && o->ext != NULL &&
		!wq->via_write && (wq->op_cap & MA_DSA_OPBIT(MA_DSA_OP_BATCH));
	unsigned cap, n = 0;

	if (batches)
		cap = wq->max_batch_size < MAX_SLOTS ? wq->max_batch_size :
			MAX_SLOTS;
	else if (o->ordered || o->ext == NULL)
		cap = 1;
	else
		cap = MULTI_SLOTS;
	for (unsigned i = 0; i < o->nslots; i++)
		if (o->slot[i].len != 0)
			o->slot[n++] = o->slot[i];
	while (n < cap && o->next < o->total) {
		size_t len = o->total - o->next;
		struct slot *sl = &o->slot[n++];

		if (len > wq->max_transfer_size)
			len = wq->max_transfer_size;
		sl->off = o->backward ? o->total - o->next - len : o->next;
		sl->len = len;
		sl->faults = 0;
		o->next += len;
	}
	if (n > cap)
		n = cap; /* (cannot be: slots left never exceed a round) */
	o->nslots = n;
	o->round = n;
	o->submitted = 0;
	o->batch = n >= 2 && batches;
	for (unsigned i = 0; i < n; i++)
		desc_build(o, i, o->batch && o->ordered && i > 0);
	if (o->batch) {
		struct ma_dsa_desc *b = &o->desc;

		memset(b, 0, sizeof(*b));
		memset(&o->brec, 0, sizeof(o->brec));
		b->flags_opcode = ma_dsa_flags_opcode(MA_DSA_F_CRAV |
			MA_DSA_F_RCR | (o->dmd->cc_flags & MA_DSA_F_BOF),
			MA_DSA_OP_BATCH);
		b->completion_addr = (uintptr_t)&o->brec;
		b->src = (uintptr_t)o->ext->desc;
		b->size = n;
	}
	return n;
}

/* Does the rest of slot i on the CPU. */
static void
slot_cpu(struct dsa_op *o, unsigned i)
{
	struct slot *sl = &o->slot[i];

	ma_op_run(&ma_mem_fns_lib, &o->op, sl->off, sl->len);
	sl->len = 0;
}

/*
 * Does descriptor i of the round (the batch: every member) on the CPU
 * and writes its record(s) as the device would: for a queue that failed.
 */
static void
desc_cpu(struct dsa_op *o, unsigned i)
{
	unsigned from = o->batch ? 0 : i, to = o->batch ? o->round : i + 1;

	for (unsigned k = from; k < to; k++) {
		slot_cpu(o, k);
		__atomic_store_n(&slot_rec(o, k)->status, MA_DSA_S_SUCCESS,
			__ATOMIC_RELEASE);
	}
	if (o->batch)
		__atomic_store_n(&o->brec.status, MA_DSA_S_SUCCESS,
			__ATOMIC_RELEASE);
}

/* Holds k entries of a dedicated queue; 0 when it cannot now. */
static int
entries_hold(struct data_mover_dsa *dmd, unsigned k)
{
	uint32_t cur = atomic_load_explicit(&dmd->wq_free,
		memory_order_relaxed);

	do {
		if (cur < k)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(&dmd->wq_free, &cur,
		cur - k, memory_order_relaxed, memory_order_relaxed));
	return 1;
}

static void
entries_release(struct data_mover_dsa *dmd, unsigned k)
{
	if (k != 0)
		atomic_fetch_add_explicit(&dmd->wq_free, k,
			memory_order_relaxed);
}

/*
 * Whether the queue was disabled under the mover (asked of the queue at
 * most every STUCK_ASK_NS, by one thread): then it ran nothing it held
 * and will take nothing more, and the mover does it all on the CPU.
 */
static int
queue_dead(struct data_mover_dsa *dmd)
{
	/* relaxed: hints; whoever misses one asks again later */
	if (atomic_load_explicit(&dmd->wq_dead, memory_order_relaxed))
		return 1;
	if (dmd->wq->enabled == NULL)
		return 0;

	uint64_t now = ma_now_ns();
	uint64_t last = atomic_load_explicit(&dmd->asked_at,
		memory_order_relaxed);

	if (last != 0 && now - last < STUCK_ASK_NS)
		return 0;
	if (!atomic_compare_exchange_strong_explicit(&dmd->asked_at, &last,
			now, memory_order_relaxed, memory_order_relaxed))
		return 0;
	if (dmd->wq->enabled(dmd->wq))
		return 0;
	atomic_store_explicit(&dmd->wq_failed, 1, memory_order_relaxed);
	atomic_store_explicit(&dmd->wq_dead, 1, memory_order_relaxed);
	return 1;
}

/*
 * Hands one descriptor to the queue: 0 when it took it, 1 when it cannot
 * now (refused, or a dedicated queue's entries are all held), -1 when it
 * never will (a failed write(2), a disabled queue): the caller does the
 * descriptor's work on the CPU.
 */
static int
submit(struct data_mover_dsa *dmd, const struct ma_dsa_desc *d)
{
	struct ma_dsa_wq *wq = dmd->wq;
	int r;

	/* relaxed: a hint; a late reader only tries the queue once more */
	if (atomic_load_explicit(&dmd->wq_failed, memory_order_relaxed))
		return -1;
	if (wq->mode == MA_DSA_DEDICATED) {
		if (!entries_hold(dmd, 1))
			return 1;
		r = wq->submit(wq, d);
		if (r != 0) /* write(2) failed: not queued */
			entries_release(dmd, 1);
	} else {
		for (unsigned t = 0; (r = wq->submit(wq, d)) > 0 &&
				t < SUBMIT_TRIES; t++) {
			for (unsigned p = 0; p < (1u << t); p++)
				ma_cpu_relax();
		}
	}
	if (r < 0)
		atomic_store_explicit(&dmd->wq_failed, 1,
			memory_order_relaxed);
	if (r > 0) {
		/* relaxed: a clock for the check below, races harmless */
		uint64_t now = ma_now_ns();
		uint64_t since = atomic_load_explicit(&dmd->stuck_since,
			memory_order_relaxed);

		if (since == 0)
			atomic_store_explicit(&dmd->stuck_since, now,
				memory_order_relaxed);
		else if (now - since > STUCK_NS && queue_dead(dmd))
			return -1;
	} else if (r == 0 && atomic_load_explicit(&dmd->stuck_since,
			memory_order_relaxed) != 0) {
		atomic_store_explicit(&dmd->stuck_since, 0,
			memory_order_relaxed);
	}
	return r;
}

/* The record of the round's descriptor i (the batch's: only i = 0). */
static struct ma_dsa_record *
desc_rec(struct dsa_op *o, unsigned i)
{
	return o->batch ? &o->brec : slot_rec(o, i);
}

/* Gives back the entries of the descriptors the device finished. */
static void
entries_done(struct dsa_op *o)
{
	unsigned done = 0;

	for (uint32_t h = o->held; h != 0; h &= h - 1) {
		unsigned i = (unsigned)__builtin_ctz(h);

		if (ma_dsa_record_status(desc_rec(o, i)) != 0) {
			o->held &= ~(1u << i);
			done++;
		}
	}
	entries_release(o->dmd, done);
}

/*
 * A dedicated queue is full of entries held by descriptors the device
 * may have finished while nobody polls their operations: give those
 * back (each operation's lock, tried: its own poller may be at it). The
 * caller holds no operation's lock.
 */
static void
entries_reap(struct data_mover_dsa *dmd)
{
	struct dsa_op *o;

	pthread_mutex_lock(&dmd->pool_lock);
	o = dmd->all;
	pthread_mutex_unlock(&dmd->pool_lock);
	for (; o != NULL; o = o->next_all) { /* links never change */
		if (pthread_mutex_trylock(&o->lock) != 0)
			continue;
		entries_done(o);
		pthread_mutex_unlock(&o->lock);
	}
}

/* Submits what the round has left; nonzero when all of it went. */
static int
round_submit(struct dsa_op *o)
{
	struct data_mover_dsa *dmd = o->dmd;
	unsigned want = o->batch ? 1 : o->round;
	size_t bytes = 0;

	while (o->submitted < want) {
		const struct ma_dsa_desc *d = o->batch ? &o->desc :
			slot_desc(o, o->submitted);

		int r = submit(dmd, d);

		if (r > 0)
			return 0;
		if (r < 0)
			desc_cpu(o, o->submitted); /* the queue failed */
		else if (dmd->wq->mode == MA_DSA_DEDICATED)
			o->held |= 1u << o->submitted;
		o->submitted++;
	}
	for (unsigned i = 0; i < o->round; i++)
		bytes += o->slot[i].len;
	o->expect_ns = ma_now_ns() + LATENCY_NS +
		bytes * 1000 / (dmd->wq->rate ? dmd->wq->rate : 1);
	return 1;
}

/* The record whose first word turns nonzero next in the round. */
static struct ma_dsa_record *
round_word(struct dsa_op *o)
{
	if (o->batch)
		return &o->brec;
	for (unsigned i = 0; i < o->round; i++)
		if (ma_dsa_record_status(slot_rec(o, i)) == 0)
			return slot_rec(o, i);
	return slot_rec(o, 0);
}

/* Nonzero when the device wrote every record of the round. */
static int
round_done(struct dsa_op *o)
{
	if (o->batch)
		return ma_dsa_record_status(&o->brec) != 0;
	for (unsigned i = 0; i < o->round; i++)
		if (ma_dsa_record_status(slot_rec(o, i)) == 0)
			return 0;
	return 1;
}

/* Makes the page of a fault present: reads it, or writes it unchanged. */
static void
page_touch(uint64_t fault_addr, const char *lo, size_t len, int write)
{
	uintptr_t page = (uintptr_t)fault_addr & ~(uintptr_t)(MA_DSA_PAGE - 1);
	uintptr_t at = page > (uintptr_t)lo ? page : (uintptr_t)lo;

	if (len == 0 || at >= (uintptr_t)lo + len)
		return; /* not ours: nothing to touch */
	if (write)
		__atomic_fetch_or((unsigned char *)at, 0, __ATOMIC_RELAXED);
	else
		(void)*(volatile const unsigned char *)at;
}


/*
 * The round is over: each piece is done, shorter, or as it was; the
 * operation fails on a status no correct descriptor gets.
 */
static void
round_finish(struct dsa_op *o)
{
	int blocked = 0; /* an earlier piece of an ordered op goes again */

	/* the device's writes before each record's status (see the model) */
	MA_HAPPENS_AFTER(&o->brec);
	for (unsigned i = 0; i < o->round; i++)
		MA_HAPPENS_AFTER(slot_rec(o, i));
	entries_release(o->dmd, (unsigned)__builtin_popcount(o->held));
	o->held = 0;
	if (o->batch) {
		uint8_t st = o->brec.status & MA_DSA_S_MASK;

		if (st != MA_DSA_S_SUCCESS && st != MA_DSA_S_BATCH_FAIL &&
				st != MA_DSA_S_BATCH_PAGE_FAULT)
			o->error = 1;
	}
	for (unsigned i = 0; i < o->round && !o->error; i++) {
		struct ma_dsa_record *r = slot_rec(o, i);
		struct slot *sl = &o->slot[i];
		uint8_t raw = ma_dsa_record_status(r);
		uint8_t st = raw & MA_DSA_S_MASK;

		if (st == MA_DSA_S_SUCCESS) {
			sl->len = 0;
			continue;
		}
		if (st == MA_DSA_S_NONE) { /* not run: goes again */
			blocked = 1;
			continue;
		}
		if (st != MA_DSA_S_PAGE_FAULT || r->bytes_completed > sl->len) {
			o->error = 1;
			break;
		}

		/* a flush needs no write access: its page is only read */
		int write = (raw & MA_DSA_S_WRITE_FAULT) != 0 &&
			o->opcode != MA_DSA_OP_CFLUSH;
		const char *base = write || o->opcode != MA_DSA_OP_MEMMOVE ?
			op_dst(&o->op) : op_src(&o->op);

		page_touch(r->fault_addr, base + sl->off, sl->len, write);
		if (o->opcode == MA_DSA_OP_MEMMOVE && r->result == 1) {
			sl->len -= r->bytes_completed; /* the top was done */
		} else {
			sl->off += r->bytes_completed;
			sl->len -= r->bytes_completed;
		}
		sl->faults++;
		if (sl->len != 0 && (!o->ordered || !blocked) &&
				(sl->len <= FAULT_CPU_BYTES ||
				sl->faults > FAULT_RESUBMITS))
			slot_cpu(o, i);
		if (sl->len != 0)
			blocked = 1;
	}
	o->round = 0;
}

/*
 * Nonzero when the device will write no more records of the round: the
 * queue was disabled (found out once the round is STUCK_NS late).
 */
static int
round_lost(struct dsa_op *o)
{
	return atomic_load_explicit(&o->dmd->wq_dead, memory_order_relaxed) ||
		(ma_now_ns() > o->expect_ns + STUCK_NS && queue_dead(o->dmd));
}

/*
 * The round was lost with its queue: the CPU does each piece whose
 * record the device did not write, in the round's order (for an ordered
 * memmove only up to a piece the device left unfinished, which
 * round_finish goes on with), and writes its record as the device would.
 */
static void
round_adopt(struct dsa_op *o)
{
	for (unsigned i = 0; i < o->round; i++) {
		struct ma_dsa_record *r = slot_rec(o, i);
		uint8_t st = ma_dsa_record_status(r) & MA_DSA_S_MASK;

		if (st == MA_DSA_S_NONE) {
			slot_cpu(o, i);
			__atomic_store_n(&r->status, MA_DSA_S_SUCCESS,
				__ATOMIC_RELEASE);
		} else if (st != MA_DSA_S_SUCCESS && o->ordered) {
			break;
		}
	}
	if (o->batch && ma_dsa_record_status(&o->brec) == 0)
		__atomic_store_n(&o->brec.status, MA_DSA_S_SUCCESS,
			__ATOMIC_RELEASE);
}

/*
 * Moves the operation on as far as it goes without waiting: finishes
 * the round in flight if it is over, then submits the next.
 */
static enum drive
drive_locked(struct dsa_op *o)
{
	for (;;) {
		if (o->round != 0) {
			unsigned want = o->batch ? 1 : o->round;

			if (o->submitted < want && !round_submit(o))
				return D_PENDING;
			if (!round_done(o)) {
				if (!round_lost(o))
					return D_INFLIGHT;
				round_adopt(o);
			}
			round_finish(o);
		}
		if (o->error || round_build(o) == 0)
			break;
	}
	if (!o->error && o->cpu_flush)
		ma_flush(op_dst(&o->op), o->total);
	return D_DONE;
}

/* drive_locked() under the operation's lock. */
static enum drive
drive(struct dsa_op *o)
{
	enum drive r;

	pthread_mutex_lock(&o->lock);
	r = drive_locked(o);
	pthread_mutex_unlock(&o->lock);
	if (r == D_PENDING && o->dmd->wq->mode == MA_DSA_DEDICATED) {
		/* short of entries: take back finished ones, try again */
		entries_reap(o->dmd);
		pthread_mutex_lock(&o->lock);
		r = drive_locked(o);
		pthread_mutex_unlock(&o->lock);
	}
	return r;
}

/*
 * Waits for the record's status, in proportion (see the file's top), at
 * most until STUCK_NS past expect_ns: 1 when it was written, else 0.
 */
static int
record_wait(const struct ma_dsa_record *r, uint64_t expect_ns)
{
	struct ma_spin spin;
	uint64_t now = ma_now_ns();
	uint64_t sleep_ns = MA_DEVICE_BACKOFF_MIN_NS;

	if (now > expect_ns + STUCK_NS) {
		/* long overdue: one look after a pause; the caller asks */
		struct timespec ts = { 0, MA_DEVICE_BACKOFF_MAX_NS };

		if (ma_dsa_record_status(r) == 0)
			nanosleep(&ts, NULL);
		return ma_dsa_record_status(r) != 0;
	}
	if (expect_ns > now + MA_DEVICE_SLEEP_AHEAD_NS) {
		uint64_t ns = expect_ns - now - MA_DEVICE_WAKE_EARLY_NS;
		struct timespec ts = {
			.tv_sec = (time_t)(ns / 1000000000u),
			.tv_nsec = (long)(ns % 1000000000u),
		};

		nanosleep(&ts, NULL);
		now = ma_now_ns();
	}
	for (uint64_t spin_ns = ma_device_spin_ns(expect_ns, now);;
			spin_ns = MA_DEVICE_SPIN_NS) {
		for (ma_spin_begin(&spin); ma_spin_step(&spin, spin_ns);) {
			if (ma_dsa_record_status(r) != 0)
				return 1;
#if defined(__x86_64__)
			if (have_waitpkg) {
				/* UMONITOR the record, UMWAIT (C0.1) a while */
				uint64_t until = __rdtsc() + 100000;

				__asm__ __volatile__(
					".byte 0xf3, 0x0f, 0xae, 0xf0"
					:: "a"(r) : "memory");
				if (ma_dsa_record_status(r) != 0)
					return 1;
				__asm__ __volatile__(
					".byte 0xf2, 0x0f, 0xae, 0xf1"
					:: "c"(1), "a"((uint32_t)until),
					"d"((uint32_t)(until >> 32))
					: "cc", "memory");
			}
#endif
		}
		if (ma_dsa_record_status(r) != 0)
			return 1;
		if (ma_now_ns() > expect_ns + STUCK_NS)
			return 0;

		struct timespec ts = { 0, (long)sleep_ns };

		nanosleep(&ts, NULL);
		if (sleep_ns < MA_DEVICE_BACKOFF_MAX_NS)
			sleep_ns *= 2;
	}
}

/* Ends the operation on the mover's side (not for the watcher). */
static void
op_end(struct dsa_op *o)
{
	MA_HAPPENS_BEFORE(&o->phase);
	/* release: the bytes and the outcome, to the poll's acquire */
	atomic_store_explicit(&o->phase, P_COMPLETE, memory_order_release);
}

/*
 * Moves every started operation on until all are done, waiting for the
 * device in proportion (data_mover_dsa_delete, nobody polls any more).
 */
static void
drive_all_to_end(struct data_mover_dsa *dmd)
{
	for (;;) {
		struct dsa_op *wait = NULL;
		int left = 0;

		for (struct dsa_op *o = dmd->all; o != NULL; o = o->next_all) {
			/* acquire: the last poll's work on it */
			uint32_t cur = atomic_load_explicit(&o->phase,
				memory_order_acquire);

			if ((cur & P_MASK) != P_RUN)
				continue;

			enum drive r = drive(o);

			if (r == D_DONE) {
				op_end(o);
				continue;
			}
			left = 1;
			if (r == D_INFLIGHT && wait == NULL)
				wait = o;
		}
		if (!left)
			return;
		if (wait != NULL)
			record_wait(round_word(wait), wait->expect_ns);
		else
			sched_yield();
	}
}

/* Gives the record back to the pool. */
static void
op_free(struct dsa_op *o)
{
	struct data_mover_dsa *dmd = o->dmd;

	MA_HAPPENS_BEFORE(&o->phase);
	pthread_mutex_lock(&dmd->pool_lock);
	o->next_free = dmd->free;
	dmd->free = o;
	pthread_mutex_unlock(&dmd->pool_lock);
}

static void *
dsa_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	struct data_mover_dsa *dmd = (struct data_mover_dsa *)vdm;
	struct dsa_op *o;

	(void)type;
	pthread_mutex_lock(&dmd->pool_lock);
	o = dmd->free;
	if (o != NULL) {
		dmd->free = o->next_free;
	} else {
		o = ma_aligned_alloc(64, (sizeof(*o) + 63) / 64 * 64);
		if (o != NULL) {
			memset(o, 0, sizeof(*o));
			o->dmd = dmd;
			pthread_mutex_init(&o->lock, NULL);
			MA_ATOMIC_WORDS(&o->phase, sizeof(o->phase));
			/* the records' first words: the device's atomics */
			MA_ATOMIC_WORDS(&o->rec, sizeof(uint64_t));
			MA_ATOMIC_WORDS(&o->brec, sizeof(uint64_t));
			o->next_all = dmd->all;
			dmd->all = o;
		}
	}
	pthread_mutex_unlock(&dmd->pool_lock);
	if (o == NULL)
		return NULL;
	MA_HAPPENS_AFTER(&o->phase);
	atomic_store_explicit(&o->phase, P_NEW, memory_order_relaxed);
	return o;
}

static void
dsa_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	struct dsa_op *o = data;

	if (o->error) {
		output->type = operation->type;
		output->result = VDM_ERROR_JOB_CORRUPTED;
		output->output.memcpy.dest = NULL;
	} else {
		ma_op_output(operation, output);
	}
	/* acq_rel: our reads of the record before its reuse */
	uint32_t was = atomic_fetch_or_explicit(&o->phase, P_DELETED,
		memory_order_acq_rel);

	if ((was & P_MASK) != P_WAKING)
		op_free(o); /* else the watcher gives it back */
}


/* Wakes the watcher for new work or the stop. */
static void
watcher_call(struct data_mover_dsa *dmd)
{
	atomic_fetch_add_explicit(&dmd->wseq, 1, memory_order_seq_cst);
	ma_park_wake((const uint32_t *)&dmd->wseq, 1);
}

static int
dsa_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	struct dsa_op *o = data;
	struct data_mover_dsa *dmd = o->dmd;

	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	pthread_mutex_lock(&o->lock); /* against a reaper of entries */
	o->op = *operation;
	o->total = ma_op_size(operation);
	o->next = 0;
	o->nslots = 0;
	o->round = 0;
	o->error = 0;
	o->held = 0;
	o->armed = 0;
	if (o->total == 0 || !ma_op_valid(operation)) {
		pthread_mutex_unlock(&o->lock);
		op_end(o); /* nothing to write (op_delete tells which) */
		return 0;
	}
	/*
	 * The CPU does it, now, where the device cannot move between
	 * overlapping ranges, the queue does not run the opcode, or there
	 * is no room to split it.
	 */
	int cpu = (!(dmd->wq->gen_cap & MA_DSA_CAP_OVERLAP) &&
		op_overlaps(o)) ||
		!(dmd->wq->op_cap & MA_DSA_OPBIT(op_opcode(operation)));

	if (!cpu && o->total > dmd->wq->max_transfer_size && o->ext == NULL) {
		o->ext = ma_aligned_alloc(64, sizeof(*o->ext));
		if (o->ext != NULL) /* records: the device's atomics */
			MA_ATOMIC_WORDS(o->ext->rec, sizeof(o->ext->rec));
		else
			cpu = 1;
	}
	if (cpu) {
		pthread_mutex_unlock(&o->lock);
		ma_op_run(&ma_mem_fns_lib, operation, 0, o->total);
		op_end(o);
		return 0;
	}
	op_plan(o);
	pthread_mutex_unlock(&o->lock);
	atomic_store_explicit(&o->phase, P_RUN, memory_order_relaxed);
	if (dmd->notifier != FUTURE_NOTIFIER_WAKER) {
		ma_dsa_poll(o, n);
		return 0;
	}
	if (waking_op != NULL && waking_op->dmd == dmd) {
		/*
		 * Started inside a waker this mover's watcher calls: the
		 * watcher would move it on only once the waker returned, and
		 * a waker waiting for it would wait for ever. Done here.
		 */
		enum drive r;

		while ((r = drive(o)) != D_DONE) {
			if (r == D_INFLIGHT)
				record_wait(round_word(o), o->expect_ns);
			else
				sched_yield();
		}
		op_end(o);
		return 0;
	}
	/*
	 * The first moves are made here, unless operations wait for a
	 * dedicated queue's entries: then only the watcher takes entries,
	 * for the oldest first, so that no new operation overtakes them
	 * (relaxed: a hint, which a late reader only reads once more).
	 */
	if (!atomic_load_explicit(&dmd->short_of_entries,
			memory_order_relaxed) && drive(o) == D_DONE) {
		op_end(o);
		return 0;
	}
	if (n != NULL && n->waker.wake != NULL) {
		/* a notifier without a waker (zeroed) gets no promise */
		o->waker = n->waker;
		o->armed = 1;
		n->notifier_used = FUTURE_NOTIFIER_WAKER;
	}
	pthread_mutex_lock(&dmd->active_lock);
	o->next_active = dmd->active;
	dmd->active = o;
	pthread_mutex_unlock(&dmd->active_lock);
	watcher_call(dmd);
	return 0;
}

enum future_state
ma_dsa_poll(void *data, struct future_notifier *n)
{
	struct dsa_op *o = data;
	struct data_mover_dsa *dmd = o->dmd;
	/* acquire: pairs with the release of COMPLETE */
	uint32_t cur = atomic_load_explicit(&o->phase, memory_order_acquire);

	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	if ((cur & P_MASK) == P_COMPLETE) {
		MA_HAPPENS_AFTER(&o->phase);
		return FUTURE_STATE_COMPLETE;
	}
	if (dmd->notifier != FUTURE_NOTIFIER_WAKER) {
		enum drive r = drive(o);

		if (r == D_DONE) {
			op_end(o);
			return FUTURE_STATE_COMPLETE;
		}
		if (r == D_INFLIGHT && n != NULL &&
				dmd->notifier == FUTURE_NOTIFIER_POLLER) {
			n->notifier_used = FUTURE_NOTIFIER_POLLER;
			n->poller.ptr_to_monitor =
				(uint64_t *)(void *)round_word(o);
			/* the device's word, due at the round's end */
			ma_promised.word = n->poller.ptr_to_monitor;
			ma_promised.due_ns = o->expect_ns != 0 ?
				o->expect_ns : 1;
		}
		return FUTURE_STATE_RUNNING;
	}
	/* WAKER: the watcher moves it on; arm this poll's waker */
	if ((cur & P_MASK) == P_WAKING)
		return waking_op == o ? FUTURE_STATE_COMPLETE :
			FUTURE_STATE_RUNNING;
	if (n == NULL || n->waker.wake == NULL) /* nothing to arm */
		return FUTURE_STATE_RUNNING;
	pthread_mutex_lock(&o->lock);
	cur = atomic_load_explicit(&o->phase, memory_order_acquire);
	if ((cur & P_MASK) == P_RUN) {
		o->waker = n->waker;
		o->armed = 1;
		n->notifier_used = FUTURE_NOTIFIER_WAKER;
	}
	pthread_mutex_unlock(&o->lock);
	if ((cur & P_MASK) == P_COMPLETE) {
		MA_HAPPENS_AFTER(&o->phase);
		return FUTURE_STATE_COMPLETE;
	}
	return FUTURE_STATE_RUNNING;
}

static enum future_state
dsa_op_check(void *data, const struct vdm_operation *operation)
{
	(void)operation;
	return ma_dsa_poll(data, NULL);
}

/* The vdm task's poll (movers.h): later polls promise to their notifier. */
static enum future_state
dsa_poll(void *data, const struct vdm_operation *operation, int first,
	struct future_notifier *n, struct vdm_operation_output *output)
{
	enum future_state state;

	if (first) {
		if (dsa_op_start(data, operation, n) != 0)
			return FUTURE_STATE_IDLE;
		state = dsa_op_check(data, operation);
	} else {
		state = ma_dsa_poll(data, n);
	}
	if (state == FUTURE_STATE_COMPLETE)
		dsa_op_delete(data, operation, output);
	return state;
}

MA_KEEP_LIBRARY_TASK(dsa_task);

const struct ma_mover_ops ma_dsa_mover_ops = {
	.op_start = dsa_op_start,
	.op_check = dsa_op_check,
	.op_delete = dsa_op_delete,
	.poll = dsa_poll,
};

static int
dsa_has_property(void *future, enum future_property property)
{
	(void)future;
	return property == FUTURE_PROPERTY_ASYNC;
}

/* The list of operations linked by next_active, in reverse order. */
static struct dsa_op *
ops_reverse(struct dsa_op *list)
{
	struct dsa_op *rev = NULL;

	while (list != NULL) {
		struct dsa_op *o = list;

		list = o->next_active;
		o->next_active = rev;
		rev = o;
	}
	return rev;
}

/* The watcher's end of an operation: COMPLETE, through the waker. */
static void
watcher_complete(struct dsa_op *o)
{
	struct future_waker waker;
	int armed;

	pthread_mutex_lock(&o->lock);
	armed = o->armed;
	waker = o->waker;
	MA_HAPPENS_BEFORE(&o->phase);
	/* release: the bytes, to the poll's acquire */
	atomic_store_explicit(&o->phase, armed ? P_WAKING : P_COMPLETE,
		memory_order_release);
	pthread_mutex_unlock(&o->lock);
	if (!armed)
		return;
	waking_op = o;
	FUTURE_WAKER_WAKE(&waker);
	waking_op = NULL;

	uint32_t expected = P_WAKING;

	/*
	 * The waker's own accesses (to memory the poller frees once it sees
	 * COMPLETE) come before the poll that sees it, for helgrind too.
	 */
	MA_HAPPENS_BEFORE(&o->phase);
	/* release: the end of our use; acquire: op_delete's mark */
	if (!atomic_compare_exchange_strong_explicit(&o->phase, &expected,
			P_COMPLETE, memory_order_acq_rel, memory_order_acquire))
		op_free(o); /* deleted from inside the waker */
}

/*
 * The watcher (WAKER movers): moves every active operation on, calls
 * the wakers of those done, and waits in proportion to the work left.
 */
static void *
watcher_main(void *arg)
{
	struct data_mover_dsa *dmd = arg;
	uint64_t late_ns = MA_DEVICE_BACKOFF_MIN_NS;

	for (;;) {
		/* acquire: the operations pushed before the bump */
		uint32_t seen = atomic_load_explicit(&dmd->wseq,
			memory_order_acquire);
		struct dsa_op *list, *keep = NULL, *done = NULL;
		struct dsa_op *first = NULL; /* the soonest round in flight */
		int pending = 0, progress = 0;

		pthread_mutex_lock(&dmd->active_lock);
		list = ops_reverse(dmd->active); /* oldest first */
		dmd->active = NULL;
		pthread_mutex_unlock(&dmd->active_lock);
		while (list != NULL) {
			struct dsa_op *o = list;
			/* only this thread drives a WAKER operation */
			uint64_t round_was = o->expect_ns;
			enum drive r = drive(o);

			list = o->next_active;
			if (r == D_DONE) {
				o->next_active = done;
				done = o;
				progress = 1;
				continue;
			}
			/*
			 * A new round went in: the device is on time again, so
			 * the next lateness is watched from the shortest pause,
			 * not the longest, round after round.
			 */
			if (o->expect_ns != round_was)
				progress = 1;
			if (r == D_PENDING)
				pending = 1;
			else if (first == NULL ||
					o->expect_ns < first->expect_ns)
				first = o;
			o->next_active = keep;
			keep = o;
		}
		/* relaxed: a hint to dsa_op_start */
		atomic_store_explicit(&dmd->short_of_entries, pending &&
			dmd->wq->mode == MA_DSA_DEDICATED, memory_order_relaxed);
		if (keep != NULL) {
			/* keep is newest first: behind those started since */
			pthread_mutex_lock(&dmd->active_lock);
			if (dmd->active == NULL) {
				dmd->active = keep;
			} else {
				struct dsa_op *tail = dmd->active;

				while (tail->next_active != NULL)
					tail = tail->next_active;
				tail->next_active = keep;
			}
			pthread_mutex_unlock(&dmd->active_lock);
		}
		while (done != NULL) {
			struct dsa_op *o = done;

			done = o->next_active;
			watcher_complete(o);
		}
		if (progress)
			late_ns = MA_DEVICE_BACKOFF_MIN_NS;
		if (keep == NULL) {
			if (atomic_load_explicit(&dmd->stop,
					memory_order_acquire))
				break;
			ma_park_wait((const uint32_t *)&dmd->wseq, seen, NULL);
			continue;
		}

		uint64_t now = ma_now_ns();
		struct timespec ts = { 0, 0 };

		if (first != NULL && !pending &&
				first->expect_ns > now +
				MA_DEVICE_SLEEP_AHEAD_NS) {
			/* long work: sleep until shortly before its end */
			uint64_t ns = first->expect_ns - now -
				MA_DEVICE_WAKE_EARLY_NS;

			ts.tv_sec = (time_t)(ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			ma_park_wait((const uint32_t *)&dmd->wseq, seen, &ts);
			continue;
		}
		if (first != NULL && !progress) {
			struct ma_spin spin;

			/* near its end: watch its word a little while */
			uint64_t spin_ns = ma_device_spin_ns(
				first->expect_ns, now);

			for (ma_spin_begin(&spin);
					ma_spin_step(&spin, spin_ns);) {
				if (ma_dsa_record_status(round_word(first)) ||
						atomic_load_explicit(&dmd->wseq,
						memory_order_relaxed) != seen)
					break;
			}
			if (ma_dsa_record_status(round_word(first)) != 0)
				continue;
		} else if (progress) {
			continue;
		}
		/*
		 * Late, or the queue is full: back off; not past the shortest
		 * pause while operations wait for a dedicated queue's entries
		 * (only this thread gives them out then: none may idle long).
		 */
		ts.tv_nsec = (long)late_ns;
		ma_park_wait((const uint32_t *)&dmd->wseq, seen, &ts);
		if (late_ns < MA_DEVICE_BACKOFF_MAX_NS &&
				!(pending && dmd->wq->mode == MA_DSA_DEDICATED))
			late_ns *= 2;
	}
	return NULL;
}

int
ma_dsa_have_waitpkg(void)
{
	return have_waitpkg;
}

static void
cpu_features(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		have_waitpkg = (c >> 5) & 1;
#endif
}

struct ma_dsa_wq *
ma_dsa_mover_wq(struct data_mover_dsa *dmd)
{
	return dmd->wq;
}

int
ma_dsa_mover_short_of_entries(struct data_mover_dsa *dmd)
{
	return atomic_load_explicit(&dmd->short_of_entries,
		memory_order_relaxed);
}

/* The queue wq names; NULL with errno. */
static struct ma_dsa_wq *
wq_open(const char *wq)
{
	static const char model[] = "emulated";
	size_t len = sizeof(model) - 1;

	if (wq != NULL && strncmp(wq, model, len) == 0) {
		if (wq[len] == '\0')
			return ma_dsa_model_open(NULL);
		if (wq[len] == ':' && wq[len + 1] != '\0')
			return ma_dsa_model_open(wq + len + 1);
		errno = EINVAL;
		return NULL;
	}
	return ma_dsa_wq_open(wq);
}

/*
 * Fork. The child has only the thread that forked: the model's engines
 * and the watcher are gone, and a real queue's file stays bound to the
 * parent's address space (the device would write the parent's memory),
 * so in the child every mover does its work on the CPU, as after a
 * failed submission. The prepare handler takes every lock of every mover
 * (none is inherited locked) and waits until the device wrote the record
 * of each descriptor submitted, so that nothing is in flight in the
 * child and no piece is half-done there. The child handler finishes
 * every started operation on the CPU; one whose waker was being called
 * is complete (the waker is not called again).
 */

/* The fork node's container. */
#define FORK_MOVER(node) ((struct data_mover_dsa *)(void *) \
	((char *)(node) - offsetof(struct data_mover_dsa, fork)))

/* Waits for the records of the descriptors of o's round submitted. */
static void
round_quiesce(struct dsa_op *o)
{
	if (o->round == 0)
		return;
	if (o->batch) {
		while (o->submitted != 0 &&
				!record_wait(&o->brec, o->expect_ns) &&
				!queue_dead(o->dmd))
			;
		return;
	}
	for (unsigned i = 0; i < o->submitted; i++)
		while (!record_wait(slot_rec(o, i), o->expect_ns) &&
				!queue_dead(o->dmd))
			;
}

static void
fork_prepare(struct ma_fork_node *node)
{
	struct data_mover_dsa *d = FORK_MOVER(node);

	pthread_mutex_lock(&d->pool_lock);
	pthread_mutex_lock(&d->active_lock);
	for (struct dsa_op *o = d->all; o != NULL; o = o->next_all) {
		pthread_mutex_lock(&o->lock);
		round_quiesce(o);
	}
}

static void
fork_parent(struct ma_fork_node *node)
{
	struct data_mover_dsa *d = FORK_MOVER(node);

	for (struct dsa_op *o = d->all; o != NULL; o = o->next_all)
		pthread_mutex_unlock(&o->lock);
	pthread_mutex_unlock(&d->active_lock);
	pthread_mutex_unlock(&d->pool_lock);
}

/* In the child: the mover works on the CPU, its operations finished. */
static void
fork_child(struct ma_fork_node *node)
{
	struct data_mover_dsa *dmd = FORK_MOVER(node);
	struct dsa_op *deleted = NULL;

	atomic_store_explicit(&dmd->wq_failed, 1, memory_order_relaxed);
	if (dmd->wq->after_fork != NULL)
		dmd->wq->after_fork(dmd->wq);
	dmd->has_watcher = 0; /* gone; nothing will wait in the device */
	dmd->active = NULL;
	/* the parent's watcher's hint: here each start drives its own */
	atomic_store_explicit(&dmd->short_of_entries, 0,
		memory_order_relaxed);
	/* the child's only thread holds every lock: the records are its own */
	for (struct dsa_op *o = dmd->all; o != NULL; o = o->next_all) {
		uint32_t cur = atomic_load_explicit(&o->phase,
			memory_order_relaxed);

		if ((cur & P_MASK) == P_RUN) {
			while (drive_locked(o) != D_DONE)
				; /* (on the CPU: done in one call) */
			op_end(o);
		} else if ((cur & P_MASK) == P_WAKING) {
			atomic_store_explicit(&o->phase, P_COMPLETE |
				(cur & P_DELETED), memory_order_relaxed);
			if (cur & P_DELETED) { /* deleted inside the waker */
				o->next_active = deleted;
				deleted = o;
			}
		}
	}
	for (struct dsa_op *o = dmd->all; o != NULL; o = o->next_all)
		pthread_mutex_unlock(&o->lock);
	pthread_mutex_unlock(&dmd->active_lock);
	pthread_mutex_unlock(&dmd->pool_lock);
	while (deleted != NULL) {
		struct dsa_op *o = deleted;

		deleted = o->next_active;
		op_free(o);
	}
}

MA_EXPORT struct data_mover_dsa *
data_mover_dsa_new(const char *wq, enum future_notifier_type desired_notifier)
{
	struct data_mover_dsa *dmd;

	if (desired_notifier != FUTURE_NOTIFIER_NONE &&
			desired_notifier != FUTURE_NOTIFIER_WAKER &&
			desired_notifier != FUTURE_NOTIFIER_POLLER) {
		errno = EINVAL;
		return NULL;
	}
	dmd = ma_aligned_alloc(64, (sizeof(*dmd) + 63) / 64 * 64);
	if (dmd == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(dmd, 0, sizeof(*dmd));
	dmd->wq = wq_open(wq);
	if (dmd->wq == NULL) {
		int err = errno;

		free(dmd);
		errno = err;
		return NULL;
	}
	if (!(dmd->wq->op_cap & MA_DSA_OPBIT(MA_DSA_OP_MEMMOVE))) {
		/* no copies (a real queue is refused before it is opened) */
		dmd->wq->close(dmd->wq);
		free(dmd);
		errno = ENOTSUP;
		return NULL;
	}
	cpu_features();
	dmd->vdm.op_new = dsa_op_new;
	dmd->vdm.op_delete = dsa_op_delete;
	dmd->vdm.op_start = dsa_op_start;
	dmd->vdm.op_check = dsa_op_check;
	dmd->vdm.has_property = dsa_has_property;
	dmd->drdbk = (dmd->wq->gen_cap & MA_DSA_CAP_DRDBK) != 0;
	dmd->vdm.capabilities = VDM_F_NO_CACHE_HINT |
		(dmd->drdbk ? VDM_F_MEM_DURABLE :
		(MA_MEM_CAPABILITIES & VDM_F_MEM_DURABLE));
	dmd->cc_flags = dmd->wq->block_on_fault ? MA_DSA_F_BOF : 0;
	dmd->notifier = desired_notifier;
	atomic_init(&dmd->wq_free, dmd->wq->size);
	atomic_init(&dmd->wq_failed, 0);
	atomic_init(&dmd->wq_dead, 0);
	atomic_init(&dmd->stuck_since, 0);
	atomic_init(&dmd->asked_at, 0);
	/* the queue's health: wq_failed up to asked_at, atomics only */
	MA_ATOMIC_WORDS(&dmd->wq_failed, (size_t)((char *)(&dmd->asked_at + 1)
		- (char *)&dmd->wq_failed));
	atomic_init(&dmd->wseq, 0);
	atomic_init(&dmd->stop, 0);
	atomic_init(&dmd->short_of_entries, 0);
	MA_ATOMIC_WORDS(&dmd->wq_free, sizeof(dmd->wq_free));
	MA_ATOMIC_WORDS(&dmd->wseq, sizeof(dmd->wseq));
	MA_ATOMIC_WORDS(&dmd->stop, sizeof(dmd->stop));
	MA_ATOMIC_WORDS(&dmd->short_of_entries,
		sizeof(dmd->short_of_entries));
	pthread_mutex_init(&dmd->pool_lock, NULL);
	pthread_mutex_init(&dmd->active_lock, NULL);
	if (desired_notifier == FUTURE_NOTIFIER_WAKER) {
		if (ma_thread_create(&dmd->watcher, watcher_main, dmd) != 0) {
			dmd->wq->close(dmd->wq);
			pthread_mutex_destroy(&dmd->pool_lock);
			pthread_mutex_destroy(&dmd->active_lock);
			free(dmd);
			errno = ENOMEM;
			return NULL;
		}
		dmd->has_watcher = 1;
	}
	ma_fork_register(&dmd->fork, fork_prepare, fork_parent, fork_child);
	return dmd;
}

MA_EXPORT struct vdm *
data_mover_dsa_get_vdm(struct data_mover_dsa *dmd)
{
	return &dmd->vdm;
}

MA_EXPORT void
data_mover_dsa_delete(struct data_mover_dsa *dmd)
{
	if (dmd == NULL)
		return;
	ma_fork_unregister(&dmd->fork);
	if (dmd->has_watcher) {
		/* release: against the watcher's acquire of stop */
		atomic_store_explicit(&dmd->stop, 1, memory_order_release);
		watcher_call(dmd);
		pthread_join(dmd->watcher, NULL);
	}
	drive_all_to_end(dmd);
	dmd->wq->close(dmd->wq);
	while (dmd->all != NULL) {
		struct dsa_op *o = dmd->all;

		dmd->all = o->next_all;
		MA_ATOMIC_WORDS_END(&o->phase, sizeof(o->phase));
		MA_ATOMIC_WORDS_END(&o->rec, sizeof(uint64_t));
		MA_ATOMIC_WORDS_END(&o->brec, sizeof(uint64_t));
		if (o->ext != NULL)
			MA_ATOMIC_WORDS_END(o->ext->rec, sizeof(o->ext->rec));
		pthread_mutex_destroy(&o->lock);
		free(o->ext);
		free(o);
	}
	MA_ATOMIC_WORDS_END(&dmd->wq_free, sizeof(dmd->wq_free));
	MA_ATOMIC_WORDS_END(&dmd->wq_failed, (size_t)((char *)(&dmd->asked_at
		+ 1) - (char *)&dmd->wq_failed));
	MA_ATOMIC_WORDS_END(&dmd->wseq, sizeof(dmd->wseq));
	MA_ATOMIC_WORDS_END(&dmd->stop, sizeof(dmd->stop));
	MA_ATOMIC_WORDS_END(&dmd->short_of_entries,
		sizeof(dmd->short_of_entries));
	pthread_mutex_destroy(&dmd->pool_lock);
	pthread_mutex_destroy(&dmd->active_lock);
	free(dmd);
}
