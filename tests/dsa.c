/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa.c -- tests of the DSA mover on the work-queue model: every
 * operation, size, flag set, notifier and queue mode byte for byte; the
 * descriptors field by field (against <linux/idxd.h> where installed);
 * the model's own checks, one invalid-descriptor status each; faults at
 * the first byte, the middle and the last page, on reads and writes, in
 * batches, with and without block-on-fault; refusal storms; a dedicated
 * queue never over-filled; deletion with work in flight; errors of
 * data_mover_dsa_new. White-box: links the test build of the library.
 */

#define _GNU_SOURCE
#include "whitebox.h" /* first: before the library's headers */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include <libminiasync.h>

#include "dsa_hw.h"
#include "dsa_model.h"
#include "dsa_mover.h"
#include "dsa_wq.h"
#include "fault.h"
#include "test_util.h"
#include "valgrind.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/idxd.h>)
#include <linux/idxd.h>
#define HAVE_LINUX_IDXD_H 1
#endif
#endif

#define MAXT 4096 /* max_transfer_size of most cases */

static const size_t sizes[] = {
	0, 1, 63, 64, MAXT - 1, MAXT, MAXT + 1, 3 * MAXT + 5, 40 * MAXT + 17,
};

static const unsigned flag_sets[] = {
	0, VDM_F_NO_CACHE_HINT, VDM_F_MEM_DURABLE,
	VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT,
};

/* Queue configurations of the matrix (max_transfer_size = MAXT). */
static const char *const configs[] = {
	"emulated:max_transfer_size=4096",
	"emulated:mode=shared,max_transfer_size=4096",
	"emulated:max_transfer_size=4096,max_batch_size=0,wq_size=4",
	("emulated:mode=shared,max_transfer_size=4096,max_batch_size=4,"
		"wq_size=2,engines=3"),
	"emulated:max_transfer_size=4096,gen_cap=0,engines=1",
};

enum kind { K_MEMCPY, K_MOVE_UP, K_MOVE_DOWN, K_MOVE_APART, K_MEMSET,
	K_FLUSH, K_KINDS };

/*
 * Under valgrind (MINIASYNC_STRESS_ITERATIONS set, see tests/local.mk):
 * the matrices without their largest sizes and rarer flag sets.
 */
static int
light(void)
{
	return getenv("MINIASYNC_STRESS_ITERATIONS") != NULL;
}

static struct data_mover_dsa *
mover(const char *wq, enum future_notifier_type n)
{
	struct data_mover_dsa *dmd = data_mover_dsa_new(wq, n);

	ck_assert_msg(dmd != NULL, "data_mover_dsa_new(%s): %s", wq,
		strerror(errno));
	return dmd;
}

/* The model's counts that every run must keep. */
static void
check_model_sane(struct data_mover_dsa *dmd)
{
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
	struct ma_dsa_model_stats s;

	ma_dsa_model_stats(wq, &s);
	ck_assert_uint_eq(s.overfilled, 0);
	ck_assert_uint_eq(s.unreported, 0);
	if (wq->mode == MA_DSA_DEDICATED)
		ck_assert_uint_le(s.inflight_peak, wq->size);
}

/*
 * Runs one operation of kind k over n bytes and checks every byte of
 * the buffer (and its guards) against the same operation done by libc.
 */
static void
run_kind(struct data_mover_dsa *dmd, struct runtime *r, enum kind k,
	size_t n, unsigned flags, unsigned seed)
{
	size_t shift = n / 3 + 1; /* overlap distance of the memmoves */
	size_t len = 2 * n + shift + 128;
	unsigned char *buf = malloc(len), *want = malloc(len);
	unsigned char *base = buf + 64, *wbase = want + 64;
	struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
	struct vdm_operation_future f;
	void *expect_out = NULL;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(want);
	test_fill(buf, len, seed);
	memcpy(want, buf, len);
	switch (k) {
	case K_MEMCPY: /* [base, +n) <- [base + n + shift/2 ...) apart */
		f = vdm_memcpy(vdm, base, base + n, n, flags);
		memcpy(wbase, wbase + n, n);
		expect_out = base;
		break;
	case K_MOVE_UP: /* destination above an overlapping source */
		f = vdm_memmove(vdm, base + shift, base, n, flags);
		memmove(wbase + shift, wbase, n);
		expect_out = base + shift;
		break;
	case K_MOVE_DOWN:
		f = vdm_memmove(vdm, base, base + shift, n, flags);
		memmove(wbase, wbase + shift, n);
		expect_out = base;
		break;
	case K_MOVE_APART:
		f = vdm_memmove(vdm, base, base + n, n > shift ? shift : n,
			flags);
		memmove(wbase, wbase + n, n > shift ? shift : n);
		expect_out = base;
		break;
	case K_MEMSET:
		f = vdm_memset(vdm, base + 1, 0x5a + (int)seed, n, flags);
		memset(wbase + 1, 0x5a + (int)seed, n);
		expect_out = base + 1;
		break;
	default:
		f = vdm_flush(vdm, base, n, flags);
		break;
	}
	test_wait_success(r, &f);
	if (k != K_FLUSH)
		ck_assert_ptr_eq(FUTURE_OUTPUT(&f)->output.memcpy.dest,
			expect_out);

	size_t d = test_first_diff(buf, want, len);

	ck_assert_msg(d == len, "kind %d, %zu bytes, flags %u: byte %zu "
		"differs (%u, want %u)", (int)k, n, flags, d,
		d < len ? buf[d] : 0, d < len ? want[d] : 0);
	free(buf);
	free(want);
}

