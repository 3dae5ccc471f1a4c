# examples/local.mk -- small complete programs, built by 'make'.

noinst_PROGRAMS += examples/basic
examples_basic_SOURCES = examples/basic.c
examples_basic_LDADD = lib/libminiasync.la

# The threads mover: copies overlapped with other work, and a key-value
# store whose put is a chain of the program's futures and the mover's.
noinst_PROGRAMS += examples/overlap examples/kvstore
examples_overlap_SOURCES = examples/overlap.c
examples_overlap_LDADD = lib/libminiasync.la
examples_kvstore_SOURCES = examples/kvstore.c
examples_kvstore_LDADD = lib/libminiasync.la
TESTS += examples/overlap examples/kvstore
