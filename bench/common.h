/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * common.h -- what the files of make bench share: the run's settings and
 * tallies, the figure table's rows (struct figure, report*), clocks,
 * allocation, medians and percentiles, and the helpers several groups
 * use; then each group's entry point, one file a group (see main.c).
 */

#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H 1

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libminiasync.h>

#define DEFAULT_REPS 7
#define MAX_REPS 1000

#define SMALL 64 /* the small copies' size */

/* The threads movers of the figures: 2 workers, rings of 128. */
#define DMT_THREADS 2
#define DMT_RING 128

#define INFLIGHT 64 /* futures at a time of inflight_mops() */
#define LAT_SAMPLES 10000 /* samples of lat_plain_us() */

#define NS_PER_S 1000000000.0

/* Keeps the compiler from moving memory accesses across this point. */
#define CLOBBER() __asm__ volatile("" : : : "memory")

typedef void *(*copy_fn)(void *dst, const void *src, size_t n);

/* The C library's memcpy, called for real on every use. */
extern copy_fn volatile plain_memcpy;

/* The run's settings (main.c) and its tallies (report*()). */
extern unsigned reps; /* repetitions of each figure */
extern int verbose; /* -v: every repetition to stderr */
extern unsigned npass; /* targets met */
extern unsigned nmiss; /* targets missed */
extern unsigned nna; /* figures this build cannot measure */

/* What a figure is compared with, and how. */
struct figure {
	const char *name;
	const char *unit;
	int target_is_ratio; /* else the target bounds the value */
	int at_most; /* the bound is a maximum, else a minimum */
	double bound;
	const char *target; /* the bound, as printed; NULL: no target */
};

/* Clocks: CLOCK_MONOTONIC; this thread's CPU; another thread's CPU. */
uint64_t now_ns(void);
uint64_t thread_cpu_ns(void);
uint64_t other_thread_cpu_ns(pthread_t t);

/* Prints "bench: what: strerror(errno)" and exits 1. */
_Noreturn void die(const char *what);
/* n bytes (rounded up to pages), page-aligned; never NULL. */
void *xalloc(size_t n);

/* qsort() order of doubles; the median of v; the p-th percentile. */
int cmp_double(const void *a, const void *b);
double median(const double *v, size_t n);
double percentile(double *v, size_t n, double p);

/* What else ran on the machine during the run (main.c prints it). */
double machine_busy_ticks(void);
double self_cpu_s(void);
void print_other_load(double busy0, double self0, uint64_t t0);

/* The table: its header, a row, a row with n/a. */
void print_header(void);
void report_chk(const struct figure *f, const double *val,
	const double *ref, const double *chk);
void report(const struct figure *f, const double *val, const double *ref);
void report_na(const struct figure *f, const char *why);

/* Data: filled with a pattern, checked as copied (exits if not). */
void fill(char *p, size_t n, unsigned seed);
void check_copied(const char *dst, const char *src, size_t n,
	const char *what);

/* A 2-worker WAKER threads mover; an operation's success (or exit). */
struct data_mover_threads *threads_mover(void);
void check_result(struct vdm_operation_future *fut, const char *what);

/* Copies INFLIGHT at a time through vdm: Mops/s, the waiter's cpu-s/s. */
double inflight_mops(struct runtime *r, struct vdm *vdm, char *dst,
	char *src, size_t size, unsigned batches, double *cpu);

/* Sleeps ns, then copies: an operation that takes that long. */
void *sleep_then_copy(long ns, void *dst, const void *src, size_t n);

/* LAT_SAMPLES plain 64-byte copies, each timed: p50 and p99 in us. */
void lat_plain_us(char *dst, char *src, double *lat, double *p50,
	double *p99);

/*
 * The groups, one file each (main.c's table names them): r is the run's
 * runtime, sync_vdm a synchronous mover.
 */
void bench_sync(struct runtime *r, struct vdm *sync_vdm);
void bench_wait(struct runtime *r, struct vdm *sync_vdm);
void bench_incr(struct runtime *r, struct vdm *sync_vdm);
void bench_tput(struct runtime *r, struct vdm *sync_vdm);
void bench_idle(struct runtime *r, struct vdm *sync_vdm);
void bench_lat(struct runtime *r, struct vdm *sync_vdm);
void bench_wake(struct runtime *r, struct vdm *sync_vdm);
void bench_big(struct runtime *r, struct vdm *sync_vdm);
void bench_spin(struct runtime *r, struct vdm *sync_vdm);
void bench_polls(struct runtime *r, struct vdm *sync_vdm);
void bench_futex(struct runtime *r, struct vdm *sync_vdm);
void bench_chain(struct runtime *r, struct vdm *sync_vdm);
void bench_pending(struct runtime *r, struct vdm *sync_vdm);
void bench_step(struct runtime *r, struct vdm *sync_vdm);
void bench_durable(struct runtime *r, struct vdm *sync_vdm);

#endif /* BENCH_COMMON_H */
