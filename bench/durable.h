/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * durable.h -- the durable-writes figures of make bench (bench/durable.c),
 * called by bench.c as the group "durable".
 */

#ifndef BENCH_DURABLE_H
#define BENCH_DURABLE_H 1

#include <libminiasync.h>

/*
 * Measures them on the synchronous mover vdm, reps times each, printing a
 * table of its own; adds the targets met and missed to *npass and *nmiss.
 */
void bench_durable(struct vdm *vdm, unsigned reps, int verbose,
	unsigned *npass, unsigned *nmiss);

#endif /* BENCH_DURABLE_H */
