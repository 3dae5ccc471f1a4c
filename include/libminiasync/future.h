/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * future.h -- poll-driven futures, notifiers and chains of futures.
 *
 * A future is a struct that starts with struct future and is followed by a
 * data member and an output member (see FUTURE()). Polling runs its task
 * once; the task advances the work and returns the new state. Everything
 * here is inline because programs define their own future types.
 */

#ifndef LIBMINIASYNC_FUTURE_H
#define LIBMINIASYNC_FUTURE_H 1

#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum future_state {
	FUTURE_STATE_IDLE = 0,
	FUTURE_STATE_COMPLETE = 1,
	FUTURE_STATE_RUNNING = 2
};

/* Describes the data and output members that follow it in a future. */
struct future_context {
	size_t data_size;
	size_t output_size;
	enum future_state state;
	uint32_t padding;
};

typedef void (*future_waker_wake_fn)(void *data);

struct future_waker {
	void *data;
	future_waker_wake_fn wake;
};

struct future_poller {
	uint64_t *ptr_to_monitor;
};

enum future_notifier_type {
	FUTURE_NOTIFIER_NONE = 0,
	FUTURE_NOTIFIER_WAKER = 1,
	FUTURE_NOTIFIER_POLLER = 2
};

/*
 * Handed to each poll by the poller. The task says in notifier_used how it
 * will signal progress: by calling the waker, by a nonzero word at
 * poller.ptr_to_monitor, or not at all (the caller must poll again).
 */
struct future_notifier {
	struct future_waker waker;
	struct future_poller poller;
	enum future_notifier_type notifier_used;
	uint32_t padding;
};

enum future_property {
	FUTURE_PROPERTY_ASYNC = 0
};

typedef enum future_state (*future_task_fn)(struct future_context *context,
	struct future_notifier *notifier);

typedef int (*future_has_property_fn)(void *future,
	enum future_property property);

struct future {
	future_task_fn task;
	future_has_property_fn has_property;
	struct future_context context;
};

typedef void (*future_map_fn)(struct future_context *lhs,
	struct future_context *rhs, void *arg);

typedef void (*future_init_fn)(void *future,
	struct future_context *chain_fut, void *arg);

/* The generic view of one entry of a chain (see FUTURE_CHAIN_ENTRY). */
struct future_chain_entry {
	future_map_fn map;
	void *map_arg;
	future_init_fn init;
	void *init_arg;
	uint64_t flags;
	struct future future;
};

/* The data member: it starts right after the context. */
static inline void *
future_context_get_data(struct future_context *context)
{
	return (char *)context + sizeof(struct future_context);
}

/* The output member: it follows the data member. */
static inline void *
future_context_get_output(struct future_context *context)
{
	return (char *)future_context_get_data(context) + context->data_size;
}

static inline size_t
future_context_get_size(struct future_context *context)
{
	return context->data_size + context->output_size;
}

/*
 * Runs the future's task once unless it is already complete, and returns
 * the state. The notifier, when given, starts each poll as NONE, so a task
 * that makes no promise is never taken for one that does.
 */
static inline enum future_state
future_poll(struct future *fut, struct future_notifier *notifier)
{
	if (fut->context.state != FUTURE_STATE_COMPLETE) {
		if (notifier != NULL)
			notifier->notifier_used = FUTURE_NOTIFIER_NONE;
		fut->context.state = fut->task(&fut->context, notifier);
	}
	return fut->context.state;
}

/* A future without a property function (a finished one) has none. */
static inline int
future_has_property(void *fut, enum future_property property)
{
	struct future *f = (struct future *)fut;

	if (f->has_property == NULL)
		return 0;
	return f->has_property(fut, property);
}

static inline int
future_has_property_default(void *future, enum future_property property)
{
	(void)future;
	(void)property;
	return 0;
}

