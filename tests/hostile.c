/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * hostile.c -- hostile but legal use of the asynchronous core: an event
 * loop whose waker takes the lock the loop polls under, a waker that
 * polls its own future, a future handed from one loop to another, a
 * mover written by the user, bursts that need every worker, byte ranges
 * that cannot exist, chains that turn asynchronous half-way, more
 * operations than the queue holds, and many threads busy-polling one
 * mover.
 */

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include <libminiasync.h>

#include "test_util.h"

/*
 * The gate of test_util.h (test_gated_memcpy) holds a copy back until
 * the test has set the scene: closed before it is installed, and, once
 * opened, left open.
 */

/* Spins (yielding) until *counter reaches at least value. */
static void
wait_for_count(_Atomic unsigned *counter, unsigned value)
{
	while (atomic_load(counter) < value)
		sched_yield();
}

/*
 * 1a. An event loop built on a mutex and a condition variable: it polls
 * its futures while holding the mutex, and its waker takes that mutex to
 * set the flag the loop sleeps on. A poll must not wait for a waker to
 * return, or the two block each other for ever.
 */
struct cv_loop {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	int woken; /* guarded by mutex */
	_Atomic unsigned wakes_entered; /* calls of the waker begun */
};

static void
cv_loop_wake(void *data)
{
	struct cv_loop *loop = data;

	atomic_fetch_add(&loop->wakes_entered, 1);
	pthread_mutex_lock(&loop->mutex);
	loop->woken = 1;
	pthread_cond_signal(&loop->cond);
	pthread_mutex_unlock(&loop->mutex);
}

/* Runs the loop until fut is complete. */
static void
cv_loop_run(struct cv_loop *loop, struct future *fut)
{
	struct future_notifier n;

	n = test_notifier(cv_loop_wake, loop);
	pthread_mutex_lock(&loop->mutex);
	for (;;) {
		n.notifier_used = FUTURE_NOTIFIER_NONE;
		if (future_poll(fut, &n) == FUTURE_STATE_COMPLETE)
			break;
		if (n.notifier_used == FUTURE_NOTIFIER_WAKER) {
			while (!loop->woken)
				pthread_cond_wait(&loop->cond, &loop->mutex);
			loop->woken = 0;
		} else {
			pthread_mutex_unlock(&loop->mutex);
			sched_yield();
			pthread_mutex_lock(&loop->mutex);
		}
	}
	/* no waker comes after completion: a stale flag can go */
	loop->woken = 0;
	pthread_mutex_unlock(&loop->mutex);
}

/*
 * The worker that runs a copy blocks in the loop's waker, on the mutex the
 * loop holds; a poll then (from the loop) must return RUNNING at once and
 * promise nothing, since the loop cannot sleep on its flag.
 */
static _Atomic pid_t copier_tid;

static void *
tid_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	atomic_store(&copier_tid, test_gettid());
	return memcpy(dst, src, n);
}

START_TEST(test_condvar_loop)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 16,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct cv_loop loop;
	struct future_notifier n;
	uint64_t a = 0xabcdef, b = 0;

	ck_assert_ptr_nonnull(dmt);
	pthread_mutex_init(&loop.mutex, NULL);
	pthread_cond_init(&loop.cond, NULL);
	loop.woken = 0;
	atomic_init(&loop.wakes_entered, 0);
	atomic_store(&copier_tid, 0);
	data_mover_threads_set_memcpy_fn(dmt, tid_memcpy);
	n = test_notifier(cv_loop_wake, &loop);

	struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a, sizeof(a), 0);

	/* the copy cannot complete: its waker needs the mutex */
	pthread_mutex_lock(&loop.mutex);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
		FUTURE_STATE_RUNNING);

	/* the copier is done and in the waker, (soon) blocked on the mutex */
	wait_for_count(&loop.wakes_entered, 1);
	test_wait_until_sleeping(atomic_load(&copier_tid));
	n.notifier_used = FUTURE_NOTIFIER_WAKER;
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
		FUTURE_STATE_RUNNING);
	ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_NONE);
	pthread_mutex_unlock(&loop.mutex);

	cv_loop_run(&loop, FUTURE_AS_RUNNABLE(&f));
	ck_assert_int_eq(f.output.result, VDM_SUCCESS);
	ck_assert_uint_eq(b, a);
	data_mover_threads_delete(dmt);
	pthread_cond_destroy(&loop.cond);
	pthread_mutex_destroy(&loop.mutex);
}
END_TEST

/* Many copies through the loop: the waker's lock meets the poll by luck. */
START_TEST(test_condvar_loop_stress)
{
	enum { LEN = 256 };
	struct data_mover_threads *dmt = data_mover_threads_new(2, 16,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct cv_loop loop;
	unsigned char src[LEN], dst[LEN + 1];
	unsigned n = test_stress_iterations(20000) / 10;

	ck_assert_ptr_nonnull(dmt);
	pthread_mutex_init(&loop.mutex, NULL);
	pthread_cond_init(&loop.cond, NULL);
	loop.woken = 0;
	atomic_init(&loop.wakes_entered, 0);
	for (unsigned i = 0; i < n; i++) {
		size_t len = 1 + (i * 37) % LEN;

		test_fill(src, LEN, i);
		memset(dst, 0, sizeof(dst));
		struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, len,
			0);

		cv_loop_run(&loop, FUTURE_AS_RUNNABLE(&f));
		ck_assert_int_eq(f.output.result, VDM_SUCCESS);
		ck_assert_msg(test_first_diff(dst, src, len) == len &&
			dst[len] == 0,
			"copy %u of %zu bytes is wrong", i, len);
	}
	data_mover_threads_delete(dmt);
	pthread_cond_destroy(&loop.cond);
	pthread_mutex_destroy(&loop.mutex);
}
END_TEST