/* The whole matrix on one queue configuration (the loop index). */
START_TEST(test_matrix)
{
	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(configs[_i],
			test_notifiers[ni]);
		struct runtime *r = test_notifiers[ni] == FUTURE_NOTIFIER_NONE ?
			NULL : runtime_new();

		size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
		size_t nflags = light() ? 2 : 4;

		for (int k = 0; k < K_KINDS; k++)
			for (size_t si = 0; si < nsizes - light(); si++)
				for (size_t fi = 0; fi < nflags; fi++)
					run_kind(dmd, r, (enum kind)k,
						sizes[si], flag_sets[fi],
						(unsigned)(si + fi));
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/* Sizes around a large max_transfer_size, and many times it. */
START_TEST(test_big_transfers)
{
	static const size_t big[] = {
		65535, 65536, 65537, 33 * 65536 + 1, 100 * 65536,
	};

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(
			_i ? "emulated:mode=shared,max_transfer_size=65536" :
			"emulated:max_transfer_size=65536,max_batch_size=8",
			test_notifiers[ni]);
		struct runtime *r = runtime_new();

		for (int k = 0; k < K_KINDS; k++)
			for (size_t si = 0; si < 5u - 2 * light(); si++)
				run_kind(dmd, ni ? r : NULL, (enum kind)k,
					big[si], 0, (unsigned)si);
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

static void
wake_nothing(void *data)
{
	(void)data;
}

/* Polls a future once with a notifier; returns the promise. */
static enum future_notifier_type
poll_once(struct vdm_operation_future *f, struct future_notifier *n)
{
	static char token;

	*n = test_notifier(wake_nothing, &token);
	future_poll(FUTURE_AS_RUNNABLE(f), n);
	return n->notifier_used;
}

/* The POLLER word: the record's first bytes, zero until it is written. */
START_TEST(test_poller_word)
{
	struct data_mover_dsa *dmd = mover("emulated",
		FUTURE_NOTIFIER_POLLER);
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
	static char a[8192], b[8192];
	struct future_notifier n;

	memset(a, 3, sizeof(a));
	ma_dsa_model_pause(wq, 1);

	struct vdm_operation_future f = vdm_memcpy(
		data_mover_dsa_get_vdm(dmd), b, a, sizeof(a), 0);

	ck_assert_int_eq(poll_once(&f, &n), FUTURE_NOTIFIER_POLLER);
	ck_assert_int_eq(FUTURE_STATE(&f), FUTURE_STATE_RUNNING);

	uint64_t *word = n.poller.ptr_to_monitor;

	ck_assert_ptr_nonnull(word);
	ck_assert_uint_eq((uintptr_t)word % MA_DSA_RECORD_ALIGN, 0);
	ck_assert_uint_eq(__atomic_load_n(word, __ATOMIC_ACQUIRE), 0);

	struct ma_dsa_model_log log[4];

	ck_assert_uint_eq(ma_dsa_model_log_take(wq, log, 4), 1);
	ck_assert_uint_eq(log[0].desc.completion_addr, (uintptr_t)word);
	ma_dsa_model_pause(wq, 0);
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	ck_assert_uint_eq(*(volatile uint8_t *)word, MA_DSA_S_SUCCESS);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
		FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	data_mover_dsa_delete(dmd);
}
END_TEST

#ifdef HAVE_LINUX_IDXD_H
/* Our layouts and values are the kernel's. */
START_TEST(test_layout_linux)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	/* the kernel's bitfields are laid out the other way; no DSA here */
	printf("test_layout_linux: big-endian, where <linux/idxd.h>'s "
		"bitfields differ and no DSA exists: not checked\n");
	return;
#endif
	ck_assert_uint_eq(sizeof(struct ma_dsa_desc),
		sizeof(struct dsa_hw_desc));
	ck_assert_uint_eq(sizeof(struct ma_dsa_record),
		sizeof(struct dsa_completion_record));
	ck_assert_uint_eq(offsetof(struct ma_dsa_desc, completion_addr),
		offsetof(struct dsa_hw_desc, completion_addr));
	ck_assert_uint_eq(offsetof(struct ma_dsa_desc, src),
		offsetof(struct dsa_hw_desc, src_addr));
	ck_assert_uint_eq(offsetof(struct ma_dsa_desc, dst),
		offsetof(struct dsa_hw_desc, dst_addr));
	ck_assert_uint_eq(offsetof(struct ma_dsa_desc, size),
		offsetof(struct dsa_hw_desc, xfer_size));
	ck_assert_uint_eq(offsetof(struct ma_dsa_desc, int_handle),
		offsetof(struct dsa_hw_desc, int_handle));
	ck_assert_uint_eq(offsetof(struct ma_dsa_desc, op_specific),
		offsetof(struct dsa_hw_desc, op_specific));
	ck_assert_uint_eq(offsetof(struct ma_dsa_record, bytes_completed),
		offsetof(struct dsa_completion_record, bytes_completed));
	ck_assert_uint_eq(offsetof(struct ma_dsa_record, fault_addr),
		offsetof(struct dsa_completion_record, fault_addr));
	ck_assert_uint_eq(offsetof(struct ma_dsa_record, result),
		offsetof(struct dsa_completion_record, result));

	/* the flags and opcode word, through the kernel's bit-fields */
	struct dsa_hw_desc k;
	struct ma_dsa_desc m;

	memset(&k, 0, sizeof(k));
	k.flags = IDXD_OP_FLAG_CRAV | IDXD_OP_FLAG_RCR | IDXD_OP_FLAG_CC |
		IDXD_OP_FLAG_DRDBK | IDXD_OP_FLAG_BOF | IDXD_OP_FLAG_FENCE;
	k.opcode = DSA_OPCODE_MEMFILL;
	memcpy(&m, &k, sizeof(m));
	ck_assert_uint_eq(ma_dsa_desc_opcode(&m), MA_DSA_OP_MEMFILL);
	ck_assert_uint_eq(ma_dsa_desc_flags(&m), MA_DSA_F_CRAV |
		MA_DSA_F_RCR | MA_DSA_F_CC | MA_DSA_F_DRDBK | MA_DSA_F_BOF |
		MA_DSA_F_FENCE);
	ck_assert_uint_eq(MA_DSA_OP_BATCH, DSA_OPCODE_BATCH);
	ck_assert_uint_eq(MA_DSA_OP_MEMMOVE, DSA_OPCODE_MEMMOVE);
	ck_assert_uint_eq(MA_DSA_OP_CFLUSH, DSA_OPCODE_CFLUSH);
	ck_assert_uint_eq(MA_DSA_OP_DRAIN, DSA_OPCODE_DRAIN);
	ck_assert_uint_eq(MA_DSA_S_SUCCESS, DSA_COMP_SUCCESS);
	ck_assert_uint_eq(MA_DSA_S_PAGE_FAULT, DSA_COMP_PAGE_FAULT_NOBOF);
	ck_assert_uint_eq(MA_DSA_S_BATCH_FAIL, DSA_COMP_BATCH_FAIL);
	ck_assert_uint_eq(MA_DSA_S_BATCH_PAGE_FAULT,
		DSA_COMP_BATCH_PAGE_FAULT);
	ck_assert_uint_eq(MA_DSA_S_BAD_OPCODE, DSA_COMP_BAD_OPCODE);
	ck_assert_uint_eq(MA_DSA_S_INVALID_FLAGS, DSA_COMP_INVALID_FLAGS);
	ck_assert_uint_eq(MA_DSA_S_NOZERO_RESERVE, DSA_COMP_NOZERO_RESERVE);
	ck_assert_uint_eq(MA_DSA_S_XFER_ERANGE, DSA_COMP_XFER_ERANGE);
	ck_assert_uint_eq(MA_DSA_S_DESC_CNT_ERANGE,
		DSA_COMP_DESC_CNT_ERANGE);
	ck_assert_uint_eq(MA_DSA_S_DESCLIST_ALIGN, DSA_COMP_DESCLIST_ALIGN);
	ck_assert_uint_eq(MA_DSA_S_CRA_ALIGN, DSA_COMP_CRA_ALIGN);
	ck_assert_uint_eq(MA_DSA_S_WRITE_FAULT, DSA_COMP_STATUS_WRITE);
	ck_assert_uint_eq(MA_DSA_S_MASK, DSA_COMP_STATUS_MASK);
}
END_TEST
#endif

/* Runs f to the end by busy polling (NONE mover). */
static void
finish(struct vdm_operation_future *f)
{
	FUTURE_BUSY_POLL(f);
	ck_assert_int_eq(FUTURE_OUTPUT(f)->result, VDM_SUCCESS);
}

static uint32_t
base_flags(unsigned extra)
{
	return MA_DSA_F_CRAV | MA_DSA_F_RCR | extra;
}

/* A logged descriptor sets CC only where gen_cap offers it. */
static void
check_cc(const struct ma_dsa_wq *wq, const struct ma_dsa_desc *d)
{
	uint64_t cap = ma_dsa_desc_opcode(d) == MA_DSA_OP_CFLUSH ?
		MA_DSA_CAP_CC_FLUSH : MA_DSA_CAP_CC_MEM;

	if (ma_dsa_desc_flags(d) & MA_DSA_F_CC)
		ck_assert_uint_ne(wq->gen_cap & cap, 0);
}

/* Each operation's descriptor, field by field. */
START_TEST(test_descriptors)
{
	struct data_mover_dsa *dmd = mover("emulated:max_transfer_size=4096",
		FUTURE_NOTIFIER_NONE);
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
	struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
	static unsigned char a[5 * 4096], b[5 * 4096];
	struct ma_dsa_model_log log[16];
	struct vdm_operation_future f;
	size_t n;

	/* memcpy, plain: CC (destination kept in the cache) */
	f = vdm_memcpy(vdm, b + 3, a + 5, 1000, 0);
	finish(&f);
	n = ma_dsa_model_log_take(wq, log, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(log[0].member, 0);
	ck_assert_uint_eq(ma_dsa_desc_opcode(&log[0].desc),
		MA_DSA_OP_MEMMOVE);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[0].desc),
		base_flags(MA_DSA_F_CC));
	ck_assert_uint_eq(log[0].desc.src, (uintptr_t)(a + 5));
	ck_assert_uint_eq(log[0].desc.dst, (uintptr_t)(b + 3));
	ck_assert_uint_eq(log[0].desc.size, 1000);
	ck_assert_uint_eq(log[0].desc.completion_addr % MA_DSA_RECORD_ALIGN,
		0);
	ck_assert_uint_eq(log[0].desc.pasid_priv, 0);
	ck_assert_uint_eq(log[0].desc.int_handle, 0);
	ck_assert_uint_eq(log[0].desc.rsvd1, 0);

	/* no cache hint: CC clear; durable: readback, CC clear */
	f = vdm_memmove(vdm, b, a, 100, VDM_F_NO_CACHE_HINT);
	finish(&f);
	f = vdm_memset(vdm, b, 0xab, 77, VDM_F_MEM_DURABLE);
	finish(&f);
	f = vdm_flush(vdm, b, 4096, 0);
	finish(&f);
	f = vdm_flush(vdm, b, 64, VDM_F_NO_CACHE_HINT);
	finish(&f);
	n = ma_dsa_model_log_take(wq, log, 16);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[0].desc), base_flags(0));
	ck_assert_uint_eq(ma_dsa_desc_opcode(&log[1].desc),
		MA_DSA_OP_MEMFILL);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[1].desc),
		base_flags(MA_DSA_F_DRDBK));
	ck_assert_uint_eq(log[1].desc.src, 0xababababababababull);
	ck_assert_uint_eq(log[1].desc.size, 77);
	ck_assert_uint_eq(ma_dsa_desc_opcode(&log[2].desc), MA_DSA_OP_CFLUSH);
	/* the model's default gen_cap (a DSA 1.0's) has no CC for flushes */
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[2].desc), base_flags(0));
	ck_assert_uint_eq(log[2].desc.src, 0);
	ck_assert_uint_eq(log[2].desc.dst, (uintptr_t)b);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[3].desc), base_flags(0));

	/* split: a batch of three members, 64-byte aligned list */
	f = vdm_memcpy(vdm, b, a, 3 * 4096 - 7, 0);
	finish(&f);
	n = ma_dsa_model_log_take(wq, log, 16);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(ma_dsa_desc_opcode(&log[0].desc), MA_DSA_OP_BATCH);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[0].desc), base_flags(0));
	ck_assert_uint_eq(log[0].desc.size, 3);
	ck_assert_uint_eq(log[0].desc.src % 64, 0);
	ck_assert_uint_eq(log[0].desc.dst, 0);
	ck_assert_uint_eq(log[0].desc.completion_addr % MA_DSA_RECORD_ALIGN,
		0);
	for (int i = 0; i < 3; i++) {
		const struct ma_dsa_desc *d = &log[1 + i].desc;

		ck_assert_uint_eq(log[1 + i].member, 1);
		ck_assert_uint_eq(ma_dsa_desc_flags(d),
			base_flags(MA_DSA_F_CC));
		ck_assert_uint_eq(d->src, (uintptr_t)(a + 4096 * i));
		ck_assert_uint_eq(d->dst, (uintptr_t)(b + 4096 * i));
		ck_assert_uint_eq(d->size, i < 2 ? 4096 : 4096 - 7);
		ck_assert_uint_eq(d->completion_addr % MA_DSA_RECORD_ALIGN,
			0);
		ck_assert_uint_ne(d->completion_addr,
			log[0].desc.completion_addr);
	}

	/* overlapping, destination above: top piece first, then fenced */
	f = vdm_memmove(vdm, a + 100, a, 2 * 4096 + 1, 0);
	finish(&f);
	n = ma_dsa_model_log_take(wq, log, 16);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[1].desc),
		base_flags(MA_DSA_F_CC));
	ck_assert_uint_eq(log[1].desc.src, (uintptr_t)(a + 4097));
	ck_assert_uint_eq(log[1].desc.size, 4096);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[2].desc),
		base_flags(MA_DSA_F_CC | MA_DSA_F_FENCE));
	ck_assert_uint_eq(log[2].desc.src, (uintptr_t)(a + 1));
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[3].desc),
		base_flags(MA_DSA_F_CC | MA_DSA_F_FENCE));
	ck_assert_uint_eq(log[3].desc.src, (uintptr_t)a);
	ck_assert_uint_eq(log[3].desc.size, 1);
	check_model_sane(dmd);
	data_mover_dsa_delete(dmd);

	/* no readback: durable stays CC and the CPU flushes; BOF allowed */
	dmd = mover("emulated:gen_cap=5,block_on_fault=1",
		FUTURE_NOTIFIER_NONE);
	wq = ma_dsa_mover_wq(dmd);
	vdm = data_mover_dsa_get_vdm(dmd);
	ck_assert_int_eq(vdm_is_supported(vdm, VDM_F_MEM_DURABLE),
		test_durable_expected());
	f = vdm_memcpy(vdm, b, a, 64, VDM_F_MEM_DURABLE);
	finish(&f);
	n = ma_dsa_model_log_take(wq, log, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ma_dsa_desc_flags(&log[0].desc),
		base_flags(MA_DSA_F_CC | MA_DSA_F_BOF));
	data_mover_dsa_delete(dmd);

	dmd = mover("emulated", FUTURE_NOTIFIER_NONE);
	ck_assert(vdm_is_supported(data_mover_dsa_get_vdm(dmd),
		VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT));
	data_mover_dsa_delete(dmd);
}
END_TEST

/* Waits until the device wrote the record. */
static uint8_t
record_wait(struct ma_dsa_record *r)
{
	uint8_t st;

	while ((st = ma_dsa_record_status(r)) == 0)
		sched_yield();
	MA_HAPPENS_AFTER(r); /* the model's writes before the status */
	return st;
}

static struct ma_dsa_desc *
desc_new(unsigned opcode, uint32_t flags, void *dst, const void *src,
	uint32_t size, struct ma_dsa_record *rec)
{
	static struct ma_dsa_desc d;

	memset(&d, 0, sizeof(d));
	memset(rec, 0, sizeof(*rec));
	d.flags_opcode = ma_dsa_flags_opcode(flags, opcode);
	d.completion_addr = (uintptr_t)rec;
	d.dst = (uintptr_t)dst;
	d.src = (uintptr_t)src;
	d.size = size;
	return &d;
}

/* Submits d to the model and returns the record's status. */
static uint8_t
model_run(struct ma_dsa_wq *wq, struct ma_dsa_desc *d,
	struct ma_dsa_record *rec)
{
	ck_assert_int_eq(wq->submit(wq, d), 0);
	return record_wait(rec);
}

/* The model checks descriptors as the device does. */
START_TEST(test_model_statuses)
{
	struct ma_dsa_wq *wq = ma_dsa_model_open("max_transfer_size=4096,"
		"max_batch_size=4,gen_cap=0");
	static struct ma_dsa_record rec[8] __attribute__((aligned(32)));
	static struct ma_dsa_desc list[8];
	static char a[8192], b[8192];
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_desc *d;

	MA_ATOMIC_WORDS(rec, sizeof(rec)); /* written by the model's engines */
	ck_assert_ptr_nonnull(wq);
	memset(a, 1, sizeof(a));
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 100, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_SUCCESS);
	ck_assert_uint_eq(rec[0].bytes_completed, 0);
	ck_assert_int_eq(b[99], 1);
	d = desc_new(0x05, ok, b, a, 100, &rec[0]); /* compare: not here */
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BAD_OPCODE);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok | 0x40, b, a, 100, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_INVALID_FLAGS);
	ck_assert_uint_eq(rec[0].invalid_flags, 0x40);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok | MA_DSA_F_BOF, b, a, 1, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_INVALID_FLAGS);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok | MA_DSA_F_DRDBK, b, a, 1, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_INVALID_FLAGS);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok | MA_DSA_F_FENCE, b, a, 1, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_INVALID_FLAGS);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 1, &rec[0]);
	d->rsvd1 = 1;
	ck_assert_uint_eq(model_run(wq, d, &rec[0]),
		MA_DSA_S_NOZERO_RESERVE);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 1, &rec[0]);
	d->op_specific[5] = 1;
	ck_assert_uint_eq(model_run(wq, d, &rec[0]),
		MA_DSA_S_NOZERO_RESERVE);
	d = desc_new(MA_DSA_OP_CFLUSH, ok, b, a, 1, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]),
		MA_DSA_S_NOZERO_RESERVE);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 0, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_XFER_ERANGE);
	d = desc_new(MA_DSA_OP_MEMFILL, ok, b, NULL, 4097, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_XFER_ERANGE);

	/* batches: count, list alignment, a batch inside, a failed member */
	d = desc_new(MA_DSA_OP_BATCH, ok, NULL, list, 1, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]),
		MA_DSA_S_DESC_CNT_ERANGE);
	d = desc_new(MA_DSA_OP_BATCH, ok, NULL, list, 5, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]),
		MA_DSA_S_DESC_CNT_ERANGE);
	d = desc_new(MA_DSA_OP_BATCH, ok, NULL, (char *)list + 32, 2,
		&rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]),
		MA_DSA_S_DESCLIST_ALIGN);
	memset(b, 0, sizeof(b));
	list[0] = *desc_new(MA_DSA_OP_MEMFILL, ok, b,
		(void *)0x0707070707070707ull, 10, &rec[1]);
	list[1] = *desc_new(MA_DSA_OP_BATCH, ok, NULL, list, 2, &rec[2]);
	list[2] = *desc_new(MA_DSA_OP_MEMFILL, ok | MA_DSA_F_FENCE, b + 10,
		(void *)0x0909090909090909ull, 10, &rec[3]);
	d = desc_new(MA_DSA_OP_BATCH, ok, NULL, list, 3, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BATCH_FAIL);
	ck_assert_uint_eq(rec[0].bytes_completed, 2); /* fenced: stopped */
	ck_assert_uint_eq(rec[1].status, MA_DSA_S_SUCCESS);
	ck_assert_uint_eq(rec[2].status, MA_DSA_S_BAD_OPCODE);
	ck_assert_uint_eq(rec[3].status, 0); /* not run */
	ck_assert_int_eq(b[9], 7);
	ck_assert_int_eq(b[10], 0);

	/* no RCR: nothing written on success; a misaligned record */
	struct ma_dsa_desc d1 = *desc_new(MA_DSA_OP_NOOP, MA_DSA_F_CRAV, NULL,
		NULL, 0, &rec[1]);
	struct ma_dsa_desc d2 = *desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0,
		&rec[2]);

	d2.completion_addr = (uintptr_t)&rec[2] + 8;
	ck_assert_int_eq(wq->submit(wq, &d1), 0);
	ck_assert_int_eq(wq->submit(wq, &d2), 0);
	wq->close(wq); /* drains the queue */
	ck_assert_uint_eq(rec[1].status, 0);
	ck_assert_uint_eq(rec[2].status, 0);

	/* the drained model's count of unreported errors, on a new one */
	wq = ma_dsa_model_open(NULL);
	d = desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0, &rec[0]);
	d->completion_addr += 16;
	ck_assert_int_eq(wq->submit(wq, d), 0);
	d = desc_new(MA_DSA_OP_DRAIN, ok, NULL, NULL, 0, &rec[1]);
	ck_assert_uint_eq(model_run(wq, d, &rec[1]), MA_DSA_S_SUCCESS);

	struct ma_dsa_model_stats s;

	for (;;) {
		ma_dsa_model_stats(wq, &s);
		if (s.unreported == 1)
			break;
		sched_yield();
	}
	wq->close(wq);
}
END_TEST

