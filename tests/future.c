/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * future.c -- tests of future.h: the fields the FUTURE_INIT* macros set,
 * future_poll (the task runs once per poll and never after COMPLETE), the
 * context accessors, the helper macros, properties, and chained futures
 * (order, maps, lazy init, resumption, flags, property, notifier, and a
 * chain of vdm futures on the synchronous mover).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libminiasync.h>

#define TIMEOUT 10 /* seconds, per test */

/*
 * A future that counts its polls and completes on the polls_to_finish-th,
 * writing 1000 + polls to its output.
 */
struct count_data {
	unsigned polls;
	unsigned polls_to_finish;
	struct future_context *last_context;
	struct future_notifier *last_notifier;
};

struct count_output {
	uint64_t value;
};

FUTURE(count_future, struct count_data, struct count_output);

static enum future_state
count_task(struct future_context *context, struct future_notifier *notifier)
{
	struct count_data *data = future_context_get_data(context);
	struct count_output *output = future_context_get_output(context);

	data->polls++;
	data->last_context = context;
	data->last_notifier = notifier;
	if (data->polls < data->polls_to_finish)
		return FUTURE_STATE_RUNNING;
	output->value = 1000 + data->polls;
	return FUTURE_STATE_COMPLETE;
}

/* Records the future it was asked about; only ASYNC is set. */
static void *async_prop_future;
static unsigned async_prop_calls;

static int
async_prop(void *future, enum future_property property)
{
	async_prop_future = future;
	async_prop_calls++;
	return property == FUTURE_PROPERTY_ASYNC;
}

/* Fills the future with junk first, so the macros must set every field. */
static void
count_future_init(struct count_future *fut, unsigned polls_to_finish)
{
	memset(fut, 0xa5, sizeof(*fut));
	FUTURE_INIT(fut, count_task);
	fut->data.polls = 0;
	fut->data.polls_to_finish = polls_to_finish;
	fut->data.last_context = NULL;
	fut->data.last_notifier = NULL;
	fut->output.value = 0;
}

START_TEST(test_init_fields)
{
	struct count_future fut;

	count_future_init(&fut, 1);
	ck_assert_msg(fut.base.task == count_task, "task not set");
	ck_assert_msg(fut.base.has_property == future_has_property_default,
		"FUTURE_INIT must use future_has_property_default");
	ck_assert_int_eq(fut.base.context.state, FUTURE_STATE_IDLE);
	ck_assert_uint_eq(fut.base.context.data_size, sizeof(fut.data));
	ck_assert_uint_eq(fut.base.context.output_size, sizeof(fut.output));
	ck_assert_uint_eq(fut.base.context.padding, 0);
}
END_TEST

START_TEST(test_init_ext_fields)
{
	struct count_future fut;

	memset(&fut, 0x5a, sizeof(fut));
	FUTURE_INIT_EXT(&fut, count_task, async_prop);
	ck_assert_msg(fut.base.task == count_task, "task not set");
	ck_assert_msg(fut.base.has_property == async_prop,
		"property function not set");
	ck_assert_int_eq(fut.base.context.state, FUTURE_STATE_IDLE);
	ck_assert_uint_eq(fut.base.context.data_size, sizeof(fut.data));
	ck_assert_uint_eq(fut.base.context.output_size, sizeof(fut.output));
	ck_assert_uint_eq(fut.base.context.padding, 0);
}
END_TEST

START_TEST(test_init_complete_fields)
{
	struct count_future fut;
	struct future_notifier notifier;

	memset(&fut, 0xa5, sizeof(fut));
	FUTURE_INIT_COMPLETE(&fut);
	ck_assert_msg(fut.base.task == NULL, "task must be NULL");
	ck_assert_msg(fut.base.has_property == NULL,
		"property function must be NULL");
	ck_assert_int_eq(fut.base.context.state, FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(fut.base.context.data_size, sizeof(fut.data));
	ck_assert_uint_eq(fut.base.context.output_size, sizeof(fut.output));
	ck_assert_uint_eq(fut.base.context.padding, 0);

	/* a finished future polls COMPLETE without a task to run */
	memset(&notifier, 0, sizeof(notifier));
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	/* and, lacking a property function, has no property */
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 0);
}
END_TEST

/* Each poll runs the task exactly once, until it says COMPLETE. */
START_TEST(test_poll_counts)
{
	struct count_future fut;
	struct future_notifier notifier;

	memset(&notifier, 0, sizeof(notifier));
	count_future_init(&fut, 3);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_RUNNING);
	ck_assert_uint_eq(fut.data.polls, 1);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_RUNNING);
	ck_assert_ptr_eq(fut.data.last_context, &fut.base.context);
	ck_assert_ptr_eq(fut.data.last_notifier, &notifier);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_uint_eq(fut.data.polls, 2);
	ck_assert_ptr_null(fut.data.last_notifier);
	ck_assert_uint_eq(fut.output.value, 0);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(fut.data.polls, 3);
	ck_assert_uint_eq(fut.output.value, 1003);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);

	/* never again once COMPLETE, with or without a notifier */
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut),
			i % 2 ? &notifier : NULL), FUTURE_STATE_COMPLETE);
	}
	ck_assert_uint_eq(fut.data.polls, 3);
	ck_assert_uint_eq(fut.output.value, 1003);
}
END_TEST

/* A NULL notifier is allowed from the very first poll. */
START_TEST(test_poll_null_notifier)
{
	struct count_future fut;

	count_future_init(&fut, 1);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(fut.data.polls, 1);
	ck_assert_ptr_null(fut.data.last_notifier);
	ck_assert_uint_eq(fut.output.value, 1001);
}
END_TEST

/* Futures whose members need padding between or after them. */
struct three_bytes {
	char c[3];
};

FUTURE(small_data_future, char, uint64_t);
FUTURE(small_output_future, uint64_t, char);
FUTURE(odd_future, struct three_bytes, uint32_t);
FUTURE(tiny_future, char, char);

/* Writes through the accessors, so the test sees where they point. */
static enum future_state
small_data_task(struct future_context *context,
	struct future_notifier *notifier)
{
	(void)notifier;
	*(char *)future_context_get_data(context) = 'z';
	*(uint64_t *)future_context_get_output(context) =
		0x0123456789abcdefULL;
	return FUTURE_STATE_COMPLETE;
}

static enum future_state
complete_task(struct future_context *context,
	struct future_notifier *notifier)
{
	(void)context;
	(void)notifier;
	return FUTURE_STATE_COMPLETE;
}

/*
 * The accessors of a future's context must find its real data and output
 * members, whatever padding the compiler put around them.
 */
