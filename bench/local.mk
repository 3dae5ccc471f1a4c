# bench/local.mk -- the benchmark: built and run by 'make bench' only.

EXTRA_PROGRAMS += bench/bench
bench_bench_SOURCES = bench/bench.c
bench_bench_LDADD = lib/libminiasync.la $(PTHREAD_LIBS)
CLEANFILES += bench/bench$(EXEEXT)

bench: bench/bench$(EXEEXT)
	$(builddir)/bench/bench$(EXEEXT)

.PHONY: bench
