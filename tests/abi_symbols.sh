#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# abi_symbols.sh -- the shared library exports exactly the functions of
# the interface (doc/design.md, "Layers"), each at its symbol version,
# plus the version nodes themselves and nothing else, and its SONAME is
# libminiasync.so.0. A function added later goes in the list below with
# its new version node, and the node too (see "ABI" in README.md).
#
# Fails on a leaked internal symbol, a missing function, a function in the
# wrong node or without a version, and on a SONAME other than .so.0.
# Skips (77) without objdump, and when no shared library is configured.

set -u

builddir=${top_builddir:-.}
objdump=${OBJDUMP:-objdump}
lib=$builddir/lib/.libs/libminiasync.so
want_soname=libminiasync.so.0

# "symbol version" for every defined dynamic symbol we must export
expected() {
	cat <<'END'
LIBMINIASYNC_1.0 LIBMINIASYNC_1.0
LIBMINIASYNC_1.1 LIBMINIASYNC_1.1
LIBMINIASYNC_1.2 LIBMINIASYNC_1.2
data_mover_dsa_delete LIBMINIASYNC_1.2
data_mover_dsa_get_vdm LIBMINIASYNC_1.2
data_mover_dsa_new LIBMINIASYNC_1.2
data_mover_sync_delete LIBMINIASYNC_1.0
data_mover_sync_get_vdm LIBMINIASYNC_1.0
data_mover_sync_new LIBMINIASYNC_1.0
data_mover_threads_default LIBMINIASYNC_1.0
data_mover_threads_delete LIBMINIASYNC_1.0
data_mover_threads_get_vdm LIBMINIASYNC_1.0
data_mover_threads_new LIBMINIASYNC_1.0
data_mover_threads_set_memcpy_fn LIBMINIASYNC_1.0
data_mover_threads_set_memmove_fn LIBMINIASYNC_1.0
data_mover_threads_set_memset_fn LIBMINIASYNC_1.0
runtime_delete LIBMINIASYNC_1.0
runtime_new LIBMINIASYNC_1.0
runtime_wait LIBMINIASYNC_1.0
runtime_wait_multiple LIBMINIASYNC_1.0
vdm_operation_task LIBMINIASYNC_1.1
END
}

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

expected | LC_ALL=C sort >"$tmp/want"

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

if [ $status -eq 0 ]; then
	echo "OK: $(wc -l <"$tmp/want") versioned symbols, SONAME $soname"
fi
exit $status