static void
check_accessors(const char *name, struct future *base, void *data,
	size_t data_sz, void *output, size_t output_sz)
{
	struct future_context *ctx = &base->context;
	char *end = (char *)output + output_sz;

	ck_assert_msg(future_context_get_data(ctx) == data,
		"%s: data at %p, member at %p", name,
		future_context_get_data(ctx), data);
	ck_assert_msg(future_context_get_output(ctx) == output,
		"%s: output at %p, member at %p (data_size %zu)", name,
		future_context_get_output(ctx), output, ctx->data_size);
	ck_assert_msg(ctx->data_size >= data_sz,
		"%s: data_size %zu < sizeof(data) %zu", name,
		ctx->data_size, data_sz);
	ck_assert_msg(ctx->data_size - ctx->padding == data_sz,
		"%s: data_size %zu - padding %u != sizeof(data) %zu", name,
		ctx->data_size, (unsigned)ctx->padding, data_sz);
	ck_assert_msg(ctx->output_size == output_sz,
		"%s: output_size %zu != sizeof(output) %zu", name,
		ctx->output_size, output_sz);
	ck_assert_msg(future_context_get_size(ctx) ==
		ctx->data_size + ctx->output_size,
		"%s: get_size %zu != %zu + %zu", name,
		future_context_get_size(ctx), ctx->data_size,
		ctx->output_size);
	ck_assert_msg((char *)data + future_context_get_size(ctx) == end,
		"%s: data + get_size %p, end of output %p", name,
		(void *)((char *)data + future_context_get_size(ctx)),
		(void *)end);
}

#define CHECK_ACCESSORS(_name, _futp) do {\
	memset((_futp), 0xa5, sizeof(*(_futp)));\
	FUTURE_INIT((_futp), complete_task);\
	check_accessors(_name, FUTURE_AS_RUNNABLE(_futp),\
		FUTURE_DATA(_futp), sizeof(*FUTURE_DATA(_futp)),\
		FUTURE_OUTPUT(_futp), sizeof(*FUTURE_OUTPUT(_futp)));\
} while (0)

START_TEST(test_context_accessors)
{
	struct count_future count;
	struct small_data_future small_data;
	struct small_output_future small_output;
	struct odd_future odd;
	struct tiny_future tiny;

	CHECK_ACCESSORS("count_future", &count);
	CHECK_ACCESSORS("FUTURE(char, uint64_t)", &small_data);
	CHECK_ACCESSORS("FUTURE(uint64_t, char)", &small_output);
	CHECK_ACCESSORS("FUTURE(char[3], uint32_t)", &odd);
	CHECK_ACCESSORS("FUTURE(char, char)", &tiny);

	/* with no padding, data_size is sizeof(data), as it always was */
	ck_assert_uint_eq(count.base.context.data_size, sizeof(count.data));
	ck_assert_uint_eq(tiny.base.context.data_size, 1);
}
END_TEST

/* A task writing through the accessors lands in the real members. */
START_TEST(test_accessors_write_members)
{
	struct small_data_future fut;

	memset(&fut, 0, sizeof(fut));
	FUTURE_INIT(&fut, small_data_task);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(fut.data, 'z');
	ck_assert_msg(fut.output == 0x0123456789abcdefULL,
		"output is %#llx", (unsigned long long)fut.output);
}
END_TEST

START_TEST(test_member_macros)
{
	struct count_future fut;

	count_future_init(&fut, 1);
	ck_assert_ptr_eq(FUTURE_AS_RUNNABLE(&fut), &fut.base);
	ck_assert_ptr_eq(FUTURE_DATA(&fut), &fut.data);
	ck_assert_ptr_eq(FUTURE_OUTPUT(&fut), &fut.output);
	ck_assert_ptr_eq(&FUTURE_STATE(&fut), &fut.base.context.state);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_IDLE);
	future_poll(FUTURE_AS_RUNNABLE(&fut), NULL);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(FUTURE_OUTPUT(&fut)->value, 1001);
	ck_assert_uint_eq(FUTURE_DATA(&fut)->polls, 1);
}
END_TEST

START_TEST(test_busy_poll)
{
	static const unsigned polls[] = { 1, 2, 7, 100 };

	for (size_t i = 0; i < sizeof(polls) / sizeof(polls[0]); i++) {
		struct count_future fut;

		count_future_init(&fut, polls[i]);
		FUTURE_BUSY_POLL(&fut);
		ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
		ck_assert_uint_eq(fut.data.polls, polls[i]);
		ck_assert_ptr_null(fut.data.last_notifier);
		ck_assert_uint_eq(fut.output.value, 1000 + polls[i]);

		/* busy polling a complete future polls nothing */
		FUTURE_BUSY_POLL(&fut);
		ck_assert_uint_eq(fut.data.polls, polls[i]);
	}
}
END_TEST

struct wake_record {
	unsigned calls;
	void *data;
};

static void
record_wake(void *data)
{
	struct wake_record *record = data;

	record->calls++;
	record->data = data;
}

/* A task that wakes its notifier's waker at once and completes. */
static enum future_state
waking_task(struct future_context *context, struct future_notifier *notifier)
{
	(void)context;
	notifier->notifier_used = FUTURE_NOTIFIER_WAKER;
	FUTURE_WAKER_WAKE(&notifier->waker);
	return FUTURE_STATE_COMPLETE;
}

START_TEST(test_waker_wake)
{
	struct wake_record record = { 0, NULL };
	struct future_waker waker = { &record, record_wake };

	FUTURE_WAKER_WAKE(&waker);
	ck_assert_uint_eq(record.calls, 1);
	ck_assert_ptr_eq(record.data, &record);
	FUTURE_WAKER_WAKE(&waker);
	ck_assert_uint_eq(record.calls, 2);

	/* and from inside a task, through the notifier it was given */
	struct count_future fut;
	struct future_notifier notifier;

	memset(&notifier, 0, sizeof(notifier));
	notifier.waker = waker;
	count_future_init(&fut, 1);
	FUTURE_INIT(&fut, waking_task);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), &notifier),
		FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(record.calls, 3);
	ck_assert_int_eq(notifier.notifier_used, FUTURE_NOTIFIER_WAKER);
}
END_TEST

START_TEST(test_has_property)
{
	struct count_future fut;

	ck_assert_int_eq(future_has_property_default(NULL,
		FUTURE_PROPERTY_ASYNC), 0);

	count_future_init(&fut, 1);
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 0);

	async_prop_calls = 0;
	async_prop_future = NULL;
	FUTURE_INIT_EXT(&fut, count_task, async_prop);
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 1);
	ck_assert_uint_eq(async_prop_calls, 1);
	ck_assert_ptr_eq(async_prop_future, &fut.base);

	/* the property outlives completion */
	future_poll(FUTURE_AS_RUNNABLE(&fut), NULL);
	ck_assert_int_eq(future_has_property(&fut, FUTURE_PROPERTY_ASYNC), 1);
	ck_assert_uint_eq(async_prop_calls, 2);
}
END_TEST

/*
 * Chains. Their entries are "step" futures that log each poll as "P<id>";
 * lazy inits log "I<id>" and maps "M<id>", so a test compares the whole
 * order of events as one string. A step completes on its
 * polls_to_finish-th poll with out = in * 10 + id, so the final value
 * spells the path a value took through the chain (1 -> 11 -> 112 -> 1123).
 */
