/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * bench.c -- measures the figures that doc/design.md, "Performance"
 * sets, and prints each beside plain memcpy timed in the same process,
 * with its target and PASS or MISS:
 * - sync: a 64-byte memcpy future on the synchronous mover, created and
 *   busy-polled to completion, against a plain 64-byte memcpy in the same
 *   loop over the same buffers; ratio <= 1.3;
 * - wait: runtime_wait_multiple over 4096 such futures created beforehand
 *   (only the wait is timed); <= 10 ns per future;
 * - tput: 4 KiB copies on the threads mover (2 workers), 64 futures at a
 *   time created and waited for with runtime_wait_multiple: ops/s at least
 *   those of plain 4 KiB copies on one thread (ratio >= 1); and the CPU
 *   the waiting thread used meanwhile, <= 0.39 cpu-s per wall-s;
 * - idle: CPU used by the thread waiting in runtime_wait for a copy that
 *   takes 50 ms (a memcpy_fn that sleeps first); <= 0.1 %;
 * - lat: one 64-byte copy created and waited for with runtime_wait, back
 *   to back; p50 <= 1 us, p99 <= 20 us;
 * - wake: the same, each copy 1 ms after the last, so that the mover's
 *   workers are asleep (a WAKER future on an idle mover: the wake-up of a
 *   worker and of the waiter); p50 <= 5 us;
 * - big: a 256 MiB copy through the threads mover against the best plain
 *   memcpy (two threads copying half each, or one if that is faster);
 *   ratio >= 1.35;
 * - spin: 2000 copies of 64 B to 8 KiB on data_mover_threads_default(),
 *   created by one thread, then busy-polled (NULL notifier, no pause) by
 *   T = 1, 2, 4, 8 threads, each its own contiguous share; wall time from
 *   the pollers' release until all are joined, against the same copies by
 *   plain memcpy on one thread; at most 18, 9, 44, 31 ms (what miniasync
 *   0.2 took) and T=8 / T=1 <= 2. A round still running after 200 ms is
 *   stopped and counts as 200 ms (a stopped T=8 round: as ratio inf);
 * - polls: 8192 4 KiB copies on data_mover_threads_default() in one
 *   runtime_wait_multiple, each wrapped in a future that counts its polls;
 *   <= 3 polls per future;
 * - futex: futex system calls the whole process makes (counted by
 *   interposing syscall()) during 20,000 back-to-back 64-byte copies, each
 *   waited for with runtime_wait, on a 2-worker POLLER mover (<= 0.01 per
 *   op) and on a WAKER one (no target); "n/a" when the count cannot be
 *   trusted in this build (checked first: a 20 ms wait must make some);
 * - chain: a future running 50 4 KiB copies one after another on a
 *   1-worker mover while a copy that sleeps 100 ms is pending on another,
 *   both in one runtime_wait_multiple (the slow one first); time until the
 *   50th copy is done, with two POLLER movers (<= 2x the WAKER figure of
 *   the same repetitions) and with two WAKER ones;
 * - durable: durable memcpy, memmove and memset beside libpmem, in a
 *   table of their own (bench/durable.c).
 *
 * - incr: a future of the program's own that copies 16 MiB, 256 bytes a
 *   poll, promising nothing (FUTURE_NOTIFIER_NONE), waited for with
 *   runtime_wait, against the same future in a plain future_poll loop
 *   (the memcpy column); ratio <= 1.5;
 * - pending: 10,000 64-byte copies on a 2-worker WAKER mover whose copy
 *   function holds each until its slot, one a millisecond, all in one
 *   runtime_wait_multiple: the waiting thread's CPU seconds per second
 *   (its CPU clock read by another thread) over 300 completions;
 *   <= 0.05;
 * - step: a future running 2000 64-byte copies one after another on a
 *   2-worker WAKER mover, beside 15 copies held pending on another, in
 *   one runtime_wait_multiple: the time between consecutive steps, p50,
 *   against a plain 64-byte memcpy; <= 10 us.
 *
 * Usage: bench [-r REPS] [-v] [GROUP...]
 *   GROUP: sync, wait, incr, threads (= every group below but incr and
 *   durable), tput, idle, lat, big, spin, polls, futex, chain, pending,
 *   step, wake, durable; none means all. REPS (default 7, or
 *   $BENCH_REPS) is how many times each figure is measured; the table
 *   shows the median. -v prints every repetition to stderr.
 *
 * The program uses the public interface only (<libminiasync.h>), so that
 * the same file builds against an older tree for before/after figures.
 * Time is CLOCK_MONOTONIC; CPU time is CLOCK_THREAD_CPUTIME_ID. Plain
 * memcpy is called through a volatile function pointer and followed by a
 * compiler memory barrier, so that it is neither inlined, hoisted nor
 * dropped: like the movers, it runs the C library's memcpy. The threads
 * mover figures are built only with -DBENCH_THREADS_MOVER.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <libminiasync.h>

#include "durable.h"

#define DEFAULT_REPS 7
#define MAX_REPS 1000

/*
 * Sync mover: 64-byte copies into SYNC_SLOTS cache lines (in L1), timed
 * in SYNC_CHUNKS chunks of SYNC_CHUNK copies per repetition.
 */
#define SYNC_CHUNK (1U << 16)
#define SYNC_CHUNKS 16
#define SYNC_SLOTS 64
#define SMALL 64

/* runtime_wait_multiple over WAIT_NFUTS ready futures, WAIT_ROUNDS times. */
#define WAIT_NFUTS 4096
#define WAIT_ROUNDS 32

/* Threads mover. */
#define DMT_THREADS 2
#define DMT_RING 128
#define TPUT_INFLIGHT 64
#define TPUT_SIZE 4096
#define TPUT_BATCHES 512
#define IDLE_WAIT_NS 50000000L
#define LAT_SAMPLES 10000
#define WAKE_SAMPLES 100 /* copies on an idle mover, 1 ms apart */
#define BIG_SIZE ((size_t)256 << 20)

/* Busy-polling threads, oversubscribed. */
#define SPIN_NFUTS 2000
#define SPIN_MIN 64
#define SPIN_MAX 8192
#define SPIN_NT 4 /* how many poller counts */
#define SPIN_CAP_NS 200000000L /* a round is stopped after this long */

/* Polls per future. */
#define POLLS_NFUTS 8192
#define POLLS_SIZE 4096

/* A future that progresses when polled: 16 MiB, 256 bytes a poll. */
#define INCR_SIZE ((size_t)16 << 20)
#define INCR_STEP 256

/* Pending futures, one completion a millisecond. */
#define PEND_NFUTS 10000
#define PEND_FROM 20 /* the waiter's CPU is read from this completion */
#define PEND_TO 320 /* to this one */

/* One step of one future among 16 waiting. */
#define STEP_COUNT 2000
#define STEP_OTHERS 15

/* Futex calls per op. */
#define FUTEX_OPS 20000
#define FUTEX_WARMUP 1000
#define FUTEX_PROBE_NS 20000000L

/* A chain of copies beside a slow copy. */
#define CHAIN_STEPS 50
#define CHAIN_SIZE 4096
#define CHAIN_SLOW_NS 100000000L

#define NS_PER_S 1000000000.0

/* Keeps the compiler from moving memory accesses across this point. */
#define CLOBBER() __asm__ volatile("" : : : "memory")

typedef void *(*copy_fn)(void *dst, const void *src, size_t n);

/* The C library's memcpy, called for real on every use. */
static copy_fn volatile plain_memcpy = memcpy;

static unsigned reps = DEFAULT_REPS;
static int verbose;
static unsigned npass;
static unsigned nmiss;
static unsigned nna; /* figures this build cannot measure */

/* What a figure is compared with, and how. */
struct figure {
	const char *name;
	const char *unit;
	int target_is_ratio; /* else the target bounds the value */
	int at_most; /* the bound is a maximum, else a minimum */
	double bound;
	const char *target; /* the bound, as printed; NULL: no target */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
xalloc(size_t n)
{
	void *p = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);

