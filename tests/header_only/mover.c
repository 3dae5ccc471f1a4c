/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * mover.c -- a mover of its own on the two headers alone, as PMDK's
 * libpmem2 builds one: it needs no libminiasync to link, as a program or
 * as a shared library linked with -Wl,--no-undefined.
 *
 * The mover is asynchronous in the simplest way: an operation is done on
 * its second op_check, so that a future takes two polls and the task's
 * later polls are exercised. Its op_start promises a POLLER word, which
 * the first poll must pass on; later polls must promise nothing.
 */

#include <stdio.h>
#include <string.h>

#include <libminiasync/future.h>
#include <libminiasync/vdm.h>

#include "mover.h"

struct own_op {
	int checks;
	int deleted;
	uint64_t word;
};

static struct own_op ops[4];
static int next_op;

static void *
own_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	(void)vdm;
	(void)type;
	if (next_op == 4)
		return NULL;
	memset(&ops[next_op], 0, sizeof(ops[next_op]));
	return &ops[next_op++];
}

static int
own_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	struct own_op *op = data;

	(void)operation;
	if (n != NULL) {
		n->notifier_used = FUTURE_NOTIFIER_POLLER;
		n->poller.ptr_to_monitor = &op->word;
	}
	return 0;
}

static enum future_state
own_check(void *data, const struct vdm_operation *operation)
{
	struct own_op *op = data;
	const struct vdm_operation_data_memcpy *c = &operation->data.memcpy;
	const struct vdm_operation_data_memset *s = &operation->data.memset;

	if (++op->checks < 2)
		return FUTURE_STATE_RUNNING;
	if (op->checks == 2) {
		switch (operation->type) {
		case VDM_OPERATION_MEMCPY:
			memcpy(c->dest, c->src, c->n);
			break;
		case VDM_OPERATION_MEMMOVE:
			memmove(c->dest, c->src, c->n);
			break;
		case VDM_OPERATION_MEMSET:
			memset(s->str, s->c, s->n);
			break;
		case VDM_OPERATION_FLUSH:
			break;
		}
		op->word = 1;
	}
	return FUTURE_STATE_COMPLETE;
}

static void
own_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	struct own_op *op = data;

	op->deleted++;
	output->type = operation->type;
	output->result = VDM_SUCCESS;
	if (operation->type == VDM_OPERATION_MEMSET)
		output->output.memset.str = operation->data.memset.str;
	else if (operation->type == VDM_OPERATION_FLUSH)
		output->output.flush.unused = 0;
	else
		output->output.memcpy.dest = operation->data.memcpy.dest;
}

static struct vdm own_vdm = {
	.op_new = own_new,
	.op_delete = own_delete,
	.op_start = own_start,
	.op_check = own_check,
	.capabilities = 0,
	.has_property = NULL,
};

#define FAIL(...) do {\
	fprintf(stderr, __VA_ARGS__);\
	fputc('\n', stderr);\
	return 1;\
} while (0)

/* Polls fut to completion as a 0.2 poller would; checks the promises. */
static int
drive(struct vdm_operation_future *fut, struct own_op *op)
{
	struct future_notifier n;
	int polls = 0;

	while (future_poll(FUTURE_AS_RUNNABLE(fut), &n) !=
			FUTURE_STATE_COMPLETE) {
		polls++;
		if (polls == 1 && (n.notifier_used != FUTURE_NOTIFIER_POLLER ||
				n.poller.ptr_to_monitor != &op->word))
			FAIL("first poll: the mover's POLLER promise is lost");
		if (polls > 1)
			FAIL("not complete after %d polls", polls);
	}
	if (polls != 1)
		FAIL("complete after %d polls, not 2", polls + 1);
	if (n.notifier_used != FUTURE_NOTIFIER_NONE)
		FAIL("a later poll promises %d, not NONE", n.notifier_used);
	if (op->deleted != 1)
		FAIL("op_delete called %d times", op->deleted);
	if (fut->data.data != op)
		FAIL("the task wrote the future's data.data");
	if (fut->output.result != VDM_SUCCESS)
		FAIL("result %d", fut->output.result);
	return 0;
}

int
own_mover_run(void)
{
	char a[64], b[64], c[64];
	struct vdm_operation_future fut;

	next_op = 0;
	memset(a, 'a', sizeof(a));
	memset(b, 0, sizeof(b));
	fut = vdm_memcpy(&own_vdm, b, a, sizeof(a), 0);
	if (drive(&fut, &ops[0]) != 0)
		return 1;
	if (memcmp(a, b, sizeof(a)) != 0 || fut.output.output.memcpy.dest != b)
		FAIL("memcpy: wrong bytes or output");

	for (int i = 0; i < 64; i++)
		c[i] = (char)i;
	fut = vdm_memmove(&own_vdm, c + 1, c, 32, 0);
	if (drive(&fut, &ops[1]) != 0)
		return 1;
	for (int i = 0; i < 32; i++)
		if (c[i + 1] != (char)i)
			FAIL("memmove: byte %d wrong", i + 1);

	fut = vdm_memset(&own_vdm, a, 'z', 10, 0);
	if (drive(&fut, &ops[2]) != 0)
		return 1;
	if (a[9] != 'z' || a[10] != 'a' || fut.output.output.memset.str != a)
		FAIL("memset: wrong bytes or output");

	fut = vdm_flush(&own_vdm, a, sizeof(a), 0);
	if (drive(&fut, &ops[3]) != 0)
		return 1;

	fut = vdm_memcpy(&own_vdm, b, a, 1, 0);
	if (fut.base.context.state != FUTURE_STATE_COMPLETE ||
			fut.output.result != VDM_ERROR_OUT_OF_MEMORY)
		FAIL("op_new's NULL: not complete with OUT_OF_MEMORY");
	return 0;
}

const char *
own_mover_task(void)
{
	struct vdm_operation_future fut;
	const char *name;

	next_op = 0;
	fut = vdm_flush(&own_vdm, NULL, 0, 0);
	if (fut.base.task == vdm_operation_impl)
		name = "inline";
#ifdef VDM_OPERATION_TASK_WEAK
	else if (vdm_operation_task != NULL &&
			fut.base.task == vdm_operation_task)
#else
	else if (fut.base.task == vdm_operation_task)
#endif
		name = "library";
	else
		name = "unknown";
	while (future_poll(FUTURE_AS_RUNNABLE(&fut), NULL) !=
			FUTURE_STATE_COMPLETE)
		;
	return name;
}
