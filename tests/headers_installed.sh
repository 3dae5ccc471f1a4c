#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# headers_installed.sh -- the public headers and the pkg-config file work
# for a user, with nothing of the source tree but what gets installed:
#  - each public header, alone and included twice, compiles as C99 and
#    C11 with $CC and as C++ (the default and C++98) with g++ and clang++
#    (those present), under -Wall -Wextra -Wpedantic -Werror and only
#    pkg-config's --cflags;
#  - a small program linked with 'pkg-config --libs miniasync' runs, built
#    as C and as C++ (which fails to link without extern "C" guards);
#  - the same program linked with 'pkg-config --static --libs miniasync'
#    against libminiasync.a alone runs and needs no libminiasync.so;
#  - libminiasync.pc says what miniasync.pc says and passes a version test;
#  - FUTURE_CHAIN_INIT refuses (GNU C, C and C++) a chain whose data member
#    needs an alignment stricter than 8 bytes; a chain of pointer-aligned
#    data with an over-aligned output compiles cleanly.
# The generated lib/miniasync.pc is used with its includedir pointed at the
# source tree's include/ and its libdir at the built library, so the check
# runs without installing (and in 'make distcheck', srcdir read-only).
#
# Fails on any compiler or linker diagnostic or a program that does not
# run; skips (77) without pkg-config or a C compiler, and in a cross build.

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
cc=${CC:-cc}
pkgconfig=${PKG_CONFIG:-pkg-config}
objdump=${OBJDUMP:-objdump}
warn="-Wall -Wextra -Wpedantic -Werror"

if [ "${MA_CROSS_COMPILING:-no}" = yes ]; then
	echo "SKIP: cross build: this test compiles and runs programs with" \
		"the build machine's C and C++ compilers; a native build runs it"
	exit 77
fi
if ! command -v "$pkgconfig" >/dev/null 2>&1; then
	echo "SKIP: pkg-config not found"
	exit 77
fi
# CC may carry options ("gcc -m64"): test its first word only
# shellcheck disable=SC2086
set -- $cc
if ! command -v "$1" >/dev/null 2>&1; then
	echo "SKIP: C compiler $1 not found"
	exit 77
fi

abs_src=$(cd "$srcdir" && pwd)
abs_build=$(cd "$builddir" && pwd)
libs_dir=$abs_build/lib/.libs

# scratch space in the build tree, removed on exit
tmp=$abs_build/tests/headers_installed.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# pkg-config, seeing only our .pc files, with a given libdir
pc() {
	pc_libdir=$1
	shift
	PKG_CONFIG_LIBDIR=$abs_build/lib PKG_CONFIG_PATH='' \
	PKG_CONFIG_SYSROOT_DIR='' \
		"$pkgconfig" --define-variable=includedir="$abs_src/include" \
		--define-variable=libdir="$pc_libdir" "$@"
}

# run a command quietly; on failure show it and what it printed
run() {
	what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		pass "$what"
		return 0
	fi
	fail "$what"
	echo "  command: $*"
	sed 's/^/  | /' "$tmp/out"
	return 1
}

if ! cflags=$(pc "$libs_dir" --cflags miniasync) ||
		! libs=$(pc "$libs_dir" --libs miniasync) ||
		! static_libs=$(pc "$tmp/static" --static --libs miniasync); then
	echo "FAIL: pkg-config cannot read $abs_build/lib/miniasync.pc"
	exit 1
fi
echo "cflags: $cflags"
echo "libs: $libs"
echo "static libs: $static_libs"

# both names, same content; old build systems ask for a version
if cmp "$abs_build/lib/miniasync.pc" "$abs_build/lib/libminiasync.pc" \
		>/dev/null; then
	pass "libminiasync.pc is miniasync.pc"
else
	fail "libminiasync.pc differs from miniasync.pc"
fi
run "pkg-config: libminiasync >= 0.1.0" \
	pc "$libs_dir" --exists 'libminiasync >= 0.1.0'

