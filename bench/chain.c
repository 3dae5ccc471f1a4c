/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * chain.c -- make bench's group "chain": a future running 50 4 KiB copies
 * one after another beside a pending 100 ms copy, with POLLER movers and
 * with WAKER ones.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define CHAIN_STEPS 50
#define CHAIN_SIZE 4096
#define CHAIN_SLOW_NS 100000000L

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
void
bench_chain(struct runtime *r, struct vdm *sync_vdm)
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

	(void)sync_vdm;
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