	if (p == NULL)
		die("aligned_alloc");
	return p;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (the mean of the middle two when n is even). */
static double
median(const double *v, size_t n)
{
	double s[MAX_REPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * CPU time (in clock ticks) the whole machine has spent busy, from
 * /proc/stat; 0 where there is no such file.
 */
static double
machine_busy_ticks(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		&v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return 0;
	/* all but idle (v[3]) and iowait (v[4]) */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

/* CPU seconds used by this process so far. */
static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Says how many CPUs other processes kept busy during the run: figures
 * taken on a busy machine are not worth much.
 */
static void
print_other_load(double busy0, double self0, uint64_t t0)
{
	double ticks = (double)sysconf(_SC_CLK_TCK);
	double wall = (double)(now_ns() - t0) / NS_PER_S;
	double busy, others;

	if (busy0 == 0 || ticks <= 0 || wall <= 0)
		return;
	busy = (machine_busy_ticks() - busy0) / ticks;
	others = (busy - (self_cpu_s() - self0)) / wall;
	if (others < 0)
		others = 0;
	printf("Other processes kept %.2f CPUs busy during the run "
		"(%.1f s)%s\n", others, wall,
		others > 0.1 ? ": the figures are disturbed" : ".");
}

static void
print_header(void)
{
	printf("libminiasync bench: %ld CPUs online, median of %u "
		"repetitions per figure\n\n",
		sysconf(_SC_NPROCESSORS_ONLN), reps);
	printf("%-26s %8s %-6s %8s %6s %-11s %s\n", "figure", "value",
		"unit", "memcpy", "ratio", "target", "");
	fflush(stdout); /* before anything -v writes to stderr */
}

/* Fixed width, with as many decimals as a value of that size deserves. */
static void
print_num(double v)
{
	if (isnan(v))
		printf(" %8s", "-");
	else
		printf(" %8.*f", v < 0.1 ? 4 : v < 1 ? 3 : v < 1000 ? 2 : 0, v);
}

/*
 * Prints one row: the medians of val[] and ref[] (ref may be NULL: no
 * memcpy counterpart) and the median of the per-repetition ratios
 * val[i] / ref[i], each pair having been measured back to back. The
 * target bounds the median of chk[] when chk is not NULL (a ratio to
 * another figure of the same repetitions), else that of the ratios or
 * of the values as the figure says.
 */
static void
report_chk(const struct figure *f, const double *val, const double *ref,
	const double *chk)
{
	double ratios[MAX_REPS];
	double v = median(val, reps);
	double r = NAN;
	double q = NAN;
	const char *verdict = "";

	if (ref != NULL) {
		for (unsigned i = 0; i < reps; i++)
			ratios[i] = val[i] / ref[i];
		r = median(ref, reps);
		q = median(ratios, reps);
	}
	double x = chk != NULL ? median(chk, reps) :
		f->target_is_ratio ? q : v;

	if (f->target != NULL) {
		int pass = f->at_most ? x <= f->bound : x >= f->bound;

		if (pass)
			npass++;
		else
			nmiss++;
		verdict = pass ? "PASS" : "MISS";
	}

	printf("%-26s", f->name);
	print_num(v);
	printf(" %-6s", f->unit);
	print_num(r);
	if (isnan(q))
		printf(" %6s", "-");
	else
		printf(" %6.*f", q < 100 ? 2 : 0, q);
	printf(" %-11s %s\n", f->target != NULL ? f->target : "-", verdict);
	fflush(stdout);

	if (!verbose)
		return;
	fprintf(stderr, "%s:", f->name);
	for (unsigned i = 0; i < reps; i++) {
		if (ref != NULL)
			fprintf(stderr, " %.4g/%.4g", val[i], ref[i]);
		else
			fprintf(stderr, " %.4g", val[i]);
	}
	fprintf(stderr, "\n");
}

static void
report(const struct figure *f, const double *val, const double *ref)
{
	report_chk(f, val, ref, NULL);
}

/* A figure this build cannot measure: "n/a", and why. */
static void
report_na(const struct figure *f, const char *why)
{
	nna++;
	printf("%-26s %8s %-6s %8s %6s %-11s %s\n", f->name, "n/a", f->unit,
		"-", "-", f->target != NULL ? f->target : "-", "n/a");
	printf("  (%s)\n", why);
	fflush(stdout);
}

static void
check_copied(const char *dst, const char *src, size_t n, const char *what)
{
	if (memcmp(dst, src, n) != 0) {
		fprintf(stderr, "bench: %s: destination differs from source\n",
			what);
		exit(1);
	}
}

static void
fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 31 + seed);
}

/* ns per plain 64-byte memcpy, in the loop shape of sync_future_ns(). */
static double
sync_plain_ns(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < SYNC_CHUNK; i++) {
		size_t off = (i % SYNC_SLOTS) * SMALL;

		plain_memcpy(dst + off, src + off, SMALL);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / SYNC_CHUNK;
}

/* ns per 64-byte memcpy future on the sync mover: create, busy-poll. */
static double
sync_future_ns(struct vdm *vdm, char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < SYNC_CHUNK; i++) {
		size_t off = (i % SYNC_SLOTS) * SMALL;
		struct vdm_operation_future fut =
			vdm_memcpy(vdm, dst + off, src + off, SMALL, 0);

		FUTURE_BUSY_POLL(&fut);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / SYNC_CHUNK;
}

/*
 * One repetition: SYNC_CHUNKS chunks of futures interleaved with as many
 * of plain copies (which goes first alternates), so that both meet the
 * same machine; each gets the median of its chunks.
 */
static void
sync_rep(struct vdm *vdm, char *dst, char *src, double *val, double *ref)
{
	double v[SYNC_CHUNKS], r[SYNC_CHUNKS];

	for (unsigned c = 0; c < SYNC_CHUNKS; c++) {
		if (c % 2) {
			r[c] = sync_plain_ns(dst, src);
			v[c] = sync_future_ns(vdm, dst, src);
		} else {
			v[c] = sync_future_ns(vdm, dst, src);
			r[c] = sync_plain_ns(dst, src);
		}
	}
	*val = median(v, SYNC_CHUNKS);
	*ref = median(r, SYNC_CHUNKS);
}

/* Figure: sync mover 64-byte memcpy future / plain memcpy. */
static void
bench_sync(struct vdm *vdm)
{
	static const struct figure f = {
		"sync: 64 B memcpy future", "ns/op", 1, 1, 1.3, "ratio<=1.3",
	};
	size_t n = SYNC_SLOTS * SMALL;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	double val[MAX_REPS], ref[MAX_REPS];

	fill(src, n, 1);
	memset(dst, 0, n);
	sync_future_ns(vdm, dst, src); /* warm up, and check */
	check_copied(dst, src, n, "sync mover");
	sync_plain_ns(dst, src);

	for (unsigned i = 0; i < reps; i++)
		sync_rep(vdm, dst, src, &val[i], &ref[i]);
	report(&f, val, ref);
	free(src);
	free(dst);
}

/*
 * Creates WAIT_NFUTS sync-mover 64-byte copies (untimed), then times
 * runtime_wait_multiple over them. Returns ns per future.
 */
static double
wait_futures_ns(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct vdm_operation_future *futs, struct future **ptrs)
{
	for (size_t i = 0; i < WAIT_NFUTS; i++) {
		futs[i] = vdm_memcpy(vdm, dst + i * SMALL, src + i * SMALL,
			SMALL, 0);
		ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	CLOBBER();
	uint64_t t0 = now_ns();

	runtime_wait_multiple(r, ptrs, WAIT_NFUTS);
	uint64_t t = now_ns() - t0;

	for (size_t i = 0; i < WAIT_NFUTS; i++) {
		if (FUTURE_STATE(&futs[i]) != FUTURE_STATE_COMPLETE ||
				FUTURE_OUTPUT(&futs[i])->result != VDM_SUCCESS) {
			fprintf(stderr, "bench: wait: future %zu failed\n", i);
			exit(1);
		}
	}
	return (double)t / WAIT_NFUTS;
}

/* The same copies as wait_futures_ns(), by plain memcpy: ns per copy. */
static double
wait_plain_ns(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < WAIT_NFUTS; i++) {
		plain_memcpy(dst + i * SMALL, src + i * SMALL, SMALL);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / WAIT_NFUTS;
}

/* One repetition: WAIT_ROUNDS of each, interleaved; medians. */
static void
wait_rep(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct vdm_operation_future *futs, struct future **ptrs,
	double *val, double *ref)
{
	double v[WAIT_ROUNDS], p[WAIT_ROUNDS];

	for (unsigned c = 0; c < WAIT_ROUNDS; c++) {
		if (c % 2) {
			p[c] = wait_plain_ns(dst, src);
			v[c] = wait_futures_ns(r, vdm, dst, src, futs, ptrs);
		} else {
			v[c] = wait_futures_ns(r, vdm, dst, src, futs, ptrs);
			p[c] = wait_plain_ns(dst, src);
		}
	}
	*val = median(v, WAIT_ROUNDS);
	*ref = median(p, WAIT_ROUNDS);
}

/* Figure: runtime_wait_multiple over futures finished on first poll. */
static void
bench_wait(struct runtime *r, struct vdm *vdm)
{
	static const struct figure f = {
		"wait_multiple 4096 ready", "ns/fut", 0, 1, 10, "<=10 ns",
	};
	size_t n = (size_t)WAIT_NFUTS * SMALL;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	struct vdm_operation_future *futs = xalloc(WAIT_NFUTS * sizeof(*futs));
	struct future **ptrs = xalloc(WAIT_NFUTS * sizeof(*ptrs));
	double val[MAX_REPS], ref[MAX_REPS];

	fill(src, n, 2);
	memset(dst, 0, n);
	wait_futures_ns(r, vdm, dst, src, futs, ptrs);
	check_copied(dst, src, n, "runtime_wait_multiple");
	wait_plain_ns(dst, src);

	for (unsigned i = 0; i < reps; i++)
		wait_rep(r, vdm, dst, src, futs, ptrs, &val[i], &ref[i]);
	report(&f, val, ref);
	free(src);
	free(dst);
	free(futs);
	free(ptrs);
}

/*
 * A user's incremental copy: each poll copies the next INCR_STEP bytes
 * and promises nothing (FUTURE_NOTIFIER_NONE), as a mover that advances
 * a chunk per poll does.
 */
struct incr_data {
	char *dst;
	const char *src;
	size_t n;
	size_t done;
};

struct incr_output {
	size_t copied;
};

FUTURE(incr_future, struct incr_data, struct incr_output);

static enum future_state
incr_task(struct future_context *context, struct future_notifier *notifier)
{
	struct incr_data *d = future_context_get_data(context);
	struct incr_output *out = future_context_get_output(context);
	size_t len = d->n - d->done < INCR_STEP ? d->n - d->done : INCR_STEP;

	if (notifier != NULL)
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;
	memcpy(d->dst + d->done, d->src + d->done, len);
	d->done += len;
	if (d->done < d->n)
		return FUTURE_STATE_RUNNING;
	out->copied = d->done;
	return FUTURE_STATE_COMPLETE;
}

static struct incr_future
incr_new(char *dst, const char *src, size_t n)
{
	struct incr_future f;

	f.data.dst = dst;
	f.data.src = src;
	f.data.n = n;
	f.data.done = 0;
	f.output.copied = 0;
	FUTURE_INIT(&f, incr_task);
	return f;
}

/* ms to run the incremental copy by runtime_wait (rt) or a poll loop. */
static double
incr_ms(struct runtime *r, char *dst, const char *src, int rt)
{
	struct incr_future f = incr_new(dst, src, INCR_SIZE);
	uint64_t t0 = now_ns();

	if (rt)
		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	else
		while (future_poll(FUTURE_AS_RUNNABLE(&f), NULL) !=
				FUTURE_STATE_COMPLETE)
			;
	uint64_t t = now_ns() - t0;

	if (f.output.copied != INCR_SIZE) {
		fprintf(stderr, "bench: incr: copy incomplete\n");
		exit(1);
	}
	return (double)t / 1e6;
}

/*
 * Figure: a future that progresses whenever it is polled (16 MiB, 256 B
 * a poll, NONE), waited for by runtime_wait, against the same future
 * polled in a plain future_poll loop; ratio <= 1.5.
 */
static void
bench_incr(struct runtime *r)
{
	static const struct figure f = {
		"runtime: NONE 16 MiB/256 B", "ms", 1, 1, 1.5, "<=1.5x loop",
	};
	char *src = xalloc(INCR_SIZE);
	char *dst = xalloc(INCR_SIZE);
	double val[MAX_REPS], ref[MAX_REPS];

	fill(src, INCR_SIZE, 13);
	memset(dst, 0, INCR_SIZE);
	incr_ms(r, dst, src, 1);
	check_copied(dst, src, INCR_SIZE, "incr");
	incr_ms(r, dst, src, 0);
	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
			ref[i] = incr_ms(r, dst, src, 0);
			val[i] = incr_ms(r, dst, src, 1);
		} else {
			val[i] = incr_ms(r, dst, src, 1);
			ref[i] = incr_ms(r, dst, src, 0);
		}
	}
	printf("  (memcpy column: the same future in a future_poll loop)\n");
	report(&f, val, ref);
	free(src);
	free(dst);
}

#ifdef BENCH_THREADS_MOVER

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sorts v in place; returns the element of rank ceil(p * n) (p in 0..1). */
static double
percentile(double *v, size_t n, double p)
{
	double x = p * (double)n;
	size_t rank = (size_t)x;

	if ((double)rank < x)
		rank++;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[rank > 0 ? rank - 1 : 0];
}

static struct data_mover_threads *
threads_mover(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(DMT_THREADS,
		DMT_RING, FUTURE_NOTIFIER_WAKER);

	if (dmt == NULL)
		die("data_mover_threads_new");
	return dmt;
}

static void
check_result(struct vdm_operation_future *fut, const char *what)
{
	if (FUTURE_STATE(fut) != FUTURE_STATE_COMPLETE ||
			FUTURE_OUTPUT(fut)->result != VDM_SUCCESS) {
		fprintf(stderr, "bench: %s: operation failed\n", what);
		exit(1);
	}
}

/*
 * Millions of 4 KiB copies per second through the threads mover, in
 * batches of TPUT_INFLIGHT futures each waited for with
 * runtime_wait_multiple (creation included in the time); *cpu gets the
 * CPU seconds this (the waiting) thread used per wall-clock second.
 */
static double
tput_mover_mops(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	double *cpu)
{
	struct vdm_operation_future futs[TPUT_INFLIGHT];
	struct future *ptrs[TPUT_INFLIGHT];
	uint64_t cpu0 = thread_cpu_ns();
	uint64_t t0 = now_ns();

	for (unsigned b = 0; b < TPUT_BATCHES; b++) {
		for (size_t i = 0; i < TPUT_INFLIGHT; i++) {
			futs[i] = vdm_memcpy(vdm, dst + i * TPUT_SIZE,
				src + i * TPUT_SIZE, TPUT_SIZE, 0);
			ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
		}
		runtime_wait_multiple(r, ptrs, TPUT_INFLIGHT);
	}
	uint64_t t = now_ns() - t0;

	*cpu = (double)(thread_cpu_ns() - cpu0) / (double)t;
	for (size_t i = 0; i < TPUT_INFLIGHT; i++)
		check_result(&futs[i], "threads mover throughput");
	return (double)TPUT_BATCHES * TPUT_INFLIGHT * 1000.0 / (double)t;
}

/* The same copies by plain memcpy on this thread: millions per second. */
static double
tput_plain_mops(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (unsigned b = 0; b < TPUT_BATCHES; b++) {
		for (size_t i = 0; i < TPUT_INFLIGHT; i++) {
			plain_memcpy(dst + i * TPUT_SIZE, src + i * TPUT_SIZE,
				TPUT_SIZE);
			CLOBBER();
		}
	}
	return (double)TPUT_BATCHES * TPUT_INFLIGHT * 1000.0 /
		(double)(now_ns() - t0);
}

/*
 * Figures: 4 KiB copies, 64 in flight, on 2 workers, against plain 4 KiB
 * copies on one thread; and the CPU the waiting thread used meanwhile.
 */
static void
bench_tput(struct runtime *r)
{
	static const struct figure f = {
		"threads: 4 KiB x64 flight", "Mops/s", 1, 0, 1, "ratio>=1",
	};
	static const struct figure fcpu = {
		"threads: x64 waiter CPU", "cpu/s", 0, 1, 0.39, "<=0.39",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	size_t n = (size_t)TPUT_INFLIGHT * TPUT_SIZE;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	double val[MAX_REPS], ref[MAX_REPS], cpu[MAX_REPS];

	fill(src, n, 3);
	memset(dst, 0, n);
	tput_mover_mops(r, vdm, dst, src, &cpu[0]);
	check_copied(dst, src, n, "threads mover throughput");
	tput_plain_mops(dst, src);

	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
			ref[i] = tput_plain_mops(dst, src);
			val[i] = tput_mover_mops(r, vdm, dst, src, &cpu[i]);
		} else {
			val[i] = tput_mover_mops(r, vdm, dst, src, &cpu[i]);
			ref[i] = tput_plain_mops(dst, src);
		}
	}
	report(&f, val, ref);
	report(&fcpu, cpu, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}

/* When the slow copy may finish (CLOCK_MONOTONIC); set before it starts. */
static struct timespec idle_deadline;

/* A memcpy that first sleeps until idle_deadline: a 50 ms operation. */
static void *
slow_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &idle_deadline,
			NULL) == EINTR)
		;
	return memcpy(dst, src, n);
}