/*
 * 1b. A waker that polls its own future (with no notifier) from inside
 * the wake: the poll must return, RUNNING or COMPLETE, and the mover must
 * go on working. Nobody else polls the future meanwhile: the test waits
 * for the semaphore the waker posts after its poll.
 */
struct reentrant {
	struct vdm_operation_future *fut;
	_Atomic unsigned calls;
	_Atomic int state; /* what the waker's poll returned */
	sem_t polled;
};

static void
reentrant_wake(void *data)
{
	struct reentrant *re = data;

	atomic_fetch_add(&re->calls, 1);
	atomic_store(&re->state,
		(int)future_poll(FUTURE_AS_RUNNABLE(re->fut), NULL));
	sem_post(&re->polled);
}

START_TEST(test_reentrant_waker)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct runtime *r = runtime_new();
	struct reentrant re;

	ck_assert_ptr_nonnull(dmt);
	ck_assert_int_eq(sem_init(&re.polled, 0, 0), 0);
	for (unsigned i = 0; i < 20; i++) {
		uint64_t a = 0x1234 + i, b = 0;
		struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a,
			sizeof(a), 0);
		struct future_notifier n;

		re.fut = &f;
		atomic_store(&re.calls, 0);
		atomic_store(&re.state, -1);
		n = test_notifier(reentrant_wake, &re);

		/* the copy waits until this poll is over */
		test_gate_close(0);
		data_mover_threads_set_memcpy_fn(dmt, test_gated_memcpy);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
			FUTURE_STATE_RUNNING);
		ck_assert_int_eq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
		test_gate_open();

		while (sem_wait(&re.polled) != 0)
			;
		int state = atomic_load(&re.state);

		ck_assert_msg(state == FUTURE_STATE_RUNNING ||
			state == FUTURE_STATE_COMPLETE,
			"the waker's own poll returned %d", state);
		while (future_poll(FUTURE_AS_RUNNABLE(&f), NULL) !=
				FUTURE_STATE_COMPLETE)
			sched_yield();
		ck_assert_int_eq(f.output.result, VDM_SUCCESS);
		ck_assert_uint_eq(b, a);
		ck_assert_uint_eq(atomic_load(&re.calls), 1);
	}

	/* the worker is free: more work gets done */
	data_mover_threads_set_memcpy_fn(dmt, NULL);
	for (unsigned i = 0; i < 10; i++) {
		uint64_t a = 0x5678 + i, b = 0;
		struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a,
			sizeof(a), 0);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
		ck_assert_int_eq(f.output.result, VDM_SUCCESS);
		ck_assert_uint_eq(b, a);
	}
	runtime_delete(r);
	data_mover_threads_delete(dmt);
	sem_destroy(&re.polled);
}
END_TEST

/*
 * 2. A future started by one loop and finished by another whose waker has
 * the same data (NULL) but another wake function. The second loop sleeps
 * whenever it is promised a wake: the promise must be for its own waker,
 * which must then be called.
 */
static _Atomic unsigned loop1_wakes;
static _Atomic unsigned loop2_polls;
static sem_t loop2_sem;

static void
loop1_wake(void *data)
{
	(void)data;
	atomic_fetch_add(&loop1_wakes, 1);
}

static void
loop2_wake(void *data)
{
	(void)data;
	sem_post(&loop2_sem);
}

/* Releases the held copy once loop 2 has polled. */
static void *
release_after_loop2_polled(void *arg)
{
	(void)arg;
	wait_for_count(&loop2_polls, 1);
	test_gate_open();
	return NULL;
}

START_TEST(test_handover_same_data)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	uint64_t a = 0xfeedface, b = 0;
	struct future_notifier n1, n2;
	pthread_t releaser;

	ck_assert_ptr_nonnull(dmt);
	ck_assert_int_eq(sem_init(&loop2_sem, 0, 0), 0);
	atomic_store(&loop1_wakes, 0);
	atomic_store(&loop2_polls, 0);
	test_gate_close(0);
	data_mover_threads_set_memcpy_fn(dmt, test_gated_memcpy);

	struct vdm_operation_future f = vdm_memcpy(vdm, &b, &a, sizeof(a), 0);

	/* loop 1: one poll, then it forgets the future */
	n1 = test_notifier(loop1_wake, NULL);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n1),
		FUTURE_STATE_RUNNING);

	/* loop 2: sleeps on its semaphore when promised a wake */
	ck_assert_int_eq(pthread_create(&releaser, NULL,
		release_after_loop2_polled, NULL), 0);
	n2 = test_notifier(loop2_wake, NULL);
	for (;;) {
		n2.notifier_used = FUTURE_NOTIFIER_NONE;
		enum future_state s = future_poll(FUTURE_AS_RUNNABLE(&f), &n2);

		atomic_fetch_add(&loop2_polls, 1);
		if (s == FUTURE_STATE_COMPLETE)
			break;
		if (n2.notifier_used == FUTURE_NOTIFIER_WAKER) {
			while (sem_wait(&loop2_sem) != 0)
				;
		} else {
			sched_yield();
		}
	}
	pthread_join(releaser, NULL);
	ck_assert_int_eq(f.output.result, VDM_SUCCESS);
	ck_assert_uint_eq(b, a);
	data_mover_threads_delete(dmt);
	sem_destroy(&loop2_sem);
}
END_TEST

