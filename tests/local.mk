# tests/local.mk -- the test suites, run by 'make check'.
#
# Each suite is named once, here. A Check suite is tests/NAME.c defining
# test_suite(); adding one is one line:
#
#     ma_check_suites += tests/NAME
#
# which builds it from tests/NAME.c with the shared main and helpers
# (tests/libmatest.la) against the library (automake's defaults: the
# LDADD and flags below). A white-box suite, which reaches the library's
# internals or arms its faults, is linked with the test build of the
# library, one line (and includes tests/whitebox.h first):
#
#     tests_NAME_LDADD = $(ma_whitebox_ldadd)
#
# A suite of concurrency code is also run under helgrind by .ci/run:
#
#     ma_helgrind_suites += tests/NAME
#
# .gitignore ignores the suites' programs by pattern: nothing to add there.
# Scripts go in ma_check_scripts.

ma_check_suites =
ma_helgrind_suites =
ma_check_scripts =

# Black-box suites: the public interface only.
ma_check_suites += tests/future
ma_check_suites += tests/vdm
ma_check_suites += tests/data_mover_sync
ma_check_suites += tests/runtime
ma_helgrind_suites += tests/runtime tests/data_mover_sync
ma_check_suites += tests/data_mover_threads
ma_helgrind_suites += tests/data_mover_threads
# "Hostile but legal" use of the asynchronous core: wakers that lock or
# poll, loops that hand futures over, third-party movers, odd sizes.
ma_check_suites += tests/hostile
ma_helgrind_suites += tests/hostile

TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(top_srcdir)'; top_builddir='$(top_builddir)'; \
	CC='$(CC)'; export top_srcdir top_builddir CC; \
	MA_CROSS_COMPILING='$(MA_CROSS_COMPILING)'; export MA_CROSS_COMPILING;

EXTRA_DIST += $(ma_check_scripts) tests/need-check.sh

if HAVE_CHECK
check_PROGRAMS += $(ma_check_suites)
TESTS += $(ma_check_suites) $(ma_check_scripts)
else
TESTS += tests/need-check.sh
endif

# Every suite's main() and helpers, built once (with Check only: they
# include <check.h>).
if HAVE_CHECK
check_LTLIBRARIES = tests/libmatest.la
endif
tests_libmatest_la_SOURCES = tests/test_main.c tests/test_util.c \
	tests/test_util.h tests/whitebox.h

# What a suite without settings of its own is built with. The other
# programs of the tree (examples, bench) set their own LDADD; Check's
# flags (-pthread, or an include directory) go to every compilation.
AM_CFLAGS += $(CHECK_CFLAGS)
LDADD = tests/libmatest.la lib/libminiasync.la $(CHECK_LIBS) $(PTHREAD_LIBS)

# The white-box suites: linked with the test build of the library (every
# symbol visible, faults armable: lib/fault.h); tests/whitebox.h gives
# their sources the declarations of that build (MA_FAULT_INJECTION).
ma_whitebox_ldadd = tests/libmatest.la lib/libminiasync-test.la \
	$(CHECK_LIBS) $(PTHREAD_LIBS)

# allocation failures everywhere
ma_check_suites += tests/fault_injection
tests_fault_injection_LDADD = $(ma_whitebox_ldadd)

# white-box checks through the test build's counters (lib/fault.h)
ma_check_suites += tests/hooks
ma_helgrind_suites += tests/hooks
tests_hooks_LDADD = $(ma_whitebox_ldadd)

# the mover's queue (lib/ringbuf.h) is internal: the test build has it
ma_check_suites += tests/ringbuf
ma_helgrind_suites += tests/ringbuf
tests_ringbuf_LDADD = $(ma_whitebox_ldadd)

# white-box: the arena's symbols are internal, and its growth faults armable
ma_check_suites += tests/arena
ma_helgrind_suites += tests/arena
tests_arena_LDADD = $(ma_whitebox_ldadd)

# white-box: the threads mover's pool, its sleep at a stalled producer,
# fork without workers (test hooks and faults of lib/fault.h)
ma_check_suites += tests/threads_internal
ma_helgrind_suites += tests/threads_internal
tests_threads_internal_LDADD = $(ma_whitebox_ldadd)

# the wait primitive and the flush path: white-box, on the test library
ma_check_suites += tests/park
ma_helgrind_suites += tests/park
tests_park_LDADD = $(ma_whitebox_ldadd)

ma_check_suites += tests/flush
tests_flush_LDADD = $(ma_whitebox_ldadd)

# Valgrind: 'make check-valgrind-memcheck' (also -helgrind, -drd) runs the
# tests under that tool; the rules come from AX_VALGRIND_CHECK (configure).
# Their sub-make passes LOG_FLAGS=--tool=...: then Check runs every case in
# the suite's own process (CK_FORK=no) and the stress tests default to few
# iterations (set MINIASYNC_STRESS_ITERATIONS to choose). Each writes
# test-suite-TOOL.log beside the tests' logs ('make clean' removes them).
@VALGRIND_CHECK_RULES@
VALGRIND_SUPPRESSIONS_FILES = $(top_srcdir)/tests/valgrind.supp
# --fair-sched=yes: valgrind runs one thread at a time, and its default
# hand-over let a busy-polling test thread starve the DSA model's engines
# (spinning on a queue they never got to look at) for ever under helgrind.
VALGRIND_FLAGS = --num-callers=30 --fair-sched=yes
EXTRA_DIST += tests/valgrind.supp
AM_TESTS_ENVIRONMENT += \
	case ' $(LOG_FLAGS) ' in *' --tool='*) \
		CK_FORK=no; export CK_FORK; \
		: "$${MINIASYNC_STRESS_ITERATIONS=200}"; \
		export MINIASYNC_STRESS_ITERATIONS;; \
	esac;

# 'make print-helgrind-suites': the suites .ci/run's helgrind step runs.
print-helgrind-suites:
	@echo $(ma_helgrind_suites)

.PHONY: print-helgrind-suites

# the store paths of lib/mem_ops.c, each forced: white-box, on the test library
ma_check_suites += tests/store
tests_store_LDADD = $(ma_whitebox_ldadd)

# the DSA mover on the work-queue model (white-box: the model's hooks)
ma_check_suites += tests/dsa
ma_helgrind_suites += tests/dsa
tests_dsa_LDADD = $(ma_whitebox_ldadd)
# opt-in: 'make check MINIASYNC_DSA_WQ=wq0.0' runs the cases on that queue
AM_TESTS_ENVIRONMENT += \
	MINIASYNC_DSA_WQ='$(MINIASYNC_DSA_WQ)'; export MINIASYNC_DSA_WQ;

# libminiasync-vdm-dml, linked as 0.2's programs link it
ma_check_suites += tests/dml
ma_helgrind_suites += tests/dml
tests_dml_LDADD = dml/libminiasync-vdm-dml.la $(LDADD)
