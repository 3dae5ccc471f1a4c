/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * main.c -- make bench's program, bench/bench: its arguments and the table
 * of groups. It measures the figures that doc/design.md, "Performance"
 * sets, and prints each beside plain memcpy timed in the same process,
 * with its target and PASS or MISS. The groups, each in the file named:
 * - sync (sync.c): a 64-byte memcpy future on the synchronous mover,
 *   created and busy-polled to completion, against a plain 64-byte memcpy
 *   in the same loop over the same buffers; ratio <= 1.3;
 * - wait (sync.c): runtime_wait_multiple over 4096 such futures created
 *   beforehand (only the wait is timed); <= 10 ns per future;
 * - incr (incr.c): a future of the program's own that copies 16 MiB, 256
 *   bytes a poll, promising nothing (FUTURE_NOTIFIER_NONE), waited for
 *   with runtime_wait, against the same future in a plain future_poll
 *   loop (the memcpy column); ratio <= 1.5;
 * - tput (tput.c): 4 KiB copies on the threads mover (2 workers), 64
 *   futures at a time created and waited for with runtime_wait_multiple:
 *   ops/s at least those of plain 4 KiB copies on one thread (ratio >= 1);
 *   and the CPU the waiting thread used meanwhile, in cpu-s per wall-s,
 *   beside libuv's thread pool doing the same work (2 threads,
 *   uv_queue_work, 64 at a time, uv_run in the waiting thread), measured
 *   alternately with ours: ratio <= 1; without libuv (configure did not
 *   find it: no -DBENCH_LIBUV) <= 0.39, and a line says so;
 * - idle (idle.c): CPU used by the thread waiting in runtime_wait for a
 *   copy that takes 50 ms (a memcpy_fn that sleeps first); <= 0.1 %;
 * - lat (lat.c): one 64-byte copy created and waited for with
 *   runtime_wait, back to back; p50 <= 1 us, p99 <= 20 us;
 * - big (big.c): a 256 MiB copy through the threads mover against the
 *   best plain memcpy (two threads copying half each, or one if that is
 *   faster); ratio >= 1.35;
 * - spin (spin.c): 2000 copies of 64 B to 8 KiB on
 *   data_mover_threads_default(), created by one thread, then busy-polled
 *   (NULL notifier, no pause) by T = 1, 2, 4, 8 threads, each its own
 *   contiguous share; wall time from the pollers' release until all are
 *   joined, against the same copies by plain memcpy on one thread; at
 *   most 18, 9, 44, 31 ms (what miniasync 0.2 took) and T=8 / T=1 <= 2. A
 *   round still running after 200 ms is stopped and counts as 200 ms (a
 *   stopped T=8 round: as ratio inf);
 * - polls (polls.c): 8192 4 KiB copies on data_mover_threads_default() in
 *   one runtime_wait_multiple, each wrapped in a future that counts its
 *   polls; <= 3 polls per future;
 * - futex (futex.c): futex system calls the whole process makes (counted
 *   by interposing syscall()) during 20,000 back-to-back 64-byte copies,
 *   each waited for with runtime_wait, on a 2-worker POLLER mover (<= 0.01
 *   per op) and on a WAKER one (no target); "n/a" when the count cannot
 *   be trusted in this build (checked first: a 20 ms wait must make some);
 * - chain (chain.c): a future running 50 4 KiB copies one after another
 *   on a 1-worker mover while a copy that sleeps 100 ms is pending on
 *   another, both in one runtime_wait_multiple (the slow one first); time
 *   until the 50th copy is done, with two POLLER movers (<= 2x the WAKER
 *   figure of the same repetitions) and with two WAKER ones;
 * - pending (pending.c): 10,000 64-byte copies on a 2-worker WAKER mover
 *   whose copy function holds each until its slot, one a millisecond, all
 *   in one runtime_wait_multiple: the waiting thread's CPU seconds per
 *   second (its CPU clock read by another thread) over 300 completions;
 *   <= 0.05;
 * - step (step.c): a future running 2000 64-byte copies one after another
 *   on a 2-worker WAKER mover, beside 15 copies held pending on another,
 *   in one runtime_wait_multiple: the time between consecutive steps, p50,
 *   against a plain 64-byte memcpy; <= 10 us;
 * - wake (lat.c): one 64-byte copy waited for with runtime_wait, each 1 ms
 *   after the last, so that the mover's workers are asleep (a WAKER future
 *   on an idle mover: the wake-up of a worker and of the waiter); p50
 *   <= 5 us;
 * - durable (durable.c): durable memcpy, memmove and memset beside
 *   libpmem, in a table of their own.
 *
 * Usage: bench [-r REPS] [-v] [GROUP...]
 *   GROUP: sync, wait, incr, threads (= every group below but durable),
 *   tput, idle, lat, big, spin, polls, futex, chain, pending, step, wake,
 *   durable; none means all. REPS (default 7, or $BENCH_REPS) is how many
 *   times each figure is measured; the table shows the median. -v prints
 *   every repetition to stderr.
 *
 * The program uses the public interface only (<libminiasync.h>), so that
 * the same files build against an older tree for before/after figures.
 * Time is CLOCK_MONOTONIC; CPU time is CLOCK_THREAD_CPUTIME_ID. Plain
 * memcpy is called through a volatile function pointer and followed by a
 * compiler memory barrier, so that it is neither inlined, hoisted nor
 * dropped: like the movers, it runs the C library's memcpy. The helpers
 * the groups share are in common.c.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/*
 * The groups, in the order they run; a run's selection is a mask with
 * bit i for groups[i]. "threads" selects those on the threads mover.
 */