/*
 * 3. A mover written by the user. It finishes each operation on a thread
 * of its own and then calls the waker (or sets the poller word); its
 * op_delete writes the result and nothing else. Whatever the library
 * keeps in the future meanwhile must be gone: the output pointer is what
 * the constructor set (NULL), and the context's padding is 0.
 */
struct tp_mover {
	struct vdm vdm; /* first: the callbacks get the mover from it */
	enum future_notifier_type mode;
};

struct tp_op {
	enum future_notifier_type mode;
	int has_waker;
	struct future_waker waker;
	pthread_mutex_t mutex;
	int done; /* guarded by mutex */
	uint64_t word; /* the poller word, for the runtime only; atomic */
	int started;
	pthread_t thread;
};

static void *
tp_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	struct tp_op *op = calloc(1, sizeof(*op));

	(void)type;
	if (op != NULL) {
		op->mode = ((struct tp_mover *)vdm)->mode;
		pthread_mutex_init(&op->mutex, NULL);
	}
	return op;
}

/* The mover's own thread: completion first, then the waker. */
static void *
tp_op_thread(void *arg)
{
	struct tp_op *op = arg;

	pthread_mutex_lock(&op->mutex);
	op->done = 1;
	pthread_mutex_unlock(&op->mutex);
	/* release: pairs with the acquire of whoever watches the word */
	__atomic_store_n(&op->word, 1, __ATOMIC_RELEASE);
	if (op->has_waker)
		FUTURE_WAKER_WAKE(&op->waker);
	return NULL;
}

static int
tp_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	struct tp_op *op = data;

	(void)operation;
	if (n != NULL) {
		n->notifier_used = op->mode;
		if (op->mode == FUTURE_NOTIFIER_WAKER) {
			op->has_waker = 1;
			op->waker = n->waker;
		} else if (op->mode == FUTURE_NOTIFIER_POLLER) {
			n->poller.ptr_to_monitor = &op->word;
		}
	}
	if (pthread_create(&op->thread, NULL, tp_op_thread, op) != 0) {
		if (n != NULL)
			n->notifier_used = FUTURE_NOTIFIER_NONE;
		return 1;
	}
	op->started = 1;
	return 0;
}

static enum future_state
tp_op_check(void *data, const struct vdm_operation *operation)
{
	struct tp_op *op = data;

	(void)operation;
	pthread_mutex_lock(&op->mutex);
	int done = op->done;

	pthread_mutex_unlock(&op->mutex);
	return done ? FUTURE_STATE_COMPLETE : FUTURE_STATE_RUNNING;
}

/* Writes the result only; waits for the thread (and so its waker). */
static void
tp_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	struct tp_op *op = data;

	(void)operation;
	if (op->started)
		pthread_join(op->thread, NULL);
	output->result = VDM_ERROR_OUT_OF_MEMORY;
	pthread_mutex_destroy(&op->mutex);
	free(op);
}

static _Atomic unsigned tp_wakes;

static struct vdm_operation_future
tp_operation(struct vdm *vdm, enum vdm_operation_type type, char *dst,
	char *src)
{
	switch (type) {
	case VDM_OPERATION_MEMCPY:
		return vdm_memcpy(vdm, dst, src, 16, 0);
	case VDM_OPERATION_MEMMOVE:
		return vdm_memmove(vdm, dst, src, 16, 0);
	case VDM_OPERATION_MEMSET:
		return vdm_memset(vdm, dst, 'x', 16, 0);
	case VDM_OPERATION_FLUSH:
	default:
		return vdm_flush(vdm, dst, 16, 0);
	}
}

