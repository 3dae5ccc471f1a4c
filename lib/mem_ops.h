/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * mem_ops.h -- memory operations that honour the VDM_F_* flags, shared by
 * every mover of the library.
 */

#ifndef MA_MEM_OPS_H
#define MA_MEM_OPS_H 1

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "libminiasync/data_mover_threads.h"
#include "libminiasync/vdm.h"

/*
 * The flags the library's movers honour, decided at load time:
 * VDM_F_NO_CACHE_HINT always; VDM_F_MEM_DURABLE only where a write-back
 * instruction reaches persistence (x86-64; aarch64 with dc cvap; POWER),
 * see "flush paths" in mem_ops.c. Not a constant: a mover sets its
 * capabilities when it is created.
 */
unsigned ma_mem_capabilities(void);
#define MA_MEM_CAPABILITIES ma_mem_capabilities()

#ifdef MA_FAULT_INJECTION
/*
 * Test build only: the flush path chosen ("clwb", "clflushopt",
 * "clflush", "dc cvap", "dc cvac", "dcbf" or "fence") and the stride of
 * its loop in bytes (0 for "fence").
 */
const char *ma_flush_path_name(void);
size_t ma_flush_line_size(void);
#if defined(__aarch64__)
/* The path for a given AT_HWCAP: "dc cvap" with HWCAP_DCPOP. */
const char *ma_flush_path_for_hwcap(unsigned long hwcap);
#endif

/* Lines written back (by any path) since the last call, which resets it. */
unsigned long ma_lines_written_back(void);

/*
 * The store path of non-temporal stores ("avx", "sse2"; "none" off
 * x86-64), see "store paths" in mem_ops.c.
 */
const char *ma_store_path_name(void);
#if defined(__x86_64__)
/* The path the load-time choice takes for these MA_CPU_* features. */
const char *ma_store_path_for(unsigned features);
#endif
/* Uses that path from now on: 0, or -1 if unknown or not on this CPU. */
int ma_store_path_force(const char *name);
/* The path and the threshold of the load-time choice again. */
void ma_store_path_reset(void);
/*
 * The size from which durable operations store non-temporally: in general,
 * or (aligned) when the destination starts and ends 8-byte aligned.
 */
size_t ma_store_nt_threshold(int aligned);
void ma_store_nt_threshold_force(size_t n, size_t aligned);
/* Whether n bytes at d with these flags are stored non-temporally. */
int ma_store_uses_nt(const void *d, size_t n, unsigned flags);
#endif

/* Processor features that the store paths use (x86-64). */
#define MA_CPU_AVX (1U << 0) /* AVX, its registers saved by the system */

void *ma_memcpy(void *dest, const void *src, size_t n, unsigned flags);
void *ma_memmove(void *dest, const void *src, size_t n, unsigned flags);
void *ma_memset(void *str, int c, size_t n, unsigned flags);

/* Writes the cache lines of [addr, addr + n) back, then fences. */
void ma_flush(const void *addr, size_t n);

/* The functions a mover writes bytes with (a user's, or the library's). */
struct ma_mem_fns {
	memcpy_fn copy;
	memmove_fn move;
	memset_fn set;
};

/* ma_memcpy, ma_memmove and ma_memset. */
extern const struct ma_mem_fns ma_mem_fns_lib;

/*
 * The table of operations (mem_ops.c) answers every question a mover asks
 * about an operation, so that no mover needs to know the types:
 */

/* The bytes it writes (or flushes); 0 for an unknown type. */
size_t ma_op_size(const struct vdm_operation *op);

/*
 * Nonzero when the type is known and each of its byte ranges lies in the
 * address space: n <= PTRDIFF_MAX and no pointer + n wraps past the end.
 * An invalid operation is never run; it completes with
 * VDM_ERROR_JOB_CORRUPTED.
 */
int ma_op_valid(const struct vdm_operation *op);

/* [p, p + n) lies in the address space (ma_op_valid's test of a range). */
static inline int
ma_range_ok(const void *p, size_t n)
{
	return n <= PTRDIFF_MAX && (uintptr_t)p <= UINTPTR_MAX - n;
}

/*
 * The output of a valid operation: its type, VDM_SUCCESS, and dest (the
 * operation's destination, or NULL for a flush, whose output is 0).
 */
static inline void
ma_output_success(const struct vdm_operation *op,
	struct vdm_operation_output *output, void *dest)
{
	/*
	 * type and result side by side, as in the output: one 8-byte store
	 * where the compiler can, since each store made between a durable
	 * write's sfence and the next write's stores adds to its time
	 */
	struct {
		enum vdm_operation_type type;
		enum vdm_operation_result result;
	} head = { op->type, VDM_SUCCESS };

	memcpy(output, &head, sizeof(head));
	output->output.memcpy.dest = dest;
}

/* Nonzero when byte ranges of it may run apart, on several threads. */
int ma_op_splits(const struct vdm_operation *op);

/*
 * Performs bytes [off, off + len) of a valid operation with fns. When it
 * asks for VDM_F_MEM_DURABLE and fns' function is not the library's, the
 * range is written back after that function returns: what the movers
 * advertise they guarantee, whoever writes the bytes.
 */
void ma_op_run(const struct ma_mem_fns *fns, const struct vdm_operation *op,
	size_t off, size_t len);

/*
 * Performs a whole operation with the library's functions (ma_op_run with
 * ma_mem_fns_lib, fewer calls deep): 1, or 0 for an invalid one, not run.
 */
int ma_op_run_lib(const struct vdm_operation *op);

/*
 * ma_op_output, then ma_op_run_lib: returns FUTURE_STATE_COMPLETE, for the
 * synchronous mover's poll to end with.
 */
enum future_state ma_op_run_complete(const struct vdm_operation *op,
	struct vdm_operation_output *output);

/* Adds flags to an operation that has flags (not to a flush). */
void ma_op_add_flags(struct vdm_operation *op, uint64_t flags);

/*
 * Fills the output of a performed operation: VDM_SUCCESS and its
 * destination, or VDM_ERROR_JOB_CORRUPTED and NULL for an invalid one.
 */
void ma_op_output(const struct vdm_operation *op,
	struct vdm_operation_output *output);

#endif /* MA_MEM_OPS_H */
