/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * movers.h -- what the library's movers and its runtime tell each other:
 * the vdm future task (vdm.c) recognises the library's own movers by
 * their callbacks and asks them for more than struct vdm can say, and
 * the threads mover signals the runtime (runtime.c).
 */

#ifndef MA_MOVERS_H
#define MA_MOVERS_H 1

#include "libminiasync/vdm.h"

/* The synchronous mover's callbacks (data_mover_sync.c). */
int ma_sync_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n);
enum future_state ma_sync_op_check(void *data,
	const struct vdm_operation *operation);
void ma_sync_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output);

/* The threads mover's op_check (data_mover_threads.c). */
enum future_state ma_threads_op_check(void *data,
	const struct vdm_operation *operation);

/*
 * Polls a started operation of the threads mover: its state, and in n
 * (may be NULL) the promise the mover makes to that very notifier.
 */
enum future_state ma_threads_poll(void *data, struct future_notifier *n);

struct data_mover_threads;

/* How many job records the mover's pool holds, free or in use. */
size_t ma_threads_pool_records(struct data_mover_threads *dmt);

/* The runtime's waker (runtime.c). */
void ma_runtime_wake(void *data);

/*
 * A POLLER promise whose word's writer calls ma_poller_signal() after
 * setting it: the vdm task marks such a promise in the notifier's
 * padding, so that a runtime may sleep on it without a timeout.
 */
#define MA_PROMISE_SIGNALLED 1u

/* Called after a library mover set a POLLER word: wakes its watchers. */
void ma_poller_signal(void);

#endif /* MA_MOVERS_H */
