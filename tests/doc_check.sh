#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# doc_check.sh -- what doc/design.md states is still true of the tree:
# 1. the table of "Public layouts" (type | size | member offsets) matches
#    the headers: a program built from the table compares every size and
#    offset with sizeof and offsetof (on LP64, which the table describes);
# 2. every path of the tree the doc names in backquotes (tests/..., lib/...,
#    ...) exists, and every test function it names (`test_...`) is defined
#    in tests/;
# 3. every reference to the doc in the tree, written doc/design.md,
#    "Section" (on one line), names a section heading that exists.
# Fails on the first kind of mismatch it finds in each part, printing it.
# Skips (77) on a machine that is not LP64, if nothing else failed.
#
# Environment (set by make check): top_srcdir, CC; in a cross build
# (MA_CROSS_COMPILING=yes) the layout program runs through the emulator
# MA_TEST_EXEC names (e.g. qemu-aarch64).

srcdir=${top_srcdir:-.}
cc=${CC:-cc}
doc=$srcdir/doc/design.md

if ! [ -f "$doc" ]; then
	echo "FAIL: $doc not found"
	exit 1
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 99' HUP INT TERM

fail=0

# --- 1. layouts -----------------------------------------------------------

# The rows of the table under "## Public layouts": "type|size|offsets".
awk '
	/^## / { in_sec = ($0 == "## Public layouts"); next }
	in_sec && /^\| `(struct|union|enum) / {
		n = split($0, f, "|")
		t = f[2]; s = f[3]; o = f[4]
		gsub(/`/, "", t)
		gsub(/^[ \t]+|[ \t]+$/, "", t)
		gsub(/^[ \t]+|[ \t]+$/, "", s)
		gsub(/^[ \t]+|[ \t]+$/, "", o)
		print t "|" s "|" o
	}
' "$doc" >"$tmp/rows"
nrows=$(wc -l <"$tmp/rows")
if [ "$nrows" -lt 5 ]; then
	echo "FAIL: fewer than 5 rows found in the table under" \
		"'## Public layouts' of doc/design.md: is the table broken?"
	fail=1
fi

{
	cat <<'EOF'
#include <stddef.h>
#include <stdio.h>
#include <libminiasync.h>

static int fail;

static void
check(const char *what, size_t got, size_t want)
{
	if (got != want) {
		printf("FAIL: %s is %zu, doc/design.md says %zu\n",
			what, got, want);
		fail = 1;
	}
}

int
main(void)
{
#if !defined(__LP64__)
	puts("SKIP: not LP64; the table describes LP64");
	return 77;
#else
EOF
	while IFS='|' read -r type size offsets; do
		printf '\tcheck("sizeof(%s)", sizeof(%s), %s);\n' \
			"$type" "$type" "$size"
		echo "$offsets" | tr ',' '\n' | while read -r member off; do
			[ -n "$member" ] || continue
			printf '\tcheck("offsetof(%s, %s)", offsetof(%s, %s), %s);\n' \
				"$type" "$member" "$type" "$member" "$off"
		done
	done <"$tmp/rows"
	cat <<'EOF'
	return fail;
#endif
}
EOF
} >"$tmp/layout.c"

skip=0
if ! $cc -I"$srcdir/include" -o "$tmp/layout" "$tmp/layout.c" \
		>"$tmp/cc.log" 2>&1; then
	echo "FAIL: the layout table of doc/design.md does not compile" \
		"against the headers (a type or member renamed?):"
	cat "$tmp/cc.log"
	fail=1
else
	# in a cross build, through the emulator (MA_TEST_EXEC); without
	# one, the layouts cannot be checked here
	# shellcheck disable=SC2086 # MA_TEST_EXEC may carry options
	if [ "${MA_CROSS_COMPILING:-no}" = yes ] &&
			[ -z "${MA_TEST_EXEC:-}" ]; then
		echo "layouts not checked: a cross build without MA_TEST_EXEC"
		(exit 77)
	else
		${MA_TEST_EXEC:-} "$tmp/layout"
	fi
	case $? in
	0) echo "$nrows layouts checked" ;;
	77) skip=1 ;;
	*) fail=1 ;;
	esac
fi

# --- 2. paths and tests named ---------------------------------------------

tops='\.ci|abi|bench|cmake|doc|examples|include|lib|man|scripts|tests'
# shellcheck disable=SC2016 # the backquotes are markdown's, not the shell's
for name in $(grep -o '`[^`]*`' "$doc" | tr -d '`' |
		grep -E "^($tops)/[A-Za-z0-9_./-]*\$" | LC_ALL=C sort -u); do
	if ! [ -e "$srcdir/$name" ] && ! [ -e "$srcdir/$name.in" ]; then
		case $name in
		.ci/*)
			# not in a release tarball: only checked in git trees
			[ -d "$srcdir/.ci" ] || continue ;;
		esac
		echo "FAIL: doc/design.md names $name, which is not in the tree"
		fail=1
	fi
done

# shellcheck disable=SC2016 # the same
for name in $(grep -o '`test_[A-Za-z0-9_]*`' "$doc" | tr -d '`' |
		LC_ALL=C sort -u); do
	if ! grep -q "START_TEST($name)" "$srcdir"/tests/*.c; then
		echo "FAIL: doc/design.md names the test $name, which no" \
			"tests/*.c defines"
		fail=1
	fi
done

# --- 3. references to the doc's sections ----------------------------------

grep -o '^## .*' "$doc" | sed 's/^## //' >"$tmp/sections"
for dir in lib include tests bench abi cmake examples scripts .ci; do
	[ -d "$srcdir/$dir" ] && echo "$srcdir/$dir"
done >"$tmp/dirs"
# shellcheck disable=SC2046 # one directory a line, no spaces
grep -rhoE 'doc/design\.md,? *"[^"]*"' $(cat "$tmp/dirs") 2>/dev/null |
	sed 's/^[^"]*"//; s/"$//' | LC_ALL=C sort -u >"$tmp/refs"
while IFS= read -r ref; do
	if ! grep -qxF -- "$ref" "$tmp/sections"; then
		echo "FAIL: the tree refers to doc/design.md, \"$ref\"," \
			"a section the doc does not have"
		fail=1
	fi
done <"$tmp/refs"
echo "$(wc -l <"$tmp/refs") references to sections checked"

[ "$fail" -eq 0 ] || exit 1
[ "$skip" -eq 0 ] || exit 77
exit 0