static char event_log[512];

static void
log_event(char kind, int id)
{
	size_t len = strlen(event_log);

	snprintf(event_log + len, sizeof(event_log) - len, "%s%c%d",
		len != 0 ? " " : "", kind, id);
}

struct step_data {
	int id;
	unsigned polls;
	unsigned polls_to_finish;
	int async; /* what the property function says of ASYNC */
	enum future_notifier_type use; /* claimed on polls that run on */
	struct future_notifier *last_notifier;
	uint64_t in;
};

struct step_output {
	uint64_t out;
};

FUTURE(step_future, struct step_data, struct step_output);

static enum future_state
step_task(struct future_context *context, struct future_notifier *notifier)
{
	struct step_data *data = future_context_get_data(context);
	struct step_output *output = future_context_get_output(context);

	log_event('P', data->id);
	data->polls++;
	data->last_notifier = notifier;
	if (data->polls < data->polls_to_finish) {
		if (notifier != NULL && data->use != FUTURE_NOTIFIER_NONE)
			notifier->notifier_used = data->use;
		return FUTURE_STATE_RUNNING;
	}
	output->out = data->in * 10 + (uint64_t)data->id;
	return FUTURE_STATE_COMPLETE;
}

static int
step_has_property(void *future, enum future_property property)
{
	struct step_future *fut = future;

	return property == FUTURE_PROPERTY_ASYNC ? fut->data.async : 0;
}

static struct step_future
step_new(int id, unsigned polls_to_finish, uint64_t in)
{
	struct step_future fut;

	memset(&fut, 0, sizeof(fut));
	FUTURE_INIT_EXT(&fut, step_task, step_has_property);
	fut.data.id = id;
	fut.data.polls_to_finish = polls_to_finish;
	fut.data.use = FUTURE_NOTIFIER_NONE;
	fut.data.in = in;
	return fut;
}

/* What a map or a lazy init was called with. */
struct call_probe {
	int id;
	unsigned calls;
	unsigned polls; /* a lazy init builds a step finishing after these */
	void *first; /* lhs, or the future being built */
	struct future_context *second; /* rhs, or the chain's context */
};

/* Passes a step's output on as the next step's input. */
static void
map_step_to_step(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct call_probe *probe = arg;
	struct step_output *out = future_context_get_output(lhs);
	struct step_data *next = future_context_get_data(rhs);

	log_event('M', probe->id);
	probe->calls++;
	probe->first = lhs;
	probe->second = rhs;
	next->in = out->out;
}

struct chain_output {
	uint64_t result;
	uint64_t tag_seen;
};

/* Passes the last step's output on as the chain's result. */
static void
map_step_to_chain(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct call_probe *probe = arg;
	struct step_output *out = future_context_get_output(lhs);
	struct chain_output *result = future_context_get_output(rhs);

	log_event('M', probe->id);
	probe->calls++;
	probe->first = lhs;
	probe->second = rhs;
	result->result = out->out;
}

/* Three steps, then ordinary fields after the last entry. */
struct chain3_data {
	FUTURE_CHAIN_ENTRY(struct step_future, a);
	FUTURE_CHAIN_ENTRY(struct step_future, b);
	FUTURE_CHAIN_ENTRY_LAST(struct step_future, c);
	uint64_t tag;
	char note[5];
};

FUTURE(chain3_future, struct chain3_data, struct chain_output);

/* The last map of chain3: also reads the field after the last entry. */
static void
map_chain3_last(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct chain3_data *data = future_context_get_data(rhs);
	struct chain_output *result = future_context_get_output(rhs);

	map_step_to_chain(lhs, rhs, arg);
	result->tag_seen = data->tag;
}

/*
 * Builds step 'id' of chain3 (2 or 3), reading the previous step's output
 * through the chain's context: it must be complete by now.
 */
static void
init_chain3_step(void *future, struct future_context *chain_fut, void *arg)
{
	struct call_probe *probe = arg;
	struct chain3_data *data = future_context_get_data(chain_fut);
	uint64_t prev = probe->id == 2 ? data->a.fut.output.out :
		data->b.fut.output.out;

	log_event('I', probe->id);
	probe->calls++;
	probe->first = future;
	probe->second = chain_fut;
	*(struct step_future *)future = step_new(probe->id, probe->polls,
		prev);
}

/* Builds step 1 of chain3, which has no previous step. */
static void
init_chain3_first(void *future, struct future_context *chain_fut, void *arg)
{
	struct call_probe *probe = arg;

	log_event('I', probe->id);
	probe->calls++;
	probe->first = future;
	probe->second = chain_fut;
	*(struct step_future *)future = step_new(1, 1, 1);
}

static struct call_probe probes[5]; /* maps, by entry id */
static struct call_probe init_probes[5]; /* lazy inits, by entry id */

static void
chain_setup(void)
{
	event_log[0] = '\0';
	memset(probes, 0, sizeof(probes));
	memset(init_probes, 0, sizeof(init_probes));
	for (int i = 0; i < 5; i++) {
		probes[i].id = i;
		init_probes[i].id = i;
		init_probes[i].polls = 1;
	}
}

/* chain3 of steps finishing after p1, p2, p3 polls, all with maps. */
static void
chain3_init(struct chain3_future *fut, unsigned p1, unsigned p2,
	unsigned p3)
{
	memset(fut, 0xa5, sizeof(*fut));
	FUTURE_CHAIN_INIT(fut);
	FUTURE_CHAIN_ENTRY_INIT(&fut->data.a, step_new(1, p1, 1),
		map_step_to_step, &probes[1]);
	FUTURE_CHAIN_ENTRY_INIT(&fut->data.b, step_new(2, p2, 0),
		map_step_to_step, &probes[2]);
	FUTURE_CHAIN_ENTRY_INIT(&fut->data.c, step_new(3, p3, 0),
		map_chain3_last, &probes[3]);
	fut->data.tag = 0x7a6;
	memcpy(fut->data.note, "note", 5);
	fut->output.result = 0;
	fut->output.tag_seen = 0;
}

START_TEST(test_chain3_order)
{
	struct chain3_future fut;

	chain3_init(&fut, 1, 1, 1);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_IDLE);
	ck_assert_str_eq(event_log, "");

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 M1 P2 M2 P3 M3");
	ck_assert_uint_eq(fut.data.a.fut.output.out, 11);
	ck_assert_uint_eq(fut.data.b.fut.output.out, 112);
	ck_assert_uint_eq(fut.data.c.fut.output.out, 1123);
	ck_assert_uint_eq(fut.output.result, 1123);

	/* the ordinary fields after the last entry: intact and reachable */
	ck_assert_uint_eq(fut.data.tag, 0x7a6);
	ck_assert_str_eq(fut.data.note, "note");
	ck_assert_uint_eq(fut.output.tag_seen, 0x7a6);

	/* complete: nothing more runs */
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 M1 P2 M2 P3 M3");
}
END_TEST

