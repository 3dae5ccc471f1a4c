/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_dml.c -- libminiasync-vdm-dml: 0.2's DML mover on the
 * library's own movers. SOFTWARE is the synchronous mover (the CPU, in
 * the polling thread, as DML's software path was); HARDWARE is the DSA
 * mover on the first usable work queue, with the NONE notifier 0.2
 * promised (a poll checks the job); AUTO is HARDWARE where a queue is
 * found, else SOFTWARE. The vdm handed out is the inner mover's.
 */

#include <errno.h>
#include <stdlib.h>

#include <libminiasync.h>

#include "libminiasync-vdm-dml.h"

#define DML_EXPORT __attribute__((visibility("default")))

struct data_mover_dml {
	struct data_mover_sync *sync;
	struct data_mover_dsa *dsa;
};

DML_EXPORT struct data_mover_dml *
data_mover_dml_new(enum data_mover_dml_type type)
{
	struct data_mover_dml *dmd;

	if (type != DATA_MOVER_DML_SOFTWARE &&
			type != DATA_MOVER_DML_HARDWARE &&
			type != DATA_MOVER_DML_AUTO) {
		errno = EINVAL;
		return NULL;
	}
	dmd = calloc(1, sizeof(*dmd));
	if (dmd == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (type != DATA_MOVER_DML_SOFTWARE) {
		dmd->dsa = data_mover_dsa_new(NULL, FUTURE_NOTIFIER_NONE);
		if (dmd->dsa != NULL)
			return dmd;
		if (type == DATA_MOVER_DML_HARDWARE) {
			int err = errno;

			free(dmd);
			errno = err;
			return NULL;
		}
	}
	dmd->sync = data_mover_sync_new();
	if (dmd->sync == NULL) {
		free(dmd);
		errno = ENOMEM;
		return NULL;
	}
	return dmd;
}

DML_EXPORT struct vdm *
data_mover_dml_get_vdm(struct data_mover_dml *dmd)
{
	return dmd->dsa != NULL ? data_mover_dsa_get_vdm(dmd->dsa) :
		data_mover_sync_get_vdm(dmd->sync);
}

DML_EXPORT void
data_mover_dml_delete(struct data_mover_dml *dmd)
{
	if (dmd == NULL)
		return;
	data_mover_dsa_delete(dmd->dsa);
	data_mover_sync_delete(dmd->sync);
	free(dmd);
}
