/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * vdm.c -- tests of vdm.h and of the layouts of future.h: every struct
 * and value the binary interface fixes (checked at compile time where a
 * mismatch must stop the build, and at run time with the values printed),
 * then the inline operation constructors and the poll of a vdm operation
 * future, driven by a fake mover that counts its callbacks, and
 * vdm_is_supported.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include <libminiasync.h>

#define TIMEOUT 10 /* seconds, per test */

/* Types of the callbacks and members, which must match exactly. */
#define SAME_TYPE(_expr, _type) _Generic((_expr), _type: 1, default: 0)

_Static_assert(SAME_TYPE((future_waker_wake_fn)0, void (*)(void *)),
	"future_waker_wake_fn");
_Static_assert(SAME_TYPE((future_task_fn)0, enum future_state (*)(
	struct future_context *, struct future_notifier *)),
	"future_task_fn");
_Static_assert(SAME_TYPE((future_has_property_fn)0,
	int (*)(void *, enum future_property)), "future_has_property_fn");
_Static_assert(SAME_TYPE((future_map_fn)0, void (*)(struct future_context *,
	struct future_context *, void *)), "future_map_fn");
_Static_assert(SAME_TYPE((future_init_fn)0, void (*)(void *,
	struct future_context *, void *)), "future_init_fn");
_Static_assert(SAME_TYPE((vdm_operation_new)0, void *(*)(struct vdm *,
	const enum vdm_operation_type)), "vdm_operation_new");
_Static_assert(SAME_TYPE((vdm_operation_start)0, int (*)(void *,
	const struct vdm_operation *, struct future_notifier *)),
	"vdm_operation_start");
_Static_assert(SAME_TYPE((vdm_operation_check)0, enum future_state (*)(
	void *, const struct vdm_operation *)), "vdm_operation_check");
_Static_assert(SAME_TYPE((vdm_operation_delete)0, void (*)(void *,
	const struct vdm_operation *, struct vdm_operation_output *)),
	"vdm_operation_delete");

_Static_assert(SAME_TYPE(((struct future_context *)0)->data_size, size_t),
	"future_context.data_size");
_Static_assert(SAME_TYPE(((struct future_context *)0)->padding, uint32_t),
	"future_context.padding");
_Static_assert(SAME_TYPE(((struct future_poller *)0)->ptr_to_monitor,
	uint64_t *), "future_poller.ptr_to_monitor");
_Static_assert(SAME_TYPE(((struct future_chain_entry *)0)->flags, uint64_t),
	"future_chain_entry.flags");
_Static_assert(SAME_TYPE(((struct vdm_operation_data_memcpy *)0)->flags,
	uint64_t), "vdm_operation_data_memcpy.flags");
_Static_assert(SAME_TYPE(((struct vdm_operation_data_memset *)0)->c, int),
	"vdm_operation_data_memset.c");
_Static_assert(SAME_TYPE(((struct vdm_operation_data_flush *)0)->n, size_t),
	"vdm_operation_data_flush.n");
_Static_assert(SAME_TYPE(((struct vdm *)0)->capabilities, unsigned),
	"vdm.capabilities");
_Static_assert(SAME_TYPE(((struct vdm *)0)->has_property,
	future_has_property_fn), "vdm.has_property");
_Static_assert(SAME_TYPE(((struct vdm_operation_output_flush *)0)->unused,
	uint64_t), "vdm_operation_output_flush.unused");

/* The sizes the binary interface is known by. */
_Static_assert(VDM_OPERATION_DATA_MAX_SIZE == 40, "max operation data");
#if defined(__LP64__)
_Static_assert(sizeof(struct future_context) == 24, "future_context");
_Static_assert(sizeof(struct future_notifier) == 32, "future_notifier");
_Static_assert(sizeof(struct future) == 40, "future");
_Static_assert(sizeof(struct future_chain_entry) == 80, "chain entry");
_Static_assert(sizeof(struct vdm_operation) == 48, "vdm_operation");
_Static_assert(sizeof(struct vdm_operation_data) == 64,
	"vdm_operation_data");
_Static_assert(sizeof(struct vdm_operation_output) == 16,
	"vdm_operation_output");
_Static_assert(sizeof(struct vdm_operation_future) == 120,
	"vdm_operation_future");
_Static_assert(sizeof(struct vdm) == 48, "vdm");
#endif

/* One layout fact: a size or an offset, what it is and what it must be. */
struct layout_fact {
	const char *what;
	size_t got;
	size_t want;
};

#define SIZE_IS(_type, _want) { "sizeof(" #_type ")", sizeof(_type), _want }
#define OFFSET_IS(_type, _member, _want)\
	{ "offsetof(" #_type ", " #_member ")", offsetof(_type, _member),\
		_want }
