/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * bench.c -- measures the figures that doc/design.md, "Performance"
 * sets, and prints each beside plain memcpy timed in the same process,
 * with its target and PASS or MISS:
 * - sync: a 64-byte memcpy future on the synchronous mover, created and
 *   busy-polled to completion, against a plain 64-byte memcpy in the same
 *   loop over the same buffers (ratio);
 * - wait: runtime_wait_multiple over 4096 such futures created beforehand
 *   (only the wait is timed), ns per future;
 * - tput: 4 KiB copies on the threads mover (2 workers), 64 futures at a
 *   time created and waited for with runtime_wait_multiple, ops/s;
 * - idle: CPU used by the thread waiting in runtime_wait for a copy that
 *   takes 50 ms (a memcpy_fn that sleeps first);
 * - lat: one 64-byte copy created and waited for with runtime_wait, back
 *   to back, p50 and p99;
 * - big: a 256 MiB copy through the threads mover against the best plain
 *   memcpy (two threads copying half each, or one if that is faster).
 *
 * Usage: bench [-r REPS] [-v] [GROUP...]
 *   GROUP: sync, wait, threads (= tput idle lat big), tput, idle, lat, big;
 *   none means all. REPS (default 7, or $BENCH_REPS) is how many times
 *   each figure is measured; the table shows the median. -v prints every
 *   repetition to stderr.
 *
 * Time is CLOCK_MONOTONIC; CPU time is CLOCK_THREAD_CPUTIME_ID. Plain
 * memcpy is called through a volatile function pointer and followed by a
 * compiler memory barrier, so that it is neither inlined, hoisted nor
 * dropped: like the movers, it runs the C library's memcpy. The threads
 * mover figures are built only with -DBENCH_THREADS_MOVER.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libminiasync.h>

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
#define BIG_SIZE ((size_t)256 << 20)

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

/* What a figure is compared with, and how. */
struct figure {
	const char *name;
	const char *unit;
	int target_is_ratio; /* else the target bounds the value */
	int at_most; /* the bound is a maximum, else a minimum */
	double bound;
	const char *target; /* the bound, as printed */
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
}

/* Fixed width, with as many decimals as a value of that size deserves. */
static void
print_num(double v)
{
	if (isnan(v))
		printf(" %8s", "-");
	else
		printf(" %8.*f", v < 1 ? 3 : v < 1000 ? 2 : 0, v);
}

/*
 * Prints one row: the medians of val[] and ref[] (ref may be NULL: no
 * memcpy counterpart) and the median of the per-repetition ratios
 * val[i] / ref[i], each pair having been measured back to back.
 */
static void
report(const struct figure *f, const double *val, const double *ref)
{
	double ratios[MAX_REPS];
	double v = median(val, reps);
	double r = NAN;
	double q = NAN;
	int pass;

	if (ref != NULL) {
		for (unsigned i = 0; i < reps; i++)
			ratios[i] = val[i] / ref[i];
		r = median(ref, reps);
		q = median(ratios, reps);
	}
	double x = f->target_is_ratio ? q : v;

	pass = f->at_most ? x <= f->bound : x >= f->bound;
	if (pass)
		npass++;
	else
		nmiss++;

	printf("%-26s", f->name);
	print_num(v);
	printf(" %-6s", f->unit);
	print_num(r);
	if (isnan(q))
		printf(" %6s", "-");
	else
		printf(" %6.*f", q < 100 ? 2 : 0, q);
	printf(" %-11s %s\n", f->target, pass ? "PASS" : "MISS");
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
		"sync: 64 B memcpy future", "ns/op", 1, 1, 1.5, "ratio<=1.5",
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
		"wait_multiple 4096 ready", "ns/fut", 0, 1, 15, "<=15 ns",
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
 * runtime_wait_multiple (creation included in the time).
 */
static double
tput_mover_mops(struct runtime *r, struct vdm *vdm, char *dst, char *src)
{
	struct vdm_operation_future futs[TPUT_INFLIGHT];
	struct future *ptrs[TPUT_INFLIGHT];
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

/* Figure: 4 KiB copies, 64 in flight, on 2 workers. */
static void
bench_tput(struct runtime *r)
{
	static const struct figure f = {
		"threads: 4 KiB x64 flight", "Mops/s", 0, 0, 3, ">=3 Mops/s",
	};
	struct data_mover_threads *dmt = threads_mover();
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	size_t n = (size_t)TPUT_INFLIGHT * TPUT_SIZE;
	char *src = xalloc(n);
	char *dst = xalloc(n);
	double val[MAX_REPS], ref[MAX_REPS];

	fill(src, n, 3);
	memset(dst, 0, n);
	tput_mover_mops(r, vdm, dst, src);
	check_copied(dst, src, n, "threads mover throughput");
	tput_plain_mops(dst, src);

	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
			ref[i] = tput_plain_mops(dst, src);
			val[i] = tput_mover_mops(r, vdm, dst, src);
		} else {
			val[i] = tput_mover_mops(r, vdm, dst, src);
			ref[i] = tput_plain_mops(dst, src);
		}
	}
	report(&f, val, ref);
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
		"threads: waiter CPU, 50 ms", "%", 0, 1, 0.5, "<=0.5 %",
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
		"threads: 64 B latency p50", "us", 0, 1, 2, "<=2 us",
	};
	static const struct figure f99 = {
		"threads: 64 B latency p99", "us", 0, 1, 40, "<=40 us",
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
		"threads: 256 MiB copy", "GB/s", 1, 0, 0.95, "ratio>=0.95",
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

#endif /* BENCH_THREADS_MOVER */

/* The groups a run may ask for; bit i stands for groups[i]. */
static const char *const groups[] = {
	"sync", "wait", "tput", "idle", "lat", "big",
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))
#define THREADS_GROUPS 0x3cU

static void
usage(void)
{
	fprintf(stderr, "usage: bench [-r REPS] [-v] "
		"[sync|wait|threads|tput|idle|lat|big]...\n"
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
#ifdef BENCH_THREADS_MOVER
	if (mask & 1U << 2)
		bench_tput(r);
	if (mask & 1U << 3)
		bench_idle(r);
	if (mask & 1U << 4)
		bench_lat(r);
	if (mask & 1U << 5)
		bench_big(r);
#else
	if (mask & THREADS_GROUPS)
		printf("%-26s (not built: the library has no threads mover "
			"yet; see bench/local.mk)\n", "threads: *");
#endif

	printf("\n%u of %u targets met. memcpy: the same work by plain "
		"memcpy in this run;\nratio: median of per-repetition "
		"value/memcpy (256 MiB: best of 1 or 2 threads).\n",
		npass, npass + nmiss);
	print_other_load(busy0, self0, t0);
	data_mover_sync_delete(dms);
	runtime_delete(r);
	return 0;
}
