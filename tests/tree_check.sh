#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# tree_check.sh -- the lists of the tree that must name the same things
# agree, so that adding a mover or a function (doc/design.md, "Adding a
# mover") cannot leave one out:
# 1. every public header include/libminiasync/*.h is included by
#    include/libminiasync.h and installed (lib/local.mk);
# 2. the functions that the public headers declare (prototypes, written
#    as the project writes them: the return type and the name on one
#    line; the inline definitions put the name first on its line) are
#    exactly the globals of lib/libminiasync.map, and those of
#    include/libminiasync-vdm-dml/ the globals of
#    dml/libminiasync-vdm-dml.map;
# 3. every lib/*.c and lib/*.h is in lib/local.mk;
# 4. every Check suite (a tests/*.c defining test_suite()) is one of
#    ma_check_suites in tests/local.mk, and every one of
#    ma_helgrind_suites is a suite;
# 5. every full page of the manual (man/local.mk's ma_man_pages) is
#    ignored by .gitignore, where the source tree has one (a release
#    tarball has not).
# Each failure says what to add where.
#
# Environment (set by make check): top_srcdir.

srcdir=${top_srcdir:-.}

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 99' HUP INT TERM

. "$srcdir/tests/map_symbols.sh"

fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# The words of the make variable $2 (every '=' and '+=' of it, with
# continuation lines) in the makefile fragment $1.
mk_words() {
	awk -v var="$2" '
		cont { line = line " " $0 }
		!cont {
			line = $0
			if (line !~ "^" var "[ \t]*[+]?=")
				next
			sub(/^[^=]*=/, "", line)
		}
		{
			cont = sub(/\\$/, "", line)
			if (!cont) {
				n = split(line, w, /[ \t]+/)
				for (i = 1; i <= n; i++)
					if (w[i] != "")
						print w[i]
				line = ""
			}
		}
	' "$1"
}

# --- 1. public headers ----------------------------------------------------

for h in "$srcdir"/include/libminiasync/*.h; do
	name=libminiasync/${h##*/}
	grep -q "^#include \"$name\"" "$srcdir/include/libminiasync.h" ||
		bad "include/libminiasync.h does not include $name:" \
			"add '#include \"$name\"'"
	mk_words "$srcdir/lib/local.mk" libminiasyncinclude_HEADERS |
		grep -qx "include/$name" ||
		bad "include/$name is not installed: add it to" \
			"libminiasyncinclude_HEADERS in lib/local.mk"
done

# --- 2. declared functions and the maps -----------------------------------

# declared_vs_map DIR MAP: the functions the headers DIR/*.h declare are
# the globals of the version script MAP.
declared_vs_map() {
	map_symbols "$srcdir/$2" |
		awk '$1 != $2 { print $1 }' | LC_ALL=C sort >"$tmp/map"
	for h in "$srcdir/$1"/*.h; do
		sed -n '/^static/d; /^typedef/d;
			s/^[a-z].*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$h"
	done | LC_ALL=C sort -u >"$tmp/declared"
	if ! [ -s "$tmp/map" ] || ! [ -s "$tmp/declared" ]; then
		bad "no exported function found in $2 or the headers $1/*.h"
	elif ! diff -u "$tmp/declared" "$tmp/map" >"$tmp/diff"; then
		cat "$tmp/diff"
		bad "the functions the public headers $1/*.h declare ('-')" \
			"and the globals of $2 ('+') differ: export a new" \
			"function in a new version node of the map (and its" \
			"Debian symbols file, if it has one), or make it" \
			"static inline"
	fi
}

declared_vs_map include/libminiasync lib/libminiasync.map
declared_vs_map include/libminiasync-vdm-dml dml/libminiasync-vdm-dml.map

# --- 3. library sources ---------------------------------------------------

mk_words "$srcdir/lib/local.mk" ma_lib_sources >"$tmp/libsrc"
mk_words "$srcdir/lib/local.mk" lib_libminiasync_test_la_SOURCES \
	>>"$tmp/libsrc"
for f in "$srcdir"/lib/*.c "$srcdir"/lib/*.h; do
	grep -qx "lib/${f##*/}" "$tmp/libsrc" ||
		bad "lib/${f##*/} is not in ma_lib_sources of lib/local.mk"
done

# --- 4. test suites -------------------------------------------------------

mk_words "$srcdir/tests/local.mk" ma_check_suites >"$tmp/suites"
for f in "$srcdir"/tests/*.c; do
	grep -q '^test_suite(void)' "$f" || continue
	name=tests/${f##*/}
	name=${name%.c}
	grep -qx "$name" "$tmp/suites" ||
		bad "$name.c is a Check suite missing from tests/local.mk:" \
			"add 'ma_check_suites += $name'"
done
for s in $(mk_words "$srcdir/tests/local.mk" ma_helgrind_suites); do
	grep -qx "$s" "$tmp/suites" ||
		bad "ma_helgrind_suites names $s, which is not one of" \
			"ma_check_suites (tests/local.mk)"
done
[ -s "$tmp/suites" ] || bad "no ma_check_suites found in tests/local.mk"

# --- 5. built pages and .gitignore ----------------------------------------

if [ -f "$srcdir/.gitignore" ]; then
	for p in $(mk_words "$srcdir/man/local.mk" ma_man_pages); do
		grep -qx "/$p" "$srcdir/.gitignore" ||
			bad "$p is built by make but not ignored: add" \
				"'/$p' to .gitignore"
	done
else
	echo "note: no .gitignore in the source tree: part 5 not checked"
fi

[ $fail -eq 0 ] && echo "OK: the tree's lists agree"
exit $fail