static void
tp_check_output(struct vdm_operation_future *f, enum vdm_operation_type type,
	const char *how)
{
	ck_assert_int_eq(FUTURE_STATE(f), FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(f->output.type, type);
	ck_assert_int_eq(f->output.result, VDM_ERROR_OUT_OF_MEMORY);
	ck_assert_msg(f->base.context.padding == 0,
		"%s, type %d: context.padding is %u", how, (int)type,
		(unsigned)f->base.context.padding);
	switch (type) {
	case VDM_OPERATION_MEMCPY:
		ck_assert_msg(f->output.output.memcpy.dest == NULL,
			"%s: memcpy.dest is %p", how,
			f->output.output.memcpy.dest);
		break;
	case VDM_OPERATION_MEMMOVE:
		ck_assert_msg(f->output.output.memmove.dest == NULL,
			"%s: memmove.dest is %p", how,
			f->output.output.memmove.dest);
		break;
	case VDM_OPERATION_MEMSET:
		ck_assert_msg(f->output.output.memset.str == NULL,
			"%s: memset.str is %p", how,
			f->output.output.memset.str);
		break;
	case VDM_OPERATION_FLUSH:
		ck_assert_msg(f->output.output.flush.unused == 0,
			"%s: flush.unused is %#llx", how,
			(unsigned long long)f->output.output.flush.unused);
		break;
	}
}

START_TEST(test_third_party_output)
{
	static const enum future_notifier_type modes[] = {
		FUTURE_NOTIFIER_WAKER, FUTURE_NOTIFIER_POLLER,
	};
	struct tp_mover mover = {
		.vdm = {
			.op_new = tp_op_new,
			.op_delete = tp_op_delete,
			.op_start = tp_op_start,
			.op_check = tp_op_check,
			.capabilities = 0,
			.has_property = NULL,
		},
		.mode = modes[_i],
	};
	struct runtime *r = runtime_new();
	char dst[32], src[32] = "0123456789abcdef";

	ck_assert_ptr_nonnull(r);
	atomic_store(&tp_wakes, 0);
	for (int t = VDM_OPERATION_MEMCPY; t <= VDM_OPERATION_FLUSH; t++) {
		enum vdm_operation_type type = (enum vdm_operation_type)t;
		struct vdm_operation_future f = tp_operation(&mover.vdm, type,
			dst, src);

		ck_assert_int_eq(FUTURE_STATE(&f), FUTURE_STATE_IDLE);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
		tp_check_output(&f, type, "runtime_wait");

		/* by hand, with a notifier whose waker data is not NULL */
		struct future_notifier n;

		n = test_notifier(test_count_wake, (void *)&tp_wakes);
		f = tp_operation(&mover.vdm, type, dst, src);
		while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) !=
				FUTURE_STATE_COMPLETE)
			sched_yield();
		tp_check_output(&f, type, "polled by hand");
	}
	if (mover.mode == FUTURE_NOTIFIER_WAKER)
		ck_assert_uint_eq(atomic_load(&tp_wakes), 4);
	runtime_delete(r);
}
END_TEST

/*
 * 4. A burst of copies right after another copy finished: with two
 * workers, both must take part. The first copy of the burst waits (at
 * most a few seconds) until a second copy is under way; the largest
 * number of copies seen at once must then be two.
 */
#define BURST 8
#define BURST_LEN ((size_t)1 << 20)
#define BURST_WAIT_S 5 /* the first copy gives up waiting after this */

static _Atomic int burst_armed;
static _Atomic int burst_now;
static _Atomic int burst_max;
static _Atomic int burst_met; /* the armed copy saw a second one start */

static void *
burst_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	int now = atomic_fetch_add(&burst_now, 1) + 1;
	int max = atomic_load(&burst_max);

	(void)flags;
	while (now > max &&
			!atomic_compare_exchange_weak(&burst_max, &max, now))
		;
	if (now >= 2)
		atomic_store(&burst_met, 1); /* sticky: a yield may miss it */
	if (atomic_exchange(&burst_armed, 0)) {
		time_t end = time(NULL) + BURST_WAIT_S;

		while (!atomic_load(&burst_met) && time(NULL) < end)
			sched_yield();
	}
	memcpy(dst, src, n);
	atomic_fetch_sub(&burst_now, 1);
	return dst;
}

START_TEST(test_burst_uses_all_workers)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 16,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct runtime *r = runtime_new();
	unsigned char *src = malloc((BURST + 1) * BURST_LEN);
	unsigned char *dst = malloc((BURST + 1) * BURST_LEN);
	struct vdm_operation_future futs[BURST];
	struct future *list[BURST];
	unsigned reps = test_stress_iterations(20000) >= 20000 ? 5 : 2;

	ck_assert_ptr_nonnull(dmt);
	ck_assert(src != NULL && dst != NULL);
	test_fill(src, (BURST + 1) * BURST_LEN, 5);
	atomic_store(&burst_armed, 0);
	atomic_store(&burst_now, 0);
	data_mover_threads_set_memcpy_fn(dmt, burst_memcpy);
	for (unsigned rep = 0; rep < reps; rep++) {
		memset(dst, 0, (BURST + 1) * BURST_LEN);

		/* one copy, waited for: a worker is just done */
		struct vdm_operation_future one = vdm_memcpy(vdm, dst, src,
			BURST_LEN, 0);

		runtime_wait(r, FUTURE_AS_RUNNABLE(&one));

		/* then the burst, at once */
		atomic_store(&burst_max, 0);
		atomic_store(&burst_met, 0);
		atomic_store(&burst_armed, 1);
		for (int k = 0; k < BURST; k++) {
			size_t off = (size_t)(k + 1) * BURST_LEN;

			futs[k] = vdm_memcpy(vdm, dst + off, src + off,
				BURST_LEN, 0);
			list[k] = FUTURE_AS_RUNNABLE(&futs[k]);
		}
		runtime_wait_multiple(r, list, BURST);
		for (int k = 0; k < BURST; k++)
			ck_assert_int_eq(futs[k].output.result, VDM_SUCCESS);
		ck_assert_msg(test_first_diff(dst, src,
			(BURST + 1) * BURST_LEN) == (BURST + 1) * BURST_LEN,
			"rep %u: data differs", rep);
		ck_assert_msg(atomic_load(&burst_met),
			"rep %u: with the first copy of the burst held, no "
			"other worker took one of the other %d (in %d s)", rep,
			BURST - 1, BURST_WAIT_S);
		ck_assert_msg(atomic_load(&burst_max) == 2,
			"rep %u: at most %d copies ran at once, not 2", rep,
			atomic_load(&burst_max));
	}
	runtime_delete(r);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
