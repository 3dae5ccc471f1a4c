# bench/local.mk -- the benchmarks: built and run by 'make bench' only
# (EXTRA_PROGRAMS entries: neither 'make' nor 'make check' builds them,
# but their sources are distributed). Arguments go in BENCH_ARGS, e.g.
# 'make bench BENCH_ARGS="-r 9 sync"'; see the top of bench/main.c.

# The helpers both programs use.
bench_common = bench/common.c bench/common.h

# bench/bench: main.c and its table of groups, one file a group.
EXTRA_PROGRAMS += bench/bench
bench_bench_SOURCES = bench/main.c $(bench_common) \
	bench/sync.c bench/incr.c bench/tput.c bench/idle.c bench/lat.c \
	bench/big.c bench/spin.c bench/polls.c bench/futex.c \
	bench/chain.c bench/pending.c bench/step.c bench/durable.c
bench_bench_CPPFLAGS = $(AM_CPPFLAGS)
# -ldl: dlsym(), which the futex figure's syscall() counter needs (in libc
# itself from glibc 2.34; the empty libdl is still there to link).
bench_bench_LDADD = lib/libminiasync.la $(PTHREAD_LIBS) -ldl
# libpmem, when configure found it: the durable figures' reference (only
# the benchmark links it, never the library)
if HAVE_LIBPMEM
bench_bench_CPPFLAGS += -DBENCH_LIBPMEM $(PMEM_CFLAGS)
bench_bench_LDADD += $(PMEM_LIBS)
endif
# libuv, when configure found it: the reference of the tput group's
# waiter CPU (only the benchmark links it, never the library)
if HAVE_LIBUV
bench_bench_CPPFLAGS += -DBENCH_LIBUV $(UV_CFLAGS)
bench_bench_LDADD += $(UV_LIBS)
endif
CLEANFILES += bench/bench$(EXEEXT)

# The DSA mover's figures, a program of their own (bench/dsa.c).
EXTRA_PROGRAMS += bench/dsa
bench_dsa_SOURCES = bench/dsa.c $(bench_common)
bench_dsa_LDADD = lib/libminiasync.la $(PTHREAD_LIBS)
CLEANFILES += bench/dsa$(EXEEXT)

bench: bench/bench$(EXEEXT) bench/dsa$(EXEEXT)
	$(builddir)/bench/bench$(EXEEXT) $(BENCH_ARGS)
	$(builddir)/bench/dsa$(EXEEXT)

.PHONY: bench