/* Per cent of one CPU used by this thread in runtime_wait on a 50 ms op. */
static double
idle_cpu_percent(struct runtime *r, struct vdm *vdm, char *dst, char *src)
{
	uint64_t start = now_ns();
	uint64_t deadline = start + IDLE_WAIT_NS;
	uint64_t cpu0 = thread_cpu_ns();

	idle_deadline.tv_sec = (time_t)(deadline / 1000000000u);
	idle_deadline.tv_nsec = (long)(deadline % 1000000000u);

	struct vdm_operation_future fut = vdm_memcpy(vdm, dst, src, SMALL, 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	uint64_t cpu = thread_cpu_ns() - cpu0;
	uint64_t wall = now_ns() - start;

	check_result(&fut, "threads mover 50 ms wait");
	return 100.0 * (double)cpu / (double)wall;
}

/* Figure: CPU burned by a thread waiting 50 ms in runtime_wait. */
static void
bench_idle(struct runtime *r)
{
	static const struct figure f = {
		"threads: waiter CPU, 50 ms", "%", 0, 1, 0.1, "<=0.1 %",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double val[MAX_REPS];

	data_mover_threads_set_memcpy_fn(dmt, slow_memcpy);
	fill(src, SMALL, 4);
	memset(dst, 0, SMALL);
	for (unsigned i = 0; i < reps; i++)
		val[i] = idle_cpu_percent(r, vdm, dst, src);
	check_copied(dst, src, SMALL, "threads mover 50 ms wait");
	report(&f, val, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}

/*
 * Latency in us of LAT_SAMPLES single 64-byte copies, each created and
 * waited for with runtime_wait, back to back; p50 and p99.
 */
static void
lat_mover_us(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	double *lat, double *p50, double *p99)
{
	struct vdm_operation_future fut;

	for (size_t i = 0; i < LAT_SAMPLES; i++) {
		uint64_t t0 = now_ns();

		fut = vdm_memcpy(vdm, dst, src, SMALL, 0);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
		lat[i] = (double)(now_ns() - t0) / 1000.0;
	}
	check_result(&fut, "threads mover latency");
	*p50 = percentile(lat, LAT_SAMPLES, 0.50);
	*p99 = percentile(lat, LAT_SAMPLES, 0.99);
}

/* The same, by plain memcpy timed the same way. */
static void
lat_plain_us(char *dst, char *src, double *lat, double *p50, double *p99)
{
	for (size_t i = 0; i < LAT_SAMPLES; i++) {
		uint64_t t0 = now_ns();

		plain_memcpy(dst, src, SMALL);
		CLOBBER();
		lat[i] = (double)(now_ns() - t0) / 1000.0;
	}
	*p50 = percentile(lat, LAT_SAMPLES, 0.50);
	*p99 = percentile(lat, LAT_SAMPLES, 0.99);
}

/* Figures: single 64-byte op latency through runtime_wait, p50 and p99. */
static void
bench_lat(struct runtime *r)
{
	static const struct figure f50 = {
		"threads: 64 B latency p50", "us", 0, 1, 1, "<=1 us",
	};
	static const struct figure f99 = {
		"threads: 64 B latency p99", "us", 0, 1, 20, "<=20 us",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double *lat = xalloc(LAT_SAMPLES * sizeof(*lat));
	double v50[MAX_REPS], v99[MAX_REPS], r50[MAX_REPS], r99[MAX_REPS];
	double d50, d99;

	fill(src, SMALL, 5);
	memset(dst, 0, SMALL);
	lat_mover_us(r, vdm, dst, src, lat, &d50, &d99);
	check_copied(dst, src, SMALL, "threads mover latency");

	for (unsigned i = 0; i < reps; i++) {
		lat_mover_us(r, vdm, dst, src, lat, &v50[i], &v99[i]);
		lat_plain_us(dst, src, lat, &r50[i], &r99[i]);
	}
	report(&f50, v50, r50);
	report(&f99, v99, r99);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
	free(lat);
}

/*
 * Figure: a 64-byte copy waited for with runtime_wait on a mover whose
 * workers sleep (the last copy was 1 ms ago; idle workers spin 50 us),
 * p50 of WAKE_SAMPLES; beside plain memcpy timed the same way.
 */
static void
bench_wake(struct runtime *r)
{
	static const struct figure f = {
		"threads: wake idle mover p50", "us", 0, 1, 5, "<=5 us",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double lat[WAKE_SAMPLES], val[MAX_REPS], ref[MAX_REPS];
	struct vdm_operation_future fut;
	const struct timespec gap = { 0, 1000000 };

	fill(src, SMALL, 6);
	memset(dst, 0, SMALL);
	for (unsigned i = 0; i < reps; i++) {
		for (size_t k = 0; k < WAKE_SAMPLES; k++) {
			nanosleep(&gap, NULL);

			uint64_t t0 = now_ns();

			fut = vdm_memcpy(vdm, dst, src, SMALL, 0);
			runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
			lat[k] = (double)(now_ns() - t0) / 1000.0;
		}
		check_result(&fut, "threads mover wake");
		val[i] = percentile(lat, WAKE_SAMPLES, 0.50);
		for (size_t k = 0; k < WAKE_SAMPLES; k++) {
			uint64_t t0 = now_ns();

			plain_memcpy(dst, src, SMALL);
			CLOBBER();
			lat[k] = (double)(now_ns() - t0) / 1000.0;
		}
		ref[i] = percentile(lat, WAKE_SAMPLES, 0.50);
	}
	check_copied(dst, src, SMALL, "threads mover wake");
	report(&f, val, ref);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}

/* One half of a plain two-thread copy, started with the other at once. */
struct half_copy {
	pthread_barrier_t *start;
	char *dst;
	const char *src;
	size_t n;
};

static void *
half_copy_thread(void *arg)
{
	struct half_copy *h = arg;

	pthread_barrier_wait(h->start);
	plain_memcpy(h->dst, h->src, h->n);
	return NULL;
}

/*
 * GB/s of a plain copy of n bytes split over nthreads (1 or 2) threads,
 * this one included; the clock starts when all have passed the barrier.
 */
static double
big_plain_gbs(char *dst, char *src, size_t n, unsigned nthreads)
{
	pthread_barrier_t start;
	pthread_t helper;
	struct half_copy h;
	size_t mine = n;
	uint64_t t0;

	if (nthreads > 1) {
		mine = n / 2;
		h.start = &start;
		h.dst = dst + mine;
		h.src = src + mine;
		h.n = n - mine;
		pthread_barrier_init(&start, NULL, 2);
		errno = pthread_create(&helper, NULL, half_copy_thread, &h);
		if (errno != 0)
			die("pthread_create");
		pthread_barrier_wait(&start);
	}
	t0 = now_ns();
	plain_memcpy(dst, src, mine);
	if (nthreads > 1) {
		pthread_join(helper, NULL);
		pthread_barrier_destroy(&start);
	}
	CLOBBER();
	return (double)n / (double)(now_ns() - t0);
}

/* GB/s of one n-byte copy through the threads mover and runtime_wait. */
static double
big_mover_gbs(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	size_t n)
{
	uint64_t t0 = now_ns();
	struct vdm_operation_future fut = vdm_memcpy(vdm, dst, src, n, 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	uint64_t t = now_ns() - t0;

	check_result(&fut, "threads mover 256 MiB copy");
	return (double)n / (double)t;
}

/*
 * Figure: a 256 MiB copy through the threads mover against the best plain
 * memcpy of this run (two threads copying half each, or one thread if
 * that is faster).
 */
static void
bench_big(struct runtime *r)
{
	static const struct figure f = {
		"threads: 256 MiB copy", "GB/s", 1, 0, 1.35, "ratio>=1.35",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xalloc(BIG_SIZE);
	char *dst = xalloc(BIG_SIZE);
	double val[MAX_REPS], ref[MAX_REPS];

	/* Fault every page in first; check one copy by the mover. */
	fill(src, BIG_SIZE, 6);
	memset(dst, 0, BIG_SIZE);
	big_mover_gbs(r, vdm, dst, src, BIG_SIZE);
	check_copied(dst, src, BIG_SIZE, "threads mover 256 MiB copy");
	big_plain_gbs(dst, src, BIG_SIZE, 2);

	for (unsigned i = 0; i < reps; i++) {
		double two, one;

		if (i % 2) {
			two = big_plain_gbs(dst, src, BIG_SIZE, 2);
			one = big_plain_gbs(dst, src, BIG_SIZE, 1);
			val[i] = big_mover_gbs(r, vdm, dst, src, BIG_SIZE);
		} else {
			val[i] = big_mover_gbs(r, vdm, dst, src, BIG_SIZE);
			one = big_plain_gbs(dst, src, BIG_SIZE, 1);
			two = big_plain_gbs(dst, src, BIG_SIZE, 2);
		}
		ref[i] = two > one ? two : one;
		if (verbose)
			fprintf(stderr, "big: plain 1 thread %.2f, 2 threads "
				"%.2f GB/s\n", one, two);
	}
	report(&f, val, ref);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}

/* A fixed pseudo-random sequence: the same sizes in every run. */
static uint32_t
next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/*
 * Set when a round of the spin figure has run for SPIN_CAP_NS: on a busy
 * machine, pollers that never yield can starve the workers for seconds,
 * and a figure that far above its target is not worth the wait.
 */
static _Atomic int spin_stop;

/* One poller of the spin figure: its share, each polled to completion. */
struct spin_share {
	pthread_barrier_t *start;
	struct vdm_operation_future *futs;
	size_t n;
};

static void *
spin_poller(void *arg)
{
	struct spin_share *s = arg;

	pthread_barrier_wait(s->start);
	for (size_t i = 0; i < s->n; i++) {
		struct future *f = FUTURE_AS_RUNNABLE(&s->futs[i]);

		/* no pause, on purpose: the busiest poller there is */
		while (future_poll(f, NULL) != FUTURE_STATE_COMPLETE) {
			if (atomic_load_explicit(&spin_stop,
					memory_order_relaxed))
				return NULL;
		}
	}
	return NULL;
}

/* The copies of the spin figure: sizes and places, src filled once. */
struct spin_work {
	size_t size[SPIN_NFUTS];
	size_t off[SPIN_NFUTS]; /* each copy has bytes of its own */
	size_t total;
	char *src;
	char *dst;
	struct vdm_operation_future *futs;
};

static void
spin_work_init(struct spin_work *w)
{
	uint32_t seed = 2026;

	w->total = 0;
	for (size_t i = 0; i < SPIN_NFUTS; i++) {
		w->size[i] = SPIN_MIN + next_random(&seed) %
			(SPIN_MAX - SPIN_MIN + 1);
		w->off[i] = w->total;
		w->total += (w->size[i] + 63) & ~(size_t)63;
	}
	w->src = xalloc(w->total);
	w->dst = xalloc(w->total);
	w->futs = xalloc(SPIN_NFUTS * sizeof(*w->futs));
	fill(w->src, w->total, 7);
}

static void
spin_check(const struct spin_work *w)
{
	for (size_t i = 0; i < SPIN_NFUTS; i++)
		check_copied(w->dst + w->off[i], w->src + w->off[i],
			w->size[i], "spin");
}

/*
 * One round: this thread creates every future, then nthreads pollers,
 * released together, poll their contiguous shares to completion. Returns
 * ms from the release until all are joined; after SPIN_CAP_NS the pollers
 * are stopped (*capped is then bumped), and this thread finishes their
 * work, untimed, in runtime_wait_multiple (busy-polling it from here could
 * starve the workers just as long).
 */
static double
spin_mover_ms(struct runtime *r, struct vdm *vdm, struct spin_work *w,
	unsigned nthreads, unsigned *capped)
{
	pthread_t tids[8];
	struct spin_share shares[8];
	pthread_barrier_t start;
	struct timespec deadline;
	uint64_t t0, t;
	int stopped = 0;

	memset(w->dst, 0, w->total);
	for (size_t i = 0; i < SPIN_NFUTS; i++)
		w->futs[i] = vdm_memcpy(vdm, w->dst + w->off[i],
			w->src + w->off[i], w->size[i], 0);

	atomic_store_explicit(&spin_stop, 0, memory_order_relaxed);
	pthread_barrier_init(&start, NULL, nthreads + 1);
	for (unsigned k = 0; k < nthreads; k++) {
		size_t first = SPIN_NFUTS * k / nthreads;

		shares[k].start = &start;
		shares[k].futs = &w->futs[first];
		shares[k].n = SPIN_NFUTS * (k + 1) / nthreads - first;
		errno = pthread_create(&tids[k], NULL, spin_poller,
			&shares[k]);
		if (errno != 0)
			die("pthread_create");
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	clock_gettime(CLOCK_REALTIME, &deadline); /* what timedjoin takes */
	deadline.tv_nsec += SPIN_CAP_NS;
	deadline.tv_sec += deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	for (unsigned k = 0; k < nthreads; k++) {
		if (!stopped && pthread_timedjoin_np(tids[k], NULL,
				&deadline) == 0)
			continue;
		if (!stopped) {
			atomic_store_explicit(&spin_stop, 1,
				memory_order_relaxed);
			stopped = 1;
		}
		pthread_join(tids[k], NULL);
	}
	t = now_ns() - t0;
	pthread_barrier_destroy(&start);

	for (size_t i = 0; stopped && i < SPIN_NFUTS; i++) {
		struct future *f = FUTURE_AS_RUNNABLE(&w->futs[i]);

		runtime_wait(r, f);
	}
	for (size_t i = 0; i < SPIN_NFUTS; i++)
		check_result(&w->futs[i], "spin");
	*capped += (unsigned)stopped;
	spin_check(w);
	return (double)t / 1e6;
}

/* The same copies by plain memcpy on this thread, ms. */
static double
spin_plain_ms(struct spin_work *w)
{
	uint64_t t0;

	memset(w->dst, 0, w->total);
	t0 = now_ns();
	for (size_t i = 0; i < SPIN_NFUTS; i++) {
		plain_memcpy(w->dst + w->off[i], w->src + w->off[i],
			w->size[i]);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / 1e6;
}

/*
 * Figures: 2000 copies busy-polled by 1, 2, 4 and 8 threads on the
 * default threads mover (oversubscribed on a small machine), and how
 * much slower 8 pollers are than one.
 */
static void
bench_spin(struct runtime *r)
{
	static const unsigned nthreads[SPIN_NT] = { 1, 2, 4, 8 };
	static const struct figure f[SPIN_NT] = {
		{ "spin: 2000 copies, T=1", "ms", 0, 1, 18, "<=18 ms" },
		{ "spin: 2000 copies, T=2", "ms", 0, 1, 9, "<=9 ms" },
		{ "spin: 2000 copies, T=4", "ms", 0, 1, 44, "<=44 ms" },
		{ "spin: 2000 copies, T=8", "ms", 0, 1, 31, "<=31 ms" },
	};
	static const struct figure fratio = {
		"spin: time T=8 / T=1", "x", 0, 1, 2, "<=2",
	};
	struct data_mover_threads *dmt = data_mover_threads_default();
	struct spin_work *w = xalloc(sizeof(*w));
	double val[SPIN_NT][MAX_REPS], ref[MAX_REPS], ratio[MAX_REPS];
	unsigned capped = 0, warm_capped = 0;

	if (dmt == NULL)
		die("data_mover_threads_default");
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	spin_work_init(w);
	spin_mover_ms(r, vdm, w, 2, &warm_capped); /* warm up, check */
	spin_plain_ms(w);
	spin_check(w);

	for (unsigned i = 0; i < reps; i++) {
		if (i % 2)
			ref[i] = spin_plain_ms(w);
		unsigned capped8 = 0;

		for (unsigned t = 0; t < SPIN_NT; t++)
			val[t][i] = spin_mover_ms(r, vdm, w, nthreads[t],
				t == SPIN_NT - 1 ? &capped8 : &capped);
		capped += capped8;
		if (i % 2 == 0)
			ref[i] = spin_plain_ms(w);
		/* a stopped T=8 round tells only that the ratio is worse */
		ratio[i] = capped8 ? INFINITY : val[SPIN_NT - 1][i] / val[0][i];
	}
	for (unsigned t = 0; t < SPIN_NT; t++)
		report(&f[t], val[t], ref);
	report(&fratio, ratio, NULL);
	if (capped != 0)
		printf("  (%u of %u spin rounds stopped after %ld ms: they "
			"count as that long)\n", capped, reps * SPIN_NT,
			SPIN_CAP_NS / 1000000);
	data_mover_threads_delete(dmt);
	free(w->src);
	free(w->dst);
	free(w->futs);
	free(w);
}

/*
 * A future that counts its polls: it wraps a vdm future, hands each poll
 * (and the notifier, so the inner future's promise is the wrapper's own)
 * on to it, and has the same properties.
 */
struct count_data {
	struct vdm_operation_future inner;
	_Atomic uint64_t *polls;
};

FUTURE(count_future, struct count_data, struct vdm_operation_output);

static enum future_state
count_task(struct future_context *context, struct future_notifier *notifier)
{
	struct count_data *d = future_context_get_data(context);
	struct vdm_operation_output *out = future_context_get_output(context);
	enum future_state state;

	atomic_fetch_add_explicit(d->polls, 1, memory_order_relaxed);
	state = future_poll(FUTURE_AS_RUNNABLE(&d->inner), notifier);
	if (state == FUTURE_STATE_COMPLETE)
		*out = *FUTURE_OUTPUT(&d->inner);
	return state;
}

static int
count_has_property(void *future, enum future_property property)
{
	struct count_future *f = future;

	return future_has_property(FUTURE_AS_RUNNABLE(&f->data.inner),
		property);
}

/* Polls per future of POLLS_NFUTS copies in one runtime_wait_multiple. */
static double
polls_per_future(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct count_future *futs, struct future **ptrs)
{
	static _Atomic uint64_t polls;

	memset(dst, 0, (size_t)POLLS_NFUTS * POLLS_SIZE);
	for (size_t i = 0; i < POLLS_NFUTS; i++) {
		futs[i].data.inner = vdm_memcpy(vdm, dst + i * POLLS_SIZE,
			src + i * POLLS_SIZE, POLLS_SIZE, 0);
		futs[i].data.polls = &polls;
		FUTURE_INIT_EXT(&futs[i], count_task, count_has_property);
		ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	atomic_store_explicit(&polls, 0, memory_order_relaxed);
	uint64_t t0 = now_ns();

	runtime_wait_multiple(r, ptrs, POLLS_NFUTS);
	uint64_t t = now_ns() - t0;
	uint64_t n = atomic_load_explicit(&polls, memory_order_relaxed);

	for (size_t i = 0; i < POLLS_NFUTS; i++) {
		struct count_future *f = &futs[i];

		if (FUTURE_STATE(f) != FUTURE_STATE_COMPLETE ||
				FUTURE_OUTPUT(f)->result != VDM_SUCCESS) {
			fprintf(stderr, "bench: polls: future %zu failed\n", i);
			exit(1);
		}
	}
	check_copied(dst, src, (size_t)POLLS_NFUTS * POLLS_SIZE, "polls");
	if (verbose)
		fprintf(stderr, "polls: %llu polls in %.2f ms\n",
			(unsigned long long)n, (double)t / 1e6);
	return (double)n / POLLS_NFUTS;
}

/* Figure: polls per future, 8192 4 KiB copies in one wait. */
static void
bench_polls(struct runtime *r)
{
	static const struct figure f = {
		"polls/future: 8192 x 4 KiB", "polls", 0, 1, 3, "<=3",
	};
	struct data_mover_threads *dmt = data_mover_threads_default();
	size_t n = (size_t)POLLS_NFUTS * POLLS_SIZE;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	struct count_future *futs = xalloc(POLLS_NFUTS * sizeof(*futs));
	struct future **ptrs = xalloc(POLLS_NFUTS * sizeof(*ptrs));
	double val[MAX_REPS];

	if (dmt == NULL)
		die("data_mover_threads_default");
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	fill(src, n, 8);
	polls_per_future(r, vdm, dst, src, futs, ptrs); /* warm up */
	for (unsigned i = 0; i < reps; i++)
		val[i] = polls_per_future(r, vdm, dst, src, futs, ptrs);
	report(&f, val, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
	free(futs);
	free(ptrs);
}

/* Futex calls are counted while futex_counting is set. */
static _Atomic int futex_counting;
static _Atomic uint64_t futex_calls;

#ifndef BENCH_NO_SYSCALL_HOOK
/*
 * Counting futex calls: this definition of syscall() in the executable
 * takes the place of the C library's for the whole process (the library
 * makes its futex calls through syscall()), counts futex calls while
 * futex_counting is set, and hands every call on to the real syscall().
 * Like the C library's own, it takes six argument words, whatever the
 * call uses. A fully static build, where dlsym() finds nothing to hand
 * the calls on to, is built with -DBENCH_NO_SYSCALL_HOOK instead.
 */
typedef long (*syscall_fn)(long number, ...);

static _Atomic(syscall_fn) real_syscall;

/* The C library's syscall(), or NULL where the dynamic linker is not. */
static syscall_fn
find_real_syscall(void)
{
	syscall_fn fn = atomic_load_explicit(&real_syscall,
		memory_order_relaxed);

	if (fn == NULL) {
		void *p = dlsym(RTLD_NEXT, "syscall");

		/* POSIX lets a dlsym result be converted so */
		memcpy(&fn, &p, sizeof(fn));
		/* relaxed: every thread would find the same function */
		atomic_store_explicit(&real_syscall, fn, memory_order_relaxed);
	}
	return fn;
}

static int
is_futex_call(long number)
{
	if (number == SYS_futex)
		return 1;
#ifdef SYS_futex_time64
	if (number == SYS_futex_time64)
		return 1;
#endif
#ifdef SYS_futex_waitv
	if (number == SYS_futex_waitv)
		return 1;
#endif
#ifdef SYS_futex_wake
	if (number == SYS_futex_wake)
		return 1;
#endif
#ifdef SYS_futex_wait
	if (number == SYS_futex_wait)
		return 1;
#endif
#ifdef SYS_futex_requeue
	if (number == SYS_futex_requeue)
		return 1;
#endif
	return 0;
}

long
syscall(long number, ...)
{
	long a[6];
	va_list ap;
	syscall_fn fn;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (atomic_load_explicit(&futex_counting, memory_order_relaxed) &&
			is_futex_call(number))
		atomic_fetch_add_explicit(&futex_calls, 1,
			memory_order_relaxed);
	fn = find_real_syscall();
	if (fn == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return fn(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
#endif /* BENCH_NO_SYSCALL_HOOK */

/*
 * Counting on and off. The futex calls of other threads that happen
 * before the start and after the end of the counted loop are ordered by
 * the operations' own synchronisation; a call racing with the switch may
 * or may not be counted, which is within the figure's noise.
 */
static void
futex_count_start(void)
{
	atomic_store_explicit(&futex_calls, 0, memory_order_relaxed);
	atomic_store_explicit(&futex_counting, 1, memory_order_relaxed);
}

static uint64_t
futex_count_stop(void)
{
	atomic_store_explicit(&futex_counting, 0, memory_order_relaxed);
	return atomic_load_explicit(&futex_calls, memory_order_relaxed);
}

/* Sleeps ns, then copies: an operation that takes that long. */
static void *
sleep_then_copy(long ns, void *dst, const void *src, size_t n)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return memcpy(dst, src, n);
}

#ifdef BENCH_NO_SYSCALL_HOOK
static const char *
futex_count_unusable(struct runtime *r)
{
	(void)r;
	return "built with BENCH_NO_SYSCALL_HOOK: nothing counts them";
}
#else
static void *
probe_slow_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	return sleep_then_copy(FUTEX_PROBE_NS, dst, src, n);
}

/*
 * Whether the futex count can be trusted: NULL if so, else why not. A
 * thread that waits 20 ms in runtime_wait on a WAKER mover must sleep,
 * and somebody must wake it; if no futex call was counted meanwhile, the
 * library's calls do not reach our syscall() (a static build, a checker
 * that intercepts syscall(), or a library that sleeps some other way),
 * and a count of 0 would be a lie.
 */
static const char *
futex_count_unusable(struct runtime *r)
{
	struct data_mover_threads *dmt;
	char src[SMALL], dst[SMALL];
	uint64_t n;

	if (find_real_syscall() == NULL)
		return "dlsym(RTLD_NEXT) finds no syscall(): a static build?";
	dmt = data_mover_threads_new(1, DMT_RING, FUTURE_NOTIFIER_WAKER);
	if (dmt == NULL)
		die("data_mover_threads_new");
	data_mover_threads_set_memcpy_fn(dmt, probe_slow_memcpy);
	fill(src, SMALL, 9);

	struct vdm_operation_future fut = vdm_memcpy(
		data_mover_threads_get_vdm(dmt), dst, src, SMALL, 0);

	futex_count_start();
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	n = futex_count_stop();
	check_result(&fut, "futex probe");
	check_copied(dst, src, SMALL, "futex probe");
	data_mover_threads_delete(dmt);
	if (n == 0)
		return "no futex call reached this program's syscall() "
			"while a thread slept in runtime_wait for 20 ms";
	return NULL;
}
#endif /* BENCH_NO_SYSCALL_HOOK */

/* Futex calls per op of FUTEX_OPS back-to-back waited 64-byte copies. */
static double
futex_per_op(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	size_t nops)
{
	struct vdm_operation_future fut;
	uint64_t t0 = now_ns();
	uint64_t n;

	futex_count_start();
	for (size_t i = 0; i < nops; i++) {
		fut = vdm_memcpy(vdm, dst, src, SMALL, 0);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	}
	n = futex_count_stop();
	check_result(&fut, "futex calls");
	if (verbose)
		fprintf(stderr, "futex: %llu calls in %.2f ms\n",
			(unsigned long long)n, (double)(now_ns() - t0) / 1e6);
	return (double)n / (double)nops;
}

/* Figures: futex calls per op on a POLLER and on a WAKER mover. */
static void
bench_futex(struct runtime *r)
{
	static const struct figure f[2] = {
		{ "futex: calls/op, POLLER", "calls", 0, 1, 0.01, "<=0.01" },
		{ "futex: calls/op, WAKER", "calls", 0, 1, 0, NULL },
	};
	static const enum future_notifier_type type[2] = {
		FUTURE_NOTIFIER_POLLER, FUTURE_NOTIFIER_WAKER,
	};
	const char *why = futex_count_unusable(r);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL);
	double val[MAX_REPS];

	fill(src, SMALL, 10);
	for (int m = 0; m < 2; m++) {
		if (why != NULL) {
			report_na(&f[m], why);
			continue;
		}

		struct data_mover_threads *dmt = data_mover_threads_new(
			DMT_THREADS, DMT_RING, type[m]);

		if (dmt == NULL)
			die("data_mover_threads_new");
		struct vdm *vdm = data_mover_threads_get_vdm(dmt);

		memset(dst, 0, SMALL);
		futex_per_op(r, vdm, dst, src, FUTEX_WARMUP);
		check_copied(dst, src, SMALL, "futex calls");
		for (unsigned i = 0; i < reps; i++)
			val[i] = futex_per_op(r, vdm, dst, src, FUTEX_OPS);
		report(&f[m], val, NULL);
		data_mover_threads_delete(dmt);
	}
	free(src);
	free(dst);
}

/*
 * A future that runs CHAIN_STEPS copies one after another on one mover,
 * each started as soon as the one before is complete, within the same
 * poll; it hands the notifier on to the current copy, so that the copy's
 * promise is the chain's, and notes when its last copy completed.
 */
struct chain_data {
	struct vdm *vdm;
	char *dst;
	char *src;
	unsigned step;
	uint64_t done_ns;
	struct vdm_operation_future cur;
};

FUTURE(chain_future, struct chain_data, struct vdm_operation_output);

static enum future_state
chain_task(struct future_context *context, struct future_notifier *notifier)
{
	struct chain_data *d = future_context_get_data(context);
	struct vdm_operation_output *out = future_context_get_output(context);

	for (;;) {
		if (future_poll(FUTURE_AS_RUNNABLE(&d->cur), notifier) !=
				FUTURE_STATE_COMPLETE)
			return FUTURE_STATE_RUNNING;
		*out = *FUTURE_OUTPUT(&d->cur);
		if (out->result != VDM_SUCCESS || ++d->step == CHAIN_STEPS)
			break;

		size_t off = (size_t)d->step * CHAIN_SIZE;

		d->cur = vdm_memcpy(d->vdm, d->dst + off, d->src + off,
			CHAIN_SIZE, 0);
	}
	d->done_ns = now_ns();
	return FUTURE_STATE_COMPLETE;
}

static int
chain_has_property(void *future, enum future_property property)
{
	struct chain_future *f = future;

	return future_has_property(FUTURE_AS_RUNNABLE(&f->data.cur),
		property);
}

static void *
chain_slow_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	return sleep_then_copy(CHAIN_SLOW_NS, dst, src, n);
}

/* Two 1-worker movers: the chain's, and the slow copy's. */
struct chain_movers {
	struct data_mover_threads *a;
	struct data_mover_threads *b;
};

static void
chain_movers_new(struct chain_movers *m, enum future_notifier_type type)
{
	m->a = data_mover_threads_new(1, DMT_RING, type);
	m->b = data_mover_threads_new(1, DMT_RING, type);
	if (m->a == NULL || m->b == NULL)
		die("data_mover_threads_new");
	data_mover_threads_set_memcpy_fn(m->b, chain_slow_memcpy);
}

/*
 * ms from the start of one runtime_wait_multiple over the slow copy and
 * the chain (in that order) until the chain's last copy completed.
 */
static double
chain_mover_ms(struct runtime *r, const struct chain_movers *m, char *dst,
	char *src, char *sdst, char *ssrc)
{
	struct chain_future chain;
	struct vdm_operation_future slow;
	struct future *ptrs[2];
	uint64_t t0;

	memset(dst, 0, (size_t)CHAIN_STEPS * CHAIN_SIZE);
	memset(sdst, 0, SMALL);
	chain.data.vdm = data_mover_threads_get_vdm(m->a);
	chain.data.dst = dst;
	chain.data.src = src;
	chain.data.step = 0;
	chain.data.done_ns = 0;
	chain.data.cur = vdm_memcpy(chain.data.vdm, dst, src, CHAIN_SIZE, 0);
	FUTURE_INIT_EXT(&chain, chain_task, chain_has_property);
	slow = vdm_memcpy(data_mover_threads_get_vdm(m->b), sdst, ssrc,
		SMALL, 0);
	ptrs[0] = FUTURE_AS_RUNNABLE(&slow);
	ptrs[1] = FUTURE_AS_RUNNABLE(&chain);

	t0 = now_ns();
	runtime_wait_multiple(r, ptrs, 2);

	check_result(&slow, "chain: slow copy");
	if (FUTURE_STATE(&chain) != FUTURE_STATE_COMPLETE ||
			FUTURE_OUTPUT(&chain)->result != VDM_SUCCESS ||
			chain.data.step != CHAIN_STEPS) {
		fprintf(stderr, "bench: chain: a copy failed\n");
		exit(1);
	}
	check_copied(dst, src, (size_t)CHAIN_STEPS * CHAIN_SIZE, "chain");
	check_copied(sdst, ssrc, SMALL, "chain: slow copy");
	return (double)(chain.data.done_ns - t0) / 1e6;
}

/* The chain's copies by plain memcpy, ms. */
static double
chain_plain_ms(char *dst, char *src)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < CHAIN_STEPS; i++) {
		plain_memcpy(dst + i * CHAIN_SIZE, src + i * CHAIN_SIZE,
			CHAIN_SIZE);
		CLOBBER();
	}
	return (double)(now_ns() - t0) / 1e6;
}

/*
 * Figures: a 50-copy chain's latency beside a pending 100 ms copy, with
 * POLLER movers and with WAKER ones; POLLER at most twice WAKER.
 */
static void
bench_chain(struct runtime *r)
{
	static const struct figure fw = {
		"chain: 50 x 4 KiB, WAKER", "ms", 0, 1, 0, NULL,
	};
	static const struct figure fp = {
		"chain: 50 x 4 KiB, POLLER", "ms", 0, 1, 2, "<=2x WAKER",
	};
	struct chain_movers poller, waker;
	size_t n = (size_t)CHAIN_STEPS * CHAIN_SIZE;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	char *ssrc = xalloc(SMALL);
	char *sdst = xalloc(SMALL);
	double vp[MAX_REPS], vw[MAX_REPS], ref[MAX_REPS], ratio[MAX_REPS];

	chain_movers_new(&poller, FUTURE_NOTIFIER_POLLER);
	chain_movers_new(&waker, FUTURE_NOTIFIER_WAKER);
	fill(src, n, 11);
	fill(ssrc, SMALL, 12);
	chain_mover_ms(r, &poller, dst, src, sdst, ssrc); /* warm up */
	chain_mover_ms(r, &waker, dst, src, sdst, ssrc);

	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
			vw[i] = chain_mover_ms(r, &waker, dst, src, sdst,
				ssrc);
			vp[i] = chain_mover_ms(r, &poller, dst, src, sdst,
				ssrc);
		} else {
			vp[i] = chain_mover_ms(r, &poller, dst, src, sdst,
				ssrc);
			vw[i] = chain_mover_ms(r, &waker, dst, src, sdst,
				ssrc);
		}
		ref[i] = chain_plain_ms(dst, src);
		ratio[i] = vp[i] / vw[i];
	}
	report(&fw, vw, ref);
	report_chk(&fp, vp, ref, ratio);
	data_mover_threads_delete(poller.a);
	data_mover_threads_delete(poller.b);
	data_mover_threads_delete(waker.a);
	data_mover_threads_delete(waker.b);
	free(src);
	free(dst);
	free(ssrc);
	free(sdst);
}

/*
 * Pending futures: PEND_NFUTS 64-byte copies on a 2-worker WAKER mover
 * whose memcpy_fn holds each copy until its slot, one a millisecond, so
 * that one completes a millisecond; the CPU the waiting thread uses
 * (its CPU clock, read by another thread) from the PEND_FROM-th to the
 * PEND_TO-th completion, per wall-clock second. Then the rest complete
 * at once.
 */
static _Atomic uint64_t pend_t0; /* slot 0 */
static _Atomic unsigned pend_slot; /* the next slot handed out */
static _Atomic unsigned pend_done; /* copies completed */
static _Atomic int pend_fast; /* hold nothing any more */

static void *
pend_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	unsigned slot = atomic_fetch_add(&pend_slot, 1);
	uint64_t at = atomic_load(&pend_t0) + (uint64_t)slot * 1000000u;
	struct timespec ts;

	(void)flags;
	ts.tv_sec = (time_t)(at / 1000000000u);
	ts.tv_nsec = (long)(at % 1000000000u);
	while (!atomic_load(&pend_fast) && clock_nanosleep(CLOCK_MONOTONIC,
			TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	atomic_fetch_add(&pend_done, 1);
	return memcpy(dst, src, n);
}

struct pend_probe {
	pthread_t waiter;
	double cpu_s_per_s;
};

static uint64_t
other_thread_cpu_ns(pthread_t t)
{
	clockid_t id;
	struct timespec ts;

	if (pthread_getcpuclockid(t, &id) != 0 ||
			clock_gettime(id, &ts) != 0)
		die("thread CPU clock");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits (sleeping 100 us at a time) until n copies are done. */
static void
pend_until(unsigned n)
{
	struct timespec ts = { 0, 100000 };

	while (atomic_load(&pend_done) < n)
		nanosleep(&ts, NULL);
}

static void *
pend_prober(void *arg)
{
	struct pend_probe *p = arg;

	pend_until(PEND_FROM);
	uint64_t c0 = other_thread_cpu_ns(p->waiter);
	uint64_t t0 = now_ns();

	pend_until(PEND_TO);
	uint64_t c1 = other_thread_cpu_ns(p->waiter);
	uint64_t t1 = now_ns();

	p->cpu_s_per_s = (double)(c1 - c0) / (double)(t1 - t0);
	atomic_store(&pend_fast, 1);
	return NULL;
}

static double
pend_cpu(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	struct vdm_operation_future *futs, struct future **ptrs)
{
	struct pend_probe probe;
	pthread_t prober;

	atomic_store(&pend_slot, 0);
	atomic_store(&pend_done, 0);
	atomic_store(&pend_fast, 0);
	atomic_store(&pend_t0, now_ns() + 20000000u);
	for (size_t i = 0; i < PEND_NFUTS; i++) {
		futs[i] = vdm_memcpy(vdm, dst + (i % 64) * SMALL,
			src + (i % 64) * SMALL, SMALL, 0);
		ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	probe.waiter = pthread_self();
	if (pthread_create(&prober, NULL, pend_prober, &probe) != 0)
		die("pthread_create");
	runtime_wait_multiple(r, ptrs, PEND_NFUTS);
	pthread_join(prober, NULL);
	for (size_t i = 0; i < PEND_NFUTS; i++)
		check_result(&futs[i], "pending");
	return probe.cpu_s_per_s;
}

/* Figure: the waiter's CPU, 10 000 pending, one completion a ms. */
static void
bench_pending(struct runtime *r)
{
	static const struct figure f = {
		"runtime: 10k pending 1/ms", "cpu/s", 0, 1, 0.05, "<=0.05",
	};
	struct data_mover_threads *dmt = data_mover_threads_new(DMT_THREADS,
		DMT_RING, FUTURE_NOTIFIER_WAKER);
	char *src = xalloc(64 * SMALL);
	char *dst = xalloc(64 * SMALL);
	struct vdm_operation_future *futs = xalloc(PEND_NFUTS *
		sizeof(*futs));
	struct future **ptrs = xalloc(PEND_NFUTS * sizeof(*ptrs));
	double val[MAX_REPS];

	if (dmt == NULL)
		die("data_mover_threads_new");
	data_mover_threads_set_memcpy_fn(dmt, pend_memcpy);
	fill(src, 64 * SMALL, 14);
	for (unsigned i = 0; i < reps; i++)
		val[i] = pend_cpu(r, data_mover_threads_get_vdm(dmt), dst,
			src, futs, ptrs);
	check_copied(dst, src, 64 * SMALL, "pending");
	report(&f, val, NULL);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
	free(futs);
	free(ptrs);
}

/*
 * One step of one future among 16 waiting: a future that runs
 * STEP_COUNT 64-byte copies one after another on a 2-worker WAKER mover
 * (each started within the poll that saw the one before complete) beside
 * 15 copies held on a 1-worker mover until it ends; the time between
 * consecutive steps' completions, p50, against a plain 64-byte memcpy.
 */
struct step_data {
	struct vdm *vdm;
	char *dst;
	char *src;
	unsigned step;
	uint64_t *at; /* when each step completed */
	struct vdm_operation_future cur;
};

FUTURE(step_future, struct step_data, struct vdm_operation_output);

static _Atomic int step_release; /* the held copies may end */

static enum future_state
step_task(struct future_context *context, struct future_notifier *notifier)
{
	struct step_data *d = future_context_get_data(context);
	struct vdm_operation_output *out = future_context_get_output(context);

	for (;;) {
		if (future_poll(FUTURE_AS_RUNNABLE(&d->cur), notifier) !=
				FUTURE_STATE_COMPLETE)
			return FUTURE_STATE_RUNNING;
		*out = *FUTURE_OUTPUT(&d->cur);
		d->at[d->step] = now_ns();
		if (out->result != VDM_SUCCESS || ++d->step == STEP_COUNT) {
			atomic_store(&step_release, 1); /* the others may end */
			return FUTURE_STATE_COMPLETE;
		}
		d->cur = vdm_memcpy(d->vdm, d->dst, d->src, SMALL, 0);
	}
}

static int
step_has_property(void *future, enum future_property property)
{
	(void)future;
	return property == FUTURE_PROPERTY_ASYNC;
}

static void *
step_held_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	struct timespec ts = { 0, 200000 };

	(void)flags;
	while (!atomic_load(&step_release))
		nanosleep(&ts, NULL);
	return memcpy(dst, src, n);
}

/* p50 of the step times of one run, us. */
static double
step_us(struct runtime *r, struct vdm *fast, struct vdm *held, char *dst,
	char *src, uint64_t *at, double *lat)
{
	struct step_future chain;
	struct vdm_operation_future others[STEP_OTHERS];
	struct future *ptrs[STEP_OTHERS + 1];

	atomic_store(&step_release, 0);
	for (size_t i = 0; i < STEP_OTHERS; i++) {
		others[i] = vdm_memcpy(held, dst + SMALL * (i + 1), src,
			SMALL, 0);
		ptrs[i] = FUTURE_AS_RUNNABLE(&others[i]);
	}
	chain.data.vdm = fast;
	chain.data.dst = dst;
	chain.data.src = src;
	chain.data.step = 0;
	chain.data.at = at;
	chain.data.cur = vdm_memcpy(fast, dst, src, SMALL, 0);
	FUTURE_INIT_EXT(&chain, step_task, step_has_property);
	ptrs[STEP_OTHERS] = FUTURE_AS_RUNNABLE(&chain);
	runtime_wait_multiple(r, ptrs, STEP_OTHERS + 1);
	for (size_t i = 0; i < STEP_OTHERS; i++)
		check_result(&others[i], "step: held copy");
	if (chain.data.step != STEP_COUNT ||
			FUTURE_OUTPUT(&chain)->result != VDM_SUCCESS) {
		fprintf(stderr, "bench: step: a copy failed\n");
		exit(1);
	}
	for (size_t i = 1; i < STEP_COUNT; i++)
		lat[i - 1] = (double)(at[i] - at[i - 1]) / 1000.0;
	return percentile(lat, STEP_COUNT - 1, 0.50);
}

/* Figure: one step of one future among 16 waiting, p50. */
static void
bench_step(struct runtime *r)
{
	static const struct figure f = {
		"runtime: step among 16 p50", "us", 0, 1, 10, "<=10 us",
	};
	struct data_mover_threads *fast = data_mover_threads_new(DMT_THREADS,
		DMT_RING, FUTURE_NOTIFIER_WAKER);
	struct data_mover_threads *held = data_mover_threads_new(1,
		DMT_RING, FUTURE_NOTIFIER_WAKER);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL * (STEP_OTHERS + 1));
	uint64_t *at = xalloc(STEP_COUNT * sizeof(*at));
	double *lat = xalloc(LAT_SAMPLES * sizeof(*lat)); /* lat_plain_us */
	double val[MAX_REPS], ref[MAX_REPS], d99;

	if (fast == NULL || held == NULL)
		die("data_mover_threads_new");
	data_mover_threads_set_memcpy_fn(held, step_held_memcpy);
	fill(src, SMALL, 15);
	step_us(r, data_mover_threads_get_vdm(fast),
		data_mover_threads_get_vdm(held), dst, src, at, lat);
	check_copied(dst, src, SMALL, "step");
	for (unsigned i = 0; i < reps; i++) {
		val[i] = step_us(r, data_mover_threads_get_vdm(fast),
			data_mover_threads_get_vdm(held), dst, src, at, lat);
		lat_plain_us(dst, src, lat, &ref[i], &d99);
	}
	report(&f, val, ref);
	data_mover_threads_delete(fast);
	data_mover_threads_delete(held);
	free(src);
	free(dst);
	free(at);
	free(lat);
}

#endif /* BENCH_THREADS_MOVER */

/* The groups a run may ask for; bit i stands for groups[i]. */
static const char *const groups[] = {
	"sync", "wait", "tput", "idle", "lat", "big", "spin", "polls",
	"futex", "chain", "incr", "pending", "step", "wake", "durable",
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))
#define THREADS_GROUPS 0x3bfcU /* all but sync, wait, incr, durable */

static void
usage(void)
{
	fprintf(stderr, "usage: bench [-r REPS] [-v] "
		"[sync|wait|threads|tput|idle|lat|big|spin|polls|futex|chain|"
		"incr|pending|step|wake|durable]...\n"
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
	unsigned mask = 0;

	for (int i = 0; i < argc; i++) {
		unsigned g;

		if (strcmp(argv[i], "threads") == 0) {
			mask |= THREADS_GROUPS;
			continue;
		}
		if (strcmp(argv[i], "all") == 0) {
			mask |= (1U << NGROUPS) - 1;
			continue;
		}
		for (g = 0; g < NGROUPS; g++)
			if (strcmp(argv[i], groups[g]) == 0)
				break;
		if (g == NGROUPS)
			usage();
		mask |= 1U << g;
	}
	return mask != 0 ? mask : (1U << NGROUPS) - 1;
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
	if (mask & 1U << 0)
		bench_sync(sync_vdm);
	if (mask & 1U << 1)
		bench_wait(r, sync_vdm);
	if (mask & 1U << 10)
		bench_incr(r);
#ifdef BENCH_THREADS_MOVER
	if (mask & 1U << 2)
		bench_tput(r);
	if (mask & 1U << 3)
		bench_idle(r);
	if (mask & 1U << 4)
		bench_lat(r);
	if (mask & 1U << 5)
		bench_big(r);
	if (mask & 1U << 6)
		bench_spin(r);
	if (mask & 1U << 7)
		bench_polls(r);
	if (mask & 1U << 8)
		bench_futex(r);
	if (mask & 1U << 9)
		bench_chain(r);
	if (mask & 1U << 11)
		bench_pending(r);
	if (mask & 1U << 12)
		bench_step(r);
	if (mask & 1U << 13)
		bench_wake(r);
#else
	if (mask & THREADS_GROUPS)
		printf("%-26s (not built: the library has no threads mover "
			"yet; see bench/local.mk)\n", "threads: *");
#endif
	if (mask & 1U << 14)
		bench_durable(sync_vdm, reps, verbose, &npass, &nmiss);

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
