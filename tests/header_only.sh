#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# header_only.sh -- a mover of one's own built on <libminiasync/vdm.h>
# and <libminiasync/future.h> alone needs no libminiasync, as with 0.2
# (PMDK's libpmem2 is built so):
#  1. a program with the mover, linked without -lminiasync, has no
#     NEEDED entry for it and runs every operation (inline task);
#  2. the mover as a shared library linked with -Wl,--no-undefined and
#     without -lminiasync, and a program using it, likewise;
#  3. the program of 1 and of 2 linked with -Wl,--no-as-needed
#     -lminiasync run the library's task (the weak reference resolved);
#  4. the program of 1 linked with -Wl,--as-needed -lminiasync drops the
#     library (only weak references) and runs the inline task;
#  5. a program of the library's movers linked against libminiasync.a
#     (where built) gets the library's task: the movers' objects refer to
#     it strongly, since a static link pulls nothing in for a weak one.
# Compiled with $CC -std=c99 -Wall -Wextra -Wpedantic -Werror against the
# headers in $top_srcdir/include (or in $MA_INCLUDE_DIR, and the library in
# $MA_LIB_DIR, to check an installed tree). Skips (77) where the headers
# make no weak reference (the compiler is not GNU C or makes no ELF):
# there the library must be linked. In a cross build the programs run through $MA_TEST_EXEC.

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
cc=${CC:-cc}
incdir=${MA_INCLUDE_DIR:-$srcdir/include}
libdir=${MA_LIB_DIR:-$builddir/lib/.libs}
cflags='-std=c99 -Wall -Wextra -Wpedantic -Werror'

# shellcheck disable=SC2086 # MA_TEST_EXEC may carry options
set -- ${MA_TEST_EXEC:-}
if [ "${MA_CROSS_COMPILING:-no}" = yes ] && [ $# -eq 0 ]; then
	echo "SKIP: cross build without an emulator (set MA_TEST_EXEC)"
	exit 77
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 99' HUP INT TERM

incdir=$(cd "$incdir" && pwd) || exit 99
libdir=$(cd "$libdir" && pwd) || exit 99
src=$(cd "$srcdir/tests/header_only" && pwd) || exit 99

printf '#if !defined(__ELF__) || !defined(__GNUC__)\n%s\n#endif\n' \
	'#error no weak references' >"$tmp/probe.c"
# shellcheck disable=SC2086 # CC may carry options
if ! $cc -I"$incdir" -c -o "$tmp/probe.o" "$tmp/probe.c" 2>/dev/null; then
	echo "SKIP: not ELF or not GNU C: the headers make no weak" \
		"reference here, and a program links libminiasync"
	exit 77
fi

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "PASS: $*"; }

# build WHAT ARGS...: compiles and links, or says why not
build() {
	what=$1
	shift
	# shellcheck disable=SC2086
	if ! $cc $cflags -I"$incdir" -I"$src" "$@" >"$tmp/cc.log" 2>&1; then
		cat "$tmp/cc.log"
		fail "$what: does not build"
		return 1
	fi
	if [ -s "$tmp/cc.log" ]; then
		cat "$tmp/cc.log"
		fail "$what: diagnostics"
		return 1
	fi
}

# run WHAT PROGRAM TASK: runs it, expecting its futures to get TASK
run() {
	# shellcheck disable=SC2086 # MA_TEST_EXEC may carry options
	if LD_LIBRARY_PATH="$tmp:$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
			${MA_TEST_EXEC:-} "$2" "$3" >"$tmp/run.log" 2>&1; then
		pass "$1: $(cat "$tmp/run.log")"
	else
		cat "$tmp/run.log"
		fail "$1: did not run as expected ($3 task)"
	fi
}

# needs FILE: prints whether FILE has a NEEDED entry for libminiasync
needs_lib() {
	LC_ALL=C ${READELF:-readelf} -d "$1" 2>/dev/null |
		grep -q 'NEEDED.*libminiasync'
}

# 1. a program with its own mover, no -lminiasync
if build "program" -o "$tmp/prog" "$src/main.c" "$src/mover.c"; then
	if needs_lib "$tmp/prog"; then
		fail "program: needs libminiasync"
	fi
	run "program without libminiasync" "$tmp/prog" inline
fi

# 2. the mover as a --no-undefined shared library, no -lminiasync
if build "shared library" -shared -fPIC -Wl,--no-undefined \
		-o "$tmp/libownmover.so" "$src/mover.c" &&
		build "program of the shared library" -o "$tmp/prog-so" \
		"$src/main.c" -L"$tmp" -lownmover; then
	if needs_lib "$tmp/libownmover.so"; then
		fail "shared library: needs libminiasync"
	fi
	run "shared library without libminiasync" "$tmp/prog-so" inline
fi

# 3. the same where libminiasync is loaded: the library's task
if build "program linking libminiasync" -o "$tmp/prog-lib" \
		"$src/main.c" "$src/mover.c" -L"$libdir" \
		-Wl,--no-as-needed -lminiasync; then
	run "program linking libminiasync" "$tmp/prog-lib" library
fi
if [ -f "$tmp/libownmover.so" ] &&
		build "program of the shared library, linking libminiasync" \
		-o "$tmp/prog-so-lib" "$src/main.c" -L"$tmp" -lownmover \
		-L"$libdir" -Wl,--no-as-needed -lminiasync; then
	run "shared library in a program linking libminiasync" \
		"$tmp/prog-so-lib" library
fi

# 4. --as-needed drops a library that only weak references use
if build "program linking libminiasync as needed" -o "$tmp/prog-asn" \
		"$src/main.c" "$src/mover.c" -L"$libdir" \
		-Wl,--as-needed -lminiasync; then
	if needs_lib "$tmp/prog-asn"; then
		fail "program linked as needed: keeps libminiasync"
	fi
	run "program linked as needed" "$tmp/prog-asn" inline
fi

# 5. libminiasync.a: the library's movers get the library's task
if [ -f "$libdir/libminiasync.a" ] &&
		build "program linking libminiasync.a" -o "$tmp/prog-static" \
		"$src/static.c" "$libdir/libminiasync.a" -pthread; then
	# shellcheck disable=SC2086 # MA_TEST_EXEC may carry options
	if ${MA_TEST_EXEC:-} "$tmp/prog-static" >"$tmp/run.log" 2>&1; then
		pass "$(cat "$tmp/run.log")"
	else
		cat "$tmp/run.log"
		fail "program linking libminiasync.a: the header's task"
	fi
fi

[ "$failures" -eq 0 ]