/* Faults reported by the model: where, how much, which direction. */
START_TEST(test_model_faults)
{
	struct ma_dsa_wq *wq = ma_dsa_model_open("max_transfer_size=65536");
	static struct ma_dsa_record rec __attribute__((aligned(32)));
	static char buf[8 * 4096] __attribute__((aligned(4096)));
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_desc *d;
	uint8_t st;

	MA_ATOMIC_WORDS(&rec, sizeof(rec)); /* written by the model */
	test_fill(buf, sizeof(buf), 1);
	/* a write fault on the third page of the destination */
	ma_dsa_model_fault_at(wq, buf + 4 * 4096 + 100, 1);
	static char src[4 * 4096];

	test_fill(src, sizeof(src), 3);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, buf + 2 * 4096, src, 4 * 4096,
		&rec);
	st = model_run(wq, d, &rec);
	ck_assert_uint_eq(st, MA_DSA_S_PAGE_FAULT | MA_DSA_S_WRITE_FAULT);
	ck_assert_uint_eq(rec.bytes_completed, 2 * 4096);
	ck_assert_uint_eq(rec.fault_addr, (uintptr_t)(buf + 4 * 4096));
	ck_assert_uint_eq(rec.result, 0);
	ck_assert_int_eq(memcmp(buf + 2 * 4096, src, 2 * 4096), 0);
	ck_assert_int_ne(memcmp(buf + 4 * 4096, src + 2 * 4096, 4096), 0);

	/* a read fault in a backward memmove: the top is done, result 1 */
	test_fill(buf, sizeof(buf), 2);

	char *want = malloc(sizeof(buf));

	memcpy(want, buf, sizeof(buf));
	memmove(want + 3 * 4096 + 4096, want + 3 * 4096, 4096);
	ma_dsa_model_fault_at(wq, buf + 2 * 4096, 0);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, buf + 1000, buf, 4 * 4096, &rec);
	st = model_run(wq, d, &rec);
	ck_assert_uint_eq(st, MA_DSA_S_PAGE_FAULT);
	ck_assert_uint_eq(rec.result, 1);
	/* bytes above the faulting source page were done */
	ck_assert_uint_eq(rec.bytes_completed, 4096);
	ck_assert_uint_eq(rec.fault_addr, (uintptr_t)(buf + 2 * 4096));
	free(want);

	/* with BOF on a block-on-fault queue: waited out, success */
	wq->close(wq);
	wq = ma_dsa_model_open("block_on_fault=1");
	ma_dsa_model_fault_at(wq, buf, 1);
	d = desc_new(MA_DSA_OP_MEMFILL, ok | MA_DSA_F_BOF, buf, NULL, 8192,
		&rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_SUCCESS);

	struct ma_dsa_model_stats s;

	ma_dsa_model_stats(wq, &s);
	ck_assert_uint_eq(s.blocked_faults, 1);
	ck_assert_uint_eq(s.faults, 0);
	wq->close(wq);
}
END_TEST

/* A shared queue refuses when full; a dedicated one drops (counted). */
START_TEST(test_model_capacity)
{
	static struct ma_dsa_record rec[16] __attribute__((aligned(32)));
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_model_stats s;
	struct ma_dsa_desc d;

	MA_ATOMIC_WORDS(rec, sizeof(rec)); /* written by the model */
	for (int shared = 0; shared < 2; shared++) {
		struct ma_dsa_wq *wq = ma_dsa_model_open(shared ?
			"mode=shared,wq_size=2" : "wq_size=2");

		ma_dsa_model_pause(wq, 1);
		for (int i = 0; i < 3; i++) {
			/* each its own record: two engines may run them */
			d = *desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0,
				&rec[i]);
			ck_assert_int_eq(wq->submit(wq, &d),
				i == 2 && shared ? 1 : 0);
		}
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_eq(s.submitted, 2);
		ck_assert_uint_eq(s.refused, shared ? 1 : 0);
		ck_assert_uint_eq(s.overfilled, shared ? 0 : 1);
		wq->close(wq);
	}

	struct ma_dsa_wq *wq = ma_dsa_model_open("mode=shared,refuse_every=3");
	int refused = 0;

	for (int i = 0; i < 9; i++) {
		d = *desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0, &rec[i]);
		refused += wq->submit(wq, &d);
	}
	ck_assert_int_eq(refused, 3);
	wq->close(wq);
}
END_TEST

/* The mover finishes faulted operations, every kind, in batches too. */
START_TEST(test_mover_faults)
{
	static const char *const fcfg[] = {
		"emulated:max_transfer_size=4096,fault_every=1",
		"emulated:max_transfer_size=4096,fault_every=2,mode=shared",
		"emulated:max_transfer_size=65536,fault_every=3",
		"emulated:max_transfer_size=65536,fault_every=1,"
			"max_batch_size=0",
		"emulated:max_transfer_size=4096,fault_every=1,"
			"block_on_fault=1",
	};
	static const size_t fsizes[] = {
		1, 4097, 3 * 4096 + 5, 20 * 4096 + 3, 70000, 300000,
	};

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(fcfg[_i],
			test_notifiers[ni]);
		struct runtime *r = ni ? runtime_new() : NULL;
		struct ma_dsa_model_stats s;

		for (int k = 0; k < K_KINDS; k++)
			for (size_t si = 0; si < 6u - light(); si++)
				run_kind(dmd, r, (enum kind)k, fsizes[si],
					si % 2 ? VDM_F_MEM_DURABLE : 0,
					(unsigned)si);
		ma_dsa_model_stats(ma_dsa_mover_wq(dmd), &s);
		if (_i == 4)
			ck_assert_uint_gt(s.blocked_faults, 0);
		else
			ck_assert_uint_gt(s.faults, 0);
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/* Faults at chosen places: first byte, middle, last page; read, write. */
START_TEST(test_mover_fault_places)
{
	const size_t n = 6 * 4096;
	unsigned char *src = aligned_alloc(4096, n + 4096);
	unsigned char *dst = aligned_alloc(4096, n + 4096);

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(_i ?
			"emulated:max_transfer_size=8192" :
			"emulated:max_transfer_size=65536", test_notifiers[ni]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;
		const size_t places[] = { 0, n / 2 + 17, n - 1 };

		for (int write = 0; write < 2; write++) {
			for (size_t p = 0; p < 3; p++) {
				unsigned char *at = (write ? dst : src) +
					places[p];
				struct ma_dsa_model_stats before, after;

				test_fill(src, n, (unsigned)p);
				memset(dst, 0, n);
				ma_dsa_model_stats(wq, &before);
				ma_dsa_model_fault_at(wq, at, write);

				struct vdm_operation_future f = vdm_memcpy(
					data_mover_dsa_get_vdm(dmd), dst, src,
					n, 0);

				test_wait(r, &f);
				ck_assert_int_eq(FUTURE_OUTPUT(&f)->result,
					VDM_SUCCESS);
				ck_assert_int_eq(memcmp(dst, src, n), 0);
				ma_dsa_model_stats(wq, &after);
				ck_assert_uint_eq(after.faults,
					before.faults + 1);
			}
		}
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
	free(src);
	free(dst);
}
END_TEST

/*
 * A flush of read-only memory, every descriptor faulting (as a write
 * fault, the worst the device can say of a flush): the mover makes each
 * page present by reading it, never by writing it, and the flush
 * completes. Writing the page to touch it would kill the process.
 */
START_TEST(test_mover_flush_read_only)
{
	const size_t n = 5 * 4096 + 100;
	long page = sysconf(_SC_PAGESIZE);
	size_t map = (n + 2 * (size_t)page) & ~((size_t)page - 1);
	unsigned char *p = mmap(NULL, map, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	test_fill(p, map, 7);
	ck_assert_int_eq(mprotect(p, map, PROT_READ), 0);
	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(_i ?
			"emulated:max_transfer_size=4096,fault_every=1" :
			"emulated:max_transfer_size=65536", test_notifiers[ni]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;
		struct ma_dsa_model_stats s;

		if (_i == 0) /* one write fault, on the third page */
			ma_dsa_model_fault_at(wq, p + 3 * 4096 + 50, 1);

		struct vdm_operation_future f = vdm_flush(
			data_mover_dsa_get_vdm(dmd), p + 60, n, 0);

		test_wait(r, &f);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_gt(s.faults, 0);
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
	ck_assert_int_eq(munmap(p, map), 0);
}
END_TEST

/* Each invalid-descriptor status: an error result, and the mover goes on. */
START_TEST(test_invalid_status)
{
	static const uint8_t codes[] = {
		MA_DSA_S_BAD_OPCODE, MA_DSA_S_INVALID_FLAGS,
		MA_DSA_S_NOZERO_RESERVE, MA_DSA_S_XFER_ERANGE,
		MA_DSA_S_DESC_CNT_ERANGE, MA_DSA_S_DESCLIST_ALIGN,
		MA_DSA_S_CRA_ALIGN, 0x1c, 0x1e,
	};
	static char a[3 * 4096], b[3 * 4096];

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(
			"emulated:max_transfer_size=4096", test_notifiers[ni]);
		struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;

		for (size_t c = 0; c < sizeof(codes); c++) {
			size_t n = c % 2 ? sizeof(a) : 100;

			ma_dsa_model_inject_status(ma_dsa_mover_wq(dmd),
				codes[c]);

			struct vdm_operation_future f = vdm_memcpy(vdm, b, a,
				n, 0);

			test_wait(r, &f);
			ck_assert_int_eq(FUTURE_OUTPUT(&f)->result,
				VDM_ERROR_JOB_CORRUPTED);
			ck_assert_ptr_null(
				FUTURE_OUTPUT(&f)->output.memcpy.dest);
			run_kind(dmd, r, K_MEMCPY, n, 0, (unsigned)c);
		}
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

#define STORM 256

/* Many operations at once on a refusing shared queue, or a tiny one. */
START_TEST(test_refusal_storm)
{
	static const char *const scfg[] = {
		"emulated:mode=shared,wq_size=4,refuse_every=2",
		("emulated:mode=shared,wq_size=1,refuse_every=3,"
			"max_transfer_size=4096,max_batch_size=0"),
		"emulated:wq_size=2,max_transfer_size=4096",
	};
	const size_t n = 5000;
	unsigned char *src = malloc(STORM * n), *dst = malloc(STORM * n);

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(scfg[_i],
			test_notifiers[ni]);
		struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
		struct runtime *r = runtime_new();
		static struct vdm_operation_future f[STORM];
		struct future *fp[STORM];
		struct ma_dsa_model_stats s;

		int count = light() ? STORM / 8 : STORM;

		test_fill(src, STORM * n, (unsigned)ni);
		memset(dst, 0, STORM * n);
		for (int i = 0; i < count; i++) {
			f[i] = vdm_memcpy(vdm, dst + i * n, src + i * n, n, 0);
			fp[i] = FUTURE_AS_RUNNABLE(&f[i]);
		}
		runtime_wait_multiple(r, fp, (size_t)count);
		for (int i = 0; i < count; i++)
			ck_assert_int_eq(FUTURE_OUTPUT(&f[i])->result,
				VDM_SUCCESS);
		ck_assert_int_eq(memcmp(src, dst, (size_t)count * n), 0);
		ma_dsa_model_stats(ma_dsa_mover_wq(dmd), &s);
		if (_i < 2)
			ck_assert_uint_gt(s.refused, 0);
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
	free(src);
	free(dst);
}
END_TEST

/* A dedicated queue holds at most its size: the rest wait in the mover. */
START_TEST(test_dedicated_never_overfilled)
{
	struct data_mover_dsa *dmd = mover("emulated:wq_size=2",
		test_notifiers[_i]);
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
	struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
	static unsigned char a[16][1024], b[16][1024];
	static struct vdm_operation_future f[16];
	struct future_notifier n;
	struct ma_dsa_model_stats s;

	memset(a, 9, sizeof(a));
	memset(b, 0, sizeof(b));
	ma_dsa_model_pause(wq, 1);
	for (int i = 0; i < 16; i++) {
		f[i] = vdm_memcpy(vdm, b[i], a[i], sizeof(a[i]), 0);
		poll_once(&f[i], &n);
		ck_assert_int_ne(FUTURE_STATE(&f[i]), FUTURE_STATE_IDLE);
	}
	ma_dsa_model_stats(wq, &s);
	ck_assert_uint_eq(s.submitted, 2);
	ck_assert_uint_eq(s.overfilled, 0);
	ma_dsa_model_pause(wq, 0);
	for (int i = 0; i < 16; i++)
		FUTURE_BUSY_POLL(&f[i]);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	check_model_sane(dmd);
	data_mover_dsa_delete(dmd);
}
END_TEST

/*
 * WAKER, a dedicated queue of one entry: f[0] holds it on the paused
 * device, f[1] is refused it and waits in the watcher, then f[2] starts.
 * Operations started while others wait for an entry queue behind them,
 * and the watcher hands entries out oldest first: the queue takes f[1]
 * before f[2] (its log tells the order). Before, f[2]'s start, or the
 * watcher's order, let it overtake f[1] (in about half the runs).
 */
START_TEST(test_dedicated_waker_order)
{
	struct data_mover_dsa *dmd = mover(
		"emulated:wq_size=1,engines=1,max_batch_size=0",
		FUTURE_NOTIFIER_WAKER);
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
	struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
	static unsigned char a[3][512], b[3][512];
	struct vdm_operation_future f[3];
	struct ma_dsa_model_log log[4];

	for (int i = 0; i < 3; i++) {
		memset(a[i], i + 1, sizeof(a[i]));
		memset(b[i], 0, sizeof(b[i]));
	}
	ma_dsa_model_pause(wq, 1);
	f[0] = vdm_memcpy(vdm, b[0], a[0], sizeof(a[0]), 0);
	future_poll(FUTURE_AS_RUNNABLE(&f[0]), NULL);
	f[1] = vdm_memcpy(vdm, b[1], a[1], sizeof(a[1]), 0);
	future_poll(FUTURE_AS_RUNNABLE(&f[1]), NULL);
	/* the watcher's pass finds f[1] short of an entry */
	while (!ma_dsa_mover_short_of_entries(dmd))
		sched_yield();
	f[2] = vdm_memcpy(vdm, b[2], a[2], sizeof(a[2]), 0);
	future_poll(FUTURE_AS_RUNNABLE(&f[2]), NULL);
	ck_assert_uint_eq(ma_dsa_model_log_take(wq, log, 4), 1);
	ck_assert_uint_eq(log[0].desc.dst, (uintptr_t)b[0]);
	ma_dsa_model_pause(wq, 0);
	for (int i = 0; i < 3; i++)
		finish(&f[i]);
	ck_assert_uint_eq(ma_dsa_model_log_take(wq, log, 4), 2);
	ck_assert_msg(log[0].desc.dst == (uintptr_t)b[1] &&
		log[1].desc.dst == (uintptr_t)b[2],
		"f[2], started later, overtook f[1], waiting for an entry");
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	check_model_sane(dmd);
	data_mover_dsa_delete(dmd);
}
END_TEST

/*
 * A zeroed notifier (no waker function, as a loop that only polls may
 * pass) on a WAKER mover: no waker, so no WAKER promise, and the watcher
 * calls nothing when the copy ends, on the first poll and on a later one.
 * Before, the poll armed the empty waker, said WAKER, and the watcher
 * called a NULL function.
 */
START_TEST(test_zeroed_notifier)
{
	struct data_mover_dsa *dmd = mover("emulated", FUTURE_NOTIFIER_WAKER);
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
	struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
	static unsigned char a[2][512], b[2][512];
	struct future_notifier n;

	memset(a, 0x5e, sizeof(a));
	memset(b, 0, sizeof(b));
	ma_dsa_model_pause(wq, 1);
	for (int i = 0; i < 2; i++) {
		struct vdm_operation_future f =
			vdm_memcpy(vdm, b[i], a[i], sizeof(a[i]), 0);

		memset(&n, 0, sizeof(n));
		if (i == 1) /* armed by a later poll, not the first */
			future_poll(FUTURE_AS_RUNNABLE(&f), NULL);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
			FUTURE_STATE_RUNNING);
		ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_NONE);
		ma_dsa_model_pause(wq, 0);
		while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) !=
				FUTURE_STATE_COMPLETE) {
			ck_assert_int_eq(n.notifier_used,
				FUTURE_NOTIFIER_NONE);
			sched_yield();
		}
		ck_assert_int_eq(f.output.result, VDM_SUCCESS);
		ma_dsa_model_pause(wq, 1);
	}
	ma_dsa_model_pause(wq, 0);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	data_mover_dsa_delete(dmd);
}
END_TEST

/* Deleting the mover with work in flight loses none of it. */
START_TEST(test_delete_in_flight)
{
	const size_t n = 50000, count = 64;
	unsigned char *src = malloc(n * count), *dst = malloc(n * count);
	static struct vdm_operation_future f[64];
	struct future_notifier nf;

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(ni == 1 ?
			"emulated:mode=shared,max_transfer_size=4096,"
			"fault_every=5" : "emulated:max_transfer_size=8192",
			test_notifiers[ni]);
		struct vdm *vdm = data_mover_dsa_get_vdm(dmd);

		test_fill(src, n * count, (unsigned)ni);
		memset(dst, 0, n * count);
		for (size_t i = 0; i < count; i++) {
			f[i] = vdm_memcpy(vdm, dst + i * n, src + i * n, n, 0);
			poll_once(&f[i], &nf); /* started, not waited for */
		}
		/* and some never started: reclaimed by the delete */
		f[0] = vdm_memcpy(vdm, dst, src, n, 0);
		data_mover_dsa_delete(dmd);
		ck_assert_int_eq(memcmp(src, dst, n * count), 0);
	}
	free(src);
	free(dst);
}
END_TEST

