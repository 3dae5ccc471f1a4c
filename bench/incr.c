/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * incr.c -- make bench's group "incr": a future of the program's own that
 * copies 16 MiB, 256 bytes a poll, promising nothing, waited for with
 * runtime_wait beside the same future in a plain future_poll loop.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define INCR_SIZE ((size_t)16 << 20)
#define INCR_STEP 256

/*
 * A user's incremental copy: each poll copies the next INCR_STEP bytes
 * and promises nothing (FUTURE_NOTIFIER_NONE), as a mover that advances
 * a chunk per poll does.
 */
struct incr_data {
	char *dst;
	const char *src;
	size_t n;
	size_t done;
};

struct incr_output {
	size_t copied;
};

FUTURE(incr_future, struct incr_data, struct incr_output);

static enum future_state
incr_task(struct future_context *context, struct future_notifier *notifier)
{
	struct incr_data *d = future_context_get_data(context);
	struct incr_output *out = future_context_get_output(context);
	size_t len = d->n - d->done < INCR_STEP ? d->n - d->done : INCR_STEP;

	if (notifier != NULL)
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;
	memcpy(d->dst + d->done, d->src + d->done, len);
	d->done += len;
	if (d->done < d->n)
		return FUTURE_STATE_RUNNING;
	out->copied = d->done;
	return FUTURE_STATE_COMPLETE;
}

static struct incr_future
incr_new(char *dst, const char *src, size_t n)
{
	struct incr_future f;

	f.data.dst = dst;
	f.data.src = src;
	f.data.n = n;
	f.data.done = 0;
	f.output.copied = 0;
	FUTURE_INIT(&f, incr_task);
	return f;
}

/* ms to run the incremental copy by runtime_wait (rt) or a poll loop. */
static double
incr_ms(struct runtime *r, char *dst, const char *src, int rt)
{
	struct incr_future f = incr_new(dst, src, INCR_SIZE);
	uint64_t t0 = now_ns();

	if (rt)
		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
	else
		while (future_poll(FUTURE_AS_RUNNABLE(&f), NULL) !=
				FUTURE_STATE_COMPLETE)
			;
	uint64_t t = now_ns() - t0;

	if (f.output.copied != INCR_SIZE) {
		fprintf(stderr, "bench: incr: copy incomplete\n");
		exit(1);
	}
	return (double)t / 1e6;
}

/*
 * Figure: a future that progresses whenever it is polled (16 MiB, 256 B
 * a poll, NONE), waited for by runtime_wait, against the same future
 * polled in a plain future_poll loop; ratio <= 1.5.
 */
void
bench_incr(struct runtime *r, struct vdm *sync_vdm)
{
	static const struct figure f = {
		"runtime: NONE 16 MiB/256 B", "ms", 1, 1, 1.5, "<=1.5x loop",
	};
	char *src = xalloc(INCR_SIZE);
	char *dst = xalloc(INCR_SIZE);
	double val[MAX_REPS], ref[MAX_REPS];

	(void)sync_vdm;
	fill(src, INCR_SIZE, 13);
	memset(dst, 0, INCR_SIZE);
	incr_ms(r, dst, src, 1);
	check_copied(dst, src, INCR_SIZE, "incr");
	incr_ms(r, dst, src, 0);
	for (unsigned i = 0; i < reps; i++) {
		if (i % 2) {
			ref[i] = incr_ms(r, dst, src, 0);
			val[i] = incr_ms(r, dst, src, 1);
		} else {
			val[i] = incr_ms(r, dst, src, 1);
			ref[i] = incr_ms(r, dst, src, 0);
		}
	}
	printf("  (memcpy column: the same future in a future_poll loop)\n");
	report(&f, val, ref);
	free(src);
	free(dst);
}
