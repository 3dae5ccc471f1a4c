#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# abi_symbols.sh -- the shared library exports exactly the functions of
# the version script lib/libminiasync.map, each at the version node that
# lists it, plus the version nodes themselves and nothing else, and its
# SONAME is libminiasync.so.0. The map is the one list of exports: this
# test reads it, and checks the Debian symbols file against it too
# (when the source tree has debian/: a release tarball has not).
#
# Fails on a leaked internal symbol, a missing function, a function in the
# wrong node or without a version, on a SONAME other than .so.0, and on a
# debian/libminiasync0.symbols that does not list the map's symbols.
# Skips (77) without objdump, and when no shared library is configured.

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
objdump=${OBJDUMP:-objdump}
lib=$builddir/lib/.libs/libminiasync.so
map=$srcdir/lib/libminiasync.map
debsyms=$srcdir/debian/libminiasync0.symbols
want_soname=libminiasync.so.0

. "$srcdir/tests/map_symbols.sh"

if ! command -v "$objdump" >/dev/null 2>&1; then
	echo "SKIP: $objdump not found"
	exit 77
fi
if [ ! -f "$lib" ]; then
	if grep -q "^dlname=''" "$builddir/lib/libminiasync.la" 2>/dev/null
	then
		echo "SKIP: no shared library in this build (--disable-shared)"
		exit 77
	fi
	echo "FAIL: $lib not found"
	exit 1
fi

# scratch space in the build tree, removed on exit
tmp=$builddir/tests/abi_symbols.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if ! map_symbols "$map" | LC_ALL=C sort >"$tmp/want" ||
		! [ -s "$tmp/want" ]; then
	echo "FAIL: no exported symbol found in $map"
	exit 1
fi

# objdump -T: "ADDRESS FLAGS SECTION<tab>SIZE VERSION NAME"; a version
# in parentheses is a hidden (non-default) one and is kept as printed.
if ! "$objdump" -T "$lib" >"$tmp/got"; then
	echo "FAIL: $objdump -T $lib"
	exit 1
fi
# Local symbols (flag "l": the section symbols .init and .data that the
# aarch64 linker puts in the dynamic table) are not exported: left out.
# On POWER (ELFv2) a field such as "0x60" (the local entry offset) may
# stand between the version and the name: it is dropped.
awk -F '\t' 'NF >= 2 {
	n = split($1, head, " ")
	if (head[n] == "*UND*" || head[2] == "l")
		next
	m = split($2, tail, " ")
	if (m >= 4 && tail[m - 1] ~ /^0x[0-9a-f]+$/) {
		tail[m - 1] = tail[m]
		m--
	}
	if (m >= 3)
		print tail[m], tail[m - 1]
	else
		print tail[m], "(none)"
}' "$tmp/got" | LC_ALL=C sort >"$tmp/got.sorted"
mv "$tmp/got.sorted" "$tmp/got"

status=0
if ! diff -u "$tmp/want" "$tmp/got"; then
	echo "FAIL: exported symbols differ ('-' missing, '+' unexpected)"
	status=1
fi

soname=$("$objdump" -p "$lib" | awk '$1 == "SONAME" { print $2 }')
if [ "$soname" != "$want_soname" ]; then
	echo "FAIL: SONAME is '$soname', must be $want_soname"
	status=1
fi

# debian/libminiasync0.symbols: " symbol@node version" lines, one for
# every symbol and node of the map (dpkg-gensymbols checks the built
# library against it when the package is built).
if [ -f "$debsyms" ]; then
	awk '/^ / { split($1, sv, "@"); print sv[1], sv[2] }' "$debsyms" |
		LC_ALL=C sort >"$tmp/deb"
	if ! diff -u "$tmp/want" "$tmp/deb"; then
		echo "FAIL: debian/libminiasync0.symbols does not list the" \
			"symbols of lib/libminiasync.map ('-' missing: add" \
			"' symbol@node VERSION', VERSION being the first" \
			"release with it; '+' not in the map)"
		status=1
	fi
else
	echo "note: no debian/ in the source tree: its symbols file was" \
		"not compared with the map"
fi

if [ $status -eq 0 ]; then
	echo "OK: $(wc -l <"$tmp/want") versioned symbols as" \
		"lib/libminiasync.map says, SONAME $soname"
fi
exit $status
