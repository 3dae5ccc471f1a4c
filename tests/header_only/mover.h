/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/* mover.h -- the header-only mover's two entry points (mover.c). */

#ifndef HEADER_ONLY_MOVER_H
#define HEADER_ONLY_MOVER_H 1

/* Runs each operation on the mover; 0 when all is as promised. */
int own_mover_run(void);

/* Which task the futures got: "inline", "library" or "unknown". */
const char *own_mover_task(void);

#endif
