/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * vdm.c -- the task of every vdm operation future built with the 0.4
 * headers (binaries built with older headers carry their own copy).
 *
 * It drives the mover's four callbacks and keeps nothing in the future:
 * the data and output members belong to the mover and the user. The
 * first poll starts the operation, and op_start gives that poll its
 * promise. Later polls of the library's threads mover ask the mover,
 * which holds the job and its waker, what it promises to this very
 * notifier; a mover the library does not know promises nothing after its
 * first poll (struct vdm has no way to ask it), so its caller polls again.
 * The synchronous mover is done inside its first poll.
 */

#include <string.h>

#include "internal.h"
#include "mem_ops.h"
#include "movers.h"
#include "libminiasync/vdm.h"

/* The library's synchronous mover, callbacks unchanged by the user. */
static int
is_sync_mover(const struct vdm *vdm)
{
	return vdm->op_start == ma_sync_op_start &&
		vdm->op_check == ma_sync_op_check &&
		vdm->op_delete == ma_sync_op_delete;
}

/*
 * The synchronous mover's operation, done here; the common case (a plain
 * memcpy) without a call through the table (this is the path that the
 * 64-byte future figure of make bench measures).
 */
static void
sync_run(struct vdm_operation_data *data, struct future_notifier *notifier,
	struct vdm_operation_output *output)
{
	const struct vdm_operation_data_memcpy *c =
		&data->operation.data.memcpy;

	data->data = NULL;
	if (data->operation.type == VDM_OPERATION_MEMCPY && c->flags == 0 &&
			ma_op_valid(&data->operation)) {
		if (notifier != NULL)
			notifier->notifier_used = FUTURE_NOTIFIER_NONE;
		if (c->n != 0)
			memcpy(c->dest, c->src, c->n);
		output->type = VDM_OPERATION_MEMCPY;
		output->result = VDM_SUCCESS;
		output->output.memcpy.dest = c->dest;
		return;
	}
	if (notifier != NULL)
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;
	ma_op_run_lib(&data->operation); /* (not run if invalid) */
	ma_op_output(&data->operation, output);
}

MA_EXPORT enum future_state
vdm_operation_task(struct future_context *context,
	struct future_notifier *notifier)
{
	struct vdm_operation_data *data =
		(struct vdm_operation_data *)future_context_get_data(context);
	struct vdm_operation_output *output =
		(struct vdm_operation_output *)
		future_context_get_output(context);
	struct vdm *vdm = data->vdm;
	enum future_state state;

	if (is_sync_mover(vdm)) {
		sync_run(data, notifier, output);
		return FUTURE_STATE_COMPLETE;
	}
	if (context->state == FUTURE_STATE_IDLE) {
		if (vdm->op_start(data->data, &data->operation, notifier) != 0)
			return FUTURE_STATE_IDLE;
		state = vdm->op_check(data->data, &data->operation);
	} else if (vdm->op_check == ma_threads_op_check) {
		state = ma_threads_poll(data->data, notifier);
	} else {
		state = vdm->op_check(data->data, &data->operation);
	}
	if (state == FUTURE_STATE_COMPLETE) {
		vdm->op_delete(data->data, &data->operation, output);
		data->data = NULL;
	}
	return state;
}
