# lib/local.mk -- the library, its public headers and pkg-config files.

include_HEADERS = include/libminiasync.h
libminiasyncincludedir = $(includedir)/libminiasync
libminiasyncinclude_HEADERS = \
	include/libminiasync/data_mover_dsa.h \
	include/libminiasync/data_mover_sync.h \
	include/libminiasync/data_mover_threads.h \
	include/libminiasync/future.h \
	include/libminiasync/runtime.h \
	include/libminiasync/vdm.h

pkgconfig_DATA = lib/miniasync.pc lib/libminiasync.pc

ma_lib_sources = \
	lib/arena.c \
	lib/arena.h \
	lib/data_mover_dsa.c \
	lib/dsa_hw.h \
	lib/dsa_model.c \
	lib/dsa_model.h \
	lib/dsa_mover.h \
	lib/dsa_wq.c \
	lib/dsa_wq.h \
	lib/data_mover_sync.c \
	lib/data_mover_threads.c \
	lib/fault.h \
	lib/fork.c \
	lib/fork.h \
	lib/internal.h \
	lib/mem_ops.c \
	lib/mem_ops.h \
	lib/movers.h \
	lib/park.c \
	lib/park.h \
	lib/ringbuf.c \
	lib/ringbuf.h \
	lib/runtime.c \
	lib/valgrind.h \
	lib/vdm.c

lib_LTLIBRARIES += lib/libminiasync.la
lib_libminiasync_la_SOURCES = $(ma_lib_sources)
# the library's own build: its vdm_operation_task is no weak reference
lib_libminiasync_la_CPPFLAGS = $(AM_CPPFLAGS) -DMINIASYNC_LIBRARY_BUILD
lib_libminiasync_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
lib_libminiasync_la_LIBADD = $(PTHREAD_LIBS)
lib_libminiasync_la_LDFLAGS = -version-info $(LT_VERSION_INFO) -no-undefined
EXTRA_lib_libminiasync_la_DEPENDENCIES = lib/libminiasync.map
if HAVE_VERSION_SCRIPT
lib_libminiasync_la_LDFLAGS += \
	-Wl,--version-script=$(top_srcdir)/lib/libminiasync.map
endif

EXTRA_DIST += lib/libminiasync.map lib/miniasync.pc.in

# The same library for white-box tests: every symbol visible, and the
# allocation and thread-start faults of lib/fault.c armable.
noinst_LTLIBRARIES += lib/libminiasync-test.la
lib_libminiasync_test_la_SOURCES = $(ma_lib_sources) lib/fault.c
lib_libminiasync_test_la_CPPFLAGS = $(AM_CPPFLAGS) -DMA_FAULT_INJECTION \
	-DMINIASYNC_LIBRARY_BUILD
lib_libminiasync_test_la_LIBADD = $(PTHREAD_LIBS)
