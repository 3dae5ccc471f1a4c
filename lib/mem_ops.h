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

/* Performs the operation with ma_memcpy, ma_memmove, ma_memset, ma_flush. */
void ma_mem_operation_run(const struct vdm_operation *op);

/*
 * Fills the output of a performed operation: its destination and
 * VDM_SUCCESS, or VDM_ERROR_JOB_CORRUPTED for an unknown type.
 */
static inline void
ma_mem_operation_output(const struct vdm_operation *op,
	struct vdm_operation_output *output)
{
	output->type = op->type;
	output->result = VDM_SUCCESS;
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		output->output.memcpy.dest = op->data.memcpy.dest;
		break;
	case VDM_OPERATION_MEMMOVE:
		output->output.memmove.dest = op->data.memmove.dest;
		break;
	case VDM_OPERATION_MEMSET:
		output->output.memset.str = op->data.memset.str;
		break;
	case VDM_OPERATION_FLUSH:
		output->output.flush.unused = 0;
		break;
	default:
		output->result = VDM_ERROR_JOB_CORRUPTED;
		output->output.memcpy.dest = NULL;
		break;
	}
}

#endif /* MA_MEM_OPS_H */