/* map(entry ctx, next entry ctx, arg), and for the last the chain ctx. */
START_TEST(test_chain_map_args)
{
	struct chain3_future fut;

	chain3_init(&fut, 1, 1, 1);
	FUTURE_BUSY_POLL(&fut);
	for (int i = 1; i <= 3; i++)
		ck_assert_msg(probes[i].calls == 1, "map %d called %u times",
			i, probes[i].calls);
	ck_assert_ptr_eq(probes[1].first, &fut.data.a.fut.base.context);
	ck_assert_ptr_eq(probes[1].second, &fut.data.b.fut.base.context);
	ck_assert_ptr_eq(probes[2].first, &fut.data.b.fut.base.context);
	ck_assert_ptr_eq(probes[2].second, &fut.data.c.fut.base.context);
	ck_assert_ptr_eq(probes[3].first, &fut.data.c.fut.base.context);
	ck_assert_ptr_eq(probes[3].second, &fut.base.context);
	ck_assert_uint_eq(fut.output.result, 1123);
}
END_TEST

/*
 * Lazy init runs once, just before its entry is first reached: after the
 * previous entry completed and before that entry's map; the first entry's
 * at the chain's first poll, not before.
 */
START_TEST(test_chain_lazy_init)
{
	struct chain3_future fut;

	memset(&fut, 0xa5, sizeof(fut));
	FUTURE_CHAIN_INIT(&fut);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.a, init_chain3_first,
		&init_probes[1], map_step_to_step, &probes[1]);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.b, init_chain3_step,
		&init_probes[2], map_step_to_step, &probes[2]);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.c, init_chain3_step,
		&init_probes[3], map_step_to_chain, &probes[3]);
	fut.output.result = 0;

	ck_assert(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.a));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.b));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.c));
	ck_assert(FUTURE_CHAIN_ENTRY_IS_LAST(&fut.data.c));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_LAST(&fut.data.a));
	ck_assert_str_eq(event_log, "");

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "I1 P1 I2 M1 P2 I3 M2 P3 M3");
	for (int i = 1; i <= 3; i++) {
		ck_assert_msg(init_probes[i].calls == 1,
			"init %d called %u times", i, init_probes[i].calls);
		ck_assert_ptr_eq(init_probes[i].second, &fut.base.context);
	}
	ck_assert_ptr_eq(init_probes[1].first, &fut.data.a.fut);
	ck_assert_ptr_eq(init_probes[2].first, &fut.data.b.fut);
	ck_assert_ptr_eq(init_probes[3].first, &fut.data.c.fut);
	ck_assert(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.a));
	ck_assert(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.b));
	ck_assert(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.c));
	ck_assert_uint_eq(fut.output.result, 1123);
}
END_TEST

/* Lazy inits alone link the steps: each reads the previous output. */
START_TEST(test_chain_lazy_init_reads_previous)
{
	struct chain3_future fut;

	memset(&fut, 0xa5, sizeof(fut));
	FUTURE_CHAIN_INIT(&fut);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.a, step_new(1, 1, 1), NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.b, init_chain3_step,
		&init_probes[2], NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.c, init_chain3_step,
		&init_probes[3], NULL, NULL);
	ck_assert(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.a));

	FUTURE_BUSY_POLL(&fut);
	ck_assert_str_eq(event_log, "P1 I2 P2 I3 P3");
	ck_assert_uint_eq(fut.data.b.fut.data.in, 11);
	ck_assert_uint_eq(fut.data.c.fut.data.in, 112);
	ck_assert_uint_eq(fut.data.c.fut.output.out, 1123);
}
END_TEST

/*
 * An entry that is not complete makes the chain RUNNING; the next poll
 * resumes at that entry, without polling the finished ones again, and a
 * lazy init still runs only once.
 */
START_TEST(test_chain_resume)
{
	struct chain3_future fut;

	chain3_init(&fut, 1, 3, 2);
	init_probes[2].polls = 3;
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.b, init_chain3_step,
		&init_probes[2], map_step_to_step, &probes[2]);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_RUNNING);
	ck_assert_str_eq(event_log, "P1 I2 M1 P2");
	ck_assert(FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.a));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.b));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.c));

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_str_eq(event_log, "P1 I2 M1 P2 P2");

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_str_eq(event_log, "P1 I2 M1 P2 P2 P2 M2 P3");
	ck_assert(FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.b));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.c));

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 I2 M1 P2 P2 P2 M2 P3 P3 M3");

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 I2 M1 P2 P2 P2 M2 P3 P3 M3");

	ck_assert_uint_eq(fut.data.a.fut.data.polls, 1);
	ck_assert_uint_eq(fut.data.b.fut.data.polls, 3);
	ck_assert_uint_eq(fut.data.c.fut.data.polls, 2);
	ck_assert_uint_eq(init_probes[2].calls, 1);
	for (int i = 1; i <= 3; i++)
		ck_assert_msg(probes[i].calls == 1, "map %d called %u times",
			i, probes[i].calls);
	ck_assert_uint_eq(fut.output.result, 1123);
}
END_TEST

/* The flags member as the uint64_t it holds at run time. */
static uint64_t
flags_of(const void *flags_member)
{
	uint64_t flags;

	memcpy(&flags, flags_member, sizeof(flags));
	return flags;
}

START_TEST(test_chain_flags)
{
	struct chain3_future fut;

	/* the entry kind, at compile time */
	ck_assert_uint_eq(sizeof(*fut.data.a.flags),
		FUTURE_CHAIN_ENTRY_REGULAR);
	ck_assert_uint_eq(sizeof(*fut.data.c.flags), FUTURE_CHAIN_ENTRY_LAST);
	ck_assert_uint_eq(sizeof(fut.data.a.flags), sizeof(uint64_t));

	chain3_init(&fut, 1, 2, 1);
	ck_assert_uint_eq(flags_of(&fut.data.a.flags), 0);
	ck_assert_uint_eq(flags_of(&fut.data.b.flags), 0);
	ck_assert_uint_eq(flags_of(&fut.data.c.flags),
		FUTURE_CHAIN_FLAG_ENTRY_LAST);
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_LAST(&fut.data.a));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_LAST(&fut.data.b));
	ck_assert(FUTURE_CHAIN_ENTRY_IS_LAST(&fut.data.c));
	ck_assert(FUTURE_CHAIN_ENTRY_HAS_FLAG(&fut.data.c,
		FUTURE_CHAIN_FLAG_ENTRY_LAST));
	ck_assert(!FUTURE_CHAIN_ENTRY_HAS_FLAG(&fut.data.c,
		FUTURE_CHAIN_FLAG_ENTRY_PROCESSED));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.a));
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.c));
	ck_assert(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&fut.data.a));
	ck_assert_ptr_null(fut.data.a.init_arg);

	future_poll(FUTURE_AS_RUNNABLE(&fut), NULL);
	ck_assert_uint_eq(flags_of(&fut.data.a.flags),
		FUTURE_CHAIN_FLAG_ENTRY_PROCESSED);
	ck_assert_uint_eq(flags_of(&fut.data.b.flags), 0);
	ck_assert(FUTURE_CHAIN_ENTRY_HAS_FLAG(&fut.data.a,
		FUTURE_CHAIN_FLAG_ENTRY_PROCESSED));

	future_poll(FUTURE_AS_RUNNABLE(&fut), NULL);
	ck_assert_int_eq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	ck_assert_uint_eq(flags_of(&fut.data.b.flags),
		FUTURE_CHAIN_FLAG_ENTRY_PROCESSED);
	ck_assert_uint_eq(flags_of(&fut.data.c.flags),
		FUTURE_CHAIN_VALID_FLAGS);
	ck_assert(FUTURE_CHAIN_ENTRY_IS_LAST(&fut.data.c));
	ck_assert(FUTURE_CHAIN_ENTRY_IS_PROCESSED(&fut.data.c));
}
END_TEST