#define MEMBER_SIZE_IS(_type, _member, _want)\
	{ "sizeof(" #_type "." #_member ")", sizeof(((_type *)0)->_member),\
		_want }

static void
check_facts(const struct layout_fact *facts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(facts[i].got == facts[i].want,
			"%s is %zu, must be %zu", facts[i].what,
			facts[i].got, facts[i].want);
	}
}

#define CHECK_FACTS(_facts) check_facts(_facts, sizeof(_facts) /\
	sizeof((_facts)[0]))

/* A chain entry as user code declares it, to check it against the API. */
struct entry_holder {
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, regular);
	FUTURE_CHAIN_ENTRY_LAST(struct vdm_operation_future, last);
};

#if defined(__LP64__)
START_TEST(test_layout_future)
{
	static const struct layout_fact facts[] = {
		SIZE_IS(enum future_state, 4),
		SIZE_IS(struct future_context, 24),
		OFFSET_IS(struct future_context, data_size, 0),
		OFFSET_IS(struct future_context, output_size, 8),
		OFFSET_IS(struct future_context, state, 16),
		OFFSET_IS(struct future_context, padding, 20),
		SIZE_IS(struct future_waker, 16),
		OFFSET_IS(struct future_waker, data, 0),
		OFFSET_IS(struct future_waker, wake, 8),
		SIZE_IS(struct future_poller, 8),
		OFFSET_IS(struct future_poller, ptr_to_monitor, 0),
		SIZE_IS(enum future_notifier_type, 4),
		SIZE_IS(struct future_notifier, 32),
		OFFSET_IS(struct future_notifier, waker, 0),
		OFFSET_IS(struct future_notifier, poller, 16),
		OFFSET_IS(struct future_notifier, notifier_used, 24),
		OFFSET_IS(struct future_notifier, padding, 28),
		SIZE_IS(enum future_property, 4),
		SIZE_IS(struct future, 40),
		OFFSET_IS(struct future, task, 0),
		OFFSET_IS(struct future, has_property, 8),
		OFFSET_IS(struct future, context, 16),
		SIZE_IS(struct future_chain_entry, 80),
		OFFSET_IS(struct future_chain_entry, map, 0),
		OFFSET_IS(struct future_chain_entry, map_arg, 8),
		OFFSET_IS(struct future_chain_entry, init, 16),
		OFFSET_IS(struct future_chain_entry, init_arg, 24),
		OFFSET_IS(struct future_chain_entry, flags, 32),
		OFFSET_IS(struct future_chain_entry, future, 40),
		/* a declared entry lines up with struct future_chain_entry */
		OFFSET_IS(struct entry_holder, regular.map, 0),
		OFFSET_IS(struct entry_holder, regular.map_arg, 8),
		OFFSET_IS(struct entry_holder, regular.init, 16),
		OFFSET_IS(struct entry_holder, regular.init_arg, 24),
		OFFSET_IS(struct entry_holder, regular.flags, 32),
		MEMBER_SIZE_IS(struct entry_holder, regular.flags, 8),
		OFFSET_IS(struct entry_holder, regular.fut, 40),
		MEMBER_SIZE_IS(struct entry_holder, regular, 160),
		OFFSET_IS(struct entry_holder, last, 160),
		OFFSET_IS(struct entry_holder, last.flags, 160 + 32),
		OFFSET_IS(struct entry_holder, last.fut, 160 + 40),
		MEMBER_SIZE_IS(struct entry_holder, last, 160),
	};

	CHECK_FACTS(facts);
}
END_TEST

