/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * runtime.h -- waits for futures to complete without burning CPU: it
 * sleeps while every pending future has promised a wake-up.
 */

#ifndef LIBMINIASYNC_RUNTIME_H
#define LIBMINIASYNC_RUNTIME_H 1

#include <stddef.h>

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

struct runtime;

struct runtime *runtime_new(void);

void runtime_delete(struct runtime *runtime);

void runtime_wait(struct runtime *runtime, struct future *fut);

void runtime_wait_multiple(struct runtime *runtime, struct future *futs[],
	size_t nfuts);

#ifdef __cplusplus
}
#endif

#endif /* LIBMINIASYNC_RUNTIME_H */