/* One entry, declared last, with a field after it. */
struct chain1_last_data {
	FUTURE_CHAIN_ENTRY_LAST(struct step_future, only);
	int after;
};

FUTURE(chain1_last_future, struct chain1_last_data, struct chain_output);

/* One ordinary entry: the walk ends where the data does. */
struct chain1_data {
	FUTURE_CHAIN_ENTRY(struct step_future, only);
};

FUTURE(chain1_future, struct chain1_data, struct chain_output);

START_TEST(test_chain1)
{
	struct chain1_last_future last;
	struct chain1_future plain;

	memset(&last, 0xa5, sizeof(last));
	FUTURE_CHAIN_INIT(&last);
	FUTURE_CHAIN_ENTRY_INIT(&last.data.only, step_new(1, 2, 4),
		map_step_to_chain, &probes[1]);
	last.data.after = -7;
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&last), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&last), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 P1 M1");
	ck_assert_uint_eq(last.output.result, 41);
	ck_assert_ptr_eq(probes[1].second, &last.base.context);
	ck_assert_int_eq(last.data.after, -7);

	chain_setup();
	memset(&plain, 0xa5, sizeof(plain));
	FUTURE_CHAIN_INIT(&plain);
	FUTURE_CHAIN_ENTRY_INIT(&plain.data.only, step_new(1, 1, 5),
		map_step_to_chain, &probes[1]);
	ck_assert(!FUTURE_CHAIN_ENTRY_IS_LAST(&plain.data.only));
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&plain), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 M1");
	ck_assert_uint_eq(plain.output.result, 51);
	ck_assert_ptr_eq(probes[1].second, &plain.base.context);
}
END_TEST

/* Two ordinary entries, none flagged last. */
struct chain2_data {
	FUTURE_CHAIN_ENTRY(struct step_future, a);
	FUTURE_CHAIN_ENTRY(struct step_future, b);
};

FUTURE(chain2_future, struct chain2_data, struct chain_output);

/* Builds the second step of a chain2 from the first one's output. */
static void
init_chain2_second(void *future, struct future_context *chain_fut,
	void *arg)
{
	struct call_probe *probe = arg;
	struct chain2_data *data = future_context_get_data(chain_fut);

	log_event('I', probe->id);
	probe->calls++;
	*(struct step_future *)future = step_new(2, 1, data->a.fut.output.out);
}

START_TEST(test_chain2)
{
	struct chain2_future fut;

	memset(&fut, 0xa5, sizeof(fut));
	FUTURE_CHAIN_INIT(&fut);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.a, step_new(1, 1, 3),
		map_step_to_step, &probes[1]);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.b, init_chain2_second,
		&init_probes[2], map_step_to_chain, &probes[2]);
	fut.output.result = 0;

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 I2 M1 P2 M2");
	ck_assert_uint_eq(fut.output.result, 312);
	ck_assert_ptr_eq(probes[1].second, &fut.data.b.fut.base.context);
	ck_assert_ptr_eq(probes[2].second, &fut.base.context);
}
END_TEST

/*
 * Chains whose output is aligned beyond what the entries' end gives: the
 * compiler pads between the data and the output, FUTURE_INIT counts that
 * padding in data_size, and the walk must end the entries where the data
 * member ends, whatever the padding holds. Every power of two from 1 to
 * 4096, for a one-entry chain (plain and FUTURE_CHAIN_ENTRY_LAST) and for
 * a chain with a chain nested in it, its padding zeroed, filled with junk,
 * or holding what looks like one more entry, its context as these headers
 * set it and as 0.2's did (data_size without the padding); as 0.4.0's did
 * (data_size with the padding, context padding 0) too where the padding
 * is too short for an entry, the only case 0.4.0's walk got right.
 */
struct one_last_data {
	FUTURE_CHAIN_ENTRY_LAST(struct step_future, only);
};

/* an inner chain (two steps, result in chain_output) and a last step */
struct nest_data {
	FUTURE_CHAIN_ENTRY(struct chain2_future, inner);
	FUTURE_CHAIN_ENTRY(struct step_future, last);
};

/* The padding's fake entry: any call into it is the walk's mistake. */
static unsigned fake_calls;

static enum future_state
fake_task(struct future_context *context, struct future_notifier *notifier)
{
	(void)context;
	(void)notifier;
	fake_calls++;
	return FUTURE_STATE_RUNNING;
}

static int
fake_property(void *future, enum future_property property)
{
	(void)future;
	(void)property;
	fake_calls++;
	return 1;
}

static void
fake_init(void *future, struct future_context *chain_fut, void *arg)
{
	(void)future;
	(void)chain_fut;
	(void)arg;
	fake_calls++;
}

/* Writes the last step's output as the chain's 8-byte result. */
static void
map_step_to_bytes(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct call_probe *probe = arg;
	struct step_output *out = future_context_get_output(lhs);

	log_event('M', probe->id);
	probe->calls++;
	memcpy(future_context_get_output(rhs), &out->out, sizeof(out->out));
}

/* Passes a chain's result on as the next step's input. */
static void
map_chain_to_step(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct call_probe *probe = arg;
	struct chain_output *out = future_context_get_output(lhs);
	struct step_data *next = future_context_get_data(rhs);

	log_event('M', probe->id);
	probe->calls++;
	next->in = out->result;
}

static void
nest_inner_init(struct chain2_future *inner)
{
	FUTURE_CHAIN_INIT(inner);
	FUTURE_CHAIN_ENTRY_INIT(&inner->data.a, step_new(1, 1, 7),
		map_step_to_step, &probes[1]);
	FUTURE_CHAIN_ENTRY_INIT(&inner->data.b, step_new(2, 1, 0),
		map_step_to_chain, &probes[2]);
	inner->output.result = 0;
}