START_TEST(test_layout_vdm)
{
	static const struct layout_fact facts[] = {
		SIZE_IS(enum vdm_operation_type, 4),
		SIZE_IS(enum vdm_operation_result, 4),
		SIZE_IS(struct vdm_operation_data_memcpy, 32),
		OFFSET_IS(struct vdm_operation_data_memcpy, dest, 0),
		OFFSET_IS(struct vdm_operation_data_memcpy, src, 8),
		OFFSET_IS(struct vdm_operation_data_memcpy, n, 16),
		OFFSET_IS(struct vdm_operation_data_memcpy, flags, 24),
		SIZE_IS(struct vdm_operation_data_memmove, 32),
		OFFSET_IS(struct vdm_operation_data_memmove, dest, 0),
		OFFSET_IS(struct vdm_operation_data_memmove, src, 8),
		OFFSET_IS(struct vdm_operation_data_memmove, n, 16),
		OFFSET_IS(struct vdm_operation_data_memmove, flags, 24),
		SIZE_IS(struct vdm_operation_data_memset, 32),
		OFFSET_IS(struct vdm_operation_data_memset, str, 0),
		OFFSET_IS(struct vdm_operation_data_memset, c, 8),
		OFFSET_IS(struct vdm_operation_data_memset, n, 16),
		OFFSET_IS(struct vdm_operation_data_memset, flags, 24),
		SIZE_IS(struct vdm_operation_data_flush, 24),
		OFFSET_IS(struct vdm_operation_data_flush, dest, 0),
		OFFSET_IS(struct vdm_operation_data_flush, n, 8),
		OFFSET_IS(struct vdm_operation_data_flush, flags, 16),
		SIZE_IS(struct vdm_operation, 48),
		OFFSET_IS(struct vdm_operation, data, 0),
		MEMBER_SIZE_IS(struct vdm_operation, data, 40),
		OFFSET_IS(struct vdm_operation, data.memcpy, 0),
		OFFSET_IS(struct vdm_operation, data.memmove, 0),
		OFFSET_IS(struct vdm_operation, data.memset, 0),
		OFFSET_IS(struct vdm_operation, data.flush, 0),
		OFFSET_IS(struct vdm_operation, data.data, 0),
		MEMBER_SIZE_IS(struct vdm_operation, data.data, 40),
		OFFSET_IS(struct vdm_operation, type, 40),
		OFFSET_IS(struct vdm_operation, padding, 44),
		SIZE_IS(struct vdm_operation_data, 64),
		OFFSET_IS(struct vdm_operation_data, data, 0),
		OFFSET_IS(struct vdm_operation_data, vdm, 8),
		OFFSET_IS(struct vdm_operation_data, operation, 16),
		SIZE_IS(struct vdm_operation_output_memcpy, 8),
		SIZE_IS(struct vdm_operation_output_memmove, 8),
		SIZE_IS(struct vdm_operation_output_memset, 8),
		SIZE_IS(struct vdm_operation_output_flush, 8),
		SIZE_IS(struct vdm_operation_output, 16),
		OFFSET_IS(struct vdm_operation_output, type, 0),
		OFFSET_IS(struct vdm_operation_output, result, 4),
		OFFSET_IS(struct vdm_operation_output, output, 8),
		OFFSET_IS(struct vdm_operation_output, output.memcpy.dest, 8),
		OFFSET_IS(struct vdm_operation_output, output.memmove.dest, 8),
		OFFSET_IS(struct vdm_operation_output, output.memset.str, 8),
		OFFSET_IS(struct vdm_operation_output, output.flush.unused, 8),
		SIZE_IS(struct vdm_operation_future, 120),
		OFFSET_IS(struct vdm_operation_future, base, 0),
		OFFSET_IS(struct vdm_operation_future, data, 40),
		OFFSET_IS(struct vdm_operation_future, output, 104),
		SIZE_IS(struct vdm, 48),
		OFFSET_IS(struct vdm, op_new, 0),
		OFFSET_IS(struct vdm, op_delete, 8),
		OFFSET_IS(struct vdm, op_start, 16),
		OFFSET_IS(struct vdm, op_check, 24),
		OFFSET_IS(struct vdm, capabilities, 32),
		OFFSET_IS(struct vdm, has_property, 40),
	};

	CHECK_FACTS(facts);
}
END_TEST
#endif /* __LP64__ */

