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

#include "libminiasync/data_mover_threads.h"
#include "libminiasync/vdm.h"

/*
 * The flags the library's movers honour: durability only where a cache
 * line can be written back (x86-64); elsewhere a flush is only a fence.
 */
#if defined(__x86_64__)
#define MA_MEM_CAPABILITIES (VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT)
#else
#define MA_MEM_CAPABILITIES VDM_F_NO_CACHE_HINT
#endif

void *ma_memcpy(void *dest, const void *src, size_t n, unsigned flags);
void *ma_memmove(void *dest, const void *src, size_t n, unsigned flags);
void *ma_memset(void *str, int c, size_t n, unsigned flags);

/* Writes the cache lines of [addr, addr + n) back, then fences. */
void ma_flush(const void *addr, size_t n);

/* The functions a mover performs memcpy, memmove and memset with. */
struct ma_mem_fns {
	memcpy_fn copy;
	memmove_fn move;
	memset_fn set;
};

/* ma_memcpy, ma_memmove and ma_memset. */
extern const struct ma_mem_fns ma_mem_fns_default;

/* Performs the operation with the given functions (flush with ma_flush). */
void ma_mem_operation_run(const struct vdm_operation *op,
	const struct ma_mem_fns *fns);

/*
 * Fills the output of a performed operation: its destination and
 * VDM_SUCCESS, or VDM_ERROR_JOB_CORRUPTED for an unknown type.
 */
void ma_mem_operation_output(const struct vdm_operation *op,
	struct vdm_operation_output *output);

#endif /* MA_MEM_OPS_H */
