/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_mover.h -- the DSA mover's poll, for the vdm task's interface of
 * the library's movers, and its queue, for white-box tests.
 */

#ifndef MA_DSA_MOVER_H
#define MA_DSA_MOVER_H 1

#include "dsa_hw.h"
#include "libminiasync/data_mover_dsa.h"

/*
 * Polls a started operation of the DSA mover: moves it on (NONE and
 * POLLER movers), returns its state, and writes in n (may be NULL) the
 * promise the mover makes to that very notifier.
 */
enum future_state ma_dsa_poll(void *op, struct future_notifier *n);

/* The mover's work queue (tests reach the model through it). */
struct ma_dsa_wq *ma_dsa_mover_wq(struct data_mover_dsa *dmd);

/*
 * Nonzero when the watcher of a WAKER mover on a dedicated queue holds
 * operations short of an entry (new ones then queue behind them).
 */
int ma_dsa_mover_short_of_entries(struct data_mover_dsa *dmd);

/* Nonzero when the processor has UMONITOR/UMWAIT (x86-64 WAITPKG). */
int ma_dsa_have_waitpkg(void);

#endif /* MA_DSA_MOVER_H */
