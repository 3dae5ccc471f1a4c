/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * fork.h -- what the library's movers do around fork(2): each registers
 * a node with three handlers, and one pthread_atfork registration (made
 * with the first node) runs them for every node alive: prepare before the
 * fork, then parent in the parent or child in the child (where only the
 * forking thread exists). The handlers run with the list's lock held, so
 * a mover is never registered, unregistered or deleted half-way through.
 */

#ifndef MA_FORK_H
#define MA_FORK_H 1

struct ma_fork_node {
	void (*prepare)(struct ma_fork_node *node);
	void (*parent)(struct ma_fork_node *node);
	void (*child)(struct ma_fork_node *node);
	struct ma_fork_node *next, **prev; /* the list, under its lock */
};

/* Gives node its handlers and adds it to the list the fork handlers walk. */
void ma_fork_register(struct ma_fork_node *node,
	void (*prepare)(struct ma_fork_node *node),
	void (*parent)(struct ma_fork_node *node),
	void (*child)(struct ma_fork_node *node));

/* Takes node out of the list; its handlers are not called after this. */
void ma_fork_unregister(struct ma_fork_node *node);

#endif /* MA_FORK_H */