/*
 * Spends a moment between two busy polls: the processor's spin-wait hint
 * (x86 pause, aarch64 yield, POWER "or 27,27,27"), elsewhere a yield of
 * the CPU to other threads.
 */
static inline void
future_cpu_pause(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
	__builtin_ia32_pause();
#elif defined(__GNUC__) && defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#elif defined(__GNUC__) && (defined(__powerpc__) || defined(__powerpc64__))
	__asm__ __volatile__("or 27,27,27" ::: "memory");
#else
	sched_yield();
#endif
}

#define FUTURE(_name, _data_type, _output_type)\
struct _name {\
	struct future base;\
	_data_type data;\
	_output_type output;\
}

/*
 * data_size reaches up to the output member, so that the output is found
 * at data + data_size even where the compiler pads between the two;
 * padding says how many of those bytes are the compiler's, so that
 * data_size - padding is sizeof(data) (a chain's walk ends its entries
 * there). Both are 0 extra bytes unless the output is aligned beyond
 * where the data ends.
 */
#define FUTURE_CONTEXT_SIZES_INIT_(_futurep) do {\
	(_futurep)->base.context.data_size = (size_t)\
		((char *)&(_futurep)->output - (char *)&(_futurep)->data);\
	(_futurep)->base.context.output_size = sizeof((_futurep)->output);\
	(_futurep)->base.context.padding = (uint32_t)\
		((_futurep)->base.context.data_size -\
		sizeof((_futurep)->data));\
} while (0)

#define FUTURE_INIT_EXT(_futurep, _taskfn, _propertyfn) do {\
	(_futurep)->base.task = (_taskfn);\
	(_futurep)->base.has_property = (_propertyfn);\
	(_futurep)->base.context.state = FUTURE_STATE_IDLE;\
	FUTURE_CONTEXT_SIZES_INIT_(_futurep);\
} while (0)

#define FUTURE_INIT(_futurep, _taskfn)\
	FUTURE_INIT_EXT(_futurep, _taskfn, future_has_property_default)

#define FUTURE_INIT_COMPLETE(_futurep) do {\
	(_futurep)->base.task = NULL;\
	(_futurep)->base.has_property = NULL;\
	(_futurep)->base.context.state = FUTURE_STATE_COMPLETE;\
	FUTURE_CONTEXT_SIZES_INIT_(_futurep);\
} while (0)

#define FUTURE_AS_RUNNABLE(_futurep) (&(_futurep)->base)
#define FUTURE_OUTPUT(_futurep) (&(_futurep)->output)
#define FUTURE_DATA(_futurep) (&(_futurep)->data)
#define FUTURE_STATE(_futurep) ((_futurep)->base.context.state)

#define FUTURE_BUSY_POLL(_futurep)\
	while (future_poll(FUTURE_AS_RUNNABLE(_futurep), NULL) !=\
			FUTURE_STATE_COMPLETE)\
		future_cpu_pause()

#define FUTURE_WAKER_WAKE(_wakerp) ((_wakerp)->wake((_wakerp)->data))

/* Chains: futures run one after another, each mapping into the next. */

#define FUTURE_CHAIN_FLAG_ENTRY_LAST (1 << 0)
#define FUTURE_CHAIN_FLAG_ENTRY_PROCESSED (1 << 1)
#define FUTURE_CHAIN_VALID_FLAGS\
	(FUTURE_CHAIN_FLAG_ENTRY_LAST | FUTURE_CHAIN_FLAG_ENTRY_PROCESSED)

enum future_chain_entry_type {
	FUTURE_CHAIN_ENTRY_REGULAR = 1,
	FUTURE_CHAIN_ENTRY_LAST = 2
};

/*
 * One entry: the leading members of struct future_chain_entry, then the
 * future. flags is declared as a pointer to an array whose length is the
 * entry type, so that sizeof(*entry->flags) tells the type at compile time;
 * at run time the member holds the flag bits.
 */
