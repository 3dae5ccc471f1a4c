/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * internal.h -- what every source file of the library shares: the export
 * marker and small helpers. Internal non-static names start with ma_.
 */

#ifndef MA_INTERNAL_H
#define MA_INTERNAL_H 1

/* Marks a definition as part of the public interface. */
#define MA_EXPORT __attribute__((visibility("default")))

/*
 * The cache line, for alignment and padding against false sharing: 64
 * bytes on x86; 128 on aarch64 (64 on most cores, 128 on some) and on
 * POWER; 256 on s390x; 64 elsewhere. Too large only wastes a little
 * memory. Nothing steps through memory by it: a flush takes the line size
 * from the processor at run time (lib/mem_ops.c).
 */
#if defined(__s390x__) || defined(__s390__)
#define MA_CACHELINE 256
#elif defined(__aarch64__) || defined(__powerpc64__) || defined(__powerpc__)
#define MA_CACHELINE 128
#else
#define MA_CACHELINE 64
#endif

#endif /* MA_INTERNAL_H */
