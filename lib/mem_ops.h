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