# The public headers, as installed: the umbrella and libminiasync/*.h,
# and the DML mover's (0.2's libminiasync-vdm-dml).
headers="libminiasync.h libminiasync-vdm-dml.h"
for h in "$abs_src"/include/libminiasync/*.h \
		"$abs_src"/include/libminiasync-vdm-dml/*.h; do
	d=${h%/*}
	headers="$headers ${d##*/}/${h##*/}"
done

cxx_compilers=
for cxx in g++ clang++; do
	if command -v $cxx >/dev/null 2>&1; then
		cxx_compilers="$cxx_compilers $cxx"
	else
		echo "note: $cxx not found, not tried"
	fi
done

# word splitting of the flags is wanted below
# shellcheck disable=SC2086
for h in $headers; do
	base=$(echo "$h" | tr '/.' '__')
	printf '#include <%s>\n#include <%s>\n' "$h" "$h" >"$tmp/$base.c"
	cp "$tmp/$base.c" "$tmp/$base.cpp"
	for std in c99 c11; do
		run "$h alone, $std" $cc -std=$std $warn $cflags \
			-c "$tmp/$base.c" -o "$tmp/$base.o"
	done
	for cxx in $cxx_compilers; do
		run "$h alone, C++ ($cxx)" $cxx $warn $cflags \
			-c "$tmp/$base.cpp" -o "$tmp/$base.o"
		# C++98: no comma after the last enumerator, say
		run "$h alone, C++98 ($cxx)" $cxx -std=c++98 $warn $cflags \
			-c "$tmp/$base.cpp" -o "$tmp/$base.o"
	done
done

# A chain whose data member needs more than 8-byte alignment (a long
# double field after the entries) puts padding where the chain's task
# looks for its first entry: FUTURE_CHAIN_INIT refuses it at compile time
# (GNU C), while a chain of pointer-aligned data with an output aligned
# to 4096 compiles cleanly.
cat >"$tmp/chain_align.c" <<'END'
#include <libminiasync.h>

struct step_data {
	int in;
};
struct step_output {
	int out;
};
FUTURE(step_future, struct step_data, struct step_output);

struct chain_data {
	FUTURE_CHAIN_ENTRY(struct step_future, a);
	FUTURE_CHAIN_ENTRY_LAST(struct step_future, b);
#ifdef OVER_ALIGNED
	long double scale;
#endif
	_Alignas(8) char tag[8];
};
struct chain_output {
#ifndef OVER_ALIGNED
	_Alignas(4096)
#endif
	int result;
};
FUTURE(chain_future, struct chain_data, struct chain_output);

void chain_init(struct chain_future *fut);

void
chain_init(struct chain_future *fut)
{
	FUTURE_CHAIN_INIT(fut);
}
END
sed -e 's/_Alignas(\([0-9]*\))/alignas(\1)/' "$tmp/chain_align.c" \
	>"$tmp/chain_align.cpp"
# expect_refused WHAT COMPILER...: the compiler must fail, naming the array
expect_refused() {
	what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		fail "$what: compiled"
	elif grep -q 'negative\|narrowing' "$tmp/out"; then
		pass "$what: refused"
	else
		fail "$what: failed otherwise"
		sed 's/^/  | /' "$tmp/out"
	fi
}
# shellcheck disable=SC2086
if $cc -dM -E -x c /dev/null 2>/dev/null | grep -q '__GNUC__'; then
	run "chain of pointer-aligned data, C11" $cc -std=c11 $warn $cflags \
		-c "$tmp/chain_align.c" -o "$tmp/chain_align.o"
	expect_refused "chain of 16-byte aligned data, C11" $cc -std=c11 \
		$warn $cflags -DOVER_ALIGNED -c "$tmp/chain_align.c" \
		-o "$tmp/chain_align.o"
	for cxx in $cxx_compilers; do
		run "chain of pointer-aligned data, C++ ($cxx)" $cxx -std=c++11 \
			$warn $cflags -c "$tmp/chain_align.cpp" \
			-o "$tmp/chain_align.o"
		expect_refused "chain of 16-byte aligned data, C++ ($cxx)" \
			$cxx -std=c++11 $warn $cflags -DOVER_ALIGNED \
			-c "$tmp/chain_align.cpp" -o "$tmp/chain_align.o"
	done
else
	echo "note: $cc is not GNU C: over-aligned chains are not refused"
fi

# A user's program: a copy through a future and a runtime.
cat >"$tmp/prog.c" <<'END'
#include <libminiasync.h>
#include <string.h>

int
main(void)
{
	char src[64] = "copied by libminiasync";
	char dest[64] = "";
	struct runtime *r = runtime_new();
	struct data_mover_sync *dms = data_mover_sync_new();

	if (r == NULL || dms == NULL)
		return 1;

	struct vdm *vdm = data_mover_sync_get_vdm(dms);
	struct vdm_operation_future fut =
		vdm_memcpy(vdm, dest, src, sizeof(src), 0);

	runtime_wait(r, FUTURE_AS_RUNNABLE(&fut));
	int ok = FUTURE_OUTPUT(&fut)->result == VDM_SUCCESS &&
		memcmp(dest, src, sizeof(src)) == 0;

	data_mover_sync_delete(dms);
	runtime_delete(r);
	return ok ? 0 : 1;
}
END
cp "$tmp/prog.c" "$tmp/prog.cpp"

# shellcheck disable=SC2086
if run "program linked with --libs (C)" \
		$cc -std=c11 $warn $cflags "$tmp/prog.c" -o "$tmp/prog" $libs; then
	run "program runs (C, shared)" \
		env LD_LIBRARY_PATH="$libs_dir" "$tmp/prog"
fi
for cxx in $cxx_compilers; do
	# shellcheck disable=SC2086
	if run "program linked with --libs (C++, $cxx)" \
			$cxx $warn $cflags "$tmp/prog.cpp" -o "$tmp/prog-cxx" \
			$libs; then
		run "program runs (C++, $cxx, shared)" \
			env LD_LIBRARY_PATH="$libs_dir" "$tmp/prog-cxx"
	fi
done

# Static: libdir holds libminiasync.a only, so -lminiasync must take it.
if [ -f "$libs_dir/libminiasync.a" ]; then
	mkdir "$tmp/static"
	cp "$libs_dir/libminiasync.a" "$tmp/static/"
	# shellcheck disable=SC2086
	if run "program linked with --static --libs (libminiasync.a)" \
			$cc -std=c11 $warn $cflags "$tmp/prog.c" \
			-o "$tmp/prog-static" $static_libs; then
		run "program runs (static)" env LD_LIBRARY_PATH= \
			"$tmp/prog-static"
		if command -v "$objdump" >/dev/null 2>&1; then
			if "$objdump" -p "$tmp/prog-static" |
					grep 'NEEDED.*libminiasync' >/dev/null
			then
				fail "static program needs libminiasync.so"
			else
				pass "static program needs no libminiasync.so"
			fi
		fi
	fi
else
	echo "note: no libminiasync.a in this build (--disable-static)"
fi

if [ $failures -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all passed"
exit 0
