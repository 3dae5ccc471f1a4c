/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * kvstore.c -- the mover's futures composed with a program's own: a small
 * in-memory key-value store whose put() is a chained future of three
 * entries,
 *   reserve: a future of our own: finds or creates the key's slot and
 *            allocates a buffer for the new value;
 *   copy:    built lazily, once the buffer's address is known: a memcpy
 *            of the value into it on the threads mover;
 *   commit:  built lazily too: installs the buffer as the key's value
 *            (or, after a failure, gives buffer and slot back);
 * with map functions passing the copy's result to commit and commit's
 * status out as the put's result. Several puts run at once; get() then
 * reads the values back. All the store's code runs in the thread that
 * polls, so it needs no locks: only the copies run on worker threads.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libminiasync.h>

#define NSLOTS 8
#define KEY_MAX 16

struct slot {
	char key[KEY_MAX];
	void *value;		/* the committed value, or NULL */
	size_t len;
	unsigned pending;	/* puts under way on this slot */
};

/* A slot is free when it holds no value and no put is using it. */
#define SLOT_FREE(s) ((s)->value == NULL && (s)->pending == 0)

/* The key's slot, or -1. */
static int
kv_find(struct slot *kv, const char *key)
{
	for (int i = 0; i < NSLOTS; i++)
		if (!SLOT_FREE(&kv[i]) && strcmp(kv[i].key, key) == 0)
			return i;
	return -1;
}

/* Entry 1: reserve a slot and a buffer (done in its first poll). */
struct reserve_data {
	struct slot *kv;	/* the store: NSLOTS slots */
	const char *key;
	size_t len;
};

struct reserve_output {
	void *buf;	/* NULL when out of memory or out of slots */
	int slot;
};

FUTURE(reserve_fut, struct reserve_data, struct reserve_output);

static enum future_state
reserve_task(struct future_context *ctx, struct future_notifier *notifier)
{
	struct reserve_data *data = future_context_get_data(ctx);
	struct reserve_output *out = future_context_get_output(ctx);
	struct slot *kv = data->kv;
	int i = kv_find(kv, data->key);

	(void)notifier;
	for (int j = 0; i < 0 && j < NSLOTS; j++) {
		if (SLOT_FREE(&kv[j])) {
			i = j;
			snprintf(kv[i].key, KEY_MAX, "%s", data->key);
		}
	}
	out->slot = -1;
	out->buf = i < 0 ? NULL : malloc(data->len > 0 ? data->len : 1);
	if (out->buf != NULL) {
		out->slot = i;
		kv[i].pending++;
	}
	return FUTURE_STATE_COMPLETE;
}

/* Entry 3: commit the copied value, or undo the reservation. */
struct commit_data {
	struct reserve_data req;	/* what reserve was asked */
	struct reserve_output res;	/* and what it did */
	enum vdm_operation_result copied;	/* set by copy_map */
};

struct commit_output {
	enum vdm_operation_result result;
	int slot;
};

FUTURE(commit_fut, struct commit_data, struct commit_output);

static enum future_state
commit_task(struct future_context *ctx, struct future_notifier *notifier)
{
	struct commit_data *data = future_context_get_data(ctx);
	struct commit_output *out = future_context_get_output(ctx);

	(void)notifier;
	out->result = data->copied;
	out->slot = data->res.slot;
	if (data->res.slot < 0)
		return FUTURE_STATE_COMPLETE;	/* nothing was reserved */

	struct slot *s = &data->req.kv[data->res.slot];

	s->pending--;
	if (data->copied == VDM_SUCCESS) {
		free(s->value);		/* the old value, if any */
		s->value = data->res.buf;
		s->len = data->req.len;
	} else {
		free(data->res.buf);
		out->slot = -1;
	}
	return FUTURE_STATE_COMPLETE;
}

/* The put chain; the last entry is followed by the chain's own fields. */
struct put_data {
	FUTURE_CHAIN_ENTRY(struct reserve_fut, reserve);
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, copy);
	FUTURE_CHAIN_ENTRY_LAST(struct commit_fut, commit);
	struct vdm *vdm;
	const void *value;
};

FUTURE(put_fut, struct put_data, struct commit_output);

/* Builds the copy once reserve is done and the buffer's address known. */
static void
copy_init(void *future, struct future_context *chain_ctx, void *arg)
{
	struct put_data *data = future_context_get_data(chain_ctx);
	struct reserve_output *res = FUTURE_OUTPUT(&data->reserve.fut);
	struct vdm_operation_future *copy = future;

	(void)arg;
	if (res->buf != NULL) {
		/* (the vdm takes a non-const source, but only reads it) */
		*copy = vdm_memcpy(data->vdm, res->buf, (void *)data->value,
			data->reserve.fut.data.len, 0);
		return;
	}
	/* No buffer: a copy that is already complete, with the error. */
	memset(copy, 0, sizeof(*copy));
	FUTURE_INIT_COMPLETE(copy);
	copy->output.type = VDM_OPERATION_MEMCPY;
	copy->output.result = VDM_ERROR_OUT_OF_MEMORY;
}