/* Every enum value and flag the interface names. */
START_TEST(test_values)
{
	static const struct layout_fact facts[] = {
		{ "FUTURE_STATE_IDLE", FUTURE_STATE_IDLE, 0 },
		{ "FUTURE_STATE_COMPLETE", FUTURE_STATE_COMPLETE, 1 },
		{ "FUTURE_STATE_RUNNING", FUTURE_STATE_RUNNING, 2 },
		{ "FUTURE_NOTIFIER_NONE", FUTURE_NOTIFIER_NONE, 0 },
		{ "FUTURE_NOTIFIER_WAKER", FUTURE_NOTIFIER_WAKER, 1 },
		{ "FUTURE_NOTIFIER_POLLER", FUTURE_NOTIFIER_POLLER, 2 },
		{ "FUTURE_PROPERTY_ASYNC", FUTURE_PROPERTY_ASYNC, 0 },
		{ "FUTURE_CHAIN_FLAG_ENTRY_LAST",
			FUTURE_CHAIN_FLAG_ENTRY_LAST, 1 },
		{ "FUTURE_CHAIN_FLAG_ENTRY_PROCESSED",
			FUTURE_CHAIN_FLAG_ENTRY_PROCESSED, 2 },
		{ "FUTURE_CHAIN_VALID_FLAGS", FUTURE_CHAIN_VALID_FLAGS, 3 },
		{ "FUTURE_CHAIN_ENTRY_REGULAR", FUTURE_CHAIN_ENTRY_REGULAR, 1 },
		{ "FUTURE_CHAIN_ENTRY_LAST", FUTURE_CHAIN_ENTRY_LAST, 2 },
		{ "VDM_OPERATION_MEMCPY", VDM_OPERATION_MEMCPY, 0 },
		{ "VDM_OPERATION_MEMMOVE", VDM_OPERATION_MEMMOVE, 1 },
		{ "VDM_OPERATION_MEMSET", VDM_OPERATION_MEMSET, 2 },
		{ "VDM_OPERATION_FLUSH", VDM_OPERATION_FLUSH, 3 },
		{ "VDM_SUCCESS", VDM_SUCCESS, 0 },
		{ "VDM_ERROR_OUT_OF_MEMORY", VDM_ERROR_OUT_OF_MEMORY, 1 },
		{ "VDM_ERROR_JOB_CORRUPTED", VDM_ERROR_JOB_CORRUPTED, 2 },
		{ "VDM_F_MEM_DURABLE", VDM_F_MEM_DURABLE, 1 },
		{ "VDM_F_NO_CACHE_HINT", VDM_F_NO_CACHE_HINT, 2 },
		{ "VDM_F_VALID_FLAGS", VDM_F_VALID_FLAGS, 3 },
		{ "VDM_OPERATION_DATA_MAX_SIZE", VDM_OPERATION_DATA_MAX_SIZE,
			40 },
	};

	CHECK_FACTS(facts);

	/* the biggest operation fits in the raw bytes of the union */
	ck_assert_uint_le(sizeof(struct vdm_operation_data_memcpy),
		VDM_OPERATION_DATA_MAX_SIZE);
	ck_assert_uint_le(sizeof(struct vdm_operation_data_memset),
		VDM_OPERATION_DATA_MAX_SIZE);

	/* the entry kind shows in the size of what flags points to */
	struct entry_holder holder;

	ck_assert_uint_eq(sizeof(*holder.regular.flags),
		FUTURE_CHAIN_ENTRY_REGULAR);
	ck_assert_uint_eq(sizeof(*holder.last.flags), FUTURE_CHAIN_ENTRY_LAST);
}
END_TEST

/*
 * A fake mover with one operation slot. Every callback counts its calls
 * and remembers its arguments; knobs make op_new fail, op_start refuse and
 * op_check report RUNNING a given number of times.
 */
struct fake_mover;

struct fake_op {
	struct fake_mover *mover;
	int live; /* handed out by op_new, not yet deleted */
};

struct fake_mover {
	struct vdm vdm; /* first: op_new finds the mover from it */
	int fail_new;
	unsigned refuse_starts;
	unsigned running_checks;
	enum vdm_operation_result delete_result;

	unsigned news, starts, checks, deletes, props;
	enum vdm_operation_type new_type;
	const struct vdm_operation *start_op, *check_op, *delete_op;
	struct vdm_operation started; /* a copy of what op_start saw */
	struct future_notifier *start_notifier;
	struct vdm_operation_output *delete_output;
	void *prop_future;
	void *start_data, *check_data, *delete_data;

	struct fake_op op;
};

static struct fake_mover fake;

static void *
fake_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	struct fake_mover *m = (struct fake_mover *)vdm;

	m->news++;
	m->new_type = type;
	if (m->fail_new)
		return NULL;
	m->op.mover = m;
	m->op.live = 1;
	return &m->op;
}

static int
fake_start(void *data, const struct vdm_operation *operation,
	struct future_notifier *n)
{
	struct fake_op *op = data;
	struct fake_mover *m = op->mover;

	m->starts++;
	m->start_data = data;
	m->start_op = operation;
	m->started = *operation;
	m->start_notifier = n;
	if (m->refuse_starts > 0) {
		m->refuse_starts--;
		return 1;
	}
	return 0;
}

static enum future_state
fake_check(void *data, const struct vdm_operation *operation)
{
	struct fake_op *op = data;
	struct fake_mover *m = op->mover;

	m->checks++;
	m->check_data = data;
	m->check_op = operation;
	if (m->running_checks > 0) {
		m->running_checks--;
		return FUTURE_STATE_RUNNING;
	}
	return FUTURE_STATE_COMPLETE;
}

/* Writes the output as a real mover would, with the result it is told. */
static void
fake_delete(void *data, const struct vdm_operation *operation,
	struct vdm_operation_output *output)
{
	struct fake_op *op = data;
	struct fake_mover *m = op->mover;