/* A waker that polls its own future: COMPLETE from inside the waker. */
struct reentrant {
	struct vdm_operation_future *f;
	_Atomic int woken;
	enum future_state seen;
	_Atomic int polled; /* the first poll returned: the future is ours */
};

static void
reentrant_wake(void *data)
{
	struct reentrant *re = data;

	while (!atomic_load(&re->polled))
		sched_yield();
	MA_HAPPENS_AFTER(&re->polled); /* helgrind: the atomics' hand-off */
	re->seen = future_poll(FUTURE_AS_RUNNABLE(re->f), NULL);
	MA_HAPPENS_BEFORE(&re->woken);
	atomic_store(&re->woken, 1);
}

START_TEST(test_reentrant_waker)
{
	struct data_mover_dsa *dmd = mover("emulated", FUTURE_NOTIFIER_WAKER);
	static char a[100000], b[100000];

	for (int i = 0; i < 50; i++) {
		struct vdm_operation_future f = vdm_memcpy(
			data_mover_dsa_get_vdm(dmd), b, a, sizeof(a), 0);
		struct reentrant re = { &f, 0, FUTURE_STATE_IDLE, 0 };
		struct future_notifier n;

		n = test_notifier(reentrant_wake, &re);
		enum future_state st = future_poll(FUTURE_AS_RUNNABLE(&f), &n);

		MA_HAPPENS_BEFORE(&re.polled);
		atomic_store(&re.polled, 1);
		if (st == FUTURE_STATE_COMPLETE)
			continue;
		ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
		while (!atomic_load(&re.woken))
			sched_yield();
		MA_HAPPENS_AFTER(&re.woken);
		ck_assert_int_eq(re.seen, FUTURE_STATE_COMPLETE);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
	}
	data_mover_dsa_delete(dmd);
}
END_TEST

/*
 * A waker that starts an operation on its own mover and waits for it:
 * the watcher calling the waker is the thread that moves WAKER
 * operations on, so the operation is carried out within the poll that
 * starts it (else the waker waits for itself for ever).
 */
struct nested {
	struct vdm *vdm;
	char *src, *dst;
	size_t n;
	enum future_state first;
	enum vdm_operation_result result;
	struct vdm_operation_future inner;
	_Atomic int woken;
};

static void
nested_wake(void *data)
{
	struct nested *ne = data;

	ne->inner = vdm_memcpy(ne->vdm, ne->dst, ne->src, ne->n, 0);
	ne->first = future_poll(FUTURE_AS_RUNNABLE(&ne->inner), NULL);
	ne->result = FUTURE_OUTPUT(&ne->inner)->result;
	MA_HAPPENS_BEFORE(&ne->woken); /* helgrind: the atomic's hand-off */
	atomic_store(&ne->woken, 1);
}

static const char *const nested_configs[] = {
	"emulated",
	"emulated:wq_size=1",
	"emulated:wq_size=1,max_transfer_size=4096,max_batch_size=0",
	"emulated:wq_size=2,max_transfer_size=4096,fault_every=2",
	"emulated:mode=shared,wq_size=1,max_transfer_size=4096,refuse_every=2",
};

START_TEST(test_waker_starts_op)
{
	struct data_mover_dsa *dmd = mover(nested_configs[_i],
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
	size_t n = 50000;
	char *a = malloc(n), *b = malloc(n), *c = malloc(n);

	ck_assert(a != NULL && b != NULL && c != NULL);

	for (int i = 0; i < 10; i++) {
		struct nested ne = {
			.vdm = vdm, .src = a, .dst = c, .n = n,
			.first = FUTURE_STATE_IDLE,
		};

		test_fill(a, n, (unsigned)i);
		memset(b, 0, n);
		memset(c, 0, n);

		struct vdm_operation_future f = vdm_memcpy(vdm, b, a, n, 0);
		struct future_notifier nt = test_notifier(nested_wake, &ne);

		atomic_init(&ne.woken, 0);
		if (future_poll(FUTURE_AS_RUNNABLE(&f), &nt) ==
				FUTURE_STATE_COMPLETE)
			continue;
		ck_assert_int_eq(nt.notifier_used, FUTURE_NOTIFIER_WAKER);
		while (!atomic_load(&ne.woken))
			sched_yield();
		MA_HAPPENS_AFTER(&ne.woken);
		FUTURE_BUSY_POLL(&f);
		/* (on failure, finish the inner one before asserting) */
		FUTURE_BUSY_POLL(&ne.inner);
		ck_assert_int_eq(ne.first, FUTURE_STATE_COMPLETE);
		ck_assert_int_eq(ne.result, VDM_SUCCESS);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
		ck_assert(memcmp(a, b, n) == 0);
		ck_assert(memcmp(a, c, n) == 0);
	}
	data_mover_dsa_delete(dmd);
	free(a);
	free(b);
	free(c);
}
END_TEST

/*
 * A waker that takes a lock the poller holds while it polls: the mover
 * never calls a waker inside a poll, so nothing deadlocks, and the wake
 * still comes.
 */
struct locking {
	pthread_mutex_t lock;
	_Atomic int woken;
};

static void
locking_wake(void *data)
{
	struct locking *l = data;

	pthread_mutex_lock(&l->lock);
	MA_HAPPENS_BEFORE(&l->woken); /* helgrind: the atomic's hand-off */
	atomic_store(&l->woken, 1);
	pthread_mutex_unlock(&l->lock);
}

START_TEST(test_locking_waker)
{
	struct data_mover_dsa *dmd = mover(
		"emulated:max_transfer_size=4096,fault_every=3",
		FUTURE_NOTIFIER_WAKER);
	static char a[50000], b[50000];
	struct locking l;

	pthread_mutex_init(&l.lock, NULL);
	for (int i = 0; i < 20; i++) {
		struct vdm_operation_future f = vdm_memcpy(
			data_mover_dsa_get_vdm(dmd), b, a, sizeof(a), 0);
		struct future_notifier n;
		enum future_state st;

		atomic_store(&l.woken, 0);
		n = test_notifier(locking_wake, &l);
		do {
			pthread_mutex_lock(&l.lock);
			st = future_poll(FUTURE_AS_RUNNABLE(&f), &n);
			pthread_mutex_unlock(&l.lock);
			if (st == FUTURE_STATE_COMPLETE)
				break;
			/* promised a wake: wait for it; else poll again */
			while (n.notifier_used == FUTURE_NOTIFIER_WAKER &&
					!atomic_load(&l.woken))
				sched_yield();
			MA_HAPPENS_AFTER(&l.woken);
			if (n.notifier_used != FUTURE_NOTIFIER_WAKER)
				sched_yield();
		} while (1);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
	}
	data_mover_dsa_delete(dmd); /* joins the watcher: the waker is done */
	pthread_mutex_destroy(&l.lock);
}
END_TEST

/* More pollers than cores, one mover; each thread its own runtime. */
struct poller_arg {
	struct data_mover_dsa *dmd;
	unsigned seed;
	int use_runtime;
};

static void *
poller_main(void *arg)
{
	struct poller_arg *pa = arg;
	struct runtime *r = pa->use_runtime ? runtime_new() : NULL;
	unsigned iters = test_stress_iterations(100);

	if (light() && iters > 20)
		iters = 20;

	for (unsigned i = 0; i < iters; i++)
		run_kind(pa->dmd, r, (enum kind)((i + pa->seed) % K_KINDS),
			1 + (i * 4099) % 20000, 0, pa->seed + i);
	runtime_delete(r);
	return NULL;
}

START_TEST(test_many_pollers_stress)
{
	struct data_mover_dsa *dmd = mover(
		"emulated:mode=shared,wq_size=8,max_transfer_size=4096,"
		"refuse_every=7,fault_every=11", test_notifiers[_i]);
	pthread_t t[8];
	struct poller_arg pa[8];

	for (int i = 0; i < 8; i++) {
		pa[i].dmd = dmd;
		pa[i].seed = (unsigned)i;
		pa[i].use_runtime = _i != 0 || i % 2;
		ck_assert_int_eq(pthread_create(&t[i], NULL, poller_main,
			&pa[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	check_model_sane(dmd);
	data_mover_dsa_delete(dmd);
}
END_TEST

/* What data_mover_dsa_new refuses. */
START_TEST(test_new_errors)
{
	static const char *const bad[] = {
		"emulated:", "emulated:bogus=1", "emulated:wq_size=0",
		"emulated:wq_size=4,wq_size=5", "emulated:mode=fast",
		"emulated:max_transfer_size=1000",
		"emulatedx",
		"emulated:engines=", "emulated:wq_size=-1",
		"emulated:gen_cap=0,block_on_fault=1",
		"emulated:max_batch_size=1", "emulated:wq_size=4,",
		/* names that sscanf's %u would take: not queue names */
		"wq-1.0", "wq+0.0", "wq 0.0", "wq0.-1", "wq0. 1", "wq0.+1",
		"/dev/dsa/wq-1.0", "/dev/dsa/wq0.+0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(data_mover_dsa_new(bad[i],
			FUTURE_NOTIFIER_NONE) == NULL, "%s accepted", bad[i]);
		ck_assert_msg(errno == EINVAL, "%s: errno %d", bad[i], errno);
	}
	errno = 0;
	ck_assert_ptr_null(data_mover_dsa_new("emulated",
		(enum future_notifier_type)7));
	ck_assert_int_eq(errno, EINVAL);
	data_mover_dsa_delete(NULL);

	struct data_mover_dsa *dmd = mover(
		"emulated:mode=shared,wq_size=7,max_transfer_size=0x10000,"
		"max_batch_size=3,engines=1,fault_every=0,refuse_every=5,"
		"gen_cap=0x101,block_on_fault=1", FUTURE_NOTIFIER_NONE);
	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);

	ck_assert_int_eq(wq->mode, MA_DSA_SHARED);
	ck_assert_uint_eq(wq->size, 7);
	ck_assert_uint_eq(wq->max_transfer_size, 65536);
	ck_assert_uint_eq(wq->max_batch_size, 3);
	ck_assert_uint_eq(wq->gen_cap, 0x101);
	ck_assert_int_eq(wq->block_on_fault, 1);
	data_mover_dsa_delete(dmd);
}
END_TEST

/* A fake idxd tree: ROOT/sys/{dsaN,wqN.M}/..., ROOT/dev/wqN.M. */
static char fake_root[64];

static void
fake_write(const char *dir, const char *file, const char *value)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/%s", fake_root, dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/%s/%s", fake_root, dir, file);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", value);
	fclose(f);
}

