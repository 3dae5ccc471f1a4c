/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * overlap.c -- overlapping copies with other work: several memcpy futures
 * are started on the threads mover, the program does unrelated work while
 * the worker threads copy, then a runtime waits for all the copies and
 * every one is checked.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libminiasync.h>

#define NCOPIES 8
#define COPY_SIZE ((size_t)1 << 20)	/* 1 MiB each */
#define WORK_SIZE ((size_t)16 << 20)	/* the buffer checksummed meanwhile */

/* The unrelated work: a 64-bit FNV-1a checksum of a buffer. */
static uint64_t
checksum(const unsigned char *buf, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
main(void)
{
	struct runtime *r = runtime_new();
	struct data_mover_threads *dmt = data_mover_threads_default();
	unsigned char *src = malloc(NCOPIES * COPY_SIZE);
	unsigned char *dst = malloc(NCOPIES * COPY_SIZE);
	unsigned char *work = malloc(WORK_SIZE);
	int ret = 1;

	if (r == NULL || dmt == NULL || src == NULL || dst == NULL ||
			work == NULL) {
		perror("overlap: setup");
		goto out;
	}

	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct vdm_operation_future futs[NCOPIES];
	struct future *runnables[NCOPIES];

	for (size_t i = 0; i < NCOPIES * COPY_SIZE; i++)
		src[i] = (unsigned char)(i * 7 + i / COPY_SIZE);
	memset(dst, 0, NCOPIES * COPY_SIZE);
	for (size_t i = 0; i < WORK_SIZE; i++)
		work[i] = (unsigned char)(i ^ (i >> 8));

	/*
	 * Create the copies and poll each once: the first poll hands the
	 * operation to the mover's queue and returns at once. A future that
	 * could not be created is already complete, with an error result;
	 * one that found the queue full stays idle and is queued by a later
	 * poll. Polling with a NULL notifier asks for no wake-up, so the
	 * runtime below checks these futures by polling them, not by
	 * sleeping; that costs little when, as here, most are done by then.
	 */
	for (size_t i = 0; i < NCOPIES; i++) {
		futs[i] = vdm_memcpy(vdm, dst + i * COPY_SIZE,
			src + i * COPY_SIZE, COPY_SIZE, 0);
		runnables[i] = FUTURE_AS_RUNNABLE(&futs[i]);
		future_poll(runnables[i], NULL);
	}

	/* Meanwhile, on this thread: work that has nothing to do with them. */
	uint64_t sum = checksum(work, WORK_SIZE);

	/* A poll never blocks: it tells how many copies are done by now. */
	size_t done = 0;

	for (size_t i = 0; i < NCOPIES; i++)
		if (future_poll(runnables[i], NULL) == FUTURE_STATE_COMPLETE)
			done++;

	/* Wait for the rest (the runtime may reorder 'runnables'). */
	runtime_wait_multiple(r, runnables, NCOPIES);

	size_t bad = 0;

	for (size_t i = 0; i < NCOPIES; i++) {
		struct vdm_operation_output *out = FUTURE_OUTPUT(&futs[i]);
		unsigned char *d = dst + i * COPY_SIZE;
		unsigned char *s = src + i * COPY_SIZE;

		if (out->result != VDM_SUCCESS) {
			fprintf(stderr, "copy %zu: error result %d\n", i,
				(int)out->result);
			bad++;
		} else if (out->output.memcpy.dest != d ||
				memcmp(d, s, COPY_SIZE) != 0) {
			fprintf(stderr, "copy %zu: wrong bytes\n", i);
			bad++;
		}
	}

	printf("%d copies of %zu KiB on the threads mover\n", NCOPIES,
		COPY_SIZE >> 10);
	printf("checksum of %zu MiB computed meanwhile: %016llx\n",
		WORK_SIZE >> 20, (unsigned long long)sum);
	printf("%zu of %d copies were done when it was\n", done, NCOPIES);
	printf("%zu of %d copies verified\n", NCOPIES - bad, NCOPIES);
	ret = bad == 0 ? 0 : 1;
out:
	free(work);
	free(dst);
	free(src);
	data_mover_threads_delete(dmt);
	runtime_delete(r);
	return ret;
}
