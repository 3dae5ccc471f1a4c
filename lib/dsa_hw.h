/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_hw.h -- what the DSA device and the mover exchange: the 64-byte
 * descriptor, the 32-byte completion record, their flags, opcodes and
 * status codes, with the values of the kernel's <linux/idxd.h> (which
 * tests/dsa.c checks them against where it is installed). Plain fields,
 * no bit-fields, so that the layout is the same with every compiler.
 *
 * And the one seam between the mover and a work queue (WQ): struct
 * ma_dsa_wq, behind which stand either a real queue's portal
 * (lib/dsa_wq.c) or the model of one (lib/dsa_model.c).
 */

#ifndef MA_DSA_HW_H
#define MA_DSA_HW_H 1

#include <stddef.h>
#include <stdint.h>

/* Descriptor flags (24 bits). */
#define MA_DSA_F_FENCE 0x0001u /* after the batch's earlier members */
#define MA_DSA_F_BOF 0x0002u /* block on fault (WQ must allow it) */
#define MA_DSA_F_CRAV 0x0004u /* completion_addr is valid */
#define MA_DSA_F_RCR 0x0008u /* write a record on success too */
#define MA_DSA_F_RCI 0x0010u /* interrupt (not for user queues) */
#define MA_DSA_F_CC 0x0100u /* leave the written lines in the cache */
#define MA_DSA_F_DRDBK 0x4000u /* read the destination back (durable) */

/* Opcodes. */
#define MA_DSA_OP_NOOP 0x00
#define MA_DSA_OP_BATCH 0x01
#define MA_DSA_OP_DRAIN 0x02
#define MA_DSA_OP_MEMMOVE 0x03
#define MA_DSA_OP_MEMFILL 0x04
#define MA_DSA_OP_CFLUSH 0x20

/* The bit of opcode op (0-63) in an opcode set such as ma_dsa_wq.op_cap. */
#define MA_DSA_OPBIT(op) (1ull << (op))

/*
 * What the mover assumes a queue offers where sysfs does not say (no
 * op_cap, or one it cannot read): the opcodes it uses.
 */
#define MA_DSA_OPS_ASSUMED (MA_DSA_OPBIT(MA_DSA_OP_BATCH) | \
	MA_DSA_OPBIT(MA_DSA_OP_MEMMOVE) | MA_DSA_OPBIT(MA_DSA_OP_MEMFILL) | \
	MA_DSA_OPBIT(MA_DSA_OP_CFLUSH))

/* Completion status (low 7 bits of the status byte). */
#define MA_DSA_S_NONE 0x00 /* not written yet */
#define MA_DSA_S_SUCCESS 0x01
#define MA_DSA_S_PAGE_FAULT 0x03 /* partial completion, no block on fault */
#define MA_DSA_S_BATCH_FAIL 0x05 /* a member did not succeed */
#define MA_DSA_S_BATCH_PAGE_FAULT 0x06 /* fault reading the member list */
#define MA_DSA_S_BAD_OPCODE 0x10 /* the first invalid-descriptor code */
#define MA_DSA_S_INVALID_FLAGS 0x11
#define MA_DSA_S_NOZERO_RESERVE 0x12
#define MA_DSA_S_XFER_ERANGE 0x13
#define MA_DSA_S_DESC_CNT_ERANGE 0x14
#define MA_DSA_S_OVERLAP 0x16 /* memmove overlap, device cannot */
#define MA_DSA_S_DESCLIST_ALIGN 0x18
#define MA_DSA_S_CRA_ALIGN 0x1b
#define MA_DSA_S_MASK 0x7f
#define MA_DSA_S_WRITE_FAULT 0x80 /* with PAGE_FAULT: on a write */

/*
 * gen_cap bits the mover reads. Where CC_MEM (CC_FLUSH) is clear, a
 * memmove or fill (a cache flush) may not set the CC flag; where OVERLAP
 * is clear, a memmove's ranges may not overlap (MA_DSA_S_OVERLAP).
 */
#define MA_DSA_CAP_BLOCK_ON_FAULT (1ull << 0)
#define MA_DSA_CAP_OVERLAP (1ull << 1) /* overlapping memmove */
#define MA_DSA_CAP_CC_MEM (1ull << 2) /* CC on memmove and fill */
#define MA_DSA_CAP_CC_FLUSH (1ull << 3) /* CC on cache flush */
#define MA_DSA_CAP_DRDBK (1ull << 8) /* destination readback */

/* The completion record's alignment (the device's compl_size). */
#define MA_DSA_RECORD_ALIGN 32
#define MA_DSA_PAGE 4096u

