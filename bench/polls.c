/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * polls.c -- make bench's group "polls": how many times runtime_wait_multiple
 * polls each of 8192 4 KiB copies on the default threads mover.
 */

#define _GNU_SOURCE

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define POLLS_NFUTS 8192
#define POLLS_SIZE 4096

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
void
bench_polls(struct runtime *r, struct vdm *sync_vdm)
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

	(void)sync_vdm;
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