	m->deletes++;
	m->delete_data = data;
	m->delete_op = operation;
	m->delete_output = output;
	op->live = 0;
	output->type = operation->type;
	output->result = m->delete_result;
	switch (operation->type) {
	case VDM_OPERATION_MEMCPY:
		output->output.memcpy.dest = operation->data.memcpy.dest;
		break;
	case VDM_OPERATION_MEMMOVE:
		output->output.memmove.dest = operation->data.memmove.dest;
		break;
	case VDM_OPERATION_MEMSET:
		output->output.memset.str = operation->data.memset.str;
		break;
	case VDM_OPERATION_FLUSH:
		output->output.flush.unused = 0;
		break;
	}
}

static int
fake_has_property(void *future, enum future_property property)
{
	fake.props++;
	fake.prop_future = future;
	return property == FUTURE_PROPERTY_ASYNC;
}

static void
fake_setup(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.vdm.op_new = fake_new;
	fake.vdm.op_delete = fake_delete;
	fake.vdm.op_start = fake_start;
	fake.vdm.op_check = fake_check;
	fake.vdm.capabilities = 0;
	fake.vdm.has_property = NULL;
	fake.delete_result = VDM_SUCCESS;
}

static void
assert_calls(unsigned news, unsigned starts, unsigned checks,
	unsigned deletes)
{
	ck_assert_msg(fake.news == news && fake.starts == starts &&
		fake.checks == checks && fake.deletes == deletes,
		"calls new/start/check/delete: %u/%u/%u/%u, expected "
		"%u/%u/%u/%u", fake.news, fake.starts, fake.checks,
		fake.deletes, news, starts, checks, deletes);
}

/* Buffers the operations name; the fake mover never touches them. */
static char buf_a[64], buf_b[64];

#define FLAGS_64 0xfedcba9800000003ULL /* all of it must be kept */

/* A future of operation type 'type' (the loop index), on the fake. */
static struct vdm_operation_future
make_op(int type)
{
	switch (type) {
	case VDM_OPERATION_MEMCPY:
		return vdm_memcpy(&fake.vdm, buf_a, buf_b, 17, FLAGS_64);
	case VDM_OPERATION_MEMMOVE:
		return vdm_memmove(&fake.vdm, buf_b, buf_a, 33, FLAGS_64);
	case VDM_OPERATION_MEMSET:
		return vdm_memset(&fake.vdm, buf_a, 0x1234, 49, FLAGS_64);
	default:
		return vdm_flush(&fake.vdm, buf_b, 63, FLAGS_64);
	}
}

/* What make_op(type) must have stored in the operation. */
static void
check_operation(const struct vdm_operation *op, int type)
{
	ck_assert_int_eq(op->type, type);
	ck_assert_uint_eq(op->padding, 0);
	switch (type) {
	case VDM_OPERATION_MEMCPY:
		ck_assert_ptr_eq(op->data.memcpy.dest, buf_a);
		ck_assert_ptr_eq(op->data.memcpy.src, buf_b);
		ck_assert_uint_eq(op->data.memcpy.n, 17);
		ck_assert_uint_eq(op->data.memcpy.flags, FLAGS_64);
		break;
	case VDM_OPERATION_MEMMOVE:
		ck_assert_ptr_eq(op->data.memmove.dest, buf_b);
		ck_assert_ptr_eq(op->data.memmove.src, buf_a);
		ck_assert_uint_eq(op->data.memmove.n, 33);
		ck_assert_uint_eq(op->data.memmove.flags, FLAGS_64);
		break;
	case VDM_OPERATION_MEMSET:
		ck_assert_ptr_eq(op->data.memset.str, buf_a);
		ck_assert_int_eq(op->data.memset.c, 0x1234);
		ck_assert_uint_eq(op->data.memset.n, 49);
		ck_assert_uint_eq(op->data.memset.flags, FLAGS_64);
		break;
	default:
		ck_assert_ptr_eq(op->data.flush.dest, buf_b);
		ck_assert_uint_eq(op->data.flush.n, 63);
		ck_assert_uint_eq(op->data.flush.flags, FLAGS_64);
		break;
	}
}

/* The destination an operation made by make_op(type) reports. */
static void *
op_dest(int type)
{
	switch (type) {
	case VDM_OPERATION_MEMCPY:
	case VDM_OPERATION_MEMSET:
		return buf_a;
	case VDM_OPERATION_MEMMOVE:
		return buf_b;
	default:
		return NULL;
	}
}