END_TEST

/*
 * 6. Byte ranges that cannot exist: n beyond PTRDIFF_MAX, or a range that
 * wraps past the end of the address space. Every mover must complete
 * such an operation with VDM_ERROR_JOB_CORRUPTED and touch nothing. The
 * small real buffers sit at the end of a page followed by an inaccessible
 * one, so that a mover that does start writing faults at once instead of
 * scribbling over the heap.
 */
#define AREA_GUARD 64
#define AREA_BUF 64

struct area {
	unsigned char *map; /* a page between two inaccessible ones */
	size_t page;
	unsigned char *buf; /* AREA_BUF bytes, AREA_GUARD each side */
	unsigned char *ref; /* what the page must hold */
};

static void
area_new(struct area *a, unsigned seed)
{
	a->page = (size_t)sysconf(_SC_PAGESIZE);
	a->map = test_map_guarded(a->page);
	a->buf = a->map + a->page - AREA_GUARD - AREA_BUF;
	a->ref = malloc(a->page);
	ck_assert_ptr_nonnull(a->ref);
	test_fill(a->map, a->page, seed);
	memcpy(a->ref, a->map, a->page);
}

/* 1 if the page is as it was. */
static int
area_intact(const struct area *a)
{
	return test_first_diff(a->map, a->ref, a->page) == a->page;
}

static void
area_delete(struct area *a)
{
	test_unmap_guarded(a->map, a->page);
	free(a->ref);
}

static const uint64_t odd_flag_sets[] = {
	0, VDM_F_MEM_DURABLE, VDM_F_NO_CACHE_HINT,
	VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT, 1u << 7,
};

static const char *const op_names[] = {
	"memcpy", "memmove", "memset", "flush",
};

/* Waits by runtime or by polling; the result must be JOB_CORRUPTED. */
static void
expect_corrupted(struct runtime *r, struct vdm_operation_future *f,
	const char *mover, int type, const void *p1, const void *p2, size_t n,
	uint64_t flags)
{
	test_wait(r, f);
	ck_assert_msg(f->output.result == VDM_ERROR_JOB_CORRUPTED,
		"%s %s(%p, %p, n=%#zx, flags=%#llx): result %d", mover,
		op_names[type], p1, p2, n, (unsigned long long)flags,
		(int)f->output.result);
}

/*
 * Every operation on vdm with (dest, src, n); nothing may change. Those
 * with dest alone (memset, flush) only if dest_bad: the range at dest
 * cannot exist.
 */
static void
check_odd_range(struct vdm *vdm, struct runtime *r, const char *mover,
	struct area *d, struct area *s, void *dest, void *src, size_t n,
	int dest_bad)
{
	for (size_t fl = 0; fl < sizeof(odd_flag_sets) /
			sizeof(odd_flag_sets[0]); fl++) {
		uint64_t flags = odd_flag_sets[fl];
		struct vdm_operation_future f;

		f = vdm_memcpy(vdm, dest, src, n, flags);
		expect_corrupted(r, &f, mover, VDM_OPERATION_MEMCPY, dest, src,
			n, flags);
		f = vdm_memmove(vdm, dest, src, n, flags);
		expect_corrupted(r, &f, mover, VDM_OPERATION_MEMMOVE, dest,
			src, n, flags);
		f = vdm_memmove(vdm, src, dest, n, flags);
		expect_corrupted(r, &f, mover, VDM_OPERATION_MEMMOVE, src,
			dest, n, flags);
		if (dest_bad) {
			f = vdm_memset(vdm, dest, 0x5a, n, flags);
			expect_corrupted(r, &f, mover, VDM_OPERATION_MEMSET,
				dest, NULL, n, flags);
			f = vdm_flush(vdm, dest, n, flags);
			expect_corrupted(r, &f, mover, VDM_OPERATION_FLUSH,
				dest, NULL, n, flags);
		}
		ck_assert_msg(area_intact(d) && area_intact(s),
			"%s n=%#zx flags=%#llx: memory changed", mover, n,
			(unsigned long long)flags);
	}
}

static const size_t odd_sizes[] = {
	SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, (size_t)PTRDIFF_MAX + 1,
};

/* _i: 0 the synchronous mover, 1 the threads mover (runtime or polls) */
START_TEST(test_sizes_unrepresentable)
{
	struct test_mover m;
	struct vdm *vdm;
	struct runtime *r = runtime_new();
	struct area d, s;

	vdm = test_mover_new(&m, (enum test_mover_kind)_i,
		FUTURE_NOTIFIER_WAKER);
	area_new(&d, 1);
	area_new(&s, 2);
	for (size_t k = 0; k < sizeof(odd_sizes) / sizeof(odd_sizes[0]); k++)
		check_odd_range(vdm, k % 2 ? NULL : r, m.name, &d, &s, d.buf,
			s.buf, odd_sizes[k], 1);
	area_delete(&d);
	area_delete(&s);
	runtime_delete(r);
	test_mover_delete(&m);
}
END_TEST

/*
 * A small n, but one pointer so near the top of the address space that
 * the range wraps past its end. The pointers are never dereferenced by a
 * correct mover: it must see the range is impossible first.
 */
