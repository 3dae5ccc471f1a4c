#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# man_lint.sh -- every page of the manual is well formed and lint clean.
#
# A full page, as make builds it from man/PAGE.in,
# - starts, after its comment lines, with
#     .TH NAME SECTION YYYY-MM-DD "libminiasync X.Y.Z" "libminiasync Manual"
#   where NAME is the file name in upper case and SECTION its suffix, with
#   the same date and version on every page, the version of configure.ac;
#   its source man/PAGE.in has @MAN_DATE@ and @PACKAGE_VERSION@ there, so
#   that a release changes configure.ac alone;
# - has the sections NAME, SYNOPSIS, DESCRIPTION and SEE ALSO, and in
#   section 3 also RETURN VALUE;
# - makes 'mandoc -Tlint -Wall' and 'groff -man -ww -z' print nothing;
# - has no line wider than 80 columns once groff formats it for an
#   80-column terminal (-Tutf8 -rLL=80n).
# An alias page is exactly one line '.so manS/PAGE.S' that names a full
# page of man/ in section S. mandoc and groff are not run on aliases: they
# would look for manS/PAGE.S, which exists only once installed; the page
# it names is linted instead.
#
# When mandoc or groff is missing, the checks it would do are skipped and
# the test ends with 77 (skipped) if nothing else failed.
#
# Environment (set by make check): top_srcdir, top_builddir.

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}

if ! [ -d "$srcdir/man" ]; then
	echo "man_lint: no man directory under '$srcdir'" >&2
	exit 99
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 99' HUP INT TERM
mandir=$tmp
. "$srcdir/tests/man_pages.sh"

have_mandoc=yes
have_groff=yes
command -v mandoc >/dev/null 2>&1 || have_mandoc=no
command -v groff >/dev/null 2>&1 || have_groff=no

fail=0
pages=0
aliases=0
stamp=

# Reports a failure of page $1: the rest of the arguments say what.
bad() {
	bad_file=$1
	shift
	echo "FAIL: $bad_file: $*"
	fail=1
}

ma_gather_manual "$srcdir" "$builddir" "$mandir" || fail=1

# The sources of the full pages leave version and date to configure.
for src in "$srcdir"/man/*.[37].in; do
	[ -f "$src" ] || continue
	file=${src##*/}
	base=${file%.*.in}
	sec=${file%.in}
	sec=${sec##*.}
	upper=$(printf '%s\n' "$base" | tr '[:lower:]' '[:upper:]')
	want=".TH $upper $sec @MAN_DATE@"
	want="$want \"libminiasync @PACKAGE_VERSION@\" \"libminiasync Manual\""
	if ! grep -qxF -- "$want" "$src"; then
		bad "$file" "has no title line '$want'"
	fi
done

# The version configure.ac gives (through the generated pkg-config file):
# every built page's title line must name it.
pkg_version=$(sed -n 's/^Version: *//p' \
	"${top_builddir:-.}/lib/miniasync.pc" 2>/dev/null || true)

for page in "$mandir"/*.[37]; do
	file=${page##*/}
	base=${file%.*}
	sec=${file##*.}

	if sed -n '1p' "$page" | grep -q '^\.so'; then
		aliases=$((aliases + 1))
		if [ "$(wc -l <"$page")" -ne 1 ]; then
			bad "$file" "an alias page must be a single '.so' line"
			continue
		fi
		target=$(sed -n 's/^\.so man\([37]\)\/\([A-Za-z0-9_]*\.\1\)$/\2/p' \
			"$page")
		if [ -z "$target" ]; then
			bad "$file" "not a valid alias line:" \
				"'$(cat "$page")' (want '.so manS/PAGE.S')"
		elif ! [ -f "$mandir/$target" ]; then
			bad "$file" "names $target, which is not in man/"
		elif sed -n '1p' "$mandir/$target" | grep -q '^\.so'; then
			bad "$file" "names $target, which is an alias itself"
		fi
		continue
	fi

	pages=$((pages + 1))

	# The title line.
	upper=$(printf '%s\n' "$base" | tr '[:lower:]' '[:upper:]')
	th=$(sed -n '/^\.TH[ 	]/{p;q;}' "$page")
	first=$(grep -v '^\.\\"' "$page" | sed -n '1p')
	if [ "$th" != "$first" ]; then
		bad "$file" "the first line that is not a comment must be .TH"
	fi
	rest=${th#".TH $upper $sec "}
	if [ "$rest" = "$th" ]; then
		bad "$file" "title line '$th' does not start with" \
			"'.TH $upper $sec '"
	elif ! printf '%s\n' "$rest" | grep -Eq \
		'^[0-9]{4}-[0-9]{2}-[0-9]{2} "libminiasync [0-9]+\.[0-9]+\.[0-9]+" "libminiasync Manual"$'
	then
		bad "$file" "title line '$th' must end with" \
			"'YYYY-MM-DD \"libminiasync X.Y.Z\" \"libminiasync Manual\"'"
	elif [ -n "$pkg_version" ] && ! printf '%s\n' "$rest" |
			grep -Fq "\"libminiasync $pkg_version\""; then
		bad "$file" "title line '$th' does not name the package" \
			"version $pkg_version (configure.ac)"
	elif [ -z "$stamp" ]; then
		stamp=$rest
		stamp_page=$file
	elif [ "$rest" != "$stamp" ]; then
		bad "$file" "date and version '$rest' differ from those of" \
			"$stamp_page: '$stamp'"
	fi

	# The sections every page has.
	want="NAME|SYNOPSIS|DESCRIPTION|SEE ALSO"
	[ "$sec" = 3 ] && want="$want|RETURN VALUE"
	oldifs=$IFS
	IFS='|'
	for s in $want; do
		if ! grep -Eq "^\\.SH[ 	]+\"?$s\"?[ 	]*\$" "$page"; then
			bad "$file" "has no $s section"
		fi
	done
	IFS=$oldifs

	if [ "$have_mandoc" = yes ]; then
		out=$(mandoc -Tlint -Wall "$page" 2>&1)
		[ -z "$out" ] || bad "$file" "mandoc -Tlint -Wall says:
$out"
	fi
	if [ "$have_groff" = yes ]; then
		out=$(groff -man -ww -z "$page" 2>&1)
		[ -z "$out" ] || bad "$file" "groff -man -ww -z says:
$out"
		# Drop UTF-8 continuation bytes: one byte is one column.
		out=$(groff -man -Tutf8 -rLL=80n -P-cbou "$page" 2>&1 |
			LC_ALL=C tr -d '\200-\277' |
			awk 'length > 80 { print NR ": " $0 }')
		[ -z "$out" ] || bad "$file" "lines wider than 80 columns:
$out"
	fi
done

echo "$pages pages and $aliases aliases checked"
if [ "$pages" -eq 0 ]; then
	echo "FAIL: no page found" >&2
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1
if [ "$have_mandoc" = no ] || [ "$have_groff" = no ]; then
	[ "$have_mandoc" = yes ] || echo "SKIP: mandoc is not installed"
	[ "$have_groff" = yes ] || echo "SKIP: groff is not installed"
	exit 77
fi
exit 0