/* The constructors fill everything, ask op_new once and start nothing. */
START_TEST(test_construct)
{
	int type = _i;
	struct vdm_operation_future fut = make_op(type);

	assert_calls(1, 0, 0, 0);
	ck_assert_int_eq(fake.new_type, type);
	check_operation(&fut.data.operation, type);
	ck_assert_ptr_eq(fut.data.data, &fake.op);
	ck_assert_ptr_eq(fut.data.vdm, &fake.vdm);
	ck_assert_int_eq(fut.output.type, type);
	ck_assert_int_eq(fut.output.result, VDM_SUCCESS);
	ck_assert_ptr_null(fut.output.output.memcpy.dest);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_IDLE);
	ck_assert_msg(fut.base.task != NULL, "no task");
	ck_assert_msg(fut.base.has_property == future_has_property_default,
		"a mover without has_property leaves the default");
	ck_assert_uint_eq(fut.base.context.data_size,
		sizeof(struct vdm_operation_data));
	ck_assert_uint_eq(fut.base.context.output_size,
		sizeof(struct vdm_operation_output));
	ck_assert_uint_eq(fut.base.context.padding, 0);
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 0);
	assert_calls(1, 0, 0, 0);
}
END_TEST

/* First poll: start, check says COMPLETE, delete writes the output. */
START_TEST(test_poll_complete)
{
	int type = _i;
	struct vdm_operation_future fut = make_op(type);
	struct future_notifier notifier;

	memset(&notifier, 0, sizeof(notifier));
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	assert_calls(1, 1, 1, 1);

	/* each callback got the state op_new made and the future's op */
	ck_assert_ptr_eq(fake.start_data, &fake.op);
	ck_assert_ptr_eq(fake.check_data, &fake.op);
	ck_assert_ptr_eq(fake.delete_data, &fake.op);
	ck_assert_ptr_eq(fake.start_op, &fut.data.operation);
	ck_assert_ptr_eq(fake.check_op, &fut.data.operation);
	ck_assert_ptr_eq(fake.delete_op, &fut.data.operation);
	check_operation(&fake.started, type);
	ck_assert_ptr_eq(fake.start_notifier, &notifier);
	ck_assert_ptr_eq(fake.delete_output, &fut.output);
	ck_assert_int_eq(fake.op.live, 0);

	ck_assert_int_eq(fut.output.type, type);
	ck_assert_int_eq(fut.output.result, VDM_SUCCESS);
	ck_assert_ptr_eq(fut.output.output.memcpy.dest, op_dest(type));

	/* complete: the mover is never called again */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut),
			i ? &notifier : NULL), FUTURE_STATE_COMPLETE);
	}
	assert_calls(1, 1, 1, 1);
}
END_TEST

/*
 * The task writes nothing into the future's data member: data.data keeps
 * what op_new gave through a running poll and after completion, on a
 * user's mover and on both of the library's.
 */
START_TEST(test_data_untouched)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_NONE);
	struct vdm *vdms[3];
	char src[256], dst[256];

	ck_assert_ptr_nonnull(dms);
	ck_assert_ptr_nonnull(dmt);
	vdms[0] = &fake.vdm;
	vdms[1] = data_mover_sync_get_vdm(dms);
	vdms[2] = data_mover_threads_get_vdm(dmt);
	memset(src, 7, sizeof(src));
	for (int v = 0; v < 3; v++) {
		struct vdm_operation_future fut;
		struct vdm_operation_data before;

		fake.running_checks = 1;
		fut = vdm_memcpy(vdms[v], dst, src, sizeof(src), 0);
		before = fut.data;
		while (future_poll(FUTURE_AS_RUNNABLE(&fut), NULL) !=
				FUTURE_STATE_COMPLETE)
			ck_assert_ptr_eq(fut.data.data, before.data);
		/* field by field: the constructor leaves the union's tail */
		ck_assert_msg(fut.data.data == before.data &&
			fut.data.vdm == before.vdm &&
			fut.data.operation.type == before.operation.type &&
			fut.data.operation.padding ==
				before.operation.padding &&
			memcmp(&fut.data.operation.data.memcpy,
				&before.operation.data.memcpy,
				sizeof(before.operation.data.memcpy)) == 0,
			"mover %d: the task wrote the future's data member", v);
	}
	data_mover_threads_delete(dmt);
	data_mover_sync_delete(dms);
}
END_TEST

/* The output is whatever op_delete writes, an error result included. */
START_TEST(test_delete_writes_output)
{
	struct vdm_operation_future fut = make_op(VDM_OPERATION_MEMSET);

	fake.delete_result = VDM_ERROR_JOB_CORRUPTED;
	FUTURE_BUSY_POLL(&fut);
	assert_calls(1, 1, 1, 1);
	ck_assert_int_eq(fut.output.result, VDM_ERROR_JOB_CORRUPTED);
	ck_assert_int_eq(fut.output.type, VDM_OPERATION_MEMSET);
	ck_assert_ptr_eq(fut.output.output.memset.str, buf_a);
}
END_TEST

