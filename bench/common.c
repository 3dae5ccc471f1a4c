/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * common.c -- the helpers the files of make bench share (common.h says
 * what each promises): clocks, allocation, medians, the figure table's
 * rows and the tallies behind its last line, data patterns and checks,
 * and the pieces more than one group uses.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

copy_fn volatile plain_memcpy = memcpy;

unsigned reps = DEFAULT_REPS;
int verbose;
unsigned npass;
unsigned nmiss;
unsigned nna;

/* Clock id's time in ns; 0 where the clock cannot be read. */
static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

_Noreturn void
die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

void *
xalloc(size_t n)
{
	void *p = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);

	if (p == NULL)
		die("aligned_alloc");
	return p;
}

int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (the mean of the middle two when n is even). */
double
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
double
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
double
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
void
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

void
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
void
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

void
report(const struct figure *f, const double *val, const double *ref)
{
	report_chk(f, val, ref, NULL);
}

/* A figure this build cannot measure: "n/a", and why. */
void
report_na(const struct figure *f, const char *why)
{
	nna++;
	printf("%-26s %8s %-6s %8s %6s %-11s %s\n", f->name, "n/a", f->unit,
		"-", "-", f->target != NULL ? f->target : "-", "n/a");
	printf("  (%s)\n", why);
	fflush(stdout);
}

void
check_copied(const char *dst, const char *src, size_t n, const char *what)
{
	if (memcmp(dst, src, n) != 0) {
		fprintf(stderr, "bench: %s: destination differs from source\n",
			what);
		exit(1);
	}
}

void
fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 31 + seed);
}

uint64_t
thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* Sorts v in place; returns the element of rank ceil(p * n) (p in 0..1). */
double
percentile(double *v, size_t n, double p)
{
	double x = p * (double)n;
	size_t rank = (size_t)x;

	if ((double)rank < x)
		rank++;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[rank > 0 ? rank - 1 : 0];
}

struct data_mover_threads *
threads_mover(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(DMT_THREADS,
		DMT_RING, FUTURE_NOTIFIER_WAKER);

	if (dmt == NULL)
		die("data_mover_threads_new");
	return dmt;
}

void
check_result(struct vdm_operation_future *fut, const char *what)
{
	if (FUTURE_STATE(fut) != FUTURE_STATE_COMPLETE ||
			FUTURE_OUTPUT(fut)->result != VDM_SUCCESS) {
		fprintf(stderr, "bench: %s: operation failed\n", what);
		exit(1);
	}
}

/*
 * Millions of copies of size bytes per second through vdm, in batches of
 * INFLIGHT futures each waited for with runtime_wait_multiple (creation
 * included in the time); the i-th of a batch copies src + i * size to
 * dst + i * size. *cpu gets the CPU seconds this (the waiting) thread
 * used per wall-clock second.
 */
double
inflight_mops(struct runtime *r, struct vdm *vdm, char *dst, char *src,
	size_t size, unsigned batches, double *cpu)
{
	struct vdm_operation_future futs[INFLIGHT];
	struct future *ptrs[INFLIGHT];
	uint64_t cpu0 = thread_cpu_ns();
	uint64_t t0 = now_ns();

	for (unsigned b = 0; b < batches; b++) {
		for (size_t i = 0; i < INFLIGHT; i++) {
			futs[i] = vdm_memcpy(vdm, dst + i * size,
				src + i * size, size, 0);
			ptrs[i] = FUTURE_AS_RUNNABLE(&futs[i]);
		}
		runtime_wait_multiple(r, ptrs, INFLIGHT);
	}
	uint64_t t = now_ns() - t0;

	*cpu = (double)(thread_cpu_ns() - cpu0) / (double)t;
	for (size_t i = 0; i < INFLIGHT; i++)
		check_result(&futs[i], "copies in flight");
	return (double)batches * INFLIGHT * 1000.0 / (double)t;
}

/*
 * LAT_SAMPLES plain 64-byte copies, each timed as lat_mover_us() (lat.c)
 * times an operation: the reference of lat and step.
 */
void
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

/* Sleeps ns, then copies: an operation that takes that long. */
void *
sleep_then_copy(long ns, void *dst, const void *src, size_t n)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return memcpy(dst, src, n);
}

uint64_t
other_thread_cpu_ns(pthread_t t)
{
	clockid_t id;
	uint64_t ns;

	if (pthread_getcpuclockid(t, &id) != 0 || (ns = clock_ns(id)) == 0)
		die("thread CPU clock");
	return ns;
}