static const struct group {
	const char *name;
	void (*run)(struct runtime *r, struct vdm *sync_vdm);
	int threads; /* a figure of the threads mover */
} groups[] = {
	{ "sync", bench_sync, 0 },
	{ "wait", bench_wait, 0 },
	{ "incr", bench_incr, 0 },
	{ "tput", bench_tput, 1 },
	{ "idle", bench_idle, 1 },
	{ "lat", bench_lat, 1 },
	{ "big", bench_big, 1 },
	{ "spin", bench_spin, 1 },
	{ "polls", bench_polls, 1 },
	{ "futex", bench_futex, 1 },
	{ "chain", bench_chain, 1 },
	{ "pending", bench_pending, 1 },
	{ "step", bench_step, 1 },
	{ "wake", bench_wake, 1 },
	{ "durable", bench_durable, 0 },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static void
usage(void)
{
	fprintf(stderr, "usage: bench [-r REPS] [-v] [threads");
	for (size_t g = 0; g < NGROUPS; g++)
		fprintf(stderr, "|%s", groups[g].name);
	fprintf(stderr, "]...\n"
		"  REPS defaults to $BENCH_REPS, else %u (at most %u)\n",
		DEFAULT_REPS, MAX_REPS);
	exit(2);
}

static unsigned
parse_reps(const char *s)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n == 0 || n > MAX_REPS)
		usage();
	return (unsigned)n;
}

/* Which groups the arguments ask for, as a mask of groups[] bits. */
static unsigned
parse_groups(int argc, char *argv[])
{
	const unsigned all = (1U << NGROUPS) - 1;
	unsigned mask = 0;

	for (int i = 0; i < argc; i++) {
		int threads = strcmp(argv[i], "threads") == 0;
		int any = strcmp(argv[i], "all") == 0;
		unsigned m = 0;

		for (size_t g = 0; g < NGROUPS; g++)
			if (any || (threads && groups[g].threads) ||
					strcmp(argv[i], groups[g].name) == 0)
				m |= 1U << g;
		if (m == 0)
			usage();
		mask |= m;
	}
	return mask != 0 ? mask : all;
}

int
main(int argc, char *argv[])
{
	const char *env = getenv("BENCH_REPS");
	unsigned mask;
	int opt;

	if (env != NULL && *env != '\0')
		reps = parse_reps(env);
	while ((opt = getopt(argc, argv, "r:vh")) != -1) {
		switch (opt) {
		case 'r':
			reps = parse_reps(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	mask = parse_groups(argc - optind, argv + optind);

	struct runtime *r = runtime_new();
	struct data_mover_sync *dms = data_mover_sync_new();

	if (r == NULL || dms == NULL)
		die("runtime_new or data_mover_sync_new");
	struct vdm *sync_vdm = data_mover_sync_get_vdm(dms);

	double busy0 = machine_busy_ticks();
	double self0 = self_cpu_s();
	uint64_t t0 = now_ns();

	print_header();
	for (size_t g = 0; g < NGROUPS; g++)
		if (mask & 1U << g)
			groups[g].run(r, sync_vdm);

	printf("\n%u of %u targets met. memcpy: the same work by plain "
		"memcpy in this run;\nratio: median of per-repetition "
		"value/memcpy (256 MiB: best of 1 or 2 threads).\n",
		npass, npass + nmiss);
	if (nna != 0)
		printf("%u figure%s could not be measured in this build "
			"(n/a).\n", nna, nna > 1 ? "s" : "");
	print_other_load(busy0, self0, t0);
	data_mover_sync_delete(dms);
	runtime_delete(r);
	return 0;
}