/* No state from op_new: born COMPLETE, out of memory, never polled on. */
START_TEST(test_new_fails)
{
	int type = _i;

	fake.fail_new = 1;
	struct vdm_operation_future fut = make_op(type);

	assert_calls(1, 0, 0, 0);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(fut.output.result, VDM_ERROR_OUT_OF_MEMORY);
	ck_assert_int_eq(fut.output.type, type);
	ck_assert_ptr_null(fut.output.output.memcpy.dest);
	ck_assert_uint_eq(fut.base.context.data_size,
		sizeof(struct vdm_operation_data));
	ck_assert_uint_eq(fut.base.context.output_size,
		sizeof(struct vdm_operation_output));

	struct future_notifier notifier;

	memset(&notifier, 0, sizeof(notifier));
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	FUTURE_BUSY_POLL(&fut);
	assert_calls(1, 0, 0, 0);
	ck_assert_int_eq(fut.output.result, VDM_ERROR_OUT_OF_MEMORY);
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 0);
}
END_TEST

/* op_start refusing leaves the future IDLE; the next poll starts again. */
START_TEST(test_start_retry)
{
	struct vdm_operation_future fut = make_op(VDM_OPERATION_MEMCPY);

	fake.refuse_starts = 2;
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_IDLE);
	assert_calls(1, 1, 0, 0);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_IDLE);
	assert_calls(1, 2, 0, 0);
	ck_assert_ptr_null(fut.output.output.memcpy.dest);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	assert_calls(1, 3, 1, 1);
	ck_assert_ptr_eq(fut.output.output.memcpy.dest, buf_a);
}
END_TEST

/* op_check RUNNING: no second start, check again, then COMPLETE. */
START_TEST(test_check_running)
{
	struct vdm_operation_future fut = make_op(VDM_OPERATION_FLUSH);
	struct future_notifier notifier;

	memset(&notifier, 0, sizeof(notifier));
	fake.running_checks = 2;
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_RUNNING);
	assert_calls(1, 1, 1, 0);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_RUNNING);
	assert_calls(1, 1, 2, 0);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	assert_calls(1, 1, 3, 1);
	ck_assert_int_eq(fut.output.type, VDM_OPERATION_FLUSH);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	assert_calls(1, 1, 3, 1);
}
END_TEST

/* Refused starts, then RUNNING checks: each callback in its turn. */
START_TEST(test_retry_then_running)
{
	struct vdm_operation_future fut = make_op(VDM_OPERATION_MEMMOVE);

	fake.refuse_starts = 1;
	fake.running_checks = 1;
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_IDLE);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_RUNNING);
	assert_calls(1, 2, 1, 0);
	FUTURE_BUSY_POLL(&fut);
	assert_calls(1, 2, 2, 1);
	ck_assert_ptr_eq(fut.output.output.memmove.dest, buf_b);
	ck_assert_ptr_null(fake.start_notifier);
}
END_TEST

/* A mover's has_property replaces the future's property function. */
START_TEST(test_mover_has_property)
{
	fake.vdm.has_property = fake_has_property;

	struct vdm_operation_future fut = make_op(_i);

	ck_assert_msg(fut.base.has_property == fake_has_property,
		"the mover's has_property must be the future's");
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 1);
	ck_assert_uint_eq(fake.props, 1);
	ck_assert_ptr_eq(fake.prop_future, &fut.base);
	assert_calls(1, 0, 0, 0);
}
END_TEST

/* The helpers the constructors are made of. */
START_TEST(test_generic_helpers)
{
	struct vdm_operation_future fut;

	memset(&fut, 0xa5, sizeof(fut));
	fut.data.operation.type = VDM_OPERATION_MEMSET;
	fut.data.operation.padding = 0;
	fut.data.operation.data.memset.str = buf_b;
	fut.data.operation.data.memset.c = 7;
	fut.data.operation.data.memset.n = 5;
	fut.data.operation.data.memset.flags = 0;
	vdm_generic_operation(&fake.vdm, &fut);
	assert_calls(1, 0, 0, 0);
	ck_assert_int_eq(fake.new_type, VDM_OPERATION_MEMSET);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_IDLE);
	ck_assert_int_eq(fut.output.type, VDM_OPERATION_MEMSET);
	ck_assert_int_eq(fut.output.result, VDM_SUCCESS);
	ck_assert_ptr_null(fut.output.output.memset.str);
	ck_assert_ptr_eq(fut.data.vdm, &fake.vdm);

	vdm_set_has_property_fn(&fut, fake_has_property);
	ck_assert_msg(fut.base.has_property == fake_has_property,
		"vdm_set_has_property_fn did not set it");
	FUTURE_BUSY_POLL(&fut);
	assert_calls(1, 1, 1, 1);
	ck_assert_ptr_eq(fut.output.output.memset.str, buf_b);
}
END_TEST