/* What the runner needs of one aligned chain type. */
struct aligned_chain {
	const char *kind;
	size_t align;
	size_t size; /* sizeof the future */
	size_t data_end; /* offset of the end of its data member */
	size_t output_at; /* offset of its output member */
	void (*init)(void *future);
	const char *events; /* the log of its one poll */
	uint64_t result;
};

#define ALIGNED_CHAINS(_a)\
struct aligned_out_##_a {\
	_Alignas(_a) unsigned char bytes[8];\
};\
FUTURE(one_##_a##_future, struct chain1_data, struct aligned_out_##_a);\
FUTURE(last_##_a##_future, struct one_last_data, struct aligned_out_##_a);\
FUTURE(nest_##_a##_future, struct nest_data, struct aligned_out_##_a);\
static void \
one_##_a##_init(void *future)\
{\
	struct one_##_a##_future *f = future;\
	FUTURE_CHAIN_INIT(f);\
	FUTURE_CHAIN_ENTRY_INIT(&f->data.only, step_new(1, 1, 3),\
		map_step_to_bytes, &probes[1]);\
}\
static void \
last_##_a##_init(void *future)\
{\
	struct last_##_a##_future *f = future;\
	FUTURE_CHAIN_INIT(f);\
	FUTURE_CHAIN_ENTRY_INIT(&f->data.only, step_new(1, 1, 4),\
		map_step_to_bytes, &probes[1]);\
}\
static void \
nest_##_a##_init(void *future)\
{\
	struct nest_##_a##_future *f = future;\
	struct chain2_future inner;\
	memset(&inner, 0, sizeof(inner));\
	nest_inner_init(&inner);\
	FUTURE_CHAIN_INIT(f);\
	FUTURE_CHAIN_ENTRY_INIT(&f->data.inner, inner, map_chain_to_step,\
		&probes[3]);\
	FUTURE_CHAIN_ENTRY_INIT(&f->data.last, step_new(4, 1, 0),\
		map_step_to_bytes, &probes[4]);\
}\
static const struct aligned_chain aligned_chains_##_a[] = {\
	{ "one plain entry", _a, sizeof(struct one_##_a##_future),\
		offsetof(struct one_##_a##_future, data) +\
		sizeof(struct chain1_data),\
		offsetof(struct one_##_a##_future, output),\
		one_##_a##_init, "P1 M1", 31 },\
	{ "one LAST entry", _a, sizeof(struct last_##_a##_future),\
		offsetof(struct last_##_a##_future, data) +\
		sizeof(struct one_last_data),\
		offsetof(struct last_##_a##_future, output),\
		last_##_a##_init, "P1 M1", 41 },\
	{ "a nested chain", _a, sizeof(struct nest_##_a##_future),\
		offsetof(struct nest_##_a##_future, data) +\
		sizeof(struct nest_data),\
		offsetof(struct nest_##_a##_future, output),\
		nest_##_a##_init, "P1 M1 P2 M2 M3 P4 M4", 7124 },\
}

ALIGNED_CHAINS(1);
ALIGNED_CHAINS(2);
ALIGNED_CHAINS(4);
ALIGNED_CHAINS(8);
ALIGNED_CHAINS(16);
ALIGNED_CHAINS(32);
ALIGNED_CHAINS(64);
ALIGNED_CHAINS(128);
ALIGNED_CHAINS(256);
ALIGNED_CHAINS(512);
ALIGNED_CHAINS(1024);
ALIGNED_CHAINS(2048);
ALIGNED_CHAINS(4096);

static const struct aligned_chain *const aligned_chains[] = {
	aligned_chains_1, aligned_chains_2, aligned_chains_4,
	aligned_chains_8, aligned_chains_16, aligned_chains_32,
	aligned_chains_64, aligned_chains_128, aligned_chains_256,
	aligned_chains_512, aligned_chains_1024, aligned_chains_2048,
	aligned_chains_4096,
};

enum pad_fill { PAD_ZERO, PAD_JUNK, PAD_FAKE_ENTRY, PAD_FILLS };
enum ctx_style { CTX_OURS, CTX_02, CTX_040, CTX_STYLES };

static const char *const fill_names[] = { "zeroed", "junk", "fake entry" };
static const char *const style_names[] = { "these headers'", "0.2's",
	"0.4.0's" };

/* Builds the chain in memory full of 'fill', then polls it once. */
static void
run_aligned_chain(const struct aligned_chain *c, enum pad_fill fill,
	enum ctx_style style)
{
	size_t gap = c->output_at - c->data_end;
	void *mem = NULL;
	char what[128];

	snprintf(what, sizeof(what), "alignas(%zu) output, %s, %zu bytes of "
		"%s padding, %s context", c->align, c->kind, gap,
		fill_names[fill], style_names[style]);
	ck_assert_int_eq(posix_memalign(&mem, c->align < sizeof(void *) ?
		sizeof(void *) : c->align, c->size), 0);

	struct future *fut = mem;
	struct future_context *ctx = &fut->context;
	char *base = mem;

	memset(mem, fill == PAD_ZERO ? 0 : 0xa5, c->size);
	c->init(mem);
	/* FUTURE_INIT records the padding; data_size reaches the output */
	ck_assert_msg(future_context_get_output(ctx) == base + c->output_at,
		"%s: output at %p, member at %p", what,
		future_context_get_output(ctx), (void *)(base + c->output_at));
	ck_assert_msg(ctx->padding == gap, "%s: context padding %u", what,
		(unsigned)ctx->padding);
	if (fill == PAD_FAKE_ENTRY && gap >= sizeof(struct future_chain_entry)) {
		struct future_chain_entry fake;

		memset(&fake, 0, sizeof(fake));
		fake.init = fake_init;
		fake.future.task = fake_task;
		fake.future.has_property = fake_property;
		fake.future.context.state = FUTURE_STATE_IDLE;
		memcpy(base + c->data_end, &fake, sizeof(fake));
	}
	if (style == CTX_02) {
		ctx->data_size = c->data_end - sizeof(struct future);
		ctx->padding = 0;
	} else if (style == CTX_040) {
		ctx->padding = 0;
	}

	chain_setup();
	fake_calls = 0;
	ck_assert_msg(future_has_property(fut, FUTURE_PROPERTY_ASYNC) == 0,
		"%s: property before the poll", what);
	ck_assert_msg(future_poll(fut, NULL) == FUTURE_STATE_COMPLETE,
		"%s: not complete after one poll (events '%s')", what,
		event_log);
	ck_assert_msg(strcmp(event_log, c->events) == 0,
		"%s: events '%s', want '%s'", what, event_log, c->events);

	uint64_t result;

	memcpy(&result, future_context_get_output(ctx), sizeof(result));
	ck_assert_msg(result == c->result, "%s: result %llu, want %llu",
		what, (unsigned long long)result,
		(unsigned long long)c->result);
	ck_assert_msg(future_has_property(fut, FUTURE_PROPERTY_ASYNC) == -1,
		"%s: property after completion", what);
	ck_assert_msg(future_poll(fut, NULL) == FUTURE_STATE_COMPLETE &&
		strcmp(event_log, c->events) == 0,
		"%s: a poll after completion ran something: '%s'", what,
		event_log);
	ck_assert_msg(fake_calls == 0, "%s: the walk called into the padding "
		"%u times", what, fake_calls);
	free(mem);
}

START_TEST(test_chain_aligned_output)
{
	size_t n = sizeof(aligned_chains) / sizeof(aligned_chains[0]);
	size_t kinds = sizeof(aligned_chains_1) / sizeof(aligned_chains_1[0]);
	unsigned runs = 0, big_gaps = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < kinds; k++) {
			const struct aligned_chain *c = &aligned_chains[i][k];
			size_t gap = c->output_at - c->data_end;

			ck_assert_uint_eq(c->align, (size_t)1 << i);
			if (gap >= sizeof(struct future_chain_entry))
				big_gaps++;
			for (int f = 0; f < PAD_FILLS; f++) {
				for (int s = 0; s < CTX_STYLES; s++) {
					if (s == CTX_040 && gap >=
						sizeof(struct future_chain_entry))
						continue;
					run_aligned_chain(c, (enum pad_fill)f,
						(enum ctx_style)s);
					runs++;
				}
			}
		}
	}
	/* the cases of the bug are there: room for a whole fake entry */
	ck_assert_uint_ge(big_gaps, 10);
	ck_assert_uint_ge(runs, n * kinds * PAD_FILLS * 2);
}
END_TEST

/* The case: one entry, alignas(256) and alignas(4096), on the stack. */
START_TEST(test_chain_one_entry_page_aligned)
{
	struct one_256_future f256;
	struct one_4096_future f4096;

	for (int fill = 0; fill < 2; fill++) {
		chain_setup();
		memset(&f256, fill ? 0x5a : 0, sizeof(f256));
		one_256_init(&f256);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f256), NULL),
			FUTURE_STATE_COMPLETE);
		ck_assert_str_eq(event_log, "P1 M1");

		chain_setup();
		memset(&f4096, fill ? 0x5a : 0, sizeof(f4096));
		one_4096_init(&f4096);
		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&f4096), NULL),
			FUTURE_STATE_COMPLETE);
		ck_assert_str_eq(event_log, "P1 M1");

		uint64_t result;

		memcpy(&result, f4096.output.bytes, sizeof(result));
		ck_assert_uint_eq(result, 31);
	}
}
END_TEST

/* The chain's property is its first unprocessed entry's, then -1. */
START_TEST(test_chain_property)
{
	struct chain3_future fut;

	chain3_init(&fut, 1, 2, 2);
	fut.data.a.fut.data.async = 1;
	fut.data.b.fut.data.async = 0;
	fut.data.c.fut.data.async = 1;

	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 1);
	future_poll(FUTURE_AS_RUNNABLE(&fut), NULL);
	ck_assert_str_eq(event_log, "P1 M1 P2");
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 0);
	future_poll(FUTURE_AS_RUNNABLE(&fut), NULL);
	ck_assert_str_eq(event_log, "P1 M1 P2 P2 M2 P3");
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), 1);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_int_eq(future_has_property(FUTURE_AS_RUNNABLE(&fut),
		FUTURE_PROPERTY_ASYNC), -1);
}
END_TEST

/* The chain hands its notifier to the entry; what the entry claims shows. */
START_TEST(test_chain_notifier)
{
	static const enum future_notifier_type kinds[] = {
		FUTURE_NOTIFIER_WAKER, FUTURE_NOTIFIER_POLLER,
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct chain3_future fut;
		struct future_notifier notifier;

		chain_setup();
		memset(&notifier, 0, sizeof(notifier));
		chain3_init(&fut, 1, 2, 1);
		fut.data.b.fut.data.use = kinds[i];

		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut),
			&notifier), FUTURE_STATE_RUNNING);
		ck_assert_int_eq(notifier.notifier_used, kinds[i]);
		ck_assert_ptr_eq(fut.data.a.fut.data.last_notifier, &notifier);
		ck_assert_ptr_eq(fut.data.b.fut.data.last_notifier, &notifier);

		ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut),
			&notifier), FUTURE_STATE_COMPLETE);
		ck_assert_ptr_eq(fut.data.c.fut.data.last_notifier, &notifier);
		ck_assert_uint_eq(fut.output.result, 1123);
	}

	/* a chain polled without a notifier polls its entries without */
	struct chain3_future fut;

	chain3_init(&fut, 1, 2, 1);
	fut.data.b.fut.data.use = FUTURE_NOTIFIER_WAKER;
	FUTURE_BUSY_POLL(&fut);
	ck_assert_ptr_null(fut.data.b.fut.data.last_notifier);
	ck_assert_uint_eq(fut.output.result, 1123);
}
END_TEST

