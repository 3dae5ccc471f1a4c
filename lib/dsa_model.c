/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_model.c -- a model of a DSA work queue inside the process: the
 * "emulated[:options]" queue of data_mover_dsa_new().
 *
 * It stands behind the seam of dsa_hw.h (submit one 64-byte descriptor)
 * and does what the device does with it, so that everything in the mover
 * but the submitting instruction runs as it would on the device:
 * - submit() copies the descriptor into the queue's storage (wq_size
 *   entries); a full shared queue refuses it (as ENQCMD's ZF does), and
 *   so does every refuse_every-th submission; a full dedicated queue
 *   drops it, as MOVDIR64B gives no feedback (counted: a mover bug);
 * - 'engines' threads take descriptors in order and run them
 *   concurrently, so that they complete out of order;
 * - each descriptor is checked as the device checks it (opcode, flags
 *   against the queue's block-on-fault and the gen_cap bits, reserved
 *   fields, sizes against max_transfer_size, batch count and list
 *   alignment, record alignment) and an invalid one completes with the
 *   device's status code and nothing written;
 * - the completion record is written when CRAV is set and the descriptor
 *   failed or asked for one (RCR): every other field first, then its
 *   first eight bytes, status included, in one release store, so that
 *   they read zero until the status is there;
 * - a fault (every fault_every-th descriptor, cycling over the first
 *   byte, the middle and the last page, reads and writes; a flush's is
 *   a write fault on its destination, the worst a mover can be told; or
 *   at an address a test names) stops the operation at that page: with BOF
 *   (only where block_on_fault=1) it is waited out, else the record says
 *   PAGE_FAULT (0x80 for a write), bytes_completed and fault_addr, and a
 *   memmove that ran backwards (destination above an overlapping source)
 *   has done the top bytes and says result 1;
 * - a batch runs its members (up to max_batch_size, at least 2) in any
 *   order between fences (here: each run between fences backwards), and
 *   a fenced member after a failure is not run; each member writes its
 *   own record, the batch's record says BATCH_FAIL when one failed and
 *   how many members were processed; a fault on the page of its list
 *   (a test's) runs the members before that page and says
 *   BATCH_PAGE_FAULT;
 * - a drain completes once every descriptor the queue took before it has;
 * - CC only where gen_cap offers it for the opcode, an overlapping
 *   memmove only with gen_cap's overlap bit;
 * - submit=write: submit() is the driver's write(2), which refuses a
 *   batch and an unaligned record (EINVAL: -1).
 * - op_cap: a descriptor (a batch, a member) whose opcode it leaves out
 *   completes with BAD_OPCODE and nothing written, as on a device or
 *   queue that does not offer it (op_cap and op_config in sysfs).
 * The model runs the opcodes the mover uses (memmove, fill, cache flush,
 * batch), and no-op and drain; others get BAD_OPCODE. Options and their
 * defaults are in model_options() and miniasync_vdm_dsa(7).
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dsa_hw.h"
#include "dsa_model.h"
#include "fault.h"
#include "internal.h"
#include "mem_ops.h"
#include "park.h"
#include "valgrind.h"

#define MAX_ENGINES 16
#define MAX_WQ_SIZE 1024
#define MAX_BATCH 1024
/*
 * Bytes a microsecond the mover plans its waits with: the device's 30
 * GB/s, faster than the model's memcpy, so that a waiter wakes before
 * the model is done and then watches (a slower rate made it sleep past
 * the end).
 */
#define MODEL_RATE 30000
#define ENGINE_SPIN_NS 50000 /* an idle engine looks this long, then sleeps */

/* The descriptor flags the model knows; others are invalid. */
#define KNOWN_FLAGS (MA_DSA_F_FENCE | MA_DSA_F_BOF | MA_DSA_F_CRAV | \
	MA_DSA_F_RCR | MA_DSA_F_CC | MA_DSA_F_DRDBK)

struct model {
	struct ma_dsa_wq wq; /* first: the seam's handle */
	unsigned engines;
	uint64_t fault_every;
	uint64_t refuse_every;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t work; /* engines wait here */
	pthread_cond_t idle; /* an engine finished a descriptor */
	uint64_t taken; /* descriptors taken, numbered in queue order */
	uint64_t running[MAX_ENGINES]; /* each engine's number, 0: none */
	unsigned ids; /* engines numbered so far */
	struct ma_dsa_desc *ring; /* wq.size entries */
	uint32_t head, count;
	_Atomic uint32_t queued; /* count, for engines looking unlocked */
	unsigned sleepers; /* engines in the condition wait */
	uint32_t inflight; /* accepted, record not yet written */
	int stop, paused;
	int failed; /* ma_dsa_model_fail() */
	int disabled; /* ma_dsa_model_disable() */
	uint64_t submissions; /* for refuse_every */
	uint64_t runs; /* descriptors run, for fault_every */
	uintptr_t fault_page; /* a test's fault, 0: none */
	int fault_write;
	uint8_t inject; /* a test's status for the next run, 0: none */
	struct ma_dsa_model_stats stats;
	struct ma_dsa_model_log *log;
	uint64_t log_next, log_first;
	pthread_t threads[MAX_ENGINES];
	unsigned started;
};

/* What running a descriptor gave: the record's fields. */
struct outcome {
	uint8_t status;
	uint8_t result;
	uint32_t bytes_completed;
	uint64_t fault_addr;
	uint32_t invalid_flags;
};

static void
log_add(struct model *m, const struct ma_dsa_desc *d, int member)
{
	struct ma_dsa_model_log *e = &m->log[m->log_next % MA_DSA_MODEL_LOG];

	e->desc = *d;
	e->member = member;
	m->log_next++;
	if (m->log_next - m->log_first > MA_DSA_MODEL_LOG)
		m->log_first = m->log_next - MA_DSA_MODEL_LOG;
}

/*
 * The descriptor this thread last had refused by refuse_every: its
 * retry from this thread is taken, so that every submission goes
 * through in the end, refuse_every=1 included (each refused once).
 */
static _Thread_local struct {
	const struct model *m;
	struct ma_dsa_desc desc;
} refused_here;

static int
model_submit(struct ma_dsa_wq *wq, const struct ma_dsa_desc *desc)
{
	struct model *m = (struct model *)wq;
	int ret = 0;
	int storm, retry;

	/* the descriptor and the records it names, before the device */
	atomic_thread_fence(memory_order_seq_cst);
	pthread_mutex_lock(&m->lock);
	m->submissions++;
	storm = m->refuse_every != 0 &&
		m->submissions % m->refuse_every == 0;
	retry = refused_here.m == m &&
		memcmp(&refused_here.desc, desc, sizeof(*desc)) == 0;
	refused_here.m = NULL;
	if (m->failed) {
		ret = -1;
	} else if (wq->via_write &&
			(ma_dsa_desc_opcode(desc) == MA_DSA_OP_BATCH ||
			desc->completion_addr % MA_DSA_RECORD_ALIGN != 0)) {
		/* the driver's write(2): EINVAL, the descriptor not taken */
		m->stats.rejected++;
		ret = -1;
	} else if (m->disabled) {
		/* ENQCMD is refused; MOVDIR64B's descriptor is lost */
		if (wq->mode == MA_DSA_SHARED) {
			m->stats.refused++;
			ret = 1;
		} else {
			m->stats.dropped++;
		}
	} else if (wq->mode == MA_DSA_SHARED && (m->count == wq->size ||
			(storm && !retry))) {
		m->stats.refused++;
		if (m->count != wq->size) {
			refused_here.m = m;
			refused_here.desc = *desc;
		}
		ret = 1;
	} else if (m->count == wq->size) {
		m->stats.overfilled++; /* MOVDIR64B into a full queue: lost */
	} else {
		m->ring[(m->head + m->count) % wq->size] = *desc;
		m->count++;
		atomic_store_explicit(&m->queued, m->count,
			memory_order_relaxed);
		m->inflight++;
		if (m->inflight > m->stats.inflight_peak)
			m->stats.inflight_peak = m->inflight;
		m->stats.submitted++;
		log_add(m, desc, 0);
		if (m->sleepers != 0)
			pthread_cond_signal(&m->work);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* Writes the record: the other fields, then the first eight bytes. */
static void
record_write(uint64_t addr, const struct outcome *o)
{
	struct ma_dsa_record *r = (struct ma_dsa_record *)(uintptr_t)addr;
	struct ma_dsa_record head;
	uint64_t word;

	r->fault_addr = o->fault_addr;
	r->invalid_flags = o->invalid_flags;
	memset(&head, 0, sizeof(head));
	head.status = o->status;
	head.result = o->result;
	head.bytes_completed = o->bytes_completed;
	memcpy(&word, &head, sizeof(word));
	MA_HAPPENS_BEFORE(r);
	/* release: the bytes moved and the fields above, before the status */
	__atomic_store_n((uint64_t *)(void *)r, word, __ATOMIC_RELEASE);
}

/* Checks what every descriptor must satisfy; 0 when it does. */
static uint8_t
check_common(struct model *m, const struct ma_dsa_desc *d, int member,
	struct outcome *o)
{
	uint32_t flags = ma_dsa_desc_flags(d);
	uint32_t bad = flags & ~KNOWN_FLAGS;

	if ((flags & MA_DSA_F_BOF) && !m->wq.block_on_fault)
		bad |= MA_DSA_F_BOF;
	if ((flags & MA_DSA_F_DRDBK) && !(m->wq.gen_cap & MA_DSA_CAP_DRDBK))
		bad |= MA_DSA_F_DRDBK;
	/* CC where gen_cap offers it for the opcode (as DTO asks it) */
	if ((flags & MA_DSA_F_CC) && !(m->wq.gen_cap &
			(ma_dsa_desc_opcode(d) == MA_DSA_OP_CFLUSH ?
			MA_DSA_CAP_CC_FLUSH : MA_DSA_CAP_CC_MEM)))
		bad |= MA_DSA_F_CC;
	if ((flags & MA_DSA_F_FENCE) && !member)
		bad |= MA_DSA_F_FENCE;
	if ((flags & MA_DSA_F_RCR) && !(flags & MA_DSA_F_CRAV))
		bad |= MA_DSA_F_RCR;
	if (bad != 0) {
		o->invalid_flags = bad;
		return MA_DSA_S_INVALID_FLAGS;
	}
	if (d->pasid_priv != 0 || d->int_handle != 0 || d->rsvd1 != 0)
		return MA_DSA_S_NOZERO_RESERVE;
	for (size_t i = 0; i < sizeof(d->op_specific); i++)
		if (d->op_specific[i] != 0)
			return MA_DSA_S_NOZERO_RESERVE;
	return 0;
}

/*
 * Where the descriptor's run faults: the offset (in the order the bytes
 * are done) of the first byte it cannot do, or len when none; *write
 * says whether on the destination.
 */
static size_t
fault_offset(struct model *m, uintptr_t src, uintptr_t dst, size_t len,
	int backward, int reads, int *write)
{
	size_t off = len;

	if (m->fault_page != 0) {
		uintptr_t base = m->fault_write ? dst : src;
		uintptr_t page = m->fault_page;

		if ((m->fault_write || reads) && page < base + len &&
				page + MA_DSA_PAGE > base) {
			/* the first byte, in run order, on that page */
			if (!backward)
				off = page > base ? page - base : 0;
			else
				off = page + MA_DSA_PAGE < base + len ?
					base + len - page - MA_DSA_PAGE : 0;
			*write = m->fault_write;
			m->fault_page = 0;
			return off;
		}
	}
	if (m->fault_every == 0 || m->runs % m->fault_every != 0)
		return len;

	uint64_t nth = m->runs / m->fault_every;

	*write = !reads || nth % 2 == 0;
	uintptr_t base = *write ? dst : src;
	uintptr_t first = base & ~(uintptr_t)(MA_DSA_PAGE - 1);
	uintptr_t at;

	switch (nth % 3) {
	case 0: /* the first byte done */
		return 0;
	case 1: /* the page of the middle byte */
		at = (base + len / 2) & ~(uintptr_t)(MA_DSA_PAGE - 1);
		break;
	default: /* the last page */
		at = (base + len - 1) & ~(uintptr_t)(MA_DSA_PAGE - 1);
		break;
	}
	if (at < base)
		at = first;
	if (!backward)
		return at > base ? at - base : 0;
	/* backwards, the bytes above that page are done first */
	return at + MA_DSA_PAGE < base + len ? base + len - at - MA_DSA_PAGE :
		0;
}

/* Runs a memmove, fill or flush, up to a fault; sets o. */
static void
run_data(struct model *m, const struct ma_dsa_desc *d, struct outcome *o)
{
	unsigned opcode = ma_dsa_desc_opcode(d);
	size_t len = d->size;
	char *dst = (char *)(uintptr_t)d->dst;
	const char *src = (const char *)(uintptr_t)d->src;
	int backward = opcode == MA_DSA_OP_MEMMOVE && d->dst > d->src &&
		d->dst < d->src + len;
	int write = 1;
	size_t stop;

	pthread_mutex_lock(&m->lock);
	m->runs++;
	m->stats.executed++;
	stop = fault_offset(m, d->src, d->dst, len, backward,
		opcode == MA_DSA_OP_MEMMOVE, &write);
	if (stop < len && (ma_dsa_desc_flags(d) & MA_DSA_F_BOF)) {
		m->stats.blocked_faults++; /* the kernel maps it; go on */
		stop = len;
	} else if (stop < len) {
		m->stats.faults++;
	}
	pthread_mutex_unlock(&m->lock);

	switch (opcode) {
	case MA_DSA_OP_MEMMOVE:
		if (!backward)
			memmove(dst, src, stop);
		else
			memmove(dst + len - stop, src + len - stop, stop);
		break;
	case MA_DSA_OP_MEMFILL:
		for (size_t i = 0; i < stop; i++)
			dst[i] = (char)(d->src >> (8 * (i % 8)));
		break;
	default: /* CFLUSH: the cache lines, as the device would */
		ma_flush(dst, stop);
		break;
	}
	o->result = (uint8_t)(backward ? 1 : 0);
	if (stop == len) {
		o->status = MA_DSA_S_SUCCESS;
		return;
	}

	uintptr_t base = write ? d->dst : d->src;
	uintptr_t at = backward ? base + len - stop - 1 : base + stop;

	o->status = (uint8_t)(MA_DSA_S_PAGE_FAULT |
		(write ? MA_DSA_S_WRITE_FAULT : 0));
	o->bytes_completed = (uint32_t)stop;
	o->fault_addr = at & ~(uintptr_t)(MA_DSA_PAGE - 1);
}

/* Runs one descriptor that is not a batch; fills o. */
static void
run_one(struct model *m, const struct ma_dsa_desc *d, int member,
	struct outcome *o)
{
	unsigned opcode = ma_dsa_desc_opcode(d);
	uint8_t st;

	memset(o, 0, sizeof(*o));
	pthread_mutex_lock(&m->lock);
	st = m->inject;
	m->inject = 0;
	pthread_mutex_unlock(&m->lock);
	if (st != 0) {
		o->status = st;
		return;
	}
	if (opcode > 63 || !(m->wq.op_cap & MA_DSA_OPBIT(opcode))) {
		o->status = MA_DSA_S_BAD_OPCODE; /* not offered */
		return;
	}
	st = check_common(m, d, member, o);
	if (st != 0) {
		o->status = st;
		return;
	}
	switch (opcode) {
	case MA_DSA_OP_NOOP:
	case MA_DSA_OP_DRAIN:
		o->status = MA_DSA_S_SUCCESS;
		return;
	case MA_DSA_OP_BATCH:
		o->status = MA_DSA_S_BAD_OPCODE; /* a batch in a batch */
		return;
	case MA_DSA_OP_CFLUSH:
		if (d->src != 0) {
			o->status = MA_DSA_S_NOZERO_RESERVE;
			return;
		}
		/* fall through */
	case MA_DSA_OP_MEMMOVE:
		if (opcode == MA_DSA_OP_MEMMOVE &&
				!(m->wq.gen_cap & MA_DSA_CAP_OVERLAP) &&
				d->dst < d->src + d->size &&
				d->src < d->dst + d->size) {
			o->status = MA_DSA_S_OVERLAP;
			return;
		}
		/* fall through */
	case MA_DSA_OP_MEMFILL:
		if (d->size == 0 || d->size > m->wq.max_transfer_size) {
			o->status = MA_DSA_S_XFER_ERANGE;
			return;
		}
		run_data(m, d, o);
		return;
	default:
		o->status = MA_DSA_S_BAD_OPCODE;
		return;
	}
}

/* Writes the record of d, if it asked for one (or failed). */
static void
complete(struct model *m, const struct ma_dsa_desc *d,
	const struct outcome *o)
{
	uint32_t flags = ma_dsa_desc_flags(d);

	if (!(flags & MA_DSA_F_CRAV))
		return; /* nowhere to report */
	if (d->completion_addr % MA_DSA_RECORD_ALIGN != 0) {
		pthread_mutex_lock(&m->lock);
		m->stats.unreported++; /* the device's error register */
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (o->status == MA_DSA_S_SUCCESS && !(flags & MA_DSA_F_RCR))
		return;
	record_write(d->completion_addr, o);
}

/* Runs a batch: its members, then its own outcome. */
static void
run_batch(struct model *m, const struct ma_dsa_desc *d, struct outcome *o)
{
	const struct ma_dsa_desc *list =
		(const struct ma_dsa_desc *)(uintptr_t)d->src;
	uint32_t count = d->size, run;
	uint32_t done = 0;
	uintptr_t lo = (uintptr_t)d->src;
	int failed = 0, list_fault = 0;

	memset(o, 0, sizeof(*o));
	if (!(m->wq.op_cap & MA_DSA_OPBIT(MA_DSA_OP_BATCH))) {
		o->status = MA_DSA_S_BAD_OPCODE; /* batches not offered */
		return;
	}
	o->status = check_common(m, d, 0, o);
	if (o->status == 0 && (count < 2 || count > m->wq.max_batch_size))
		o->status = MA_DSA_S_DESC_CNT_ERANGE;
	if (o->status == 0 && d->src % 64 != 0)
		o->status = MA_DSA_S_DESCLIST_ALIGN;
	if (o->status == 0 && d->dst != 0)
		o->status = MA_DSA_S_NOZERO_RESERVE;
	if (o->status != 0)
		return;
	run = count;
	pthread_mutex_lock(&m->lock);
	m->stats.batches++;
	if (m->fault_page != 0 && !m->fault_write &&
			m->fault_page < lo + count * sizeof(*list) &&
			m->fault_page + MA_DSA_PAGE > lo) {
		/* the list's page is not present: read up to it */
		uintptr_t page = m->fault_page;

		m->fault_page = 0;
		if (ma_dsa_desc_flags(d) & MA_DSA_F_BOF) {
			m->stats.blocked_faults++;
		} else {
			m->stats.list_faults++;
			list_fault = 1;
			run = page > lo ? (uint32_t)((page - lo) /
				sizeof(*list)) : 0;
		}
	}
	for (uint32_t i = 0; i < run; i++)
		log_add(m, &list[i], 1);
	pthread_mutex_unlock(&m->lock);
	while (done < run) {
		/* a run of members up to the next fence, backwards */
		uint32_t end = done + 1;

		if (ma_dsa_desc_flags(&list[done]) & MA_DSA_F_FENCE) {
			if (failed) {
				pthread_mutex_lock(&m->lock);
				m->stats.fenced_abandoned += run - done;
				pthread_mutex_unlock(&m->lock);
				break;
			}
		}
		while (end < run && !(ma_dsa_desc_flags(&list[end]) &
				MA_DSA_F_FENCE))
			end++;
		for (uint32_t i = end; i-- > done;) {
			struct outcome mo;

			run_one(m, &list[i], 1, &mo);
			if (mo.status != MA_DSA_S_SUCCESS)
				failed = 1;
			complete(m, &list[i], &mo);
		}
		done = end;
	}
	o->status = failed ? MA_DSA_S_BATCH_FAIL : MA_DSA_S_SUCCESS;
	o->bytes_completed = done; /* descs_completed */
	if (list_fault && done == run) {
		/* the members read ran; the record names where to go on */
		o->status = MA_DSA_S_BATCH_PAGE_FAULT;
		o->fault_addr = lo + (uint64_t)run * sizeof(*list);
	}
}

/* Nonzero while an engine runs a descriptor taken before number seq. */
static int
earlier_running(const struct model *m, uint64_t seq)
{
	for (unsigned i = 0; i < MAX_ENGINES; i++)
		if (m->running[i] != 0 && m->running[i] < seq)
			return 1;
	return 0;
}

static void *
engine_main(void *arg)
{
	struct model *m = arg;

	pthread_mutex_lock(&m->lock);

	unsigned me = m->ids++ % MAX_ENGINES;

	for (;;) {
		if (!m->stop && m->count == 0) {
			/* a device does not sleep: look a while, unlocked */
			struct ma_spin spin;

			pthread_mutex_unlock(&m->lock);
			for (ma_spin_begin(&spin);
					ma_spin_step(&spin, ENGINE_SPIN_NS);)
				if (atomic_load_explicit(&m->queued,
						memory_order_relaxed) != 0)
					break;
			pthread_mutex_lock(&m->lock);
		}
		while (!m->stop && (m->count == 0 || m->paused)) {
			m->sleepers++;
			pthread_cond_wait(&m->work, &m->lock);
			m->sleepers--;
		}
		if (m->count == 0)
			break; /* stopping, and nothing left */

		struct ma_dsa_desc d = m->ring[m->head];
		struct outcome o;

		m->head = (m->head + 1) % m->wq.size;
		m->count--;
		atomic_store_explicit(&m->queued, m->count,
			memory_order_relaxed);
		m->running[me] = ++m->taken;
		/* a drain ends after all that came before it in the queue */
		if (ma_dsa_desc_opcode(&d) == MA_DSA_OP_DRAIN)
			while (earlier_running(m, m->running[me]))
				pthread_cond_wait(&m->idle, &m->lock);
		pthread_mutex_unlock(&m->lock);
		if (ma_dsa_desc_opcode(&d) == MA_DSA_OP_BATCH)
			run_batch(m, &d, &o);
		else
			run_one(m, &d, 0, &o);
		pthread_mutex_lock(&m->lock);
		m->inflight--;
		pthread_mutex_unlock(&m->lock);
		complete(m, &d, &o);
		pthread_mutex_lock(&m->lock);
		m->running[me] = 0;
		pthread_cond_broadcast(&m->idle);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static void
model_close(struct ma_dsa_wq *wq)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	m->paused = 0;
	pthread_cond_broadcast(&m->work);
	pthread_mutex_unlock(&m->lock);
	for (unsigned i = 0; i < m->started; i++)
		pthread_join(m->threads[i], NULL);
	pthread_cond_destroy(&m->work);
	pthread_cond_destroy(&m->idle);
	pthread_mutex_destroy(&m->lock);
	MA_ATOMIC_WORDS_END(&m->queued, sizeof(m->queued));
	free(m->log);
	free(m->ring);
	free(m);
}

/* The seam's enabled(): until ma_dsa_model_disable(). */
static int
model_enabled(struct ma_dsa_wq *wq)
{
	struct model *m = (struct model *)wq;
	int disabled;

	pthread_mutex_lock(&m->lock);
	disabled = m->disabled;
	pthread_mutex_unlock(&m->lock);
	return !disabled;
}

/*
 * In the child of a fork: the engines are gone (and may have held the
 * lock at the fork), so the lock and condition start anew and close()
 * joins nobody.
 */
static void
model_after_fork(struct ma_dsa_wq *wq)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->work, NULL);
	pthread_cond_init(&m->idle, NULL);
	pthread_mutex_lock(&m->lock);
	m->started = 0;
	m->sleepers = 0;
	memset(m->running, 0, sizeof(m->running));
	pthread_mutex_unlock(&m->lock);
}

/* Parses one number, whole, in [min, max]: 0 when it is one. */
static int
parse_num(const char *s, size_t len, uint64_t min, uint64_t max,
	uint64_t *out)
{
	char buf[32];
	char *end;

	/* digits only: strtoull(3) would take leading blanks and a sign */
	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;

	unsigned long long v = strtoull(buf, &end, 0);

	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The options, their defaults and ranges. */
enum { O_MODE, O_WQ_SIZE, O_MAX_XFER, O_MAX_BATCH, O_ENGINES, O_BOF,
	O_FAULT_EVERY, O_REFUSE_EVERY, O_GEN_CAP, O_SUBMIT, O_OP_CAP,
	O_COUNT };

static const struct {
	const char *name;
	uint64_t dflt, min, max;
} options[O_COUNT] = {
	[O_MODE] = { "mode", MA_DSA_DEDICATED, 0, 1 },
	[O_WQ_SIZE] = { "wq_size", 32, 1, MAX_WQ_SIZE },
	[O_MAX_XFER] = { "max_transfer_size", 2097152, 32,
		(uint64_t)1 << 31 },
	[O_MAX_BATCH] = { "max_batch_size", 32, 0, MAX_BATCH },
	[O_ENGINES] = { "engines", 2, 1, MAX_ENGINES },
	[O_BOF] = { "block_on_fault", 0, 0, 1 },
	[O_FAULT_EVERY] = { "fault_every", 0, 0, UINT32_MAX },
	[O_REFUSE_EVERY] = { "refuse_every", 0, 0, UINT32_MAX },
	/* the low bits of a DSA 1.0 (Sapphire Rapids): no CC on flushes */
	[O_GEN_CAP] = { "gen_cap", MA_DSA_CAP_BLOCK_ON_FAULT |
		MA_DSA_CAP_OVERLAP | MA_DSA_CAP_CC_MEM | MA_DSA_CAP_DRDBK,
		0, UINT64_MAX },
	[O_SUBMIT] = { "submit", 0, 0, 1 }, /* 1: write(2) */
	/* every opcode the model runs (bit k: opcode k) */
	[O_OP_CAP] = { "op_cap", MA_DSA_OPBIT(MA_DSA_OP_NOOP) |
		MA_DSA_OPBIT(MA_DSA_OP_BATCH) | MA_DSA_OPBIT(MA_DSA_OP_DRAIN) |
		MA_DSA_OPBIT(MA_DSA_OP_MEMMOVE) |
		MA_DSA_OPBIT(MA_DSA_OP_MEMFILL) |
		MA_DSA_OPBIT(MA_DSA_OP_CFLUSH), 0, UINT64_MAX },
};

/* Parses "name=value,..." into v; 0, or -1 (EINVAL). */
static int
model_options(const char *s, uint64_t v[O_COUNT])
{
	unsigned seen = 0;

	for (int i = 0; i < O_COUNT; i++)
		v[i] = options[i].dflt;
	while (s != NULL && *s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		int i;

		if (eq == NULL)
			return -1;
		for (i = 0; i < O_COUNT; i++)
			if (strlen(options[i].name) == (size_t)(eq - s) &&
					memcmp(options[i].name, s,
						(size_t)(eq - s)) == 0)
				break;
		if (i == O_COUNT || (seen & (1u << i)))
			return -1;
		seen |= 1u << i;

		const char *val = eq + 1;
		size_t vlen = len - (size_t)(val - s);

		if (i == O_MODE) {
			if (vlen == 9 && memcmp(val, "dedicated", 9) == 0)
				v[i] = MA_DSA_DEDICATED;
			else if (vlen == 6 && memcmp(val, "shared", 6) == 0)
				v[i] = MA_DSA_SHARED;
			else
				return -1;
		} else if (i == O_SUBMIT) {
			if (vlen == 6 && memcmp(val, "portal", 6) == 0)
				v[i] = 0;
			else if (vlen == 5 && memcmp(val, "write", 5) == 0)
				v[i] = 1;
			else
				return -1;
		} else if (parse_num(val, vlen, options[i].min,
				options[i].max, &v[i]) != 0) {
			return -1;
		}
		s = comma ? comma + 1 : NULL;
		if (s != NULL && *s == '\0')
			return -1; /* a trailing comma */
	}
	/* max_transfer_size is a power of two, as the driver wants */
	if ((v[O_MAX_XFER] & (v[O_MAX_XFER] - 1)) != 0)
		return -1;
	if (v[O_BOF] && !(v[O_GEN_CAP] & MA_DSA_CAP_BLOCK_ON_FAULT))
		return -1;
	/* refuse_every on a dedicated queue: taken, and has no effect */
	if (v[O_MAX_BATCH] == 1)
		return -1;
	return 0;
}

struct ma_dsa_wq *
ma_dsa_model_open(const char *opts)
{
	uint64_t v[O_COUNT];
	struct model *m;

	if (model_options(opts, v) != 0) {
		errno = EINVAL;
		return NULL;
	}
	m = ma_aligned_alloc(64, (sizeof(*m) + 63) / 64 * 64);
	if (m == NULL)
		goto nomem;
	memset(m, 0, sizeof(*m));
	m->ring = ma_aligned_alloc(64, sizeof(*m->ring) * v[O_WQ_SIZE]);
	m->log = ma_malloc(sizeof(*m->log) * MA_DSA_MODEL_LOG);
	if (m->ring == NULL || m->log == NULL)
		goto nomem_free;
	m->wq.submit = model_submit;
	m->wq.close = model_close;
	m->wq.after_fork = model_after_fork;
	m->wq.enabled = model_enabled;
	m->wq.mode = (enum ma_dsa_mode)v[O_MODE];
	m->wq.size = (uint32_t)v[O_WQ_SIZE];
	m->wq.max_transfer_size = (uint32_t)v[O_MAX_XFER];
	m->wq.max_batch_size = (uint32_t)v[O_MAX_BATCH];
	m->wq.block_on_fault = (int)v[O_BOF];
	m->wq.via_write = (int)v[O_SUBMIT];
	m->wq.gen_cap = v[O_GEN_CAP];
	m->wq.op_cap = v[O_OP_CAP];
	m->wq.rate = MODEL_RATE;
	m->wq.numa_node = -1;
	m->engines = (unsigned)v[O_ENGINES];
	m->fault_every = v[O_FAULT_EVERY];
	m->refuse_every = v[O_REFUSE_EVERY];
	MA_ATOMIC_WORDS(&m->queued, sizeof(m->queued));
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->work, NULL);
	pthread_cond_init(&m->idle, NULL);
	for (; m->started < m->engines; m->started++) {
		if (ma_thread_create(&m->threads[m->started], engine_main,
				m) != 0) {
			model_close(&m->wq);
			errno = ENOMEM;
			return NULL;
		}
	}
	return &m->wq;
nomem_free:
	free(m->ring);
	free(m->log);
	free(m);
nomem:
	errno = ENOMEM;
	return NULL;
}

int
ma_dsa_is_model(const struct ma_dsa_wq *wq)
{
	return wq->submit == model_submit;
}

void
ma_dsa_model_stats(struct ma_dsa_wq *wq, struct ma_dsa_model_stats *s)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	*s = m->stats;
	pthread_mutex_unlock(&m->lock);
}

size_t
ma_dsa_model_log_take(struct ma_dsa_wq *wq, struct ma_dsa_model_log *out,
	size_t max)
{
	struct model *m = (struct model *)wq;
	size_t n = 0;

	pthread_mutex_lock(&m->lock);
	while (n < max && m->log_first < m->log_next) {
		out[n++] = m->log[m->log_first % MA_DSA_MODEL_LOG];
		m->log_first++;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

void
ma_dsa_model_fault_at(struct ma_dsa_wq *wq, const void *addr, int write)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	m->fault_page = (uintptr_t)addr & ~(uintptr_t)(MA_DSA_PAGE - 1);
	if (m->fault_page == 0)
		m->fault_page = MA_DSA_PAGE; /* page 0 stands for "none" */
	m->fault_write = write;
	pthread_mutex_unlock(&m->lock);
}

void
ma_dsa_model_inject_status(struct ma_dsa_wq *wq, uint8_t status)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	m->inject = status;
	pthread_mutex_unlock(&m->lock);
}

void
ma_dsa_model_fail(struct ma_dsa_wq *wq)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	m->failed = 1;
	pthread_mutex_unlock(&m->lock);
}

void
ma_dsa_model_disable(struct ma_dsa_wq *wq)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	m->disabled = 1;
	m->stats.dropped += m->count;
	m->inflight -= m->count;
	m->count = 0;
	atomic_store_explicit(&m->queued, 0, memory_order_relaxed);
	pthread_mutex_unlock(&m->lock);
}

void
ma_dsa_model_pause(struct ma_dsa_wq *wq, int paused)
{
	struct model *m = (struct model *)wq;

	pthread_mutex_lock(&m->lock);
	m->paused = paused;
	pthread_cond_broadcast(&m->work);
	pthread_mutex_unlock(&m->lock);
}
