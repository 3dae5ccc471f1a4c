/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_model.h -- what tests can ask of the work-queue model besides the
 * seam of dsa_hw.h: counts of what it saw, the descriptors it accepted,
 * and faults, statuses and pauses to inject. Internal (the test build).
 */

#ifndef MA_DSA_MODEL_H
#define MA_DSA_MODEL_H 1

#include "dsa_hw.h"

struct ma_dsa_model_stats {
	uint64_t submitted; /* descriptors accepted */
	uint64_t refused; /* submissions a shared queue refused */
	uint64_t overfilled; /* dropped: a dedicated queue was full */
	uint64_t dropped; /* dropped by a disabled queue */
	uint64_t executed; /* descriptors run, batch members included */
	uint64_t faults; /* partial completions reported */
	uint64_t blocked_faults; /* faults waited out (block on fault) */
	uint64_t unreported; /* errors no record could tell (bad address) */
	uint64_t batches; /* batch descriptors run */
	uint64_t fenced_abandoned; /* members not run after a failure */
	uint64_t list_faults; /* batch lists found not present */
	uint64_t rejected; /* write(2) refused (submit=write): EINVAL */
	uint32_t inflight_peak; /* most accepted and not yet completed */
};

/* One descriptor the model accepted (member: read from a batch list). */
struct ma_dsa_model_log {
	struct ma_dsa_desc desc;
	int member;
};

#define MA_DSA_MODEL_LOG 512 /* the log keeps the last this many */

/* Nonzero when wq is the model. */
int ma_dsa_is_model(const struct ma_dsa_wq *wq);

void ma_dsa_model_stats(struct ma_dsa_wq *wq, struct ma_dsa_model_stats *s);

/* Moves up to max logged descriptors (oldest first) to out; returns it. */
size_t ma_dsa_model_log_take(struct ma_dsa_wq *wq,
	struct ma_dsa_model_log *out, size_t max);

/* The next access to the page of addr faults (write: on a write). */
void ma_dsa_model_fault_at(struct ma_dsa_wq *wq, const void *addr,
	int write);

/* The next descriptor run (not a batch) completes with this status. */
void ma_dsa_model_inject_status(struct ma_dsa_wq *wq, uint8_t status);

/* From now on every submission fails for good (write(2) errors). */
void ma_dsa_model_fail(struct ma_dsa_wq *wq);

/*
 * The queue is disabled, as by accel-config: what it holds and has not
 * begun is dropped (no record written), a dedicated queue drops what it
 * is given, a shared one refuses it, and enabled() says 0.
 */
void ma_dsa_model_disable(struct ma_dsa_wq *wq);

/* Engines take nothing while paused (the queue fills up). */
void ma_dsa_model_pause(struct ma_dsa_wq *wq, int paused);

#endif /* MA_DSA_MODEL_H */
