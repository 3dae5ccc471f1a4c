/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * test_util.c -- helpers the suites share (see test_util.h).
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_DCPOP
#define HWCAP_DCPOP (1UL << 16)
#endif
#endif

#include <check.h>

#include "test_util.h"

unsigned
test_stress_iterations(unsigned dflt)
{
	const char *s = getenv("MINIASYNC_STRESS_ITERATIONS");

	return s != NULL ? (unsigned)strtoul(s, NULL, 10) : dflt;
}

/* 0 where there are no thread ids (not Linux): nothing can be seen then. */
pid_t
test_gettid(void)
{
#ifdef SYS_gettid
	return (pid_t)syscall(SYS_gettid);
#else
	return 0;
#endif
}

char
test_thread_state(pid_t tid)
{
	char path[64];
	char buf[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return '?';
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[len] = '\0';

	/* "tid (name) S ...": the name may hold spaces and parentheses */
	char *close_paren = strrchr(buf, ')');

	return close_paren != NULL && close_paren[1] == ' ' ?
		close_paren[2] : '?';
}

int
test_wait_until_sleeping(pid_t tid)
{
	time_t end = time(NULL) + 10;

	if (tid == 0 || test_thread_state(tid) == '?') {
		printf("not proving that thread %d sleeps: "
			"/proc/self/task/%d/stat is not readable here\n",
			(int)tid, (int)tid);
		return 1;
	}

	while (time(NULL) < end) {
		if (test_thread_state(tid) == 'S')
			return 1;
		sched_yield();
	}
	return 0;
}

int
test_wait_others_sleeping(void)
{
	pid_t self = test_gettid();
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int ok = 1;

	if (d == NULL || self == 0) {
		printf("not proving that the other threads sleep: "
			"/proc/self/task is not readable here\n");
		if (d != NULL)
			closedir(d);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid > 0 && tid != self && !test_wait_until_sleeping(tid))
			ok = 0;
	}
	closedir(d);
	return ok;
}

int
test_durable_expected(void)
{
#if defined(__x86_64__) || defined(__powerpc__) || defined(__powerpc64__)
	return 1;
#elif defined(__linux__) && defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_DCPOP) != 0;
#else
	return 0;
#endif
}

int
test_emulated(const char *what)
{
	const char *exec = getenv("MA_TEST_EXEC");

	if (exec == NULL || *exec == '\0')
		return 0;
	printf("%s left out: run under an emulator (%s)\n", what, exec);
	return 1;
}

int
test_thread_checker(const char *what)
{
	const char *preload = getenv("LD_PRELOAD");

	if (preload == NULL || (strstr(preload, "helgrind") == NULL &&
			strstr(preload, "drd") == NULL))
		return 0;
	printf("%s left out: run under helgrind or DRD\n", what);
	return 1;
}

const enum future_notifier_type test_notifiers[TEST_NNOTIFIERS] = {
	FUTURE_NOTIFIER_NONE, FUTURE_NOTIFIER_WAKER, FUTURE_NOTIFIER_POLLER,
};

unsigned char
test_pattern(size_t i, unsigned seed)
{
	return (unsigned char)(i * 31 + (i >> 8) * 7 + (i >> 16) * 13 +
		seed * 29 + 1);
}

void
test_fill(void *p, size_t n, unsigned seed)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = test_pattern(i, seed);
}

size_t
test_first_diff(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return i;
	return n;
}

void
test_count_wake(void *data)
{
	atomic_fetch_add((_Atomic unsigned *)data, 1);
}

struct future_notifier
test_notifier(future_waker_wake_fn wake, void *data)
{
	struct future_notifier n;

	memset(&n, 0, sizeof(n));
	n.waker.data = data;
	n.waker.wake = wake;
	return n;
}

/* The page size, and len rounded up to whole pages. */
static size_t
guarded_len(size_t len, size_t *page)
{
	long p = sysconf(_SC_PAGESIZE);

	ck_assert_int_gt(p, 0);
	*page = (size_t)p;
	return (len + *page - 1) / *page * *page;
}

