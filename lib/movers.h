/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * movers.h -- what the library's movers and its runtime tell each other:
 * the vdm future task (vdm.c) recognises the library's own movers by
 * their callbacks and asks them for more than struct vdm can say (struct
 * ma_mover_ops), and the threads mover signals the runtime (runtime.c).
 */

#ifndef MA_MOVERS_H
#define MA_MOVERS_H 1

#include "libminiasync/vdm.h"

/*
 * One of the library's movers as the vdm task (vdm.c) sees it. A future
 * is recognised as one of its operations when the vdm's three callbacks
 * are these (a user who replaced one gets the generic poll of struct
 * vdm's callbacks). Then each poll of the future is one call of poll:
 * with first set (the future is IDLE) it starts the operation, or
 * returns FUTURE_STATE_IDLE when it cannot now; it returns the state,
 * promises in n (may be NULL) what the mover will do for that very
 * notifier, and on COMPLETE writes output and releases the operation's
 * state, as op_delete does. Adding a mover adds its table to ma_movers
 * (vdm.c) and no code to the task.
 */
struct ma_mover_ops {
	vdm_operation_start op_start;
	vdm_operation_check op_check;
	vdm_operation_delete op_delete;
	enum future_state (*poll)(void *data,
		const struct vdm_operation *operation, int first,
		struct future_notifier *n, struct vdm_operation_output *output);
};

/*
 * Makes the object of each library mover refer strongly to the library's
 * task: a static link (libminiasync.a) then pulls lib/vdm.c in, where the
 * headers' weak references alone would not, and the mover's futures get
 * the library's task, not the header's.
 */
#ifndef VDM_OPERATION_TASK_WEAK
#define MA_KEEP_LIBRARY_TASK(name) \
	__attribute__((used)) static const future_task_fn name = \
		vdm_operation_task
#else
#define MA_KEEP_LIBRARY_TASK(name) \
	_Static_assert(0, "build the library with -DMINIASYNC_LIBRARY_BUILD")
#endif

extern const struct ma_mover_ops ma_sync_mover_ops; /* data_mover_sync.c */
extern const struct ma_mover_ops ma_threads_mover_ops; /* ..._threads.c */
extern const struct ma_mover_ops ma_dsa_mover_ops; /* data_mover_dsa.c */

/* The synchronous mover's callbacks (data_mover_sync.c). */
int ma_sync_op_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n);
enum future_state ma_sync_op_check(void *data,
	const struct vdm_operation *operation);
void ma_sync_op_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output);

/* The threads mover's op_check (data_mover_threads.c). */
enum future_state ma_threads_op_check(void *data,
	const struct vdm_operation *operation);

/*
 * Polls a started operation of the threads mover: its state, and in n
 * (may be NULL) the promise the mover makes to that very notifier.
 */
enum future_state ma_threads_poll(void *data, struct future_notifier *n);

struct data_mover_threads;

/* How many job records the mover's pool holds, free or in use. */
size_t ma_threads_pool_records(struct data_mover_threads *dmt);

/* The runtime's waker (runtime.c). */
void ma_runtime_wake(void *data);

/*
 * The POLLER promise a library mover made in the poll that made it, for
 * the runtime, which clears .word before each poll and takes a promise
 * for the library's own only when the word it finally gets is .word; so
 * a future that polls a copy and then promises a word of its own is not
 * taken for the library's. Two kinds:
 * - due_ns == 0: the word's writer calls ma_poller_signal() after
 *   setting it (the threads mover);
 * - due_ns != 0: a device writes it and nobody signals; it is expected
 *   at about due_ns (ma_now_ns() time), so a waiter sleeps until shortly
 *   before then and watches the word after (the DSA mover).
 * Thread-local, in the initial-exec model (the library is linked by its
 * programs).
 */
struct ma_promised_word {
	uint64_t *word;
	uint64_t due_ns;
};

extern _Thread_local __attribute__((tls_model("initial-exec")))
	struct ma_promised_word ma_promised;

/*
 * Waiting for a device's word (due_ns above): sleep only when it is due
 * further ahead than MA_DEVICE_SLEEP_AHEAD_NS, and then until
 * MA_DEVICE_WAKE_EARLY_NS before it (a timed sleep may overrun by the
 * thread's timer slack, 50 us by default); then watch it until
 * MA_DEVICE_SPIN_NS past its due time; a device later than that is
 * watched with sleeps from MA_DEVICE_BACKOFF_MIN_NS, doubling up to
 * MA_DEVICE_BACKOFF_MAX_NS.
 */
#define MA_DEVICE_SLEEP_AHEAD_NS 100000
#define MA_DEVICE_WAKE_EARLY_NS 60000
#define MA_DEVICE_SPIN_NS 20000
#define MA_DEVICE_BACKOFF_MIN_NS 4000
#define MA_DEVICE_BACKOFF_MAX_NS 200000

/* How long a watch of a device's word due at due_ns lasts from now. */
static inline uint64_t
ma_device_spin_ns(uint64_t due_ns, uint64_t now)
{
	return due_ns > now ? due_ns - now + MA_DEVICE_SPIN_NS :
		MA_DEVICE_SPIN_NS;
}

/* Called after a library mover set a POLLER word: wakes its watchers. */
void ma_poller_signal(void);

#endif /* MA_MOVERS_H */