/* A future moved by value polls from where it is now. */
START_TEST(test_moved_future)
{
	struct vdm_operation_future first = make_op(VDM_OPERATION_MEMCPY);
	struct vdm_operation_future moved;

	memcpy(&moved, &first, sizeof(moved));
	memset(&first, 0, sizeof(first));
	FUTURE_BUSY_POLL(&moved);
	assert_calls(1, 1, 1, 1);
	ck_assert_ptr_eq(fake.start_op, &moved.data.operation);
	ck_assert_ptr_eq(fake.delete_output, &moved.output);
	ck_assert_ptr_eq(moved.output.output.memcpy.dest, buf_a);
}
END_TEST

/*
 * vdm_is_supported: nonzero exactly when every bit asked for is among the
 * capabilities, for every pair of 4-bit values and a few wide ones.
 */
START_TEST(test_is_supported)
{
	static const unsigned wide[] = {
		0, 1, 2, 3, 4, 0x80000000u, 0x80000003u, 0xffffffffu,
		0xfffffffcu,
	};
	struct vdm vdm;

	memset(&vdm, 0, sizeof(vdm));
	for (unsigned caps = 0; caps < 16; caps++) {
		for (unsigned ask = 0; ask < 16; ask++) {
			vdm.capabilities = caps;
			int want = (caps & ask) == ask;
			int got = vdm_is_supported(&vdm, ask) != 0;

			ck_assert_msg(got == want,
				"capabilities %#x, asked %#x: said %d, "
				"expected %d", caps, ask, got, want);
		}
	}
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		for (size_t j = 0; j < sizeof(wide) / sizeof(wide[0]); j++) {
			vdm.capabilities = wide[i];
			int want = (wide[i] & wide[j]) == wide[j];
			int got = vdm_is_supported(&vdm, wide[j]) != 0;

			ck_assert_msg(got == want,
				"capabilities %#x, asked %#x: said %d, "
				"expected %d", wide[i], wide[j], got, want);
		}
	}

	/* the cases a logical AND gets wrong */
	vdm.capabilities = VDM_F_MEM_DURABLE;
	ck_assert_int_eq(vdm_is_supported(&vdm, VDM_F_NO_CACHE_HINT), 0);
	ck_assert_int_eq(vdm_is_supported(&vdm, VDM_F_VALID_FLAGS), 0);
	ck_assert_int_ne(vdm_is_supported(&vdm, VDM_F_MEM_DURABLE), 0);
	vdm.capabilities = VDM_F_NO_CACHE_HINT;
	ck_assert_int_eq(vdm_is_supported(&vdm, VDM_F_MEM_DURABLE), 0);
	vdm.capabilities = VDM_F_VALID_FLAGS;
	ck_assert_int_ne(vdm_is_supported(&vdm, VDM_F_VALID_FLAGS), 0);
	ck_assert_int_ne(vdm_is_supported(&vdm, VDM_F_NO_CACHE_HINT), 0);
	vdm.capabilities = 0;
	ck_assert_int_eq(vdm_is_supported(&vdm, VDM_F_MEM_DURABLE), 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("vdm");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_set_timeout(tc, TIMEOUT);
#if defined(__LP64__)
	tcase_add_test(tc, test_layout_future);
	tcase_add_test(tc, test_layout_vdm);
#endif
	tcase_add_test(tc, test_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("operation");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_checked_fixture(tc, fake_setup, NULL);
	tcase_add_loop_test(tc, test_construct, VDM_OPERATION_MEMCPY,
		VDM_OPERATION_FLUSH + 1);
	tcase_add_loop_test(tc, test_poll_complete, VDM_OPERATION_MEMCPY,
		VDM_OPERATION_FLUSH + 1);
	tcase_add_loop_test(tc, test_new_fails, VDM_OPERATION_MEMCPY,
		VDM_OPERATION_FLUSH + 1);
	tcase_add_loop_test(tc, test_mover_has_property, VDM_OPERATION_MEMCPY,
		VDM_OPERATION_FLUSH + 1);
	tcase_add_test(tc, test_delete_writes_output);
	tcase_add_test(tc, test_data_untouched);
	tcase_add_test(tc, test_start_retry);
	tcase_add_test(tc, test_check_running);
	tcase_add_test(tc, test_retry_then_running);
	tcase_add_test(tc, test_generic_helpers);
	tcase_add_test(tc, test_moved_future);
	suite_add_tcase(s, tc);

	tc = tcase_create("capabilities");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, test_is_supported);
	suite_add_tcase(s, tc);

	return s;
}
