/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_dsa.h -- the DSA mover: operations run by an Intel Data
 * Streaming Accelerator through a user work queue of the Linux idxd
 * driver, or by a model of such a queue inside the process ("emulated").
 */

#ifndef LIBMINIASYNC_DATA_MOVER_DSA_H
#define LIBMINIASYNC_DATA_MOVER_DSA_H 1

#include "future.h"
#include "vdm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct data_mover_dsa;

/*
 * wq: NULL (the first usable user work queue, on the calling thread's
 * NUMA node if one is there), a queue's name ("wq0.0") or device path
 * ("/dev/dsa/wq0.0"), or "emulated[:option=value,...]" (the model).
 * NULL with errno set on failure.
 */
struct data_mover_dsa *data_mover_dsa_new(const char *wq,
	enum future_notifier_type desired_notifier);

struct vdm *data_mover_dsa_get_vdm(struct data_mover_dsa *dmd);

/* Finishes every operation started, then frees the mover; NULL: no-op. */
void data_mover_dsa_delete(struct data_mover_dsa *dmd);

#ifdef __cplusplus
}
#endif

#endif /* LIBMINIASYNC_DATA_MOVER_DSA_H */