#define FUTURE_CHAIN_ENTRY_DECL_(_future_type, _name, _entry_type)\
struct {\
	future_map_fn map;\
	void *map_arg;\
	future_init_fn init;\
	void *init_arg;\
	uint8_t (*flags)[_entry_type];\
	_future_type fut;\
} _name

#define FUTURE_CHAIN_ENTRY(_future_type, _name)\
	FUTURE_CHAIN_ENTRY_DECL_(_future_type, _name,\
		FUTURE_CHAIN_ENTRY_REGULAR)

#define FUTURE_CHAIN_ENTRY_LAST(_future_type, _name)\
	FUTURE_CHAIN_ENTRY_DECL_(_future_type, _name, FUTURE_CHAIN_ENTRY_LAST)

/*
 * The flags member is read and written as the uint64_t it holds; memcpy
 * keeps that free of type punning whatever the entry's declared type.
 */
static inline uint64_t
future_chain_entry_flags_get(const void *flags_member)
{
	uint64_t flags;

	memcpy(&flags, flags_member, sizeof(flags));
	return flags;
}

static inline void
future_chain_entry_flags_set(void *flags_member, uint64_t flags)
{
	memcpy(flags_member, &flags, sizeof(flags));
}

#define FUTURE_CHAIN_ENTRY_FLAGS_INIT_(_entryp)\
	future_chain_entry_flags_set(&(_entryp)->flags,\
		sizeof(*(_entryp)->flags) == FUTURE_CHAIN_ENTRY_LAST ?\
		FUTURE_CHAIN_FLAG_ENTRY_LAST : 0)

#define FUTURE_CHAIN_ENTRY_INIT(_entryp, _fut, _map, _map_arg) do {\
	(_entryp)->fut = (_fut);\
	(_entryp)->map = (_map);\
	(_entryp)->map_arg = (_map_arg);\
	(_entryp)->init = NULL;\
	(_entryp)->init_arg = NULL;\
	FUTURE_CHAIN_ENTRY_FLAGS_INIT_(_entryp);\
} while (0)

#define FUTURE_CHAIN_ENTRY_LAZY_INIT(_entryp, _init, _init_arg, _map,\
		_map_arg) do {\
	(_entryp)->map = (_map);\
	(_entryp)->map_arg = (_map_arg);\
	(_entryp)->init = (_init);\
	(_entryp)->init_arg = (_init_arg);\
	FUTURE_CHAIN_ENTRY_FLAGS_INIT_(_entryp);\
} while (0)

#define FUTURE_CHAIN_ENTRY_IS_INITIALIZED(_entryp) ((_entryp)->init == NULL)

#define FUTURE_CHAIN_ENTRY_HAS_FLAG(_entryp, _flag)\
	((future_chain_entry_flags_get(&(_entryp)->flags) & (_flag)) != 0)
#define FUTURE_CHAIN_ENTRY_IS_LAST(_entryp)\
	FUTURE_CHAIN_ENTRY_HAS_FLAG(_entryp, FUTURE_CHAIN_FLAG_ENTRY_LAST)
#define FUTURE_CHAIN_ENTRY_IS_PROCESSED(_entryp)\
	FUTURE_CHAIN_ENTRY_HAS_FLAG(_entryp, FUTURE_CHAIN_FLAG_ENTRY_PROCESSED)

/* Builds the entry's future now if its lazy init is still pending. */
static inline void
future_chain_entry_init_pending(struct future_chain_entry *entry,
	struct future_context *chain)
{
	if (entry->init != NULL) {
		entry->init(&entry->future, chain, entry->init_arg);
		entry->init = NULL;
	}
}

