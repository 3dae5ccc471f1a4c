/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * libminiasync.h -- asynchronous memory operations: futures, the virtual
 * data mover, its synchronous, threads and DSA movers, and the runtime.
 */

#ifndef LIBMINIASYNC_H
#define LIBMINIASYNC_H 1

#include "libminiasync/future.h"
#include "libminiasync/vdm.h"
#include "libminiasync/runtime.h"
#include "libminiasync/data_mover_sync.h"
#include "libminiasync/data_mover_threads.h"
#include "libminiasync/data_mover_dsa.h"

#endif /* LIBMINIASYNC_H */