/* A descriptor: struct dsa_hw_desc, 64 bytes, 64-byte aligned. */
struct ma_dsa_desc {
	uint32_t pasid_priv; /* pasid:20, rsvd:11, priv:1: zero for users */
	uint32_t flags_opcode; /* flags:24, opcode:8 */
	uint64_t completion_addr;
	uint64_t src; /* src_addr, pattern, desc_list_addr */
	uint64_t dst; /* dst_addr */
	uint32_t size; /* xfer_size, desc_count */
	uint16_t int_handle;
	uint16_t rsvd1;
	uint8_t op_specific[24];
} __attribute__((aligned(64)));

/* A completion record: struct dsa_completion_record, 32 bytes. */
struct ma_dsa_record {
	uint8_t status; /* written last: zero until the device is done */
	uint8_t result; /* memmove: 1 when it copied backwards */
	uint16_t rsvd;
	uint32_t bytes_completed; /* batch: descriptors completed */
	uint64_t fault_addr;
	uint32_t invalid_flags;
	uint32_t rsvd2;
	uint64_t op_specific;
} __attribute__((aligned(MA_DSA_RECORD_ALIGN)));

static inline unsigned
ma_dsa_desc_opcode(const struct ma_dsa_desc *d)
{
	return d->flags_opcode >> 24;
}

static inline uint32_t
ma_dsa_desc_flags(const struct ma_dsa_desc *d)
{
	return d->flags_opcode & 0xffffffu;
}

static inline uint32_t
ma_dsa_flags_opcode(uint32_t flags, unsigned opcode)
{
	return (flags & 0xffffffu) | ((uint32_t)opcode << 24);
}

/*
 * The status byte, read as the device publishes it: the record's first
 * eight bytes in one load (the POLLER word; the model writes them in one
 * store, and a load of the same size is what a race detector pairs).
 */
static inline uint8_t
ma_dsa_record_status(const struct ma_dsa_record *r)
{
	/* acquire: pairs with the writer's release of the first word */
	uint64_t word = __atomic_load_n((const uint64_t *)(const void *)r,
		__ATOMIC_ACQUIRE);
	uint8_t status;

	__builtin_memcpy(&status, &word, 1); /* its lowest address */
	return status;
}

/* The work queue's mode. */
enum ma_dsa_mode {
	MA_DSA_DEDICATED, /* MOVDIR64B: no feedback, never over-fill */
	MA_DSA_SHARED, /* ENQCMD: may refuse (retry) */
};

/*
 * A work queue as the mover sees it. submit() hands one descriptor to
 * the queue (which copies it: the 64 bytes may be reused on return):
 * 0 when accepted, 1 when refused for now (a full shared queue, an
 * interrupted write(2)), -1 when the queue failed for good (write(2)
 * with any other error: the queue was disabled, say). The
 * descriptor and the zeroed records it names must have been written
 * before (submit begins with a store fence). close() releases the queue;
 * work still in flight must have completed. enabled() (may be NULL:
 * always) is nonzero while the queue runs what it is given, 0 once it was
 * disabled (it then dropped what it held, and drops or refuses what
 * comes): slow (it may read sysfs), asked only of a queue that seems
 * stuck. via_write: submit() is write(2) on the queue's file (its portal
 * could not be mapped: EPERM where the device is not safe for direct
 * user submission); the driver then refuses batch descriptors (EINVAL,
 * for good), so none may be given. after_fork() (may be NULL)
 * runs in the child of a fork, where the queue's own threads are gone and
 * nothing is submitted any more: it makes close() safe there.
 * op_cap: the opcodes 0-63 the queue runs (bit k: opcode k; the
 * device's op_cap, and the queue's op_config where it has one); a
 * descriptor with another completes with MA_DSA_S_BAD_OPCODE.
 */
struct ma_dsa_wq {
	int (*submit)(struct ma_dsa_wq *wq, const struct ma_dsa_desc *desc);
	void (*close)(struct ma_dsa_wq *wq);
	int (*enabled)(struct ma_dsa_wq *wq);
	void (*after_fork)(struct ma_dsa_wq *wq);
	enum ma_dsa_mode mode;
	uint32_t size; /* descriptors it holds */
	uint32_t max_transfer_size; /* bytes per descriptor */
	uint32_t max_batch_size; /* members per batch; < 2: no batches */
	int block_on_fault; /* descriptors may set MA_DSA_F_BOF */
	int via_write; /* submit() is write(2): no batches */
	uint64_t gen_cap; /* the device's capability bits */
	uint64_t op_cap; /* opcodes it runs, MA_DSA_OPBIT() */
	uint64_t rate; /* bytes a microsecond it moves, to plan waits */
	int numa_node;
};

/* The model, "emulated[:options]" (lib/dsa_model.c). NULL with errno. */
struct ma_dsa_wq *ma_dsa_model_open(const char *options);

/* A real queue (lib/dsa_wq.c): NULL with errno. */
struct ma_dsa_wq *ma_dsa_wq_open(const char *name);

#endif /* MA_DSA_HW_H */
