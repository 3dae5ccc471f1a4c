/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * main.c -- runs the header-only mover (mover.c, linked in or from a
 * shared library) and checks that its futures got the task expected:
 * "inline" without libminiasync in the process, "library" with it.
 */

#include <stdio.h>
#include <string.h>

#include "mover.h"

int
main(int argc, char *argv[])
{
	const char *task;

	if (argc != 2) {
		fprintf(stderr, "usage: %s inline|library\n", argv[0]);
		return 2;
	}
	if (own_mover_run() != 0)
		return 1;
	task = own_mover_task();
	if (strcmp(task, argv[1]) != 0) {
		fprintf(stderr, "the futures run the %s task, not the %s one\n",
			task, argv[1]);
		return 1;
	}
	printf("header-only mover: every operation done, %s task\n", task);
	return 0;
}
