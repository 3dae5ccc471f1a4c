/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * libminiasync-vdm-dml.h -- miniasync 0.2's DML data mover, kept for the
 * programs written for it (link with -lminiasync-vdm-dml -lminiasync).
 * It no longer needs Intel's DML: the hardware path is the DSA mover.
 */

#ifndef LIBMINIASYNC_VDM_DML_H
#define LIBMINIASYNC_VDM_DML_H 1

#include "libminiasync-vdm-dml/data_mover_dml.h"

#endif /* LIBMINIASYNC_VDM_DML_H */
