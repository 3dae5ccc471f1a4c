/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * vdm.c -- the library's task of vdm operation futures, which the inline
 * constructors of <libminiasync/vdm.h> install wherever libminiasync is
 * loaded (programs built on the headers alone run the header's inline
 * vdm_operation_impl; binaries built with 0.2 or 0.3 headers carry their
 * own copy).
 *
 * It drives the mover's four callbacks and writes nothing into the
 * future: the data member belongs to the mover and the user, the output
 * to op_delete. The first poll starts the operation, and op_start gives
 * that poll its promise. On later polls a mover of the library (struct
 * ma_mover_ops), which holds the job and its waker, says what it promises
 * to this very notifier; a mover the library does not know promises
 * nothing after its first poll (struct vdm has no way to ask it), so its
 * caller polls again.
 */

#include <stddef.h>

#include "internal.h"
#include "movers.h"
#include "libminiasync/vdm.h"

#ifdef VDM_OPERATION_TASK_WEAK
#error "the library's own vdm_operation_task must not be weak"
#endif

/* The library's movers: a new one adds its table here. */
static const struct ma_mover_ops *const ma_movers[] = {
	&ma_sync_mover_ops,
	&ma_threads_mover_ops,
	&ma_dsa_mover_ops,
};

/* The library mover whose unchanged callbacks the vdm has, or NULL. */
static const struct ma_mover_ops *
library_mover(const struct vdm *vdm)
{
	for (size_t i = 0; i < sizeof(ma_movers) / sizeof(ma_movers[0]); i++) {
		const struct ma_mover_ops *m = ma_movers[i];

		if (vdm->op_check == m->op_check &&
				vdm->op_start == m->op_start &&
				vdm->op_delete == m->op_delete)
			return m;
	}
	return NULL;
}

/* A poll of a mover the library does not know: 0.2's. */
static __attribute__((noinline)) enum future_state
foreign_poll(struct future_context *context, struct vdm_operation_data *data,
	struct future_notifier *notifier, struct vdm_operation_output *output)
{
	struct vdm *vdm = data->vdm;
	enum future_state state;

	if (context->state == FUTURE_STATE_IDLE) {
		if (vdm->op_start(data->data, &data->operation, notifier) != 0)
			return FUTURE_STATE_IDLE;
	}
	/* later polls of a mover the library does not know promise nothing */
	state = vdm->op_check(data->data, &data->operation);
	if (state == FUTURE_STATE_COMPLETE)
		vdm->op_delete(data->data, &data->operation, output);
	return state;
}

/*
 * Both ways out are tail calls, so that a poll of the library's movers
 * saves no register: each store made between a durable write's sfence
 * and the next write's loads waits behind that sfence.
 */
MA_EXPORT enum future_state
vdm_operation_task(struct future_context *context,
	struct future_notifier *notifier)
{
	struct vdm_operation_data *data =
		(struct vdm_operation_data *)future_context_get_data(context);
	struct vdm_operation_output *output =
		(struct vdm_operation_output *)
		future_context_get_output(context);
	const struct ma_mover_ops *m = library_mover(data->vdm);

	if (m != NULL)
		return m->poll(data->data, &data->operation,
			context->state == FUTURE_STATE_IDLE, notifier, output);
	return foreign_poll(context, data, notifier, output);
}
