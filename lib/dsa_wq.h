/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_wq.h -- finding a real work queue in the idxd sysfs tree (the
 * opening is ma_dsa_wq_open of dsa_hw.h).
 */

#ifndef MA_DSA_WQ_H
#define MA_DSA_WQ_H 1

#include <stddef.h>
#include <stdint.h>

/*
 * Writes into out the name ("wqD.Q") of the first usable queue (device
 * and queue enabled, type user, device file readable and writable) on
 * NUMA node 'node', else on any node; 0, or -1 when there is none.
 * "First": the smallest name, whatever the directory order.
 */
int ma_dsa_wq_find(char *out, size_t len, int node);

/*
 * The same, for the usable queue that comes next after the queue 'after'
 * in that order (the caller's node first, then by name): -1 when none.
 */
int ma_dsa_wq_find_next(char *out, size_t len, int node, const char *after);

/*
 * Parses an opcode set in the form of sysfs op_cap and op_config into
 * *out (bit k: opcode k, for 0 to 63): 0, or -1 when malformed.
 */
int ma_dsa_parse_opcodes(const char *s, uint64_t *out);

/* The opcodes the queue name ("wqD.Q") runs, from sysfs. */
uint64_t ma_dsa_wq_opcodes(const char *name);

#ifdef MA_FAULT_INJECTION
/* Test build: the sysfs devices directory and the device directory. */
void ma_dsa_wq_set_roots(const char *sysfs, const char *dev);

/* Test build: nonzero: the processor is taken to have both instructions. */
void ma_dsa_wq_force_cpu(int on);
#endif

#endif /* MA_DSA_WQ_H */