static void
fake_device(unsigned d, const char *state, int node)
{
	char dir[32], num[32];

	snprintf(dir, sizeof(dir), "dsa%u", d);
	snprintf(num, sizeof(num), "%d", node);
	fake_write(dir, "state", state);
	fake_write(dir, "numa_node", num);
	fake_write(dir, "gen_cap", "0x40915f0107");
}

static void
fake_queue(const char *name, const char *state, const char *type,
	const char *mode, int with_dev)
{
	char path[256];

	fake_write(name, "state", state);
	fake_write(name, "type", type);
	fake_write(name, "mode", mode);
	fake_write(name, "size", "16");
	fake_write(name, "max_transfer_size", "2097152");
	fake_write(name, "max_batch_size", "32");
	fake_write(name, "block_on_fault", "0");
	if (with_dev) {
		snprintf(path, sizeof(path), "%s/dev/%s", fake_root, name);

		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fclose(f);
	}
}

static void
fake_begin(void)
{
	char path[128];

	strcpy(fake_root, "/tmp/ma-dsa-sysfs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fake_root));
	snprintf(path, sizeof(path), "%s/sys", fake_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dev", fake_root);
	mkdir(path, 0755);

	static char sys[128], dev[128]; /* the roots, until fake_end */

	snprintf(sys, sizeof(sys), "%s/sys", fake_root);
	snprintf(dev, sizeof(dev), "%s/dev", fake_root);
	ma_dsa_wq_set_roots(sys, dev);
}

static void
fake_end(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake_root);
	ck_assert_int_eq(system(cmd), 0);
	ma_dsa_wq_set_roots(NULL, NULL);
}

static void
expect_new_fails(const char *wq, int err)
{
	errno = 0;
	ck_assert_msg(data_mover_dsa_new(wq, FUTURE_NOTIFIER_NONE) == NULL,
		"%s: a mover", wq ? wq : "NULL");
	ck_assert_msg(errno == err, "%s: errno %d, want %d", wq ? wq : "NULL",
		errno, err);
}

/* Discovery over a fake sysfs: what is usable, and the errors. */
START_TEST(test_discovery)
{
	char name[64];

	fake_begin();
	/* no device at all */
	ck_assert_int_eq(ma_dsa_wq_find(name, sizeof(name), 0), -1);
	expect_new_fails(NULL, ENODEV);
	expect_new_fails("wq0.0", ENOENT);
	expect_new_fails("/dev/dsa/wq0.0", EINVAL); /* not under the root */
	expect_new_fails("wq0", EINVAL);
	expect_new_fails("wq0.0x", EINVAL);
	expect_new_fails("dsa0", EINVAL);

	/* disabled queues, kernel queues, a disabled device, no file */
	fake_device(0, "enabled", 0);
	fake_device(1, "disabled", 1);
	fake_queue("wq0.0", "disabled", "user", "dedicated", 1);
	fake_queue("wq0.1", "enabled", "kernel", "dedicated", 1);
	fake_queue("wq0.2", "enabled", "user", "shared", 0);
	fake_queue("wq1.0", "enabled", "user", "dedicated", 1);
	ck_assert_int_eq(ma_dsa_wq_find(name, sizeof(name), 0), -1);
	expect_new_fails(NULL, ENODEV);
	expect_new_fails("wq0.0", ENOENT);
	expect_new_fails("wq0.1", ENOENT);
	expect_new_fails("wq1.0", ENOENT);

	/* usable: the caller's node first, else the first one */
	fake_device(2, "enabled", 1);
	fake_queue("wq2.0", "enabled", "user", "dedicated", 1);
	fake_queue("wq2.1", "enabled", "user", "shared", 1);
	fake_queue("wq0.3", "enabled", "user", "shared", 1);
	ck_assert_int_eq(ma_dsa_wq_find(name, sizeof(name), 1), 0);
	ck_assert_str_eq(name, "wq2.0");
	ck_assert_int_eq(ma_dsa_wq_find(name, sizeof(name), 0), 0);
	ck_assert_str_eq(name, "wq0.3");
	ck_assert_int_eq(ma_dsa_wq_find(name, sizeof(name), 7), 0);
	ck_assert_str_eq(name, "wq0.3");

	/* a named one without its device file */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/dev/wq0.2", fake_root);
		unlink(path);
		errno = 0;
		ck_assert_ptr_null(data_mover_dsa_new(path,
			FUTURE_NOTIFIER_NONE));
#if defined(__x86_64__)
		/* no such file, or no instruction to reach it with */
		ck_assert(errno == ENOENT || errno == ENOTSUP);
#else
		ck_assert_int_eq(errno, ENODEV);
#endif
	}

	/*
	 * A usable queue: a mover where the processor has the instruction
	 * (none is submitted: the fake portal is a plain file), ENOTSUP
	 * where it lacks it, ENODEV off x86-64.
	 */
	struct data_mover_dsa *dmd = data_mover_dsa_new("wq2.0",
		FUTURE_NOTIFIER_POLLER);
	int err = errno;

#if defined(__x86_64__)
	if (dmd != NULL) {
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);

		ck_assert_int_eq(wq->mode, MA_DSA_DEDICATED);
		ck_assert_uint_eq(wq->size, 16);
		ck_assert_uint_eq(wq->max_transfer_size, 2097152);
		ck_assert_uint_eq(wq->max_batch_size, 32);
		ck_assert_int_eq(wq->numa_node, 1);
		ck_assert_uint_eq(wq->gen_cap, 0x40915f0107ull);
		data_mover_dsa_delete(dmd);
	} else {
		ck_assert_int_eq(err, ENOTSUP);
	}
#else
	ck_assert_ptr_null(dmd);
	ck_assert_int_eq(err, ENODEV);
#endif
	fake_end();
}
END_TEST

/*
 * With a NULL wq, each usable queue in turn until one opens: a dedicated
 * queue takes one opener (EBUSY for the next, another mover of the same
 * process included), so the first usable queue may not open. Here a
 * directory stands for such a queue (EISDIR), and the processor is taken
 * to have the instructions.
 */
START_TEST(test_discovery_next)
{
	char name[64], path[256];

	fake_begin();
	fake_device(0, "enabled", 0);
	fake_device(1, "enabled", 1);
	fake_queue("wq0.0", "enabled", "user", "dedicated", 0);
	snprintf(path, sizeof(path), "%s/dev/wq0.0", fake_root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	fake_queue("wq0.1", "enabled", "user", "shared", 1);
	fake_queue("wq1.0", "enabled", "user", "dedicated", 1);

	/* the order: the caller's node first, then by name */
	static const char *const order[2][3] = {
		{ "wq0.0", "wq0.1", "wq1.0" }, { "wq1.0", "wq0.0", "wq0.1" },
	};

	for (int node = 0; node < 2; node++) {
		const char *after = NULL;

		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(ma_dsa_wq_find_next(name,
				sizeof(name), node, after), 0);
			ck_assert_str_eq(name, order[node][i]);
			after = order[node][i];
		}
		ck_assert_int_eq(ma_dsa_wq_find_next(name, sizeof(name), node,
			after), -1);
	}
#if defined(__x86_64__)
	ma_dsa_wq_force_cpu(1);

	struct data_mover_dsa *dmd = data_mover_dsa_new(NULL,
		FUTURE_NOTIFIER_NONE);

	ck_assert_msg(dmd != NULL, "no queue opened: %s", strerror(errno));

	struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);

	/* not wq0.0, the one that does not open */
	ck_assert(wq->mode == MA_DSA_SHARED || wq->numa_node == 1);
	data_mover_dsa_delete(dmd); /* nothing was submitted */
	expect_new_fails("wq0.0", EISDIR); /* named: its own error */
	/* none opens: the first error */
	snprintf(path, sizeof(path), "%s/dev/wq0.1", fake_root);
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dev/wq1.0", fake_root);
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	expect_new_fails(NULL, EISDIR);
	ma_dsa_wq_force_cpu(0);
#endif
	fake_end();
}
END_TEST

/*
 * A real queue named by $MINIASYNC_DSA_WQ (make check
 * MINIASYNC_DSA_WQ=wq0.0): every operation, size and notifier on it.
 * Without the variable there is nothing to run (said on stdout).
 */
