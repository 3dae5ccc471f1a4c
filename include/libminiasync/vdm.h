/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * vdm.h -- the virtual data mover: memory operations that return futures.
 *
 * A mover fills a struct vdm with four callbacks; the inline constructors
 * below build a vdm_operation_future whose poll drives them, whatever
 * engine is behind them.
 */

#ifndef LIBMINIASYNC_VDM_H
#define LIBMINIASYNC_VDM_H 1

#include <stddef.h>
#include <stdint.h>

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Operation flags (hints: a mover ignores what it does not know). */
#define VDM_F_MEM_DURABLE (1U << 0)
#define VDM_F_NO_CACHE_HINT (1U << 1)
#define VDM_F_VALID_FLAGS (VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT)

enum vdm_operation_type {
	VDM_OPERATION_MEMCPY = 0,
	VDM_OPERATION_MEMMOVE = 1,
	VDM_OPERATION_MEMSET = 2,
	VDM_OPERATION_FLUSH = 3
};

enum vdm_operation_result {
	VDM_SUCCESS = 0,
	VDM_ERROR_OUT_OF_MEMORY = 1,
	VDM_ERROR_JOB_CORRUPTED = 2
};

struct vdm_operation_data_memcpy {
	void *dest;
	void *src;
	size_t n;
	uint64_t flags;
};

struct vdm_operation_data_memmove {
	void *dest;
	void *src;
	size_t n;
	uint64_t flags;
};

struct vdm_operation_data_memset {
	void *str;
	int c;
	size_t n;
	uint64_t flags;
};

struct vdm_operation_data_flush {
	void *dest;
	size_t n;
	uint64_t flags;
};

#define VDM_OPERATION_DATA_MAX_SIZE 40

/* What to do: the operation's arguments and its type. */
struct vdm_operation {
	union {
		struct vdm_operation_data_memcpy memcpy;
		struct vdm_operation_data_memmove memmove;
		struct vdm_operation_data_memset memset;
		struct vdm_operation_data_flush flush;
		uint8_t data[VDM_OPERATION_DATA_MAX_SIZE];
	} data;
	enum vdm_operation_type type;
	uint32_t padding;
};

struct vdm;

/* The data member of a vdm_operation_future. */
struct vdm_operation_data {
	void *data; /* the mover's per-operation state */
	struct vdm *vdm;
	struct vdm_operation operation;
};

struct vdm_operation_output_memcpy {
	void *dest;
};

struct vdm_operation_output_memmove {
	void *dest;
};

struct vdm_operation_output_memset {
	void *str;
};

struct vdm_operation_output_flush {
	uint64_t unused;
};

/* The output member of a vdm_operation_future. */
struct vdm_operation_output {
	enum vdm_operation_type type;
	enum vdm_operation_result result;
	union {
		struct vdm_operation_output_memcpy memcpy;
		struct vdm_operation_output_memmove memmove;
		struct vdm_operation_output_memset memset;
		struct vdm_operation_output_flush flush;
	} output;
};

FUTURE(vdm_operation_future, struct vdm_operation_data,
	struct vdm_operation_output);

/* Per-operation state for a new operation, or NULL when none can be had. */
typedef void *(*vdm_operation_new)(struct vdm *vdm,
	const enum vdm_operation_type type);

/* Starts the operation; nonzero means "not now, try again on next poll". */
typedef int (*vdm_operation_start)(void *data,
	const struct vdm_operation *operation, struct future_notifier *n);

typedef enum future_state (*vdm_operation_check)(void *data,
	const struct vdm_operation *operation);

/* Writes the output of a complete operation and releases its state. */
typedef void (*vdm_operation_delete)(void *data,
	const struct vdm_operation *operation,
	struct vdm_operation_output *output);

struct vdm {
	vdm_operation_new op_new;
	vdm_operation_delete op_delete;
	vdm_operation_start op_start;
	vdm_operation_check op_check;
	unsigned capabilities;
	future_has_property_fn has_property;
};

/* Nonzero when the mover has every capability bit asked for. */
static inline int
vdm_is_supported(struct vdm *vdm, unsigned capability)
{
	return (vdm->capabilities & capability) == capability;
}

/*
 * The library's task of vdm operation futures (since 0.4.0, symbol
 * version LIBMINIASYNC_1.1). The first poll starts the operation with
 * op_start, which gives the poll its promise; every poll then asks
 * op_check and, once the operation is complete, calls op_delete, which
 * writes the output. On later polls the library's own movers promise
 * again what they will do for that very notifier; other movers promise
 * nothing (the caller polls again). The task keeps nothing in the future.
 *
 * On ELF platforms with GNU C the header refers to it weakly, so that a
 * program or library built on these headers alone (a mover of its own,
 * as miniasync 0.2 allowed) links without libminiasync: its futures then
 * run vdm_operation_impl below. Where libminiasync is loaded, they run
 * this one (the reference has default visibility, so that it is bound at
 * load time even in code compiled with hidden visibility).
 */