/* Builds commit from what reserve produced. */
static void
commit_init(void *future, struct future_context *chain_ctx, void *arg)
{
	struct put_data *data = future_context_get_data(chain_ctx);
	struct commit_fut *commit = future;

	(void)arg;
	commit->data.req = *FUTURE_DATA(&data->reserve.fut);
	commit->data.res = *FUTURE_OUTPUT(&data->reserve.fut);
	commit->data.copied = VDM_ERROR_JOB_CORRUPTED;	/* until mapped */
	FUTURE_INIT(commit, commit_task);
}

/* copy -> commit: the copy's result decides what commit does. */
static void
copy_map(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	struct vdm_operation_output *copy = future_context_get_output(lhs);
	struct commit_data *commit = future_context_get_data(rhs);

	(void)arg;
	commit->copied = copy->result;
}

/* commit -> the chain: commit's output is the put's result. */
static void
commit_map(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	*(struct commit_output *)future_context_get_output(rhs) =
		*(struct commit_output *)future_context_get_output(lhs);
}

/*
 * put(key, value): key (shorter than KEY_MAX) and value must stay as they
 * are until the put is done.
 */
static struct put_fut
kv_put(struct slot *kv, struct vdm *vdm, const char *key, const void *value,
	size_t len)
{
	struct put_fut fut;
	struct reserve_fut reserve = { .data = { kv, key, len } };

	FUTURE_INIT(&reserve, reserve_task);

	fut.data.vdm = vdm;
	fut.data.value = value;
	fut.output.result = VDM_ERROR_JOB_CORRUPTED;
	fut.output.slot = -1;
	FUTURE_CHAIN_ENTRY_INIT(&fut.data.reserve, reserve, NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.copy, copy_init, NULL,
		copy_map, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&fut.data.commit, commit_init, NULL,
		commit_map, NULL);
	FUTURE_CHAIN_INIT(&fut);
	return fut;
}

/* get(key): the committed value and its length, or NULL. */
static const void *
kv_get(struct slot *kv, const char *key, size_t *len)
{
	int i = kv_find(kv, key);

	if (i < 0 || kv[i].value == NULL)
		return NULL;
	*len = kv[i].len;
	return kv[i].value;
}

/* One put of a round: the key, and a value of 'len' bytes 'fill'. */
struct put_req {
	const char *key;
	char fill;
	size_t len;
};

#define ROUND_MAX 8
#define VALUE_MAX 4096

/*
 * Runs the puts of a round all at once, then checks each with get().
 * Returns how many ran out of memory (or slots), -1 on a wrong value.
 */
static int
run_round(struct slot *kv, struct vdm *vdm, struct runtime *r,
	const struct put_req *reqs, int n)
{
	static char values[ROUND_MAX][VALUE_MAX];
	struct put_fut futs[ROUND_MAX];
	struct future *runnables[ROUND_MAX];
	int nomem = 0;

	for (int i = 0; i < n; i++) {
		memset(values[i], reqs[i].fill, reqs[i].len);
		futs[i] = kv_put(kv, vdm, reqs[i].key, values[i], reqs[i].len);
		runnables[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	runtime_wait_multiple(r, runnables, (size_t)n);

	for (int i = 0; i < n; i++) {
		struct commit_output *res = FUTURE_OUTPUT(&futs[i]);
		size_t len = 0;
		const void *v = kv_get(kv, reqs[i].key, &len);

		if (res->result == VDM_ERROR_OUT_OF_MEMORY) {
			printf("put %-6s: out of memory (or of slots)\n",
				reqs[i].key);
			nomem++;
		} else if (res->result != VDM_SUCCESS || v == NULL ||
				len != reqs[i].len ||
				memcmp(v, values[i], len) != 0) {
			fprintf(stderr, "put %s: result %d, wrong value\n",
				reqs[i].key, (int)res->result);
			return -1;
		} else {
			printf("put %-6s: slot %d, %4zu bytes of '%c'\n",
				reqs[i].key, res->slot, len, reqs[i].fill);
		}
	}
	return nomem;
}

int
main(void)
{
	/* Six new keys; then one replaced and three new ones for 2 slots. */
	static const struct put_req round1[] = {
		{ "apple", 'a', 4096 }, { "banana", 'b', 100 },
		{ "cherry", 'c', 0 }, { "date", 'd', 2500 },
		{ "elder", 'e', 1 }, { "fig", 'f', 4000 },
	};
	static const struct put_req round2[] = {
		{ "apple", 'A', 300 }, { "grape", 'g', 64 },
		{ "kiwi", 'k', 128 }, { "lemon", 'l', 256 },
	};
	static struct slot kv[NSLOTS];	/* zeroed: every slot free */
	struct runtime *r = runtime_new();
	struct data_mover_threads *dmt = data_mover_threads_default();
	int failed = 1;

	if (r == NULL || dmt == NULL) {
		perror("kvstore: setup");
	} else {
		struct vdm *vdm = data_mover_threads_get_vdm(dmt);

		/* Round 2 takes the last two slots: one new key finds none. */
		failed = run_round(kv, vdm, r, round1, 6) != 0 ||
			run_round(kv, vdm, r, round2, 4) != 1;
	}
	for (int i = 0; i < NSLOTS; i++)
		free(kv[i].value);
	data_mover_threads_delete(dmt);
	runtime_delete(r);
	printf("kvstore: %s\n", failed ? "FAILED" : "all puts and gets right");
	return failed;
}