START_TEST(test_real_queue)
{
	const char *name = getenv("MINIASYNC_DSA_WQ");

	if (name == NULL || name[0] == '\0') {
		printf("dsa: no MINIASYNC_DSA_WQ, real-queue case not run\n");
		return;
	}
	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(name, test_notifiers[ni]);
		struct runtime *r = ni ? runtime_new() : NULL;

		ck_assert(!ma_dsa_is_model(ma_dsa_mover_wq(dmd)));
		for (int k = 0; k < K_KINDS; k++)
			for (size_t si = 0; si < sizeof(sizes) /
					sizeof(sizes[0]); si++)
				for (size_t fi = 0; fi < 4; fi++)
					run_kind(dmd, r, (enum kind)k,
						sizes[si] * 64 + 3,
						flag_sets[fi], (unsigned)si);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/* This machine's real tree: a device, or ENODEV (never the model). */
START_TEST(test_discovery_real)
{
	struct data_mover_dsa *dmd = data_mover_dsa_new(NULL,
		FUTURE_NOTIFIER_WAKER);

	if (dmd == NULL) {
		ck_assert_int_eq(errno, ENODEV);
		return;
	}
	ck_assert(!ma_dsa_is_model(ma_dsa_mover_wq(dmd)));
	data_mover_dsa_delete(dmd);
}
END_TEST

/* Unpauses the model once the waiting thread is asleep. */
struct unpause_arg {
	pid_t waiter;
	struct ma_dsa_wq *wq;
	int slept;
	unsigned long device_sleeps; /* the runtime's, before the unpause */
};

/*
 * Lets the device go once the runtime has chosen a device's sleep (or
 * after 10 s if it never does: the test then fails on device_sleeps) and
 * its thread shows as sleeping. The thread state alone does not do:
 * under an emulator (qemu-user) a thread shows as sleeping in places of
 * its own, before the runtime's sleep.
 */
static void *
unpause_when_asleep(void *arg)
{
	struct unpause_arg *a = arg;
	time_t end = time(NULL) + 10;

	while ((a->device_sleeps = ma_test_count(MA_TEST_DEVICE_SLEEP)) ==
			0 && time(NULL) < end)
		sched_yield();
	a->slept = test_wait_until_sleeping(a->waiter);
	ma_dsa_model_pause(a->wq, 0);
	return NULL;
}

/*
 * runtime_wait on the mover's POLLER word, which the device writes and
 * nobody signals: the runtime sleeps timed for a device's word (until
 * near its due time, then back-off sleeps), never with the naps of a
 * foreign word nor without a timeout (which would never end); with the
 * device held until the waiter sleeps, for a copy due long after it was
 * submitted (8 MiB) and one due at once (64 bytes, then late).
 */
START_TEST(test_runtime_device_word)
{
	static const size_t lens[] = { 8 << 20, 64 };
	size_t len = lens[_i];
	struct data_mover_dsa *dmd = mover("emulated",
		FUTURE_NOTIFIER_POLLER);
	struct unpause_arg arg = { test_gettid(), ma_dsa_mover_wq(dmd), 0,
		0 };
	unsigned char *a = malloc(len), *b = calloc(1, len);
	struct runtime *r = runtime_new();
	pthread_t t;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	test_fill(a, len, 5);
	ma_dsa_model_pause(arg.wq, 1);

	struct vdm_operation_future f = vdm_memcpy(
		data_mover_dsa_get_vdm(dmd), b, a, len, 0);

	ma_test_count(MA_TEST_TIMED_SLEEP);
	ma_test_count(MA_TEST_DEVICE_SLEEP);
	ck_assert_int_eq(pthread_create(&t, NULL, unpause_when_asleep,
		&arg), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	pthread_join(t, NULL);
	ck_assert_int_eq(arg.slept, 1);
	ck_assert_uint_eq(ma_test_count(MA_TEST_TIMED_SLEEP), 0);
	ck_assert_uint_gt(arg.device_sleeps, 0);
	ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
	ck_assert_int_eq(memcmp(a, b, len), 0);
	runtime_delete(r);
	data_mover_dsa_delete(dmd);
	free(a);
	free(b);
}
END_TEST

/*
 * A queue that fails for good loses nothing: its write(2) errors (_i even)
 * or it is disabled under the mover (_i odd: what it held is dropped, no
 * record written, as accel-config's disable does). What was not yet
 * submitted is done on the CPU, and a disabled queue's lost rounds too
 * once they are overdue; before the first operation and half-way
 * through one (a round on the device), for each queue mode, batches or
 * not, each notifier; an operation never polled again is finished by
 * data_mover_dsa_delete.
 */
START_TEST(test_queue_failed)
{
	static const char *const cfgs[] = {
		"emulated:max_transfer_size=4096",
		"emulated:mode=shared,max_transfer_size=4096",
		"emulated:max_transfer_size=4096,max_batch_size=0",
	};
	const char *cfg = cfgs[_i / 2];
	int disable = _i % 2;
	size_t n = 40 * MAXT + 17, shift = 3 * MAXT + 5;

	for (int k = 0; k < 3; k++) {
		struct data_mover_dsa *dmd = mover(cfg, test_notifiers[k]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct runtime *r = runtime_new();
		unsigned char *buf = malloc(n + shift);
		unsigned char *want = malloc(n + shift);
		unsigned char *gsrc = malloc(n), *gdst = calloc(1, n);

		ck_assert_ptr_nonnull(buf);
		ck_assert_ptr_nonnull(want);
		ck_assert_ptr_nonnull(gsrc);
		ck_assert_ptr_nonnull(gdst);
		/* half-way: the first round is on the device when it fails */
		test_fill(buf, n + shift, 9);
		test_fill(gsrc, n, 10);
		memcpy(want, buf, n + shift);
		memmove(want + shift, want, n);
		ma_dsa_model_pause(wq, 1);

		struct vdm_operation_future f = vdm_memmove(
			data_mover_dsa_get_vdm(dmd), buf + shift, buf, n, 0);
		struct vdm_operation_future g = vdm_memcpy(
			data_mover_dsa_get_vdm(dmd), gdst, gsrc, n, 0);
		struct ma_dsa_model_stats st;

		future_poll(FUTURE_AS_RUNNABLE(&f), NULL);
		future_poll(FUTURE_AS_RUNNABLE(&g), NULL);
		ma_dsa_model_stats(wq, &st);
		ck_assert_uint_gt(st.submitted, 0);
		if (disable) {
			ma_dsa_model_disable(wq);
			/* the library's clock: the lost rounds overdue now */
			ma_test_clock_advance(1000000000ULL);
		} else {
			ma_dsa_model_fail(wq);
		}
		ma_dsa_model_pause(wq, 0);
		test_wait(k == 0 ? NULL : r, &f);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
		ck_assert_int_eq(memcmp(buf, want, n + shift), 0);
		/* then every operation: nothing reaches the device */
		for (int kind = 0; kind < K_KINDS; kind++)
			run_kind(dmd, test_notifiers[k] ==
				FUTURE_NOTIFIER_POLLER ? NULL : r,
				(enum kind)kind, n,
				kind == K_MEMSET ? VDM_F_MEM_DURABLE : 0, 4);
		if (disable) {
			ma_dsa_model_stats(wq, &st);
			ck_assert_uint_gt(st.dropped, 0);
		}
		check_model_sane(dmd);
		runtime_delete(r);
		/* g, never polled again, is finished by the delete */
		data_mover_dsa_delete(dmd);
		ck_assert_int_eq(memcmp(gsrc, gdst, n), 0);
		free(buf);
		free(want);
		free(gsrc);
		free(gdst);
	}
}
END_TEST

/*
 * test_fork is left out under ThreadSanitizer and an emulator (see
 * test_util.h) and under helgrind and DRD, which take the parent's
 * threads, gone in the child, for alive (their lock waits race with
 * everything the child does).
 */

/* In the child: finishes f, runs one more copy; 1 when all is right. */
static int
fork_child_work(struct data_mover_dsa *dmd, struct runtime *r,
	struct vdm_operation_future *f, const unsigned char *src,
	unsigned char *dst, size_t n)
{
	struct vdm_operation_future g;

	test_wait(r, f);
	if (FUTURE_OUTPUT(f)->result != VDM_SUCCESS || memcmp(src, dst, n))
		return 0;
	memset(dst, 0, n);
	g = vdm_memmove(data_mover_dsa_get_vdm(dmd), dst, (void *)src, n, 0);
	test_wait(r, &g);
	return FUTURE_OUTPUT(&g)->result == VDM_SUCCESS &&
		memcmp(src, dst, n) == 0;
}

/*
 * fork with an operation in flight on the device: in the child it
 * completes, byte for byte, and so does a new one (on the CPU), for each
 * notifier and queue mode; the mover is deleted there without a hang;
 * in the parent the operation completes as usual.
 */
START_TEST(test_fork)
{
	static const char *const cfgs[] = {
		"emulated:max_transfer_size=4096",
		"emulated:mode=shared,max_transfer_size=4096,max_batch_size=0",
		/* WAKER: the watcher holds it short of an entry at the fork */
		"emulated:wq_size=1,max_transfer_size=4096,max_batch_size=0",
	};
	size_t n = 4 << 20;

#ifdef TEST_TSAN_BUILD
	printf("test_fork left out: ThreadSanitizer build\n");
	return;
#endif
	if (test_emulated("test_fork"))
		return;

	if (test_thread_checker("test_fork"))
		return;
	for (int k = 0; k < 3; k++) {
		struct data_mover_dsa *dmd = mover(cfgs[_i], test_notifiers[k]);
		struct runtime *r = k == 0 ? NULL : runtime_new();
		unsigned char *src = malloc(n), *dst = calloc(1, n);
		struct future_notifier nf;
		int status;

		/* the model's and mover's threads idle: none starting */
		ck_assert(test_wait_others_sleeping());
		ck_assert_ptr_nonnull(src);
		ck_assert_ptr_nonnull(dst);
		test_fill(src, n, 11 + (unsigned)k);

		struct vdm_operation_future f = vdm_memcpy(
			data_mover_dsa_get_vdm(dmd), dst, src, n, 0);

		poll_once(&f, &nf);
		if (_i == 2 && test_notifiers[k] == FUTURE_NOTIFIER_WAKER)
			while (!ma_dsa_mover_short_of_entries(dmd))
				sched_yield();
		fflush(stdout);

		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			alarm(60);

			int ok = fork_child_work(dmd, r, &f, src, dst, n);

			data_mover_dsa_delete(dmd);
			_exit(ok ? 0 : 1);
		}
		test_wait(r, &f);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
		ck_assert_int_eq(memcmp(src, dst, n), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"the child failed (status %#x, notifier %d)", status,
			(int)test_notifiers[k]);
		if (r != NULL)
			runtime_delete(r);
		data_mover_dsa_delete(dmd);
		free(src);
		free(dst);
	}
}
END_TEST

/*
 * Model options as a user writes them wrong: numbers with blanks or a sign
 * (strtoull(3) takes both), refuse_every=1 (every submission refused: each
 * operation waited forever; now each descriptor is refused once),
 * refuse_every on a dedicated queue (taken, no effect), and the bounds
 * the manual gives, both sides of each.
 */
START_TEST(test_model_options_strict)
{
	static const char *const bad[] = {
		"emulated:wq_size= 4", "emulated:wq_size=\t4",
		"emulated:gen_cap= -1", "emulated:gen_cap=+1",
		"emulated:fault_every= 3", "emulated:wq_size=4 ",
		"emulated:fault_every=4294967296",
		"emulated:mode=shared,refuse_every=4294967296",
		"emulated:wq_size=1025", "emulated:engines=17",
		"emulated:max_batch_size=1025",
		"emulated:max_transfer_size=16",
		"emulated:max_transfer_size=4294967296",
	};
	static const char *const good[] = {
		"emulated:wq_size=1", "emulated:wq_size=1024",
		"emulated:engines=1", "emulated:engines=16",
		"emulated:max_batch_size=0", "emulated:max_batch_size=2",
		"emulated:max_batch_size=1024",
		"emulated:max_transfer_size=32",
		"emulated:max_transfer_size=2147483648",
		"emulated:mode=shared,refuse_every=1",
		"emulated:refuse_every=1", "emulated:refuse_every=3",
		"emulated:mode=dedicated,refuse_every=2,wq_size=1",
		"emulated:mode=shared,refuse_every=2",
		"emulated:mode=shared,refuse_every=4294967295",
		"emulated:fault_every=1", "emulated:fault_every=4294967295",
		"emulated:gen_cap=0", "emulated:gen_cap=0xffffffffffffffff",
		"emulated:wq_size=010",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(data_mover_dsa_new(bad[i],
			FUTURE_NOTIFIER_NONE) == NULL, "%s accepted", bad[i]);
		ck_assert_msg(errno == EINVAL, "%s: errno %d", bad[i], errno);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct data_mover_dsa *dmd = data_mover_dsa_new(good[i],
			FUTURE_NOTIFIER_NONE);

		ck_assert_msg(dmd != NULL, "%s: errno %d", good[i], errno);
		run_kind(dmd, NULL, K_MEMCPY, 4097, 0, 2);
		check_model_sane(dmd);
		data_mover_dsa_delete(dmd);
	}
	/* refuse_every=1: each descriptor refused once, then taken */
	for (int k = 0; k < 3; k++) {
		struct data_mover_dsa *dmd = mover(
			"emulated:mode=shared,refuse_every=1,"
			"max_transfer_size=4096", test_notifiers[k]);
		struct runtime *r = runtime_new();
		struct ma_dsa_model_stats st;

		for (int kind = 0; kind < K_KINDS; kind++)
			run_kind(dmd, k == 0 ? NULL : r, (enum kind)kind,
				3 * 4096 + 5, 0, (unsigned)kind);
		ma_dsa_model_stats(ma_dsa_mover_wq(dmd), &st);
		ck_assert_uint_gt(st.submitted, 0);
		ck_assert_uint_ge(st.refused, st.submitted);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/*
 * A waker whose memory the poller frees as soon as it sees the future
 * complete, as a user's event loop does (a condition variable and its
 * mutex in a heap block, freed and the block's memory reused at once).
 * The mover is done with the waker before a poll reports COMPLETE; under
 * helgrind (make check-valgrind-helgrind TESTS=tests/dsa) this reports a
 * race if the end of the waker's call is not ordered before that poll.
 */
struct freed_waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int woken;
};

static void
freed_waker_wake(void *data)
{
	struct freed_waker *w = data;

	pthread_mutex_lock(&w->lock);
	w->woken = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

START_TEST(test_waker_freed_at_completion)
{
	struct data_mover_dsa *dmd = mover(
		"emulated:max_transfer_size=4096,fault_every=3",
		FUTURE_NOTIFIER_WAKER);
	static unsigned char a[20000], b[20000];
	unsigned iters = light() ? 10 : 50;

	for (unsigned i = 0; i < iters; i++) {
		struct freed_waker *w = malloc(sizeof(*w));
		size_t n = 1 + (i * 4099) % sizeof(a);

		ck_assert_ptr_nonnull(w);
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cond, NULL);
		memset(a, (int)i + 1, n);

		struct vdm_operation_future f = vdm_memcpy(
			data_mover_dsa_get_vdm(dmd), b, a, n, 0);

		for (;;) {
			struct future_notifier nt;

			pthread_mutex_lock(&w->lock);
			w->woken = 0;
			pthread_mutex_unlock(&w->lock);
			memset(&nt, 0, sizeof(nt));
			nt.waker.data = w;
			nt.waker.wake = freed_waker_wake;
			if (future_poll(FUTURE_AS_RUNNABLE(&f), &nt) ==
					FUTURE_STATE_COMPLETE)
				break;
			if (nt.notifier_used != FUTURE_NOTIFIER_WAKER)
				continue;
			pthread_mutex_lock(&w->lock);
			while (!w->woken)
				pthread_cond_wait(&w->cond, &w->lock);
			pthread_mutex_unlock(&w->lock);
		}
		/* complete: the waker is ours again, to destroy and reuse */
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		memset(w, 0xa5, sizeof(*w));
		free(w);
		ck_assert_int_eq(FUTURE_OUTPUT(&f)->result, VDM_SUCCESS);
		ck_assert_int_eq(memcmp(a, b, n), 0);
	}
	data_mover_dsa_delete(dmd);
}
END_TEST

/*
 * The device takes CC only where gen_cap offers it for the opcode (bit
 * 2: memmove and fill, bit 3: cache flush; a DSA 1.0 has bit 2 only), and
 * a memmove between overlapping ranges only where bit 1 says so.
 */
START_TEST(test_model_capability_flags)
{
	struct ma_dsa_wq *wq = ma_dsa_model_open("gen_cap=0x101");
	static struct ma_dsa_record rec __attribute__((aligned(32)));
	static char a[8192], b[8192];
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_desc *d;

	MA_ATOMIC_WORDS(&rec, sizeof(rec)); /* written by the model */
	ck_assert_ptr_nonnull(wq);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok | MA_DSA_F_CC, b, a, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_INVALID_FLAGS);
	ck_assert_uint_eq(rec.invalid_flags, MA_DSA_F_CC);
	d = desc_new(MA_DSA_OP_MEMFILL, ok | MA_DSA_F_CC, b, NULL, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_INVALID_FLAGS);
	d = desc_new(MA_DSA_OP_CFLUSH, ok | MA_DSA_F_CC, b, NULL, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_INVALID_FLAGS);
	d = desc_new(MA_DSA_OP_CFLUSH, ok, b, NULL, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_SUCCESS);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, a + 10, a, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_OVERLAP);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, a, a + 10, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_OVERLAP);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, a + 100, a, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_SUCCESS);
	wq->close(wq);

	/* the default: a DSA 1.0's bits (no CC on a flush) */
	wq = ma_dsa_model_open(NULL);
	ck_assert_uint_eq(wq->gen_cap, 0x107);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok | MA_DSA_F_CC, a + 10, a, 100,
		&rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_SUCCESS);
	d = desc_new(MA_DSA_OP_CFLUSH, ok | MA_DSA_F_CC, b, NULL, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_INVALID_FLAGS);
	wq->close(wq);
	wq = ma_dsa_model_open("gen_cap=0x10f");
	d = desc_new(MA_DSA_OP_CFLUSH, ok | MA_DSA_F_CC, b, NULL, 100, &rec);
	ck_assert_uint_eq(model_run(wq, d, &rec), MA_DSA_S_SUCCESS);
	wq->close(wq);
}
END_TEST