#if defined(__ELF__) && defined(__GNUC__) && !defined(MINIASYNC_LIBRARY_BUILD)
#define VDM_OPERATION_TASK_WEAK 1
enum future_state vdm_operation_task(struct future_context *context,
	struct future_notifier *notifier)
	__attribute__((weak, visibility("default")));
#else
enum future_state vdm_operation_task(struct future_context *context,
	struct future_notifier *notifier);
#endif

/*
 * The task of vdm operation futures where libminiasync is not loaded:
 * miniasync 0.2's poll. The first poll starts the operation with
 * op_start, which gives that poll its promise; every poll asks op_check
 * and, once the operation is complete, calls op_delete, which writes the
 * output. Later polls promise nothing (the caller polls again).
 */
static inline enum future_state
vdm_operation_impl(struct future_context *context,
	struct future_notifier *notifier)
{
	struct vdm_operation_data *data =
		(struct vdm_operation_data *)future_context_get_data(context);
	struct vdm *vdm = data->vdm;
	enum future_state state;

	if (context->state == FUTURE_STATE_IDLE) {
		if (vdm->op_start(data->data, &data->operation, notifier) != 0)
			return FUTURE_STATE_IDLE;
	} else if (notifier != NULL) {
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;
	}
	state = vdm->op_check(data->data, &data->operation);
	if (state == FUTURE_STATE_COMPLETE)
		vdm->op_delete(data->data, &data->operation,
			(struct vdm_operation_output *)
			future_context_get_output(context));
	return state;
}

static inline void
vdm_set_has_property_fn(struct vdm_operation_future *future,
	future_has_property_fn has_property)
{
	future->base.has_property = has_property;
}

/*
 * Asks the mover for the operation's state: the future becomes IDLE, or
 * COMPLETE with VDM_ERROR_OUT_OF_MEMORY when the mover has none to give.
 */
static inline void
vdm_generic_operation(struct vdm *vdm, struct vdm_operation_future *future)
{
	future->data.vdm = vdm;
	future->output.type = future->data.operation.type;
	future->output.result = VDM_SUCCESS;
	future->output.output.memcpy.dest = NULL;
	future->data.data = vdm->op_new(vdm, future->data.operation.type);
	if (future->data.data == NULL) {
		FUTURE_INIT_COMPLETE(future);
		future->output.result = VDM_ERROR_OUT_OF_MEMORY;
		return;
	}
#ifdef VDM_OPERATION_TASK_WEAK
	if (vdm_operation_task == NULL) {
		FUTURE_INIT(future, vdm_operation_impl);
	} else {
		FUTURE_INIT(future, vdm_operation_task);
	}
#else
	FUTURE_INIT(future, vdm_operation_task);
#endif
	if (vdm->has_property != NULL)
		vdm_set_has_property_fn(future, vdm->has_property);
}

/* Copies n bytes from src to dest, which must not overlap. */
static inline struct vdm_operation_future
vdm_memcpy(struct vdm *vdm, void *dest, void *src, size_t n, uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_MEMCPY;
	future.data.operation.padding = 0;
	future.data.operation.data.memcpy.dest = dest;
	future.data.operation.data.memcpy.src = src;
	future.data.operation.data.memcpy.n = n;
	future.data.operation.data.memcpy.flags = flags;
	vdm_generic_operation(vdm, &future);
	return future;
}

/* Copies n bytes from src to dest, which may overlap. */
static inline struct vdm_operation_future
vdm_memmove(struct vdm *vdm, void *dest, void *src, size_t n, uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_MEMMOVE;
	future.data.operation.padding = 0;
	future.data.operation.data.memmove.dest = dest;
	future.data.operation.data.memmove.src = src;
	future.data.operation.data.memmove.n = n;
	future.data.operation.data.memmove.flags = flags;
	vdm_generic_operation(vdm, &future);
	return future;
}

/* Fills n bytes at str with the byte c. */
static inline struct vdm_operation_future
vdm_memset(struct vdm *vdm, void *str, int c, size_t n, uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_MEMSET;
	future.data.operation.padding = 0;
	future.data.operation.data.memset.str = str;
	future.data.operation.data.memset.c = c;
	future.data.operation.data.memset.n = n;
	future.data.operation.data.memset.flags = flags;
	vdm_generic_operation(vdm, &future);
	return future;
}

/* Writes the n bytes at dest back from the CPU caches. */
static inline struct vdm_operation_future
vdm_flush(struct vdm *vdm, void *dest, size_t n, uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_FLUSH;
	future.data.operation.padding = 0;
	future.data.operation.data.flush.dest = dest;
	future.data.operation.data.flush.n = n;
	future.data.operation.data.flush.flags = flags;
	vdm_generic_operation(vdm, &future);
	return future;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBMINIASYNC_VDM_H */
