# tests/local.mk -- the test suites, run by 'make check'.
#
# A Check suite is tests/NAME.c defining test_suite(); add it to
# ma_check_suites below. Scripts go in ma_check_scripts.

ma_check_suites = \
	tests/future \
	tests/vdm \
	tests/data_mover_sync \
	tests/runtime \
	tests/data_mover_threads \
	tests/fault_injection \
	tests/park \
	tests/flush

ma_check_scripts =

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

ma_test_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS)
ma_test_ldadd = lib/libminiasync.la $(CHECK_LIBS) $(PTHREAD_LIBS)

tests_future_SOURCES = tests/future.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_future_CFLAGS = $(ma_test_cflags)
tests_future_LDADD = $(ma_test_ldadd)

tests_vdm_SOURCES = tests/vdm.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_vdm_CFLAGS = $(ma_test_cflags)
tests_vdm_LDADD = $(ma_test_ldadd)

tests_data_mover_sync_SOURCES = tests/data_mover_sync.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_data_mover_sync_CFLAGS = $(ma_test_cflags)
tests_data_mover_sync_LDADD = $(ma_test_ldadd)

tests_runtime_SOURCES = tests/runtime.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_runtime_CFLAGS = $(ma_test_cflags)
tests_runtime_LDADD = $(ma_test_ldadd)

# Valgrind: 'make check-valgrind-memcheck' (also -helgrind, -drd) runs the
# tests under that tool; the rules come from AX_VALGRIND_CHECK (configure).
# Their sub-make passes LOG_FLAGS=--tool=...: then Check runs every case in
# the suite's own process (CK_FORK=no) and the stress tests default to few
# iterations (set MINIASYNC_STRESS_ITERATIONS to choose).
@VALGRIND_CHECK_RULES@
VALGRIND_SUPPRESSIONS_FILES = $(top_srcdir)/tests/valgrind.supp
EXTRA_DIST += tests/valgrind.supp
AM_TESTS_ENVIRONMENT += \
	case ' $(LOG_FLAGS) ' in *' --tool='*) \
		CK_FORK=no; export CK_FORK; \
		: "$${MINIASYNC_STRESS_ITERATIONS=200}"; \
		export MINIASYNC_STRESS_ITERATIONS;; \
	esac;

tests_data_mover_threads_SOURCES = tests/data_mover_threads.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_data_mover_threads_CFLAGS = $(ma_test_cflags)
tests_data_mover_threads_LDADD = $(ma_test_ldadd)

# links the test build of the library, whose faults can be armed
tests_fault_injection_SOURCES = tests/fault_injection.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_fault_injection_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION
tests_fault_injection_CFLAGS = $(ma_test_cflags)
tests_fault_injection_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

# white-box checks through the test build's counters (lib/fault.h)
ma_check_suites += tests/hooks
tests_hooks_SOURCES = tests/hooks.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_hooks_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION
tests_hooks_CFLAGS = $(ma_test_cflags)
tests_hooks_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) $(PTHREAD_LIBS)

# "Hostile but legal" use of the asynchronous core: wakers that lock or
# poll, loops that hand futures over, third-party movers, odd sizes.
ma_check_suites += tests/hostile
tests_hostile_SOURCES = tests/hostile.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_hostile_CFLAGS = $(ma_test_cflags)
tests_hostile_LDADD = $(ma_test_ldadd)

# the mover's queue (lib/ringbuf.h) is internal: the test build has it
ma_check_suites += tests/ringbuf
tests_ringbuf_SOURCES = tests/ringbuf.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_ringbuf_CFLAGS = $(ma_test_cflags)
tests_ringbuf_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) $(PTHREAD_LIBS)

# white-box: the arena's symbols are internal, and its growth faults armable
ma_check_suites += tests/arena
tests_arena_SOURCES = tests/arena.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_arena_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION
tests_arena_CFLAGS = $(ma_test_cflags)
tests_arena_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) $(PTHREAD_LIBS)

# the wait primitive and the flush path: white-box, on the test library
tests_park_SOURCES = tests/park.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_park_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION
tests_park_CFLAGS = $(ma_test_cflags)
tests_park_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) $(PTHREAD_LIBS)

tests_flush_SOURCES = tests/flush.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_flush_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION
tests_flush_CFLAGS = $(ma_test_cflags)
tests_flush_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) $(PTHREAD_LIBS)

# the DSA mover on the work-queue model: white-box, on the test library
ma_check_suites += tests/dsa
tests_dsa_SOURCES = tests/dsa.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_dsa_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION
tests_dsa_CFLAGS = $(ma_test_cflags)
tests_dsa_LDADD = lib/libminiasync-test.la $(CHECK_LIBS) $(PTHREAD_LIBS)
# opt-in: 'make check MINIASYNC_DSA_WQ=wq0.0' runs the cases on that queue
AM_TESTS_ENVIRONMENT += \
	MINIASYNC_DSA_WQ='$(MINIASYNC_DSA_WQ)'; export MINIASYNC_DSA_WQ;

# libminiasync-vdm-dml, linked as 0.2's programs link it
ma_check_suites += tests/dml
tests_dml_SOURCES = tests/dml.c tests/test_main.c \
	tests/test_util.c tests/test_util.h
tests_dml_CFLAGS = $(ma_test_cflags)
tests_dml_LDADD = dml/libminiasync-vdm-dml.la lib/libminiasync.la \
	$(CHECK_LIBS) $(PTHREAD_LIBS)