START_TEST(test_sizes_pointer_wraps)
{
	struct test_mover m;
	struct vdm *vdm;
	struct runtime *r = runtime_new();
	struct area d, s;
	void *top = (void *)(UINTPTR_MAX - 31); /* 32 bytes below the end */
	void *top_line = (void *)(UINTPTR_MAX - 127); /* 64-aligned */

	vdm = test_mover_new(&m, (enum test_mover_kind)_i,
		FUTURE_NOTIFIER_WAKER);
	area_new(&d, 3);
	area_new(&s, 4);
	/* the source wraps; then the destination wraps */
	check_odd_range(vdm, r, m.name, &d, &s, d.buf, top, AREA_BUF, 0);
	check_odd_range(vdm, NULL, m.name, &d, &s, top, s.buf, AREA_BUF, 1);
	/*
	 * Whole 64-byte lines at 64-aligned pointers, from 256 bytes: what
	 * the synchronous mover's poll stores non-temporally straight from
	 * its own checks (run_direct), which must refuse the range first.
	 */
	check_odd_range(vdm, r, m.name, &d, &s, d.buf, top_line, 256, 0);
	check_odd_range(vdm, NULL, m.name, &d, &s, top_line, s.buf, 256, 1);
	check_odd_range(vdm, r, m.name, &d, &s, top_line, top_line, 4096, 1);
	area_delete(&d);
	area_delete(&s);
	runtime_delete(r);
	test_mover_delete(&m);
}
END_TEST

/*
 * 7. Asynchronous futures first on every pass. futs = { A, B }: A is a
 * plain future pending for 20 polls; B is a chain whose first entry is
 * plain (done at its 2nd poll) and whose second entry is asynchronous
 * (done at its 5th poll). Once B's second entry is reached, B is
 * asynchronous, and every later pass must poll it before A.
 */
static struct test_poll_log poll_log;

/* A countdown future that logs its polls with tag. */
static struct test_countdown_fut
logged_fut_new(char tag, unsigned polls, int async)
{
	struct test_countdown_fut fut = test_countdown_new(polls, async);

	fut.data.tag = tag;
	fut.data.log = &poll_log;
	return fut;
}

struct turns_async_data {
	FUTURE_CHAIN_ENTRY(struct test_countdown_fut, plain);
	FUTURE_CHAIN_ENTRY_LAST(struct test_countdown_fut, async);
};

struct turns_async_output {
	int unused;
};

FUTURE(turns_async_fut, struct turns_async_data, struct turns_async_output);

START_TEST(test_async_first_every_pass)
{
	enum { A_POLLS = 20, B_ASYNC_POLLS = 5 };
	struct runtime *r = runtime_new();
	struct test_countdown_fut a = logged_fut_new('A', A_POLLS, 0);
	struct turns_async_fut b;
	struct future *futs[2];

	ck_assert_ptr_nonnull(r);
	memset(&poll_log, 0, sizeof(poll_log));
	FUTURE_CHAIN_ENTRY_INIT(&b.data.plain, logged_fut_new('1', 2, 0),
		NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&b.data.async,
		logged_fut_new('b', B_ASYNC_POLLS, 1), NULL, NULL);
	FUTURE_CHAIN_INIT(&b);
	futs[0] = FUTURE_AS_RUNNABLE(&a);
	futs[1] = FUTURE_AS_RUNNABLE(&b);
	runtime_wait_multiple(r, futs, 2);
	runtime_delete(r);

	ck_assert_uint_eq(a.output.polls, A_POLLS);
	ck_assert_uint_eq(b.data.async.fut.output.polls, B_ASYNC_POLLS);

	/* from the pass after the first 'b' on: "bA" each pass */
	const char *first_b = strchr(poll_log.buf, 'b');

	ck_assert_ptr_nonnull(first_b);
	size_t at = (size_t)(first_b - poll_log.buf) + 1;

	for (unsigned pass = 1; pass < B_ASYNC_POLLS; pass++, at += 2)
		ck_assert_msg(poll_log.buf[at] == 'b' &&
			poll_log.buf[at + 1] == 'A',
			"pass %u after B turned asynchronous polled A first: "
			"log \"%s\"", pass, poll_log.buf);
}
END_TEST

/*
 * 10a. A thousand copies at once on a one-worker mover with a one-entry
 * queue: all complete, and the runtime sleeps while they are pending (the
 * first copy is held back until the waiting thread is seen asleep).
 */
struct sleep_watch {
	pid_t tid;
	_Atomic int slept;
};

static void *
watch_then_open_gate(void *arg)
{
	struct sleep_watch *w = arg;

	atomic_store(&w->slept, test_wait_until_sleeping(w->tid));
	test_gate_open();
	return NULL;
}