/*
 * Entries of different future types, one with padding between its data
 * and output, and the last one found by size, not by flag.
 */
FUTURE(byte_step_future, char, uint64_t);

static enum future_state
byte_step_task(struct future_context *context,
	struct future_notifier *notifier)
{
	(void)notifier;
	log_event('P', *(char *)future_context_get_data(context) - '0');
	*(uint64_t *)future_context_get_output(context) = 77;
	return FUTURE_STATE_COMPLETE;
}

struct mixed_data {
	FUTURE_CHAIN_ENTRY(struct step_future, a);
	FUTURE_CHAIN_ENTRY(struct count_future, b);
	FUTURE_CHAIN_ENTRY(struct byte_step_future, c);
	FUTURE_CHAIN_ENTRY(struct step_future, d);
};

FUTURE(mixed_future, struct mixed_data, struct chain_output);

/* Moves the byte step's output into the next step's input. */
static void
map_byte_to_step(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	(void)arg;
	((struct step_data *)future_context_get_data(rhs))->in =
		*(uint64_t *)future_context_get_output(lhs);
}

START_TEST(test_chain_mixed)
{
	struct mixed_future fut;
	struct byte_step_future byte;
	struct count_future count;

	memset(&byte, 0, sizeof(byte));
	FUTURE_INIT(&byte, byte_step_task);
	byte.data = '3';
	count_future_init(&count, 2);

	memset(&fut, 0xa5, sizeof(fut));
	FUTURE_CHAIN_INIT(&fut);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.a, step_new(1, 1, 0), NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.b, count, NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.c, byte, map_byte_to_step, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.d, step_new(4, 1, 0),
		map_step_to_chain, &probes[4]);

	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_RUNNING);
	ck_assert_str_eq(event_log, "P1");
	ck_assert_uint_eq(fut.data.b.fut.data.polls, 1);
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_str_eq(event_log, "P1 P3 P4 M4");
	ck_assert_uint_eq(fut.data.a.fut.data.polls, 1);
	ck_assert_uint_eq(fut.data.b.fut.data.polls, 2);
	ck_assert_uint_eq(fut.data.b.fut.output.value, 1002);
	ck_assert_uint_eq(fut.data.c.fut.output, 77);
	ck_assert_uint_eq(fut.data.d.fut.data.in, 77);
	ck_assert_uint_eq(fut.output.result, 774);
	ck_assert_ptr_eq(probes[4].second, &fut.base.context);
}
END_TEST

