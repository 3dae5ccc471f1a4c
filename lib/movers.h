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

/* The runtime's waker (runtime.c). */
void ma_runtime_wake(void *data);

/*
 * A POLLER promise whose word's writer calls ma_poller_signal() after
 * setting it: the mover stores the promised word here, in the poll that
 * makes the promise, and the runtime (which clears it before each poll)
 * takes the promise for the library's own only when the word it finally
 * gets is this one; so a future that polls a copy and then promises a
 * word of its own is not taken for the library's. Thread-local, in the
 * initial-exec model (the library is linked by its programs).
 */
extern _Thread_local __attribute__((tls_model("initial-exec")))
	uint64_t *ma_signalled_word;

/* Called after a library mover set a POLLER word: wakes its watchers. */
void ma_poller_signal(void);

#endif /* MA_MOVERS_H */