START_TEST(test_overflow_runtime_sleeps)
{
	enum { NOPS = 1000 };
	struct data_mover_threads *dmt = data_mover_threads_new(1, 1,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct runtime *r = runtime_new();
	static struct vdm_operation_future futs[NOPS];
	static struct future *list[NOPS];
	static uint64_t src[NOPS], dst[NOPS];
	struct sleep_watch w;
	pthread_t watcher;

	ck_assert_ptr_nonnull(dmt);
	ck_assert_ptr_nonnull(r);
	test_gate_close(0);
	data_mover_threads_set_memcpy_fn(dmt, test_gated_memcpy);
	for (int i = 0; i < NOPS; i++) {
		src[i] = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		dst[i] = 0;
		futs[i] = vdm_memcpy(vdm, &dst[i], &src[i], sizeof(dst[i]), 0);
		list[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	w.tid = test_gettid();
	atomic_init(&w.slept, 0);
	ck_assert_int_eq(pthread_create(&watcher, NULL, watch_then_open_gate,
		&w), 0);
	runtime_wait_multiple(r, list, NOPS);
	pthread_join(watcher, NULL);
	for (int i = 0; i < NOPS; i++) {
		ck_assert_int_eq(futs[i].output.result, VDM_SUCCESS);
		ck_assert_uint_eq(dst[i], src[i]);
	}
	ck_assert_msg(atomic_load(&w.slept),
		"the runtime never slept with the queue full");
	runtime_delete(r);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * 10b. Many threads (four per processor) busy-polling their own copies
 * with no notifier, on one mover with two workers and a 4-entry queue.
 */
struct busy_poller {
	struct vdm *vdm;
	unsigned batches;
	unsigned seed;
	unsigned bad; /* copies whose bytes or result were wrong */
};

#define BUSY_BATCH 4
#define BUSY_MAX 8192

static void *
busy_poller_main(void *arg)
{
	struct busy_poller *p = arg;
	unsigned char *src = malloc(BUSY_BATCH * BUSY_MAX);
	unsigned char *dst = malloc(BUSY_BATCH * (BUSY_MAX + 1));
	unsigned seed = p->seed;

	if (src == NULL || dst == NULL) {
		p->bad = ~0u;
		free(src);
		free(dst);
		return NULL;
	}
	for (unsigned b = 0; b < p->batches; b++) {
		struct vdm_operation_future futs[BUSY_BATCH];
		size_t len[BUSY_BATCH];

		for (int k = 0; k < BUSY_BATCH; k++) {
			unsigned char *s = src + (size_t)k * BUSY_MAX;
			unsigned char *d = dst + (size_t)k * (BUSY_MAX + 1);

			len[k] = 1 + (size_t)rand_r(&seed) % BUSY_MAX;
			test_fill(s, len[k], seed);
			memset(d, 0, len[k] + 1);
			futs[k] = vdm_memcpy(p->vdm, d, s, len[k], 0);
		}
		/* start them all, then busy-poll each to the end */
		for (int k = 0; k < BUSY_BATCH; k++)
			future_poll(FUTURE_AS_RUNNABLE(&futs[k]), NULL);
		for (int k = 0; k < BUSY_BATCH; k++) {
			while (future_poll(FUTURE_AS_RUNNABLE(&futs[k]),
					NULL) != FUTURE_STATE_COMPLETE)
				;
		}
		for (int k = 0; k < BUSY_BATCH; k++) {
			unsigned char *s = src + (size_t)k * BUSY_MAX;
			unsigned char *d = dst + (size_t)k * (BUSY_MAX + 1);

			size_t n = len[k];

			if (futs[k].output.result != VDM_SUCCESS ||
					test_first_diff(d, s, n) < n ||
					d[n] != 0)
				p->bad++;
		}
	}
	free(src);
	free(dst);
	return NULL;
}

START_TEST(test_busy_pollers_stress)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nthreads = 4 * (unsigned)(ncpu < 1 ? 1 : ncpu);
	struct data_mover_threads *dmt = data_mover_threads_new(2, 4,
		FUTURE_NOTIFIER_WAKER);
	pthread_t *threads = calloc(nthreads, sizeof(*threads));
	struct busy_poller *pollers = calloc(nthreads, sizeof(*pollers));
	unsigned batches = test_stress_iterations(20000) / 200;

	ck_assert_ptr_nonnull(dmt);
	ck_assert(threads != NULL && pollers != NULL);
	if (batches == 0)
		batches = 1;
	for (unsigned t = 0; t < nthreads; t++) {
		pollers[t].vdm = data_mover_threads_get_vdm(dmt);
		pollers[t].batches = batches;
		pollers[t].seed = 12345u + t;
		pollers[t].bad = 0;
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
			busy_poller_main, &pollers[t]), 0);
	}
	for (unsigned t = 0; t < nthreads; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_msg(pollers[t].bad == 0,
			"thread %u: %u of %u copies wrong", t, pollers[t].bad,
			batches * BUSY_BATCH);
	}
	data_mover_threads_delete(dmt);
	free(threads);
	free(pollers);
}
END_TEST

/*
 * A waker that waits, with a runtime of its own, for another copy on the
 * same one-worker mover: that copy must not wait for the very worker
 * that runs the waker.
 */
struct nested {
	struct vdm *vdm;
	struct runtime *r;
	uint64_t a, b;
	_Atomic int done;
};

static void
nested_wake(void *data)
{
	struct nested *ne = data;
	struct vdm_operation_future f = vdm_memcpy(ne->vdm, &ne->b, &ne->a,
		sizeof(ne->a), 0);

	runtime_wait(ne->r, FUTURE_AS_RUNNABLE(&f));
	atomic_store(&ne->done, f.output.result == VDM_SUCCESS ? 1 : 2);
}

START_TEST(test_waker_waits_on_same_mover)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 2,
		FUTURE_NOTIFIER_WAKER);
	struct runtime *inner = runtime_new();
	struct nested ne;
	uint64_t x = 42, y = 0;

	ck_assert_ptr_nonnull(dmt);
	ne.vdm = data_mover_threads_get_vdm(dmt);
	ne.r = inner;
	for (unsigned i = 0; i < 50; i++) {
		struct vdm_operation_future f = vdm_memcpy(ne.vdm, &y, &x,
			sizeof(x), 0);
		struct future_notifier n;

		ne.a = 1000 + i;
		ne.b = 0;
		atomic_store(&ne.done, 0);
		n = test_notifier(nested_wake, &ne);
		while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) !=
				FUTURE_STATE_COMPLETE)
			sched_yield();
		/* complete: the waker has returned */
		ck_assert_int_eq(atomic_load(&ne.done), 1);
		ck_assert_uint_eq(ne.b, 1000 + i);
		ck_assert_uint_eq(y, 42);
	}
	runtime_delete(inner);
	data_mover_threads_delete(dmt);
}
END_TEST