/*
 * A chain of vdm futures on the synchronous mover: fill a with a byte,
 * copy a to b, then a lazily built move of b to c. Each map hands the
 * previous destination on as the next source.
 */
#define VDM_CHAIN_BYTES 1000

struct copy_chain_data {
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, fill);
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, copy);
	FUTURE_CHAIN_ENTRY_LAST(struct vdm_operation_future, move);
	unsigned char *dest; /* where the lazy move writes */
};

struct copy_chain_output {
	void *final;
	enum vdm_operation_result result;
};

FUTURE(copy_chain_future, struct copy_chain_data, struct copy_chain_output);

static void
map_fill_to_copy(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct vdm_operation_output *out = future_context_get_output(lhs);
	struct vdm_operation_data *next = future_context_get_data(rhs);

	(void)arg;
	next->operation.data.memcpy.src = out->output.memset.str;
}

static void
map_copy_to_move(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct vdm_operation_output *out = future_context_get_output(lhs);
	struct vdm_operation_data *next = future_context_get_data(rhs);

	(void)arg;
	next->operation.data.memmove.src = out->output.memcpy.dest;
}

static void
map_move_to_chain(struct future_context *lhs, struct future_context *rhs,
	void *arg)
{
	struct vdm_operation_output *out = future_context_get_output(lhs);
	struct copy_chain_output *result = future_context_get_output(rhs);

	(void)arg;
	result->final = out->output.memmove.dest;
	result->result = out->result;
}

/* The move, built when reached, to the destination the chain names. */
static void
init_move(void *future, struct future_context *chain_fut, void *arg)
{
	struct copy_chain_data *data = future_context_get_data(chain_fut);

	*(struct vdm_operation_future *)future = vdm_memmove(arg, data->dest,
		NULL, VDM_CHAIN_BYTES, VDM_F_MEM_DURABLE);
}

START_TEST(test_chain_vdm)
{
	static unsigned char a[VDM_CHAIN_BYTES], b[VDM_CHAIN_BYTES];
	static unsigned char c[VDM_CHAIN_BYTES];
	struct data_mover_sync *dms = data_mover_sync_new();

	ck_assert_ptr_nonnull(dms);
	struct vdm *vdm = data_mover_sync_get_vdm(dms);
	struct copy_chain_future fut;

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	memset(&fut, 0xa5, sizeof(fut));
	FUTURE_CHAIN_INIT(&fut);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.fill,
		vdm_memset(vdm, a, 0x3c, VDM_CHAIN_BYTES, 0),
		map_fill_to_copy, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.copy,
		vdm_memcpy(vdm, b, NULL, VDM_CHAIN_BYTES, VDM_F_NO_CACHE_HINT),
		map_copy_to_move, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.move, init_move, vdm,
		map_move_to_chain, NULL);
	fut.data.dest = c;
	fut.output.final = NULL;
	fut.output.result = VDM_ERROR_JOB_CORRUPTED;

	/* the sync mover finishes every entry within the first poll */
	ck_assert_int_eq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL),
		FUTURE_STATE_COMPLETE);
	ck_assert_ptr_eq(fut.output.final, c);
	ck_assert_int_eq(fut.output.result, VDM_SUCCESS);
	ck_assert_int_eq(fut.data.fill.fut.output.result, VDM_SUCCESS);
	ck_assert_int_eq(fut.data.copy.fut.output.result, VDM_SUCCESS);
	ck_assert_ptr_eq(fut.data.copy.fut.data.operation.data.memcpy.src, a);
	ck_assert_ptr_eq(fut.data.move.fut.data.operation.data.memmove.src, b);
	for (size_t i = 0; i < VDM_CHAIN_BYTES; i++) {
		ck_assert_msg(a[i] == 0x3c && b[i] == 0x3c && c[i] == 0x3c,
			"byte %zu: a %#x b %#x c %#x, expected 0x3c", i,
			a[i], b[i], c[i]);
	}

	/* the same chain again, busy polled */
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	FUTURE_CHAIN_INIT(&fut);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.fill,
		vdm_memset(vdm, a, 0x7e, VDM_CHAIN_BYTES / 2, 0),
		map_fill_to_copy, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.copy,
		vdm_memcpy(vdm, b, NULL, VDM_CHAIN_BYTES, 0),
		map_copy_to_move, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.move, init_move, vdm,
		map_move_to_chain, NULL);
	FUTURE_BUSY_POLL(&fut);
	ck_assert_ptr_eq(fut.output.final, c);
	for (size_t i = 0; i < VDM_CHAIN_BYTES; i++) {
		unsigned want = i < VDM_CHAIN_BYTES / 2 ? 0x7e : 1;

		ck_assert_msg(c[i] == want, "byte %zu: c %#x, expected %#x",
			i, c[i], want);
	}

	data_mover_sync_delete(dms);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("future");
	TCase *tc;

	tc = tcase_create("future");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, test_init_fields);
	tcase_add_test(tc, test_init_ext_fields);
	tcase_add_test(tc, test_init_complete_fields);
	tcase_add_test(tc, test_poll_counts);
	tcase_add_test(tc, test_poll_null_notifier);
	tcase_add_test(tc, test_context_accessors);
	tcase_add_test(tc, test_accessors_write_members);
	tcase_add_test(tc, test_member_macros);
	tcase_add_test(tc, test_busy_poll);
	tcase_add_test(tc, test_waker_wake);
	tcase_add_test(tc, test_has_property);
	suite_add_tcase(s, tc);

	tc = tcase_create("chain");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_checked_fixture(tc, chain_setup, NULL);
	tcase_add_test(tc, test_chain3_order);
	tcase_add_test(tc, test_chain_map_args);
	tcase_add_test(tc, test_chain_lazy_init);
	tcase_add_test(tc, test_chain_lazy_init_reads_previous);
	tcase_add_test(tc, test_chain_resume);
	tcase_add_test(tc, test_chain_flags);
	tcase_add_test(tc, test_chain1);
	tcase_add_test(tc, test_chain2);
	tcase_add_test(tc, test_chain_aligned_output);
	tcase_add_test(tc, test_chain_one_entry_page_aligned);
	tcase_add_test(tc, test_chain_property);
	tcase_add_test(tc, test_chain_notifier);
	tcase_add_test(tc, test_chain_mixed);
	tcase_add_test(tc, test_chain_vdm);
	suite_add_tcase(s, tc);

	return s;
}