/* The mover asks for CC and overlapping moves only where gen_cap says. */
START_TEST(test_mover_capabilities)
{
	static const char *const caps[] = {
		"emulated:max_transfer_size=4096", /* a DSA 1.0: 0x107 */
		"emulated:max_transfer_size=4096,gen_cap=0x101",
		"emulated:max_transfer_size=4096,gen_cap=0x10f",
		("emulated:max_transfer_size=4096,gen_cap=0x105,"
			"max_batch_size=0"),
	};
	static const size_t ns[] = { 1, 100, MAXT + 1, 3 * MAXT + 5 };
	struct ma_dsa_model_log log[64];

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(caps[_i],
			test_notifiers[ni]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;
		unsigned seed = 0;

		for (int k = 0; k < K_KINDS; k++)
			for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
				for (unsigned fl = 0; fl < 2; fl++) {
					size_t got;

					run_kind(dmd, r, (enum kind)k, ns[i],
						fl ? VDM_F_NO_CACHE_HINT : 0,
						seed++);
					while ((got = ma_dsa_model_log_take(wq,
							log, 64)) != 0)
						for (size_t j = 0; j < got;
								j++)
							check_cc(wq,
								&log[j].desc);
				}
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/*
 * A queue fed by write(2) (its portal could not be mapped): the driver
 * refuses batch descriptors with EINVAL, so the mover gives it single
 * descriptors and keeps using the device.
 */
START_TEST(test_write_submission)
{
	static struct ma_dsa_record rec[2] __attribute__((aligned(32)));
	static struct ma_dsa_desc list[2];
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_model_stats s;

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(_i ?
			("emulated:submit=write,mode=shared,"
				"max_transfer_size=4096") :
			"emulated:submit=write,max_transfer_size=4096",
			test_notifiers[ni]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;

		ck_assert_int_eq(wq->via_write, 1);
		run_kind(dmd, r, K_MEMCPY, 10 * MAXT + 3, 0, 1);
		run_kind(dmd, r, K_MOVE_UP, 5 * MAXT, 0, 2);
		run_kind(dmd, r, K_FLUSH, 3 * MAXT, 0, 3);
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_eq(s.rejected, 0);
		ck_assert_uint_eq(s.batches, 0);

		uint64_t before = s.submitted;

		run_kind(dmd, r, K_MEMSET, 2 * MAXT, 0, 4);
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_gt(s.submitted, before); /* the device, still */
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}

	/* the model's write(2): a batch, a misaligned record: EINVAL */
	struct ma_dsa_wq *wq = ma_dsa_model_open("submit=write");

	ck_assert_ptr_nonnull(wq);
	list[0] = *desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0, &rec[1]);
	list[1] = list[0];
	ck_assert_int_eq(wq->submit(wq, desc_new(MA_DSA_OP_BATCH, ok, NULL,
		list, 2, &rec[0])), -1);
	struct ma_dsa_desc *d = desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0,
		&rec[0]);

	d->completion_addr += 8;
	ck_assert_int_eq(wq->submit(wq, d), -1);
	ma_dsa_model_stats(wq, &s);
	ck_assert_uint_eq(s.rejected, 2);
	ck_assert_uint_eq(s.submitted, 0);
	wq->close(wq);
}
END_TEST

/*
 * A page fault on a batch's list: the members before the page run, the
 * record says BATCH_PAGE_FAULT, descs_completed and the address; with
 * BOF on a block-on-fault queue it is waited out.
 */
START_TEST(test_model_list_fault)
{
	static struct ma_dsa_desc pages[2 * 4096 / 64]
		__attribute__((aligned(4096)));
	static struct ma_dsa_record rec[5] __attribute__((aligned(32)));
	static unsigned char b[64];
	struct ma_dsa_desc *list = pages + 4096 / 64 - 2; /* 2 on page 1 */
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_model_stats s;

	MA_ATOMIC_WORDS(rec, sizeof(rec)); /* written by the model */
	for (int bof = 0; bof < 2; bof++) {
		struct ma_dsa_wq *wq = ma_dsa_model_open(bof ?
			"block_on_fault=1" : NULL);

		ck_assert_ptr_nonnull(wq);
		memset(b, 0, sizeof(b));
		for (uintptr_t i = 0; i < 4; i++)
			list[i] = *desc_new(MA_DSA_OP_MEMFILL, ok, b + 8 * i,
				(void *)(0x0101010101010101ull * (i + 1)), 8,
				&rec[1 + i]);
		ma_dsa_model_fault_at(wq, pages + 4096 / 64, 0);

		struct ma_dsa_desc *d = desc_new(MA_DSA_OP_BATCH,
			ok | (bof ? MA_DSA_F_BOF : 0), NULL, list, 4, &rec[0]);
		uint8_t st = model_run(wq, d, &rec[0]);

		ma_dsa_model_stats(wq, &s);
		if (bof) {
			ck_assert_uint_eq(st, MA_DSA_S_SUCCESS);
			ck_assert_uint_eq(s.blocked_faults, 1);
			ck_assert_uint_eq(rec[4].status, MA_DSA_S_SUCCESS);
			ck_assert_uint_eq(b[24], 4);
		} else {
			ck_assert_uint_eq(st, MA_DSA_S_BATCH_PAGE_FAULT);
			ck_assert_uint_eq(rec[0].bytes_completed, 2);
			ck_assert_uint_eq(rec[0].fault_addr,
				(uintptr_t)(pages + 4096 / 64));
			ck_assert_uint_eq(s.list_faults, 1);
			ck_assert_uint_eq(rec[1].status, MA_DSA_S_SUCCESS);
			ck_assert_uint_eq(rec[2].status, MA_DSA_S_SUCCESS);
			ck_assert_uint_eq(rec[3].status, 0);
			ck_assert_uint_eq(rec[4].status, 0);
			ck_assert_uint_eq(b[8], 2);
			ck_assert_uint_eq(b[16], 0);
		}
		wq->close(wq);
	}
}
END_TEST

/*
 * A drain completes after every descriptor the queue took before it,
 * whichever engine runs them (here a long copy on another engine).
 */
START_TEST(test_model_drain)
{
	const size_t n = 2 << 20;
	struct ma_dsa_wq *wq = ma_dsa_model_open("engines=4,"
		"max_transfer_size=2097152");
	static struct ma_dsa_record rec[2] __attribute__((aligned(32)));
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	char *a = malloc(n), *b = malloc(n);

	ck_assert_ptr_nonnull(wq);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	MA_ATOMIC_WORDS(rec, sizeof(rec)); /* written by the model */
	memset(a, 3, n);
	for (int i = 0; i < 8; i++) {
		struct ma_dsa_desc m = *desc_new(MA_DSA_OP_MEMMOVE, ok, b, a,
			(uint32_t)n, &rec[0]);
		struct ma_dsa_desc *d = desc_new(MA_DSA_OP_DRAIN, ok, NULL,
			NULL, 0, &rec[1]);

		ck_assert_int_eq(wq->submit(wq, &m), 0);
		ck_assert_uint_eq(model_run(wq, d, &rec[1]),
			MA_DSA_S_SUCCESS);
		/* the copy's record, written before the drain's */
		ck_assert_uint_eq(ma_dsa_record_status(&rec[0]),
			MA_DSA_S_SUCCESS);
	}
	wq->close(wq);
	free(a);
	free(b);
}
END_TEST

