/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_sync.c -- the synchronous mover: op_start performs the whole
 * operation in the polling thread, so a future completes on its first
 * poll. It keeps no per-operation state: the operation itself says all,
 * so op_new hands out the mover's address and never fails.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "internal.h"
#include "mem_ops.h"
#include "movers.h"
#include "libminiasync/data_mover_sync.h"

struct data_mover_sync {
	struct vdm vdm; /* first: the vdm's address is the mover's */
};

static void *
sync_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	(void)type;
	return vdm;
}

int
ma_sync_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	(void)data;
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	/* the common case, straight to the C library */
	if (operation->type == VDM_OPERATION_MEMCPY &&
			operation->data.memcpy.flags == 0 &&
			ma_op_valid(operation)) {
		if (operation->data.memcpy.n != 0)
			memcpy(operation->data.memcpy.dest,
				operation->data.memcpy.src,
				operation->data.memcpy.n);
		return 0;
	}
	/* an invalid operation is not run: op_delete reports it */
	ma_op_run_lib(operation);
	return 0;
}

/* Whatever was started is finished: op_start did all the work. */
enum future_state
ma_sync_op_check(void *data, const struct vdm_operation *operation)
{
	(void)data;
	(void)operation;
	return FUTURE_STATE_COMPLETE;
}

void
ma_sync_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	(void)data;
	ma_op_output(operation, output);
}

/*
 * The vdm task's poll (movers.h): the whole operation in the first poll;
 * a plain memcpy without a call through the table (this is the path of
 * the 64-byte future figure of make bench). The output is written before
 * the work (nobody reads it before the poll returns) and the rest is a
 * tail call: no register is saved on the way, since every store made
 * between a durable write's sfence and the next write's loads waits
 * behind that sfence (doc/design.md, "Durable writes").
 */
static enum future_state
sync_poll(void *data, const struct vdm_operation *operation, int first,
	struct future_notifier *n, struct vdm_operation_output *output)
{
	const struct vdm_operation_data_memcpy *c = &operation->data.memcpy;

	(void)data;
	(void)first; /* the first poll completes it */
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	if (operation->type == VDM_OPERATION_MEMCPY && c->flags == 0 &&
			ma_range_ok(c->dest, c->n) && ma_range_ok(c->src, c->n)) {
		ma_output_success(operation, output, c->dest);
		if (c->n != 0)
			memcpy(c->dest, c->src, c->n);
		return FUTURE_STATE_COMPLETE;
	}
	return ma_op_run_complete(operation, output);
}

MA_KEEP_LIBRARY_TASK(sync_task);

const struct ma_mover_ops ma_sync_mover_ops = {
	.op_start = ma_sync_op_start,
	.op_check = ma_sync_op_check,
	.op_delete = ma_sync_op_delete,
	.poll = sync_poll,
};

static const struct vdm sync_vdm = {
	.op_new = sync_op_new,
	.op_delete = ma_sync_op_delete,
	.op_start = ma_sync_op_start,
	.op_check = ma_sync_op_check,
	.capabilities = 0, /* set at creation: known at run time */
	.has_property = NULL,
};

MA_EXPORT struct data_mover_sync *
data_mover_sync_new(void)
{
	struct data_mover_sync *dms = ma_malloc(sizeof(*dms));

	if (dms == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	dms->vdm = sync_vdm;
	dms->vdm.capabilities = MA_MEM_CAPABILITIES;
	return dms;
}

MA_EXPORT struct vdm *
data_mover_sync_get_vdm(struct data_mover_sync *dms)
{
	return &dms->vdm;
}

MA_EXPORT void
data_mover_sync_delete(struct data_mover_sync *dms)
{
	free(dms);
}
