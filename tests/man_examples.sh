#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# man_examples.sh -- every complete program in the EXAMPLES section of a
# man page compiles without a warning, links with the library and runs
# successfully.
#
# Each .EX/.EE block of an EXAMPLES section is turned back from roff into C
# (only the escapes \e \- \& \(aq \(dq \(ga \(ti \(ha \(rs are known; any
# other fails the test, so that nothing is extracted wrongly). A block that
# defines main() is a complete program; other blocks are fragments and are
# left alone. Programs are compiled with $CC -Wall -Wextra -Werror against
# the headers in $top_srcdir/include, linked with the library built in
# $top_builddir/lib/.libs, and run with a time limit.
#
# Environment (set by make check): top_srcdir, top_builddir, CC. In a
# cross build (MA_CROSS_COMPILING=yes) the programs run through the
# emulator named by MA_TEST_EXEC (e.g. qemu-aarch64); without one the test
# skips, saying so.

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
cc=${CC:-cc}
libdir=$builddir/lib/.libs
cflags='-Wall -Wextra -Werror'

# shellcheck disable=SC2086 # MA_TEST_EXEC may carry options
set -- ${MA_TEST_EXEC:-}
if [ "${MA_CROSS_COMPILING:-no}" = yes ] && [ $# -eq 0 ]; then
	echo "SKIP: cross build: the example programs cannot run on this" \
		"machine (set MA_TEST_EXEC to an emulator, e.g. qemu-aarch64)"
	exit 77
fi

if ! [ -d "$srcdir/man" ]; then
	echo "man_examples: no man directory under '$srcdir'" >&2
	exit 99
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 99' HUP INT TERM

# the manual as installed (full pages built from man/*.in by make)
mkdir "$tmp/man" || exit 99
. "$srcdir/tests/man_pages.sh"
ma_gather_manual "$srcdir" "$builddir" "$tmp/man" || exit 1

# Runs a program with a time limit where timeout(1) exists (through the
# emulator of a cross build).
# shellcheck disable=SC2086 # MA_TEST_EXEC may carry options
run_limited() {
	if command -v timeout >/dev/null 2>&1; then
		timeout 60 ${MA_TEST_EXEC:-} "$@"
	else
		${MA_TEST_EXEC:-} "$@"
	fi
}

LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

fail=0
programs=0

for page in "$tmp"/man/*.[37]; do
	name=${page##*/}
	rm -f "$tmp"/block.*.c
	# Write block N of the EXAMPLES section to $tmp/block.N.c.
	if ! awk -v dir="$tmp" '
		BEGIN {
			esc["aq"] = "\047"; esc["dq"] = "\""; esc["ga"] = "`"
			esc["ti"] = "~"; esc["ha"] = "^"; esc["rs"] = "\\"
		}
		function unroff(s,    r, i, c, e) {
			r = ""
			while ((i = index(s, "\\")) > 0) {
				r = r substr(s, 1, i - 1)
				c = substr(s, i + 1, 1)
				if (c == "e") {
					r = r "\\"; s = substr(s, i + 2)
				} else if (c == "-") {
					r = r "-"; s = substr(s, i + 2)
				} else if (c == "&") {
					s = substr(s, i + 2)
				} else if (c == "(" && \
				    (substr(s, i + 2, 2) in esc)) {
					r = r esc[substr(s, i + 2, 2)]
					s = substr(s, i + 4)
				} else {
					e = substr(s, i, 4)
					printf("%s:%d: unknown escape %s\n",
					    FILENAME, FNR, e) > "/dev/stderr"
					bad = 1
					s = substr(s, i + 2)
				}
			}
			return r s
		}
		/^\.SH/ {
			inex = ($0 ~ /^\.SH[ \t]+"?EXAMPLES?"?[ \t]*$/)
			next
		}
		inex && /^\.EX/ { n++; out = dir "/block." n ".c"; inb = 1
			printf("") > out; next }
		inb && /^\.EE/ { inb = 0; close(out); next }
		inb && /^[.\047]/ { next }
		inb { print unroff($0) > out }
		END { exit bad }
	' "$page"; then
		fail=1
		continue
	fi
	for block in "$tmp"/block.*.c; do
		[ -f "$block" ] || continue
		if ! grep -Eq '(^|[^A-Za-z0-9_])main[[:space:]]*\(' "$block"
		then
			continue
		fi
		programs=$((programs + 1))
		n=${block#"$tmp"/block.}
		what="$name, example ${n%.c}"
		prog=$tmp/prog
		rm -f "$prog"
		# shellcheck disable=SC2086
		if ! $cc $cflags -I"$srcdir/include" -o "$prog" "$block" \
				-L"$libdir" -lminiasync -pthread \
				>"$tmp/cc.log" 2>&1; then
			echo "FAIL: $what does not build:"
			cat "$tmp/cc.log"
			fail=1
			continue
		fi
		if ! run_limited "$prog" >"$tmp/run.log" 2>&1; then
			echo "FAIL: $what exits with an error; its output:"
			cat "$tmp/run.log"
			fail=1
			continue
		fi
		echo "ok: $what"
	done
done

echo "$programs example programs checked"
if [ "$programs" -eq 0 ]; then
	echo "FAIL: no example program found" >&2
	fail=1
fi
exit "$fail"