/*
 * A waker that polls its own future, for copies big enough to be shared
 * out among the workers: the record is given back inside the waker while
 * the worker that finished the last share still holds the job; the next
 * copies must not be disturbed by it.
 */
#define BIG_LEN ((size_t)5 << 20)

struct self_poll {
	struct vdm_operation_future *fut;
	_Atomic int state;
	sem_t polled;
};

static void
self_poll_wake(void *data)
{
	struct self_poll *sp = data;

	atomic_store(&sp->state, (int)future_poll(
		FUTURE_AS_RUNNABLE(sp->fut), NULL));
	sem_post(&sp->polled);
}

START_TEST(test_reentrant_waker_big)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 4,
		FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	unsigned char *src = malloc(BIG_LEN), *dst = malloc(BIG_LEN);
	struct self_poll sp;
	unsigned reps = test_stress_iterations(20000) >= 20000 ? 20 : 4;

	ck_assert(dmt != NULL && src != NULL && dst != NULL);
	ck_assert_int_eq(sem_init(&sp.polled, 0, 0), 0);
	for (unsigned i = 0; i < reps; i++) {
		test_fill(src, BIG_LEN, i);
		memset(dst, 0, BIG_LEN);

		struct vdm_operation_future f = vdm_memcpy(vdm, dst, src,
			BIG_LEN, 0);
		struct future_notifier n;

		sp.fut = &f;
		atomic_store(&sp.state, -1);
		n = test_notifier(self_poll_wake, &sp);
		/* the shares wait until this poll is over: one poller */
		test_gate_close(0);
		data_mover_threads_set_memcpy_fn(dmt, test_gated_memcpy);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f), &n),
			FUTURE_STATE_RUNNING);
		test_gate_open();
		while (sem_wait(&sp.polled) != 0)
			;
		ck_assert_int_eq(atomic_load(&sp.state),
			FUTURE_STATE_COMPLETE);
		ck_assert_int_eq(f.output.result, VDM_SUCCESS);
		ck_assert(test_first_diff(dst, src, BIG_LEN) == BIG_LEN);

		/* records are reused at once: small copies still right */
		data_mover_threads_set_memcpy_fn(dmt, NULL);
		for (unsigned k = 0; k < 8; k++) {
			uint64_t a = i * 100 + k, b = 0;
			struct vdm_operation_future g = vdm_memcpy(vdm, &b, &a,
				sizeof(a), 0);

			FUTURE_BUSY_POLL(&g);
			ck_assert_uint_eq(b, a);
		}
	}
	sem_destroy(&sp.polled);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *wakers = tcase_create("wakers");
	TCase *movers = tcase_create("movers");
	TCase *sizes = tcase_create("sizes");
	TCase *runtime = tcase_create("runtime");
	TCase *wakers_stress = tcase_create("wakers_stress");
	TCase *stress = tcase_create("stress");

	/* short timeouts: a hang is the typical failure here */
	tcase_set_timeout(wakers, 20);
	tcase_add_test(wakers, test_condvar_loop);
	tcase_add_test(wakers, test_reentrant_waker);
	tcase_add_test(wakers, test_handover_same_data);
	tcase_add_test(wakers, test_waker_waits_on_same_mover);
	tcase_add_test(wakers, test_reentrant_waker_big);
	suite_add_tcase(s, wakers);

	tcase_set_timeout(movers, 20);
	tcase_add_loop_test(movers, test_third_party_output, 0, 2);
	tcase_add_test(movers, test_burst_uses_all_workers);
	suite_add_tcase(s, movers);

	tcase_set_timeout(sizes, 20);
	tcase_add_loop_test(sizes, test_sizes_unrepresentable, 0, 2);
	tcase_add_loop_test(sizes, test_sizes_pointer_wraps, 0, 2);
	suite_add_tcase(s, sizes);

	tcase_set_timeout(runtime, 20);
	tcase_add_test(runtime, test_async_first_every_pass);
	tcase_add_test(runtime, test_overflow_runtime_sleeps);
	suite_add_tcase(s, runtime);

	tcase_set_timeout(wakers_stress, 30);
	tcase_add_test(wakers_stress, test_condvar_loop_stress);
	suite_add_tcase(s, wakers_stress);

	tcase_set_timeout(stress, 120);
	tcase_add_test(stress, test_busy_pollers_stress);
	suite_add_tcase(s, stress);
	return s;
}
