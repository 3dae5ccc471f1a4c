/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * basic.c -- a chained future that allocates a buffer, then copies a
 * string into it through the synchronous mover, waited for by a runtime.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libminiasync.h>

/* A future of our own: allocates data.n bytes when polled. */
struct alloc_data {
	size_t n;
};

struct alloc_output {
	void *ptr;
};

FUTURE(alloc_fut, struct alloc_data, struct alloc_output);

static enum future_state
alloc_task(struct future_context *ctx, struct future_notifier *notifier)
{
	struct alloc_data *data = future_context_get_data(ctx);
	struct alloc_output *output = future_context_get_output(ctx);

	(void)notifier;
	output->ptr = malloc(data->n);
	return FUTURE_STATE_COMPLETE;
}

static struct alloc_fut
async_alloc(size_t n)
{
	struct alloc_fut fut;

	fut.data.n = n;
	fut.output.ptr = NULL;
	FUTURE_INIT(&fut, alloc_task);
	return fut;
}

/* The chain: allocate, then copy into what was allocated. */
struct strdup_data {
	FUTURE_CHAIN_ENTRY(struct alloc_fut, alloc);
	FUTURE_CHAIN_ENTRY_LAST(struct vdm_operation_future, copy);
	struct vdm *vdm;
	const char *src;
	size_t n;
};

struct strdup_output {
	char *copy;
};

FUTURE(strdup_fut, struct strdup_data, struct strdup_output);

/* Builds the copy once the allocation is done and its address known. */
static void
copy_init(void *future, struct future_context *chain_ctx, void *arg)
{
	struct strdup_data *data = future_context_get_data(chain_ctx);
	void *dest = data->alloc.fut.output.ptr;

	(void)arg;
	*(struct vdm_operation_future *)future = vdm_memcpy(data->vdm, dest,
		(void *)data->src, dest != NULL ? data->n : 0, 0);
}

/* The copy's destination is the chain's result. */
static void
copy_map(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	struct vdm_operation_output *copy = future_context_get_output(lhs);
	struct strdup_output *output = future_context_get_output(rhs);

	(void)arg;
	output->copy = copy->output.memcpy.dest;
}

static struct strdup_fut
async_strdup(struct vdm *vdm, const char *src)
{
	struct strdup_fut fut;

	fut.data.vdm = vdm;
	fut.data.src = src;
	fut.data.n = strlen(src) + 1;
	fut.output.copy = NULL;
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.alloc, async_alloc(fut.data.n),
		NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.copy, copy_init, NULL,
		copy_map, NULL);
	FUTURE_CHAIN_INIT(&fut);
	return fut;
}

int
main(void)
{
	struct runtime *r = runtime_new();
	struct data_mover_sync *dms = data_mover_sync_new();

	if (r == NULL || dms == NULL) {
		perror("libminiasync");
		return 1;
	}

	struct strdup_fut fut = async_strdup(data_mover_sync_get_vdm(dms),
		"hello from libminiasync");

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));

	char *copy = FUTURE_OUTPUT(&fut)->copy;

	if (copy == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("%s\n", copy);
	free(copy);
	data_mover_sync_delete(dms);
	runtime_delete(r);
	return 0;
}
