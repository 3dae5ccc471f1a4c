/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_wq.c -- real DSA work queues (not yet: none is found).
 */

#include <errno.h>
#include <stddef.h>

#include "dsa_hw.h"

struct ma_dsa_wq *
ma_dsa_wq_open(const char *name)
{
	errno = name == NULL ? ENODEV : ENOENT;
	return NULL;
}
