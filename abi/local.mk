# abi/local.mk -- guards of the binary interface and of the installed
# headers, run by 'make check':
#   tests/abi_symbols.sh       exported symbols, their versions, SONAME
#                              (libminiasync and libminiasync-vdm-dml)
#   tests/abi_diff.sh          abidiff of the build against abi/libminiasync.abi
#   tests/headers_installed.sh each public header alone as C99, C11 and C++,
#                              a program linked with pkg-config's flags
#   tests/header_only.sh       a mover of one's own on the headers alone
#                              links without libminiasync (tests/header_only/)
# (struct layouts and enum values are checked by tests/vdm.c).
#
# 'make abi-baseline' rewrites abi/libminiasync.abi from the library just
# built: only when the ABI grows on purpose (see "ABI" in README.md).

ma_abi_checks = \
	tests/abi_symbols.sh \
	tests/abi_diff.sh \
	tests/headers_installed.sh \
	tests/header_only.sh

TESTS += $(ma_abi_checks)
EXTRA_DIST += $(ma_abi_checks) abi/abidw.sh abi/libminiasync.abi \
	tests/header_only/main.c tests/header_only/mover.c \
	tests/header_only/mover.h tests/header_only/static.c \
	tests/map_symbols.sh
CLEANFILES += abi/current.abi
AM_TESTS_ENVIRONMENT += OBJDUMP='$(OBJDUMP)'; export OBJDUMP;

abi-baseline: lib/libminiasync.la
	$(SHELL) $(srcdir)/abi/abidw.sh lib/.libs/libminiasync.so \
		$(srcdir)/include $(srcdir)/abi/libminiasync.abi

.PHONY: abi-baseline
