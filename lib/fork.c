/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * fork.c -- the movers' fork handlers (fork.h): a list of nodes under one
 * lock, walked by the one set of handlers given to pthread_atfork.
 */

#include <pthread.h>
#include <stddef.h>

#include "fork.h"
#include "park.h"

static pthread_mutex_t nodes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ma_fork_node *nodes; /* under nodes_lock */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Takes the lock (kept until parent or child) and prepares every node. */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&nodes_lock);
	for (struct ma_fork_node *n = nodes; n != NULL; n = n->next)
		n->prepare(n);
}

static void
fork_parent(void)
{
	for (struct ma_fork_node *n = nodes; n != NULL; n = n->next)
		n->parent(n);
	pthread_mutex_unlock(&nodes_lock);
}

static void
fork_child(void)
{
	for (struct ma_fork_node *n = nodes; n != NULL; n = n->next)
		n->child(n);
	pthread_mutex_unlock(&nodes_lock);
}

/*
 * The wait table's handler first (lib/park.h): in the child it then runs
 * before ours, which may wake sleepers.
 */
static void
atfork_register(void)
{
	ma_park_fork_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void
ma_fork_register(struct ma_fork_node *node,
	void (*prepare)(struct ma_fork_node *node),
	void (*parent)(struct ma_fork_node *node),
	void (*child)(struct ma_fork_node *node))
{
	node->prepare = prepare;
	node->parent = parent;
	node->child = child;
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&nodes_lock);
	node->next = nodes;
	node->prev = &nodes;
	if (nodes != NULL)
		nodes->prev = &node->next;
	nodes = node;
	pthread_mutex_unlock(&nodes_lock);
}

void
ma_fork_unregister(struct ma_fork_node *node)
{
	pthread_mutex_lock(&nodes_lock);
	*node->prev = node->next;
	if (node->next != NULL)
		node->next->prev = node->prev;
	pthread_mutex_unlock(&nodes_lock);
}