/* Bytes one entry takes: header, its future's members, rounded to a word. */
static inline size_t
future_chain_entry_size(struct future_chain_entry *entry)
{
	size_t size = sizeof(struct future_chain_entry) +
		future_context_get_size(&entry->future.context);

	return (size + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

/*
 * The entry after the one at byte offset 'used' of size 'size', or NULL
 * when that one ends the chain: it is flagged LAST, or what is left of the
 * entries cannot hold one more. The entries end where the data member
 * does: data_size less the compiler's padding before an over-aligned
 * output, which FUTURE_INIT records in the context's padding (0 from
 * 0.2's headers, whose data_size counts no padding), so the walk never
 * takes that padding for an entry, whatever it holds.
 */
static inline struct future_chain_entry *
future_chain_entry_next(struct future_context *chain,
	struct future_chain_entry *entry, size_t used, size_t size)
{
	size_t end = chain->data_size;

	if (chain->padding <= end)
		end -= chain->padding;
	if (FUTURE_CHAIN_ENTRY_IS_LAST(entry) || used + size > end ||
			end - (used + size) < sizeof(struct future_chain_entry))
		return NULL;
	return (struct future_chain_entry *)(void *)((char *)entry + size);
}

/* The task of a chained future: advances its entries in order. */
static inline enum future_state
future_chain_task(struct future_context *context,
	struct future_notifier *notifier)
{
	struct future_chain_entry *entry = (struct future_chain_entry *)
		future_context_get_data(context);
	size_t used = 0;

	while (entry != NULL) {
		future_chain_entry_init_pending(entry, context);
		size_t size = future_chain_entry_size(entry);
		struct future_chain_entry *next =
			future_chain_entry_next(context, entry, used, size);

		if (!FUTURE_CHAIN_ENTRY_IS_PROCESSED(entry)) {
			if (future_poll(&entry->future, notifier) !=
					FUTURE_STATE_COMPLETE)
				return FUTURE_STATE_RUNNING;
			if (next != NULL)
				future_chain_entry_init_pending(next, context);
			if (entry->map != NULL)
				entry->map(&entry->future.context,
					next != NULL ? &next->future.context :
					context, entry->map_arg);
			entry->flags |= FUTURE_CHAIN_FLAG_ENTRY_PROCESSED;
		}
		used += size;
		entry = next;
	}
	return FUTURE_STATE_COMPLETE;
}

/*
 * The property of a chain is that of its first unprocessed entry (0 while
 * that entry is not built yet), or -1 once every entry is processed.
 */
static inline int
future_chain_has_property(void *future, enum future_property property)
{
	struct future_context *context = &((struct future *)future)->context;
	struct future_chain_entry *entry = (struct future_chain_entry *)
		future_context_get_data(context);
	size_t used = 0;

	while (entry != NULL) {
		if (!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(entry))
			return 0;
		size_t size = future_chain_entry_size(entry);

		if (!FUTURE_CHAIN_ENTRY_IS_PROCESSED(entry))
			return future_has_property(&entry->future, property);
		entry = future_chain_entry_next(context, entry, used, size);
		used += size;
	}
	return -1;
}

/*
 * A chain's task finds its entries right after the context, where the
 * data member is only if its type needs no alignment stricter than what
 * divides sizeof(struct future) (8 bytes): with a field such as a long
 * double after the entries, the walk would read the entries shifted and
 * call through garbage. With GNU C such a chain does not compile: the
 * array below gets a negative size.
 */
#if defined(__GNUC__)
#define FUTURE_CHAIN_DATA_ALIGN_CHECK_(_futurep)\
	((void)sizeof(char[sizeof(struct future) %\
		__alignof__((_futurep)->data) == 0 ? 1 : -1]))
#else
#define FUTURE_CHAIN_DATA_ALIGN_CHECK_(_futurep) ((void)0)
#endif

#define FUTURE_CHAIN_INIT(_futurep) do {\
	FUTURE_CHAIN_DATA_ALIGN_CHECK_(_futurep);\
	FUTURE_INIT_EXT(_futurep, future_chain_task,\
		future_chain_has_property);\
} while (0)

#ifdef __cplusplus
}
#endif

#endif /* LIBMINIASYNC_FUTURE_H */