unsigned char *
test_map_guarded(size_t len)
{
	size_t page, n = guarded_len(len, &page);
	unsigned char *m = mmap(NULL, n + 2 * page, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(mprotect(m + page, n, PROT_READ | PROT_WRITE), 0);
	return m + page;
}

void
test_unmap_guarded(unsigned char *p, size_t len)
{
	size_t page, n = guarded_len(len, &page);

	ck_assert_int_eq(munmap(p - page, n + 2 * page), 0);
}

void
test_wait(struct runtime *r, struct vdm_operation_future *f)
{
	if (r != NULL)
		runtime_wait(r, FUTURE_AS_RUNNABLE(f));
	else
		FUTURE_BUSY_POLL(f);
	ck_assert_int_eq(FUTURE_STATE(f), FUTURE_STATE_COMPLETE);
}

void
test_wait_success(struct runtime *r, struct vdm_operation_future *f)
{
	test_wait(r, f);
	ck_assert_int_eq(FUTURE_OUTPUT(f)->result, VDM_SUCCESS);
}

struct vdm *
test_mover_new(struct test_mover *m, enum test_mover_kind kind,
	enum future_notifier_type notifier)
{
	memset(m, 0, sizeof(*m));
	if (kind == TEST_MOVER_SYNC) {
		m->name = "sync";
		m->dms = data_mover_sync_new();
		ck_assert_ptr_nonnull(m->dms);
		m->vdm = data_mover_sync_get_vdm(m->dms);
	} else {
		m->name = "threads";
		m->dmt = data_mover_threads_new(2, 16, notifier);
		ck_assert_ptr_nonnull(m->dmt);
		m->vdm = data_mover_threads_get_vdm(m->dmt);
	}
	ck_assert_ptr_nonnull(m->vdm);
	return m->vdm;
}

void
test_mover_delete(struct test_mover *m)
{
	data_mover_sync_delete(m->dms);
	data_mover_threads_delete(m->dmt);
	memset(m, 0, sizeof(*m));
}

static enum future_state
countdown_task(struct future_context *ctx, struct future_notifier *n)
{
	struct test_countdown_data *data = future_context_get_data(ctx);
	struct test_countdown_output *out = future_context_get_output(ctx);
	struct test_poll_log *log = data->log;

	(void)n;
	if (out->polls++ == 0 && data->order != NULL)
		data->ticket = atomic_fetch_add(data->order, 1);
	if (log != NULL && log->len < sizeof(log->buf) - 1) {
		log->buf[log->len++] = data->tag;
		log->buf[log->len] = '\0';
	}
	return --data->left == 0 ? FUTURE_STATE_COMPLETE :
		FUTURE_STATE_RUNNING;
}

static int
countdown_property(void *future, enum future_property property)
{
	struct test_countdown_fut *fut = future;

	return property == FUTURE_PROPERTY_ASYNC && fut->data.async;
}

struct test_countdown_fut
test_countdown_new(unsigned polls, int async)
{
	struct test_countdown_fut fut;

	memset(&fut.data, 0, sizeof(fut.data));
	fut.data.left = polls;
	fut.data.async = async;
	fut.output.polls = 0;
	FUTURE_INIT_EXT(&fut, countdown_task, countdown_property);
	return fut;
}

/*
 * gate_size is written by test_gate_close only, before the copies it
 * holds are submitted (the submission orders it before their reads), so
 * that copies of other sizes pass without the lock: no ordering that
 * the library does not make is added for helgrind to see.
 */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_is_open = 1; /* under gate_lock */
static unsigned gate_held; /* under gate_lock */
static size_t gate_size;

static void
gate_set(int open)
{
	pthread_mutex_lock(&gate_lock);
	gate_is_open = open;
	gate_held = 0;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

void
test_gate_close(size_t size)
{
	if (gate_size != size) /* no write where nothing changes */
		gate_size = size;
	gate_set(0);
}

void
test_gate_open(void)
{
	gate_set(1);
}

void
test_gate_wait_held(unsigned n)
{
	pthread_mutex_lock(&gate_lock);
	while (gate_held < n)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

void *
test_gated_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	if (gate_size != 0 && n != gate_size)
		return memcpy(dst, src, n);
	pthread_mutex_lock(&gate_lock);
	gate_held++;
	pthread_cond_broadcast(&gate_cond);
	while (!gate_is_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return memcpy(dst, src, n);
}
