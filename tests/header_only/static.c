/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * static.c -- linked against libminiasync.a: the futures of the
 * library's movers get the library's task, though the headers refer to it
 * weakly (a static link pulls no archive member in for a weak reference;
 * the movers' objects refer to it strongly).
 */

#include <stdio.h>
#include <string.h>

#include <libminiasync.h>

int
main(void)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	struct data_mover_threads *dmt = data_mover_threads_new(1, 4,
		FUTURE_NOTIFIER_NONE);
	struct vdm *vdms[2];
	char a[64], b[64];
	int failed = 0;

	if (dms == NULL || dmt == NULL)
		return 1;
	vdms[0] = data_mover_sync_get_vdm(dms);
	vdms[1] = data_mover_threads_get_vdm(dmt);
	memset(a, 1, sizeof(a));
	for (int v = 0; v < 2; v++) {
		struct vdm_operation_future fut =
			vdm_memcpy(vdms[v], b, a, sizeof(a), 0);

		if (fut.base.task != vdm_operation_task) {
			fprintf(stderr, "mover %d: not the library's task\n",
				v);
			failed = 1;
		}
		FUTURE_BUSY_POLL(&fut);
		if (memcmp(a, b, sizeof(a)) != 0)
			failed = 1;
	}
	data_mover_threads_delete(dmt);
	data_mover_sync_delete(dms);
	if (!failed)
		printf("static link: the library's task\n");
	return failed;
}
