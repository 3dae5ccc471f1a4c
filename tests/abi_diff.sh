#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# abi_diff.sh -- compares the ABI of the freshly built shared library with
# the committed baseline abi/libminiasync.abi (libabigail's abidiff): the
# exported functions, their parameter and return types, and every struct
# and enum of the public headers reachable from them.
#
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 the ABI
# changed, 8 the change is known to be incompatible (a removed function).
# abidiff sets 8 only for removals: a changed layout of a public struct
# (struct vdm, whose callbacks applications call directly) sets 4 alone.
# So with added functions left out of the comparison (--no-added-syms),
# any nonzero status fails: an incompatible change. Functions added to
# the library are compatible, but the baseline is then stale: that
# fails too, asking for 'make abi-baseline' (the baseline's diff is a
# few lines a function: see abi/abidw.sh).
#
# Skips (77) without abidw/abidiff, for a build without a shared library,
# without debug information (-g) or not LP64 (the baseline is LP64).

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
lib=$builddir/lib/.libs/libminiasync.so
baseline=$srcdir/abi/libminiasync.abi
current=$builddir/abi/current.abi

for tool in abidw abidiff; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found (Debian: abigail-tools)"
		exit 77
	fi
done
if [ ! -f "$lib" ]; then
	if grep -q "^dlname=''" "$builddir/lib/libminiasync.la" 2>/dev/null
	then
		echo "SKIP: no shared library in this build (--disable-shared)"
		exit 77
	fi
	echo "FAIL: $lib not found"
	exit 1
fi

mkdir -p "$builddir/abi"
if ! sh "$srcdir/abi/abidw.sh" "$lib" "$srcdir/include" "$current"
then
	echo "FAIL: abidw could not read $lib"
	exit 1
fi
if ! grep -q '<abi-instr' "$current"; then
	echo "SKIP: $lib has no debug information (build with -g)"
	exit 77
fi
if ! grep -q "<abi-instr address-size='64'" "$current"; then
	echo "SKIP: not an LP64 build; the baseline describes LP64"
	exit 77
fi
# The public types must have been told apart from the private ones: if
# no header matched, every type would be dropped and nothing compared.
if ! grep -q "<class-decl name='vdm' size-in-bits=" "$current"; then
	echo "FAIL: abidw found no public type (struct vdm) in $lib"
	exit 1
fi

abidiff --no-architecture --no-added-syms "$baseline" "$current"
status=$?
if [ $status -eq 0 ]; then
	if ! abidiff --no-architecture "$baseline" "$current" >/dev/null
	then
		abidiff --no-architecture --added-fns "$baseline" "$current"
		echo "FAIL: the baseline is stale: the library has functions" \
			"it lacks (compatible additions). If they are meant," \
			"run 'make abi-baseline' and commit" \
			"abi/libminiasync.abi with them"
		exit 1
	fi
	echo "OK: the ABI is the baseline's"
	exit 0
fi
if [ $((status & 2)) -ne 0 ] || [ $((status & 1)) -ne 0 ]; then
	echo "FAIL: abidiff failed (status $status)"
elif [ $((status & 8)) -ne 0 ]; then
	echo "FAIL: incompatible ABI change (status $status): see above"
else
	echo "FAIL: the ABI changed (status $status): see above; a" \
		"public layout or function type may not change"
fi
exit 1
