#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# abidw.sh -- write the ABI of a built libminiasync.so as abigail XML, in
# the form committed as abi/libminiasync.abi: only the types declared in
# the public headers (the private structs behind the opaque pointers are
# left out, so changing them is no ABI change), and nothing that depends
# on the machine or the directory of the build (no corpus or build paths,
# file names without directories, no architecture, no DT_NEEDED list, no
# declarations of the C library functions it calls), and nothing that
# moves when unrelated code does: no source locations, and type ids
# that are hashes of the types (--type-id-style hash), not a count, so
# adding a function adds a few lines and renumbers nothing.
# The same library gives the same bytes.
#
# usage: abidw.sh LIBRARY.so INCLUDE-DIR OUTPUT
# Used by tests/abi_diff.sh and by 'make abi-baseline'.

set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 LIBRARY.so INCLUDE-DIR OUTPUT" >&2
	exit 2
fi
lib=$1
out=$3
# abidw matches the headers against the paths in the debug information,
# which are absolute: give it an absolute directory too.
hdrs=$(cd "$2" && pwd)

abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
	--type-id-style hash --no-elf-needed \
	--no-architecture --drop-undefined-syms --drop-private-types \
	--headers-dir "$hdrs" --out-file "$out.tmp" "$lib"
# the translation units' path='...': without their directories
sed "s|path='[^']*/|path='|" "$out.tmp" >"$out"
rm -f "$out.tmp"
