/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * main.c -- the consumer in miniasync 0.2's style: one copy through the
 * synchronous mover, waited for by a runtime, then checked.
 */

#include <stdio.h>
#include <string.h>

#include <libminiasync.h>

int
main(void)
{
	char src[64] = "copied through libminiasync, found by CMake";
	char dst[64] = { 0 };
	struct runtime *r = runtime_new();
	struct data_mover_sync *dms = data_mover_sync_new();

	if (r == NULL || dms == NULL) {
		perror("compat02: setup");
		return 1;
	}
	struct vdm_operation_future fut = vdm_memcpy(
		data_mover_sync_get_vdm(dms), dst, src, sizeof(src), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));

	int ok = FUTURE_OUTPUT(&fut)->result == VDM_SUCCESS &&
		memcmp(dst, src, sizeof(src)) == 0;
	data_mover_sync_delete(dms);
	runtime_delete(r);
	printf("compat02: %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
