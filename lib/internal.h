/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * internal.h -- what every source file of the library shares: the export
 * marker and small helpers. Internal non-static names start with ma_.
 */

#ifndef MA_INTERNAL_H
#define MA_INTERNAL_H 1

/* Marks a definition as part of the public interface. */
#define MA_EXPORT __attribute__((visibility("default")))

#define MA_CACHELINE 64

#endif /* MA_INTERNAL_H */
