/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * spin.c -- make bench's group "spin": 2000 copies on the default threads
 * mover busy-polled by 1, 2, 4 and 8 threads, beside plain copies.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

#define SPIN_NFUTS 2000
#define SPIN_MIN 64
#define SPIN_MAX 8192
#define SPIN_NT 4 /* how many poller counts */
#define SPIN_CAP_NS 200000000L /* a round is stopped after this long */

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
void
bench_spin(struct runtime *r, struct vdm *sync_vdm)
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

	(void)sync_vdm;
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
