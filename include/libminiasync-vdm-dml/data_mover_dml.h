/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * data_mover_dml.h -- the DML data mover of miniasync 0.2: SOFTWARE runs
 * operations on the CPU, HARDWARE on a DSA work queue, AUTO on DSA when
 * there is one, else on the CPU.
 */

#ifndef LIBMINIASYNC_VDM_DML_DATA_MOVER_DML_H
#define LIBMINIASYNC_VDM_DML_DATA_MOVER_DML_H 1

#include <libminiasync/vdm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct data_mover_dml;

enum data_mover_dml_type {
	DATA_MOVER_DML_SOFTWARE,
	DATA_MOVER_DML_HARDWARE,
	DATA_MOVER_DML_AUTO
};

struct data_mover_dml *data_mover_dml_new(enum data_mover_dml_type type);

struct vdm *data_mover_dml_get_vdm(struct data_mover_dml *dmd);

void data_mover_dml_delete(struct data_mover_dml *dmd);

#ifdef __cplusplus
}
#endif

#endif /* LIBMINIASYNC_VDM_DML_DATA_MOVER_DML_H */
