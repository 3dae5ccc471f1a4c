/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * test_util.h -- helpers the suites share: how long stress tests run,
 * whether a thread is asleep (to prove a waiter sleeps, without sleeps),
 * a byte pattern and the comparison of buffers, notifiers and a counting
 * waker, guard-page mappings, waiting for an operation, the library's
 * movers behind one handle, a countdown future, and a gate that holds
 * the threads mover's copies back. Written once here, for every suite.
 */

#ifndef TEST_UTIL_H
#define TEST_UTIL_H 1

#include <stddef.h>
#include <sys/types.h>

#include <libminiasync.h>

/* $MINIASYNC_STRESS_ITERATIONS, else dflt. */
unsigned test_stress_iterations(unsigned dflt);

/* The thread's own id, for the two below (0 where there is none). */
pid_t test_gettid(void);

/* The state letter of a thread of this process ('S': asleep), or '?'. */
char test_thread_state(pid_t tid);

/*
 * Waits until thread tid is asleep, at most 10 s; 1 if it got there, 0 if
 * not. Where /proc cannot tell (no such file, or tid 0), says so on stdout
 * and returns 1 at once: the proof is skipped, not failed.
 */
int test_wait_until_sleeping(pid_t tid);

/*
 * Waits until every other thread of the process is asleep (each at most
 * 10 s): 1 if they all got there. Before a fork, it proves no thread is
 * half-way through starting, where a sanitizer's runtime holds locks
 * the child would inherit held (ASan's thread registry, say).
 */
int test_wait_others_sleeping(void);

/*
 * Whether the library's movers may promise VDM_F_MEM_DURABLE on this
 * machine: where a write-back instruction reaches persistence (x86-64;
 * aarch64 with dc cvap, HWCAP_DCPOP; POWER), not elsewhere (s390x...).
 */
int test_durable_expected(void);

/*
 * TEST_TSAN_BUILD is defined in a ThreadSanitizer build (it cannot follow
 * a child forked from a process with threads: such cases are left out).
 */
#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN_BUILD 1
#endif
#endif

/*
 * Whether the tests run under an emulator ($MA_TEST_EXEC, e.g. qemu-user,
 * which aborts a child forked from a process with threads); if so, says
 * on stdout that what (a case's name) is left out.
 */
int test_emulated(const char *what);

/*
 * Whether helgrind or DRD runs the tests ($LD_PRELOAD names their
 * preload), which cannot follow a child forked while another thread of
 * the parent holds a lock or has just written what the child's handlers
 * read; if so, says on stdout that what (a case's name) is left out.
 */
int test_thread_checker(const char *what);

/* The three notifiers, NONE first, for cases that loop over them. */
#define TEST_NNOTIFIERS 3
extern const enum future_notifier_type test_notifiers[TEST_NNOTIFIERS];

/*
 * Byte i of the pattern of seed: neighbours always differ (by 31 to 51),
 * seeds less than 256 apart differ at every i, and a block moved by 256
 * bytes, 4 KiB, 64 KiB or 1 MiB does not match where it was.
 */
unsigned char test_pattern(size_t i, unsigned seed);

/* Fills n bytes at p with the pattern of seed. */
void test_fill(void *p, size_t n, unsigned seed);

/* The offset of the first byte at which a and b differ, or n. */
size_t test_first_diff(const void *a, const void *b, size_t n);

/* A waker that counts its calls in the _Atomic unsigned at data. */
void test_count_wake(void *data);

/* A notifier holding no promise yet, with the waker wake(data). */
struct future_notifier test_notifier(future_waker_wake_fn wake, void *data);

/*
 * len bytes (rounded up to whole pages), readable and writable, between
 * two inaccessible pages: a read or write just outside faults. Fails the
 * test if they cannot be had. test_unmap_guarded(p, len) unmaps them.
 */
unsigned char *test_map_guarded(size_t len);
void test_unmap_guarded(unsigned char *p, size_t len);

/*
 * Waits for the operation: with runtime r, or busy polling where r is
 * NULL; fails unless it is then complete. test_wait_success also fails
 * unless its result is VDM_SUCCESS.
 */
void test_wait(struct runtime *r, struct vdm_operation_future *f);
void test_wait_success(struct runtime *r, struct vdm_operation_future *f);

/*
 * One of the library's movers: the synchronous one, or a threads mover
 * (2 workers, a queue of 16, the notifier given). test_mover_new fails
 * the test if it cannot be made, and returns its vdm; name is "sync" or
 * "threads". test_mover_delete frees it.
 */
enum test_mover_kind {
	TEST_MOVER_SYNC,
	TEST_MOVER_THREADS,
	TEST_MOVER_KINDS,
};

struct test_mover {
	const char *name;
	struct vdm *vdm;
	struct data_mover_sync *dms;
	struct data_mover_threads *dmt;
};

struct vdm *test_mover_new(struct test_mover *m, enum test_mover_kind kind,
	enum future_notifier_type notifier);
void test_mover_delete(struct test_mover *m);

/*
 * A future that completes on its polls-th poll and promises nothing (it
 * leaves the notifier alone: a promise made before it, by an entry of
 * the same chain, must not count). Its property function answers
 * FUTURE_PROPERTY_ASYNC with data.async. At its first poll it takes
 * data.ticket from *data.order, when set; at each poll it appends
 * data.tag to *data.log, when set. output.polls counts its polls.
 */
struct test_poll_log {
	char buf[128]; /* the tags, in order, NUL-terminated */
	size_t len;
};

struct test_countdown_data {
	unsigned left;
	int async;
	_Atomic unsigned *order;
	unsigned ticket;
	struct test_poll_log *log;
	char tag;
};

struct test_countdown_output {
	unsigned polls;
};

FUTURE(test_countdown_fut, struct test_countdown_data,
	struct test_countdown_output);

struct test_countdown_fut test_countdown_new(unsigned polls, int async);

/*
 * The gate: test_gated_memcpy, installed with
 * data_mover_threads_set_memcpy_fn, holds copies back while the gate is
 * closed: every copy, or only those of size bytes (test_gate_close's
 * argument, 0 for every one). A mutex and a condition variable, so that
 * helgrind sees the hand-off. Close it before installing the function;
 * test_gate_wait_held(n) returns once n copies have reached the gate
 * since it was last closed or opened.
 */
void test_gate_close(size_t size);
void test_gate_open(void);
void test_gate_wait_held(unsigned n);
void *test_gated_memcpy(void *dst, const void *src, size_t n,
	unsigned flags);

#endif /* TEST_UTIL_H */
