#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# abi_symbols.sh -- each shared library of the tree exports exactly the
# functions of its version script, each at the version node that lists
# it, plus the version nodes themselves and nothing else, and has the
# SONAME it must have:
#   lib/libminiasync.so               lib/libminiasync.map, libminiasync.so.0
#   dml/libminiasync-vdm-dml.so       dml/libminiasync-vdm-dml.map (anonymous:
#                                     version "Base"), libminiasync-vdm-dml.so
#                                     (0.2 set no version)
# The map is the one list of a library's exports: this test reads it, and
# checks the Debian symbols file against it too where the package has one
# (debian/libminiasync0.symbols; the source tree of a release tarball has
# no debian/).
#
# Fails on a leaked internal symbol, a missing function, a function in the
# wrong node or without a version, on a wrong SONAME, and on a Debian
# symbols file that does not list the map's symbols. Skips (77) without
# objdump, and when no shared library is configured.

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
objdump=${OBJDUMP:-objdump}

# One line a library: its libtool archive (in the build tree), its map,
# its SONAME, and its Debian symbols file ("-" for none: the package
# builds no symbols file for libminiasync-vdm-dml, see debian/rules).
libraries='
lib/libminiasync.la lib/libminiasync.map libminiasync.so.0
	debian/libminiasync0.symbols
dml/libminiasync-vdm-dml.la dml/libminiasync-vdm-dml.map
	libminiasync-vdm-dml.so -
'

. "$srcdir/tests/map_symbols.sh"

if ! command -v "$objdump" >/dev/null 2>&1; then
	echo "SKIP: $objdump not found"
	exit 77
fi

# scratch space in the build tree, removed on exit
tmp=$builddir/tests/abi_symbols.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

status=0
checked=0

# check_library LA MAP SONAME DEBSYMS: the shared library of the libtool
# archive LA against MAP, as the header of this file says.
check_library() {
	la=$1 map=$2 want_soname=$3 debsyms=$4
	bad=0
	lib=$builddir/${la%/*}/.libs/$(basename "$la" .la).so

	if [ ! -f "$lib" ]; then
		if grep -q "^dlname=''" "$builddir/$la" 2>/dev/null; then
			echo "note: no shared library in this build" \
				"(--disable-shared): $la not checked"
			return
		fi
		echo "FAIL: $lib not found"
		status=1
		return
	fi
	if ! map_symbols "$srcdir/$map" | LC_ALL=C sort >"$tmp/want" ||
			! [ -s "$tmp/want" ]; then
		echo "FAIL: no exported symbol found in $map"
		status=1
		return
	fi

	# objdump -T: "ADDRESS FLAGS SECTION<tab>SIZE VERSION NAME"; a
	# version in parentheses is a hidden (non-default) one and is kept
	# as printed.
	if ! "$objdump" -T "$lib" >"$tmp/got"; then
		echo "FAIL: $objdump -T $lib"
		status=1
		return
	fi
	# Local symbols (flag "l": the section symbols .init and .data that
	# the aarch64 linker puts in the dynamic table) are not exported:
	# left out. On POWER (ELFv2) a field such as "0x60" (the local entry
	# offset) may stand between the version and the name: it is dropped.
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

	if ! diff -u "$tmp/want" "$tmp/got"; then
		echo "FAIL: the symbols $lib exports differ from $map" \
			"('-' missing, '+' unexpected)"
		bad=1
	fi

	soname=$("$objdump" -p "$lib" | awk '$1 == "SONAME" { print $2 }')
	if [ "$soname" != "$want_soname" ]; then
		echo "FAIL: the SONAME of $lib is '$soname', must be" \
			"$want_soname"
		bad=1
	fi

	# A Debian symbols file: " symbol@node version" lines, one for
	# every symbol and node of the map (dpkg-gensymbols checks the
	# built library against it when the package is built).
	if [ "$debsyms" = - ]; then
		:
	elif [ -f "$srcdir/$debsyms" ]; then
		awk '/^ / { split($1, sv, "@"); print sv[1], sv[2] }' \
			"$srcdir/$debsyms" | LC_ALL=C sort >"$tmp/deb"
		if ! diff -u "$tmp/want" "$tmp/deb"; then
			echo "FAIL: $debsyms does not list the symbols of" \
				"$map ('-' missing: add ' symbol@node" \
				"VERSION', VERSION being the first release" \
				"with it; '+' not in the map)"
			bad=1
		fi
	else
		echo "note: no debian/ in the source tree: $debsyms was not" \
			"compared with $map"
	fi
	checked=$((checked + 1))
	[ $bad -eq 0 ] && echo "ok: $lib exports the" \
		"$(wc -l <"$tmp/want") versioned symbols of $map, SONAME" \
		"$soname"
	[ $bad -eq 0 ] || status=1
}

# (each library's line is folded in two above: joined here)
echo "$libraries" | awk 'NF == 0 { next } /^\t/ { print line, $0; next }
	{ line = $0 }' >"$tmp/libraries"
while read -r la map soname debsyms; do
	check_library "$la" "$map" "$soname" "$debsyms"
done <"$tmp/libraries"

if [ $status -eq 0 ] && [ $checked -eq 0 ]; then
	echo "SKIP: no shared library in this build (--disable-shared)"
	exit 77
fi
[ $status -eq 0 ] && echo "OK: $checked libraries export what their maps say"
exit $status
