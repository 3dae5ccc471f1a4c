# dml/local.mk -- libminiasync-vdm-dml, miniasync 0.2's DML mover kept
# for its programs: a library of its own (no SONAME version, as 0.2's
# libminiasync-vdm-dml.so), on libminiasync's movers, without DML.

include_HEADERS += include/libminiasync-vdm-dml.h
libminiasyncvdmdmlincludedir = $(includedir)/libminiasync-vdm-dml
libminiasyncvdmdmlinclude_HEADERS = \
	include/libminiasync-vdm-dml/data_mover_dml.h

lib_LTLIBRARIES += dml/libminiasync-vdm-dml.la
dml_libminiasync_vdm_dml_la_SOURCES = dml/data_mover_dml.c
dml_libminiasync_vdm_dml_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
dml_libminiasync_vdm_dml_la_LIBADD = lib/libminiasync.la
dml_libminiasync_vdm_dml_la_LDFLAGS = -avoid-version -no-undefined
EXTRA_dml_libminiasync_vdm_dml_la_DEPENDENCIES = \
	dml/libminiasync-vdm-dml.map
if HAVE_VERSION_SCRIPT
dml_libminiasync_vdm_dml_la_LDFLAGS += \
	-Wl,--version-script=$(top_srcdir)/dml/libminiasync-vdm-dml.map
endif
EXTRA_DIST += dml/libminiasync-vdm-dml.map
