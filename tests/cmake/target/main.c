/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * main.c -- the consumer of the imported target: copies on the threads
 * mover (its worker threads need the threads library the target brings),
 * waited for together by a runtime, then checked.
 */

#include <stdio.h>
#include <string.h>

#include <libminiasync.h>

#define NCOPIES 4
#define SIZE 4096

static char src[NCOPIES][SIZE];
static char dst[NCOPIES][SIZE];

int
main(void)
{
	struct runtime *r = runtime_new();
	struct data_mover_threads *dmt = data_mover_threads_default();

	if (r == NULL || dmt == NULL) {
		perror("target: setup");
		return 1;
	}

	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct vdm_operation_future futs[NCOPIES];
	struct future *runnables[NCOPIES];

	for (int i = 0; i < NCOPIES; i++) {
		memset(src[i], 'a' + i, SIZE);
		futs[i] = vdm_memcpy(vdm, dst[i], src[i], SIZE, 0);
		runnables[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	runtime_wait_multiple(r, runnables, NCOPIES);

	int ok = 1;
	for (int i = 0; i < NCOPIES; i++) {
		if (FUTURE_OUTPUT(&futs[i])->result != VDM_SUCCESS ||
				memcmp(dst[i], src[i], SIZE) != 0)
			ok = 0;
	}
	data_mover_threads_delete(dmt);
	runtime_delete(r);
	printf("target: %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