/* The mover goes on after a fault on its own batch list. */
START_TEST(test_mover_list_fault)
{
	static unsigned char a[8 * 4096], b[8 * 4096];
	struct ma_dsa_model_log log[16];
	struct ma_dsa_model_stats s;

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(
			"emulated:max_transfer_size=4096", test_notifiers[ni]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct vdm *vdm = data_mover_dsa_get_vdm(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;
		struct vdm_operation_future f;

		/* where the mover keeps the list of a split copy */
		f = vdm_memcpy(vdm, b, a, sizeof(a), 0);
		test_wait_success(r, &f);
		ck_assert_uint_ge(ma_dsa_model_log_take(wq, log, 16), 1);
		ck_assert_uint_eq(ma_dsa_desc_opcode(&log[0].desc),
			MA_DSA_OP_BATCH);

		/* the next operation reuses it: its sixth member faults */
		ma_dsa_model_fault_at(wq, (const void *)(uintptr_t)
			(log[0].desc.src + 5 * 64), 0);
		test_fill(a, sizeof(a), (unsigned)ni + 1);
		f = vdm_memcpy(vdm, b, a, sizeof(a), 0);
		test_wait_success(r, &f);
		ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_eq(s.list_faults, 1);
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
}
END_TEST

/* The form of sysfs op_cap and op_config: what is read, what is not. */
START_TEST(test_opcode_parse)
{
	static const struct {
		const char *s;
		uint64_t want;
	} good[] = {
		/* a Sapphire Rapids DSA, published: no BATCH (bit 1) */
		{ ("00000000,00000000,00000000,00000000,00000000,00000000,"
			"00000001,003f027d"), 0x1003f027dull },
		/* idxd-config's documentation */
		{ ("00000000,00000000,00000000,00000000,00000000,00000000,"
			"00fc00ff,003f03ff"), 0x00fc00ff003f03ffull },
		{ "003f027d", 0x3f027d },
		{ "1,3f027d", 0x1003f027dull },
		{ "ABCDEF01,00000000", 0xabcdef0100000000ull },
		{ "ffffffff,1,0", 0x100000000ull },
		{ "0", 0 },
	};
	static const char *const bad[] = {
		"", ",", "1,", ",1", "1,,2", "0x3f027d", "123456789",
		" 1", "1 ", "-1", "+1", "g", "1;2", "0x1003f027d 0x0 0x0 0x0",
		"1,2,3,4,5,6,7,8,9", "00000001,003f027d\n",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 42;
		ck_assert_msg(ma_dsa_parse_opcodes(good[i].s, &v) == 0,
			"\"%s\" refused", good[i].s);
		ck_assert_msg(v == good[i].want, "\"%s\": %#llx", good[i].s,
			(unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		ck_assert_msg(ma_dsa_parse_opcodes(bad[i], &v) == -1,
			"\"%s\" taken", bad[i]);
		ck_assert_uint_eq(v, 42);
	}
}
END_TEST

/*
 * Discovery over a fake sysfs: the opcodes of a queue are op_cap and
 * op_config; absent or malformed, what the mover assumed before.
 */
START_TEST(test_discovery_opcodes)
{
	static const char spr[] = "00000000,00000000,00000000,00000000,"
		"00000000,00000000,00000001,003f027d";
	/* NOOP, MEMMOVE, MEMFILL and CFLUSH */
	static const char config[] = "00000000,00000000,00000000,00000000,"
		"00000000,00000000,00000001,00000019";

	fake_begin();
	fake_device(0, "enabled", 0);
	fake_write("dsa0", "op_cap", spr);
	fake_queue("wq0.0", "enabled", "user", "dedicated", 1);
	fake_queue("wq0.1", "enabled", "user", "shared", 1);
	fake_write("wq0.1", "op_config", config);
	fake_queue("wq0.2", "enabled", "user", "dedicated", 1);
	fake_write("wq0.2", "op_config", "0x19"); /* malformed: aside */
	fake_device(1, "enabled", 0); /* no op_cap */
	fake_queue("wq1.0", "enabled", "user", "dedicated", 1);
	fake_queue("wq1.1", "enabled", "user", "dedicated", 1);
	fake_write("wq1.1", "op_config", config);
	fake_device(2, "enabled", 0);
	fake_write("dsa2", "op_cap", "0x1003f027d 0x0 0x0 0x0"); /* old */
	fake_queue("wq2.0", "enabled", "user", "dedicated", 1);
	fake_device(3, "enabled", 0);
	/* no MEMMOVE (bit 3): the queue is not worth a mover */
	fake_write("dsa3", "op_cap", "00000001,00000015");
	fake_queue("wq3.0", "enabled", "user", "dedicated", 1);

	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq0.0"), 0x1003f027dull);
	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq0.1"), 0x100000019ull);
	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq0.2"), 0x1003f027dull);
	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq1.0"), MA_DSA_OPS_ASSUMED);
	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq1.1"), 0x100000018ull);
	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq2.0"), MA_DSA_OPS_ASSUMED);
	ck_assert_uint_eq(ma_dsa_wq_opcodes("wq3.0"), 0x100000015ull);
#if defined(__x86_64__)
	ma_dsa_wq_force_cpu(1);

	static const struct {
		const char *name;
		uint64_t want;
	} opened[] = {
		{ "wq0.0", 0x1003f027dull }, { "wq0.1", 0x100000019ull },
		{ "wq1.0", MA_DSA_OPS_ASSUMED },
	};

	for (size_t i = 0; i < sizeof(opened) / sizeof(opened[0]); i++) {
		struct data_mover_dsa *dmd = mover(opened[i].name,
			FUTURE_NOTIFIER_NONE);

		ck_assert_uint_eq(ma_dsa_mover_wq(dmd)->op_cap, opened[i].want);
		data_mover_dsa_delete(dmd);
	}
	expect_new_fails("wq3.0", ENOTSUP);

	/* a NULL name passes over it to the next queue */
	static const char *const off[] = {
		"wq0.0", "wq0.1", "wq0.2", "wq1.0", "wq1.1", "wq2.0",
	};

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		fake_write(off[i], "state", "disabled");
	fake_device(4, "enabled", 0);
	fake_queue("wq4.0", "enabled", "user", "dedicated", 1);

	struct data_mover_dsa *dmd = data_mover_dsa_new(NULL,
		FUTURE_NOTIFIER_NONE);

	ck_assert_msg(dmd != NULL, "no queue opened: %s", strerror(errno));
	ck_assert_uint_eq(ma_dsa_mover_wq(dmd)->op_cap, MA_DSA_OPS_ASSUMED);
	data_mover_dsa_delete(dmd);
	ma_dsa_wq_force_cpu(0);
#endif
	fake_end();
}
END_TEST

/*
 * The model's op_cap: a descriptor, batch or member whose opcode it
 * leaves out completes with BAD_OPCODE and nothing written.
 */
START_TEST(test_model_op_cap)
{
	static struct ma_dsa_record rec[3] __attribute__((aligned(32)));
	static struct ma_dsa_desc list[2];
	static char a[256], b[256], want[256];
	const uint32_t ok = MA_DSA_F_CRAV | MA_DSA_F_RCR;
	struct ma_dsa_model_stats s;
	struct ma_dsa_desc *d;
	struct ma_dsa_wq *wq;

	MA_ATOMIC_WORDS(rec, sizeof(rec)); /* written by the model */
	wq = ma_dsa_model_open(NULL);
	ck_assert_ptr_nonnull(wq);
	ck_assert_uint_eq(wq->op_cap, 0x10000001full);
	wq->close(wq);

	/* MEMMOVE only */
	wq = ma_dsa_model_open("op_cap=0x8");
	ck_assert_ptr_nonnull(wq);
	ck_assert_uint_eq(wq->op_cap, 0x8);
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memcpy(want, b, sizeof(b));
	d = desc_new(MA_DSA_OP_MEMFILL, ok, b, (void *)0x0303030303030303ull,
		100, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BAD_OPCODE);
	d = desc_new(MA_DSA_OP_CFLUSH, ok, b, NULL, 100, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BAD_OPCODE);
	d = desc_new(MA_DSA_OP_NOOP, ok, NULL, NULL, 0, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BAD_OPCODE);
	list[0] = *desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 10, &rec[1]);
	list[1] = *desc_new(MA_DSA_OP_MEMMOVE, ok, b + 10, a, 10, &rec[2]);
	d = desc_new(MA_DSA_OP_BATCH, ok, NULL, list, 2, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BAD_OPCODE);
	ck_assert_uint_eq(ma_dsa_record_status(&rec[1]), 0);
	ck_assert_uint_eq(ma_dsa_record_status(&rec[2]), 0);
	ck_assert_int_eq(memcmp(b, want, sizeof(b)), 0); /* nothing */
	ma_dsa_model_stats(wq, &s);
	ck_assert_uint_eq(s.batches, 0);
	ck_assert_uint_eq(s.executed, 0);
	d = desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 100, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_SUCCESS);
	ck_assert_int_eq(memcmp(b, a, 100), 0);
	wq->close(wq);

	/* BATCH and MEMMOVE: a member without its opcode fails alone */
	wq = ma_dsa_model_open("op_cap=0xa");
	ck_assert_ptr_nonnull(wq);
	memset(b, 2, sizeof(b));
	list[0] = *desc_new(MA_DSA_OP_MEMMOVE, ok, b, a, 10, &rec[1]);
	list[1] = *desc_new(MA_DSA_OP_MEMFILL, ok, b + 100,
		(void *)0x0303030303030303ull, 10, &rec[2]);
	d = desc_new(MA_DSA_OP_BATCH, ok, NULL, list, 2, &rec[0]);
	ck_assert_uint_eq(model_run(wq, d, &rec[0]), MA_DSA_S_BATCH_FAIL);
	ck_assert_uint_eq(ma_dsa_record_status(&rec[1]), MA_DSA_S_SUCCESS);
	ck_assert_uint_eq(ma_dsa_record_status(&rec[2]),
		MA_DSA_S_BAD_OPCODE);
	ck_assert_int_eq(memcmp(b, a, 10), 0);
	ck_assert_int_eq(memcmp(b + 10, want + 10, sizeof(b) - 10), 0);
	wq->close(wq);

	/* the option is a number, as the others */
	errno = 0;
	ck_assert_ptr_null(ma_dsa_model_open("op_cap="));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(ma_dsa_model_open("op_cap=-1"));
	ck_assert_ptr_null(ma_dsa_model_open("op_cap=0x8,op_cap=0x8"));
}
END_TEST

/*
 * The mover on a queue short of opcodes: no batches where BATCH is not
 * offered, fills and flushes on the CPU where their opcodes are not,
 * and no mover on a queue without MEMMOVE.
 */
START_TEST(test_mover_op_cap)
{
	static const char *const nobatch[] = {
		"emulated:max_transfer_size=4096,op_cap=0x10000001d",
		("emulated:mode=shared,max_transfer_size=4096,"
			"op_cap=0x10000001d"),
	};
	static const char *const nofill[] = {
		"emulated:max_transfer_size=4096,op_cap=0xb",
		"emulated:mode=shared,max_transfer_size=4096,op_cap=0xb",
	};
	static const size_t ns[] = { 100, MAXT + 1, 40 * MAXT + 17 };
	struct ma_dsa_model_stats s;

	for (size_t ni = 0; ni < 3; ni++) {
		struct data_mover_dsa *dmd = mover(nobatch[_i],
			test_notifiers[ni]);
		struct ma_dsa_wq *wq = ma_dsa_mover_wq(dmd);
		struct runtime *r = ni ? runtime_new() : NULL;
		unsigned seed = 0;

		for (int k = 0; k < K_KINDS; k++)
			for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
				run_kind(dmd, r, (enum kind)k, ns[i], 0,
					seed++);
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_eq(s.batches, 0);
		ck_assert_uint_gt(s.submitted, 40); /* the device did them */
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);

		dmd = mover(nofill[_i], test_notifiers[ni]);
		wq = ma_dsa_mover_wq(dmd);
		r = ni ? runtime_new() : NULL;
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			run_kind(dmd, r, K_MEMSET, ns[i], 0, seed++);
			run_kind(dmd, r, K_MEMSET, ns[i], VDM_F_MEM_DURABLE,
				seed++);
			run_kind(dmd, r, K_FLUSH, ns[i], 0, seed++);
		}
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_eq(s.submitted, 0); /* the CPU did them */
		run_kind(dmd, r, K_MEMCPY, 3 * MAXT, 0, seed++);
		ma_dsa_model_stats(wq, &s);
		ck_assert_uint_eq(s.batches, 1); /* copies: the device */
		check_model_sane(dmd);
		runtime_delete(r);
		data_mover_dsa_delete(dmd);
	}
	/* no MEMMOVE: no mover */
	expect_new_fails("emulated:op_cap=0x100000017", ENOTSUP);
	expect_new_fails("emulated:op_cap=0", ENOTSUP);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("dsa");
	TCase *model = tcase_create("model");
	TCase *ops = tcase_create("operations");
	TCase *faults = tcase_create("faults");
	TCase *queue = tcase_create("queue");
	TCase *stress = tcase_create("stress");

#ifdef HAVE_LINUX_IDXD_H
	tcase_add_test(model, test_layout_linux);
#endif
	tcase_add_test(model, test_model_statuses);
	tcase_add_test(model, test_model_faults);
	tcase_add_test(model, test_model_capacity);
	tcase_add_test(model, test_new_errors);
	tcase_add_test(model, test_discovery);
	tcase_add_test(model, test_discovery_real);
	tcase_add_test(model, test_discovery_next);
	tcase_add_test(model, test_real_queue);
	tcase_add_test(model, test_model_options_strict);
	tcase_add_test(model, test_model_capability_flags);
	tcase_add_test(model, test_model_list_fault);
	tcase_add_test(model, test_model_drain);
	tcase_add_test(model, test_opcode_parse);
	tcase_add_test(model, test_discovery_opcodes);
	tcase_add_test(model, test_model_op_cap);
	suite_add_tcase(s, model);

	tcase_add_loop_test(ops, test_matrix, 0,
		sizeof(configs) / sizeof(configs[0]));
	tcase_add_loop_test(ops, test_big_transfers, 0, 2);
	tcase_add_test(ops, test_descriptors);
	tcase_add_test(ops, test_poller_word);
	tcase_add_loop_test(ops, test_runtime_device_word, 0, 2);
	tcase_add_loop_test(ops, test_mover_capabilities, 0, 4);
	tcase_add_loop_test(ops, test_write_submission, 0, 2);
	tcase_add_loop_test(ops, test_mover_op_cap, 0, 2);
	tcase_set_timeout(ops, 300);
	suite_add_tcase(s, ops);

	tcase_add_loop_test(faults, test_mover_faults, 0, 5);
	tcase_add_loop_test(faults, test_mover_fault_places, 0, 2);
	tcase_add_loop_test(faults, test_mover_flush_read_only, 0, 2);
	tcase_add_test(faults, test_invalid_status);
	tcase_add_test(faults, test_mover_list_fault);
	tcase_add_loop_test(faults, test_queue_failed, 0, 6);
	tcase_set_timeout(faults, 300);
	suite_add_tcase(s, faults);

	tcase_add_loop_test(queue, test_refusal_storm, 0, 3);
	tcase_add_loop_test(queue, test_dedicated_never_overfilled, 0, 3);
	tcase_add_test(queue, test_dedicated_waker_order);
	tcase_add_test(queue, test_zeroed_notifier);
	tcase_add_test(queue, test_delete_in_flight);
	tcase_add_test(queue, test_reentrant_waker);
	tcase_add_test(queue, test_locking_waker);
	tcase_add_loop_test(queue, test_waker_starts_op, 0,
		sizeof(nested_configs) / sizeof(nested_configs[0]));
	tcase_add_loop_test(queue, test_fork, 0, 3);
	tcase_add_test(queue, test_waker_freed_at_completion);
	tcase_set_timeout(queue, 300);
	suite_add_tcase(s, queue);

	tcase_add_loop_test(stress, test_many_pollers_stress, 0, 3);
	tcase_set_timeout(stress, 300);
	suite_add_tcase(s, stress);
	return s;
}
