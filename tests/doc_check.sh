#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# doc_check.sh -- what doc/design.md (and, for part 4, the manual) states
# is still true of the tree:
# 1. the table of "Public layouts" (type | size | member offsets) matches
#    the headers: a program built from the table compares every size and
#    offset with sizeof and offsetof (on LP64, which the table describes);
# 2. every path of the tree the doc names in backquotes (tests/..., lib/...,
#    ...) exists, and every test function it names (`test_...`) is defined
#    in tests/;
# 3. every reference to the doc in the tree, written doc/design.md,
#    "Section" (on one line), names a section heading that exists;
# 4. the numbers that the doc and the manual write out by hand (the
#    runtime's sleeps and spins, the DSA mover's device waits, ...) are
#    the values of the macros that define them in the code, and each
#    document still states them (the table below).
# Fails on the first kind of mismatch it finds in each part, printing it.
# Skips (77) on a machine that is not LP64, if nothing else failed.
#
# Environment (set by make check): top_srcdir, CC; in a cross build
# (MA_CROSS_COMPILING=yes) the layout program runs through the emulator
# MA_TEST_EXEC names (e.g. qemu-aarch64).

srcdir=${top_srcdir:-.}
cc=${CC:-cc}
doc=$srcdir/doc/design.md

# The numbers of part 4: a fact a line, its fields separated by blanks:
#   MACRO    FILE:NAME, an integer #define of the source tree (a literal
#            or a constant expression of literals, casts and << allowed)
#   UNIT     of the macro's value: ns, B (bytes) or 1 (a count)
#   DOCS     the documents that must state it, comma-separated; a man
#            page by its name, man/NAME.N, read from man/NAME.N.in
#   PHRASE   the rest of the line: an extended regular expression of the
#            document's text, its lines joined with single blanks (the
#            man pages' macro names, escapes and markdown's backquotes
#            left out), where @ is the number with its unit, which may
#            be any of the kind (60 us, 0.06 ms, 60 microseconds, 16 KiB;
#            a count in digits or a word up to twelve), and # any other
#            number with its unit; one @ a line.
# Every text that matches PHRASE must give the macro's value, and each
# document must have at least one: so a phrase names the fact and no
# other. Adding a fact is one line.
number_facts() {
	cat <<'EOF'
lib/movers.h:MA_DEVICE_SLEEP_AHEAD_NS ns doc/design.md,man/miniasync_runtime.7 when that is (over|more than) @ away
lib/movers.h:MA_DEVICE_WAKE_EARLY_NS ns doc/design.md,man/miniasync_runtime.7 until @ before the earliest
lib/movers.h:MA_DEVICE_SPIN_NS ns doc/design.md,man/miniasync_runtime.7 (spins|the word) until @ (after|past) it
lib/movers.h:MA_DEVICE_BACKOFF_MIN_NS ns doc/design.md,man/miniasync_runtime.7 (then|device,) (sleeps|backs off) from @
lib/movers.h:MA_DEVICE_BACKOFF_MAX_NS ns doc/design.md,man/miniasync_runtime.7 (then|device,) (sleeps|backs off) from # (doubling (up )?)?to @
lib/data_mover_dsa.c:LATENCY_NS ns doc/design.md (submission \+|rate plus) @
lib/data_mover_dsa.c:STUCK_NS ns doc/design.md,man/miniasync_vdm_dsa.7 round( of an operation is)? @ past
lib/data_mover_dsa.c:STUCK_NS ns doc/design.md or @ of refused
lib/data_mover_dsa.c:STUCK_NS ns doc/design.md bounded by the same @
lib/data_mover_dsa.c:STUCK_ASK_NS ns doc/design.md its device; at most every @
lib/data_mover_dsa.c:MULTI_SLOTS 1 doc/design.md without batches, up to @ descriptors
lib/data_mover_dsa.c:FAULT_CPU_BYTES B doc/design.md on the CPU when small \(@\)
lib/data_mover_dsa.c:FAULT_RESUBMITS 1 doc/design.md or after @ faults
lib/runtime.c:SPIN_NS ns doc/design.md spin before a sleep \(@\)
lib/runtime.c:BATCH_MIN 1 doc/design.md,man/miniasync_runtime.7 (With|When) @ or more futures
lib/runtime.c:AGE_PASSES 1 doc/design.md,man/miniasync_runtime.7 as old as @ passes
lib/runtime.c:AGE_UNIT_NS ns doc/design.md,man/miniasync_runtime.7 one more (per|for every) @ a pass takes
lib/runtime.c:AGE_MAX_PASSES 1 doc/design.md,man/miniasync_runtime.7 a pass takes, @ (passes )?at most
lib/runtime.c:DEFER_SLEEP_MIN_NS ns doc/design.md,man/miniasync_runtime.7 (too near for a sleep \(under|nearer than) @
lib/runtime.c:POLLER_SLEEP_MIN_NS ns doc/design.md,man/miniasync_runtime.7 timed sleeps,? from @
lib/runtime.c:POLLER_SLEEP_MIN_NS ns doc/design.md,man/miniasync_runtime.7 back to @ (on progress|whenever)
lib/runtime.c:POLLER_SLEEP_MAX_NS ns doc/design.md,man/miniasync_runtime.7 timed sleeps,? from # doubling (up )?to @
lib/runtime.c:YIELD_EVERY_NS ns doc/design.md,man/miniasync_runtime.7 the first (time )?after @ of such passes
lib/runtime.c:YIELD_EVERY_NS ns doc/design.md,man/miniasync_runtime.7 took, (and )?at least @
lib/runtime.c:YIELD_SHARE 1 doc/design.md,man/miniasync_runtime.7 after @ times what the last
lib/runtime.c:CLOCK_EVERY 1 doc/design.md clock read every @ passes
lib/data_mover_threads.c:BIG_SHARE B man/miniasync_vdm_threads.7 cut into shares of @
lib/data_mover_threads.c:MAX_RING 1 man/miniasync_vdm_threads.7 entries, at most @
lib/data_mover_threads.c:MAX_RING 1 man/data_mover_threads_new.3 above @ gives
lib/data_mover_threads.c:MAX_RING 1 man/data_mover_threads_new.3 gives a ring of @
EOF
}

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

# --- 4. numbers written out -----------------------------------------------

# The value of "#define $2 ..." in the file $1, in decimal; nothing when
# there is none, or it is more than literals, casts and arithmetic.
macro_value() {
	v=$(sed -n "s/^#[ 	]*define[ 	][ 	]*$2[ 	][ 	]*//p" "$1" |
		head -n 1 | sed 's|/\*.*||; s|//.*||;
			s/([a-z_][a-z0-9_ ]*)//g;
			s/\([0-9]\)[uUlL][uUlL]*/\1/g')
	echo "$v" | grep -Eq '^[0-9 	()*+<-]*[0-9][0-9 	()*+<-]*$' ||
		return 0
	# shellcheck disable=SC2004 # the expression, not a number: expanded
	echo $(($v))
}

# The text of the document $1 on one line, blanks squeezed: of a man
# page without comments, macro names and escapes; no backquotes.
mu=$(printf '\302\265')
doc_text() {
	sed -e '/^\.\\"/d; s/^\.[A-Za-z][A-Za-z]*[ 	]*//' \
		-e 's/\\(mc/u/g; s/\\(\*m/u/g; s/\\[ ~0]/ /g; s/\\-/-/g' \
		-e 's/\\&//g; s/\\e/\\/g; s/`//g' "$1" |
		tr '\n\t' '  ' | tr -s ' '
	echo
}

# Prints "value mult unit number" for each text of stdin that matches
# MA_PHRASE (see the table): the number @ stands for converted to MA_UNIT
# (value), the factor it was multiplied by, and the unit (- for none)
# and number as written. The phrase comes through the environment, where
# awk leaves its backslashes alone (-v would read them as escapes).
phrase_numbers() {
	LC_ALL=C awk '
	function grp(x) { return x == "" ? "" : "(" x ")" }
	BEGIN {
		nwords = split("zero one two three four five six seven " \
			"eight nine ten eleven twelve", words, " ")
		num = "([0-9]+([.][0-9]+)?"
		for (i = 1; i <= nwords; i++)
			num = num "|" words[i]
		num = num ")"
		unit = ENVIRON["MA_UNIT"]
		mu = ENVIRON["MA_MU"]
		if (unit == "ns")
			units = "(ns|nanoseconds?|us|" mu "s|microseconds?|" \
				"ms|milliseconds?|s|seconds?)"
		else if (unit == "B")
			units = "(B|bytes?|KiB|MiB|GiB)"
		else
			units = ""
		at = units == "" ? num : num " ?" units
		other = "[0-9]+([.][0-9]+)?( ?([A-Za-z]+|" mu "s))?"
		phrase = ENVIRON["MA_PHRASE"]
		i = index(phrase, "@")
		pre = substr(phrase, 1, i - 1)
		post = substr(phrase, i + 1)
		gsub(/#/, other, pre)
		gsub(/#/, other, post)
		whole = grp(pre) at grp(post)
		pre_re = "^" grp(pre) "$"
		rest_re = "^" at grp(post) "$"
	}
	{
		s = $0
		while (s != "" && match(s, whole)) {
			m = substr(s, RSTART, RLENGTH)
			s = substr(s, RSTART + RLENGTH)
			# where the number begins
			for (k = 0; k < length(m); k++)
				if (substr(m, 1, k) ~ pre_re &&
						substr(m, k + 1) ~ rest_re)
					break
			r = substr(m, k + 1)
			match(r, "^" num)
			n = substr(r, 1, RLENGTH)
			r = substr(r, RLENGTH + 1)
			sub(/^ /, "", r)
			w = ""
			if (units != "" && match(r, "^" units))
				w = substr(r, 1, RLENGTH)
			v = n
			for (i = 1; i <= nwords; i++)
				if (n == words[i])
					v = i - 1
			f = 1
			if (unit == "ns") {
				if (w ~ "^(u|" mu "|micro)")
					f = 1000
				else if (w ~ /^(ms|milli)/)
					f = 1000000
				else if (w ~ /^s/)
					f = 1000000000
			} else if (unit == "B") {
				if (w == "KiB")
					f = 1024
				else if (w == "MiB")
					f = 1048576
				else if (w == "GiB")
					f = 1073741824
			}
			printf "%.0f %d %s %s\n", v * f, f, \
				(w == "" ? "-" : w), n
		}
	}'
}

number_facts | grep -v '^#' | grep -v '^[ 	]*$' >"$tmp/facts"
nfacts=0
ndocs=0
while read -r macro unit docs phrase; do
	file=${macro%%:*}
	name=${macro#*:}
	if ! [ -f "$srcdir/$file" ]; then
		echo "FAIL: the table of tests/doc_check.sh names $file," \
			"which is not in the tree"
		fail=1
		continue
	fi
	want=$(macro_value "$srcdir/$file" "$name")
	[ "$unit" = 1 ] && unit=
	if [ -z "$want" ]; then
		echo "FAIL: $file defines no $name as a number (renamed?" \
			"update the table of tests/doc_check.sh)"
		fail=1
		continue
	fi
	case $phrase in
	*@*@*) one_at=no ;;
	*@*) one_at=yes ;;
	*) one_at=no ;;
	esac
	if [ "$one_at" = no ]; then
		echo "FAIL: the table of tests/doc_check.sh has a phrase" \
			"without exactly one @ for $name: '$phrase'"
		fail=1
		continue
	fi
	nfacts=$((nfacts + 1))
	shown=$want${unit:+ $unit}
	for d in $(echo "$docs" | tr ',' ' '); do
		path=$d
		[ -f "$srcdir/$path" ] || path=$d.in
		if ! [ -f "$srcdir/$path" ]; then
			echo "FAIL: the table of tests/doc_check.sh names $d," \
				"which is not in the tree"
			fail=1
			continue
		fi
		ndocs=$((ndocs + 1))
		key=$(echo "$path" | tr '/.' '__')
		[ -f "$tmp/text.$key" ] ||
			doc_text "$srcdir/$path" >"$tmp/text.$key"
		MA_PHRASE=$phrase MA_UNIT=$unit MA_MU=$mu \
			phrase_numbers <"$tmp/text.$key" >"$tmp/found" ||
			fail=1
		if ! [ -s "$tmp/found" ]; then
			echo "FAIL: $path no longer states $name of $file" \
				"($shown): no text matches '$phrase'" \
				"(state it again, or change the table of" \
				"tests/doc_check.sh)"
			fail=1
		fi
		while read -r got mult uword written; do
			[ "$got" = "$want" ] && continue
			should=$(awk -v w="$want" -v f="$mult" \
				'BEGIN { printf "%.6g", w / f }')
			if [ "$uword" != - ]; then
				written="$written $uword"
				should="$should $uword"
			fi
			echo "FAIL: $path says \"$written\" for $name" \
				"of $file ($shown), in text matching" \
				"'$phrase': write \"$should\""
			fail=1
		done <"$tmp/found"
	done
done <"$tmp/facts"
echo "$nfacts numbers written out checked ($ndocs document statements)"

[ "$fail" -eq 0 ] || exit 1
[ "$skip" -eq 0 ] || exit 77
exit 0
