/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * valgrind.h -- tells helgrind and drd about the library's lock-free
 * synchronisation, which they cannot see (they model locks, not C11
 * atomics). Outside valgrind each request costs a few instructions; where
 * configure found no <valgrind/helgrind.h>, nothing at all.
 * - MA_ATOMIC_WORDS(addr, len): the bytes are only ever accessed through
 *   atomics, so two accesses to them never race: do not check them.
 *   MA_ATOMIC_WORDS_END before the memory is freed.
 * - MA_HAPPENS_BEFORE(obj) just before a release store (or RMW) to obj,
 *   MA_HAPPENS_AFTER(obj) just after the acquire load that observes it:
 *   what the releasing thread wrote before is visible after.
 * - MA_NEW_MEMORY(addr, len): the calling thread owns the bytes from now
 *   on, whatever other threads did with them (a fork's child, whose only
 *   thread sets them up anew): forget their history.
 */

#ifndef MA_VALGRIND_H
#define MA_VALGRIND_H 1

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifdef HAVE_VALGRIND_HELGRIND_H
#include <valgrind/helgrind.h>
#define MA_ATOMIC_WORDS(addr, len)\
	VALGRIND_HG_DISABLE_CHECKING(addr, len)
#define MA_ATOMIC_WORDS_END(addr, len)\
	VALGRIND_HG_ENABLE_CHECKING(addr, len)
#define MA_HAPPENS_BEFORE(obj) ANNOTATE_HAPPENS_BEFORE(obj)
#define MA_HAPPENS_AFTER(obj) ANNOTATE_HAPPENS_AFTER(obj)
#define MA_NEW_MEMORY(addr, len) VALGRIND_HG_CLEAN_MEMORY(addr, len)
#else
#define MA_ATOMIC_WORDS(addr, len) ((void)(addr), (void)(len))
#define MA_ATOMIC_WORDS_END(addr, len) ((void)(addr), (void)(len))
#define MA_HAPPENS_BEFORE(obj) ((void)(obj))
#define MA_HAPPENS_AFTER(obj) ((void)(obj))
#define MA_NEW_MEMORY(addr, len) ((void)(addr), (void)(len))
#endif

#endif /* MA_VALGRIND_H */
