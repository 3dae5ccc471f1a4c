# bench/local.mk -- the benchmark: built and run by 'make bench' only
# (an EXTRA_PROGRAMS entry: neither 'make' nor 'make check' builds it, but
# its sources are distributed). Arguments go in BENCH_ARGS, e.g.
# 'make bench BENCH_ARGS="-r 9 sync"'; see the top of bench/bench.c.

EXTRA_PROGRAMS += bench/bench
bench_bench_SOURCES = bench/bench.c bench/durable.c bench/durable.h
# The threads mover figures need data_mover_threads_*, in the library now.
bench_bench_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_THREADS_MOVER
# -ldl: dlsym(), which the futex figure's syscall() counter needs (in libc
# itself from glibc 2.34; the empty libdl is still there to link).
bench_bench_LDADD = lib/libminiasync.la $(PTHREAD_LIBS) -ldl
# libpmem, when configure found it: the durable figures' reference (only
# the benchmark links it, never the library)
if HAVE_LIBPMEM
bench_bench_CPPFLAGS += -DBENCH_LIBPMEM $(PMEM_CFLAGS)
bench_bench_LDADD += $(PMEM_LIBS)
endif
CLEANFILES += bench/bench$(EXEEXT)

# The DSA mover's figures, a program of their own (bench/dsa.c).
EXTRA_PROGRAMS += bench/dsa
bench_dsa_SOURCES = bench/dsa.c
bench_dsa_LDADD = lib/libminiasync.la $(PTHREAD_LIBS)
CLEANFILES += bench/dsa$(EXEEXT)

bench: bench/bench$(EXEEXT) bench/dsa$(EXEEXT)
	$(builddir)/bench/bench$(EXEEXT) $(BENCH_ARGS)
	$(builddir)/bench/dsa$(EXEEXT)

.PHONY: bench
