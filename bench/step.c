/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * step.c -- make bench's group "step": the time between the steps of one
 * future (a chain of 64-byte copies) while 15 others wait beside it.
 */

#define _GNU_SOURCE

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

#define STEP_COUNT 2000
#define STEP_OTHERS 15

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
void
bench_step(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"runtime: step among 16 p50", "us", 0, 1, 10, "<=10 us",
	};
	struct data_mover_threads *fast = threads_mover();
	struct data_mover_threads *held = data_mover_threads_new(1,
		DMT_RING, FUTURE_NOTIFIER_WAKER);
	char *src = xalloc(SMALL);
	char *dst = xalloc(SMALL * (STEP_OTHERS + 1));
	uint64_t *at = xalloc(STEP_COUNT * sizeof(*at));
	double *lat = xalloc(LAT_SAMPLES * sizeof(*lat)); /* lat_plain_us */
	double val[MAX_REPS], ref[MAX_REPS], d99;

	(void)sync_vdm;
	if (held == NULL)
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
