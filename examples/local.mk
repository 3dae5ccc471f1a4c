# examples/local.mk -- small complete programs, built by 'make'.

noinst_PROGRAMS += examples/basic
examples_basic_SOURCES = examples/basic.c
examples_basic_LDADD = lib/libminiasync.la
