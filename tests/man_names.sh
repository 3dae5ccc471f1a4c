#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# man_names.sh -- every public name of the headers is documented, and the
# manual is installed whole.
#
# 1. Every function and every function-like macro of the public headers
#    (include/**/*.h) has a page man/NAME.3, a full page or a one-line
#    .so alias of one.
#    - Functions, prototypes and inline definitions alike, are found in the
#      headers after preprocessing with $CC -E, so that comments and macro
#      invocations such as FUTURE(...) are never taken for functions: each
#      top-level declaration of a header's own text that is not a typedef
#      and whose first parenthesis opens a parameter list (not a "(*" of a
#      pointer declarator) declares the function named before it.
#    - Function-like macros are the '#define NAME(' lines of the headers.
#    Deliberately excluded: macros whose names end in '_' (such as
#    FUTURE_CONTEXT_SIZES_INIT_ and FUTURE_CHAIN_ENTRY_DECL_), which are
#    helpers of the other macros that no user writes; identifiers that
#    start with '__' and the keywords sizeof, _Alignas, _Alignof and
#    _Static_assert, which are not functions.
# 2. Every other public name -- object-like macros (not the include guards
#    *_H), enumeration constants, struct, union and enum tags and typedef
#    names -- appears as a word in at least one full page.
# 3. Every name in the NAME section of a full page has a page of its own
#    (itself or an alias), and the full page an alias points to lists the
#    alias's name in its NAME section.
# 4. The pages of the manual (the aliases in man/ and the pages built from
#    man/*.in) and the pages listed in man/local.mk are the same set, so
#    that every page is installed and distributed.
#
# Environment (set by make check): top_srcdir, top_builddir, CC.

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
cc=${CC:-cc}
incdir=$srcdir/include

if ! [ -d "$srcdir/man" ] || ! [ -d "$incdir" ]; then
	echo "man_names: no man or include directory under '$srcdir'" >&2
	exit 99
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 99' HUP INT TERM

fail=0
# the manual as installed, in one directory
mandir=$tmp/man
mkdir "$mandir" || exit 99
. "$srcdir/tests/man_pages.sh"
ma_gather_manual "$srcdir" "$builddir" "$mandir" || fail=1

find "$incdir" -name '*.h' -type f | LC_ALL=C sort >"$tmp/headers"
if ! [ -s "$tmp/headers" ]; then
	echo "man_names: no header found under '$incdir'" >&2
	exit 99
fi

# Is $1 a page of the manual (full or alias) in section $2?
have_page() {
	[ -f "$mandir/$1.$2" ]
}

# Does file $1 consist of a single .so line, and which page is it for?
alias_target() {
	sed -n '1s/^\.so man[37]\/\([^ ]*\)$/\1/p' "$1"
}

# --- 1. functions and function-like macros --------------------------------

: >"$tmp/all.c"
while read -r h; do
	# by its name under include/: found through -I whatever the cwd
	printf '#include <%s>\n' "${h#"$incdir"/}" >>"$tmp/all.c"
done <"$tmp/headers"
if ! $cc -E -I"$incdir" "$tmp/all.c" >"$tmp/all.i" 2>"$tmp/cpp.log"; then
	echo "FAIL: the headers do not preprocess with $cc:"
	cat "$tmp/cpp.log"
	exit 1
fi

# The text of the headers' own lines, as one line, without linemarkers.
awk -v inc="$incdir/" '
	/^#[ \t]*[0-9]+[ \t]+"/ {
		f = $0
		sub(/^#[ \t]*[0-9]+[ \t]+"/, "", f)
		sub(/".*/, "", f)
		sub(/^\.\//, "", f)
		i = inc
		sub(/^\.\//, "", i)
		ours = (substr(f, 1, length(i)) == i)
		next
	}
	/^#/ { next }
	ours { printf("%s ", $0) }
	END { print "" }
' "$tmp/all.i" >"$tmp/own.i"

# Top-level declarations of the own text; print the function names.
awk '
	function skip_group(s, p,    d, c) {
		# s[p] is "(": return the position after its ")"
		d = 0
		for (; p <= length(s); p++) {
			c = substr(s, p, 1)
			if (c == "(")
				d++
			else if (c == ")" && --d == 0)
				return p + 1
		}
		return p
	}
	function check(stmt,    p, before, id, rest) {
		if (stmt ~ /^[ \t]*typedef[ \t]/)
			return
		p = index(stmt, "(")
		while (p > 0) {
			before = substr(stmt, 1, p - 1)
			sub(/[ \t]+$/, "", before)
			id = ""
			if (match(before, /[A-Za-z_][A-Za-z0-9_]*$/))
				id = substr(before, RSTART)
			rest = substr(stmt, p + 1)
			sub(/^[ \t]+/, "", rest)
			if (id ~ /^__/ || id == "sizeof" || id == "_Alignas" ||
			    id == "_Alignof" || id == "_Static_assert") {
				p = skip_group(stmt, p)
				stmt = substr(stmt, p)
				p = index(stmt, "(")
				continue
			}
			if (substr(rest, 1, 1) == "*" || id == "")
				return
			print id
			return
		}
	}
	{
		s = $0
		n = length(s)
		depth = 0
		stmt = ""
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1)
			if (c == "\"" || c == "\047") {
				q = c
				for (i++; i <= n && substr(s, i, 1) != q; i++)
					if (substr(s, i, 1) == "\\")
						i++
				if (depth == 0)
					stmt = stmt "0"
				continue
			}
			if (c == "{") {
				if (depth++ == 0) {
					check(stmt)
					stmt = ""
				}
				continue
			}
			if (c == "}") {
				depth--
				continue
			}
			if (depth > 0)
				continue
			if (c == ";") {
				check(stmt)
				stmt = ""
				continue
			}
			stmt = stmt c
		}
	}
' "$tmp/own.i" >"$tmp/functions"

# Function-like macros: the name touches the parenthesis.
while read -r h; do
	sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$h"
done <"$tmp/headers" | grep -v '_$' >"$tmp/macros"

if ! [ -s "$tmp/functions" ]; then
	echo "FAIL: no function found in the headers: the extraction is broken"
	fail=1
fi

LC_ALL=C sort -u "$tmp/functions" "$tmp/macros" >"$tmp/names"
nnames=0
while read -r name; do
	nnames=$((nnames + 1))
	if ! have_page "$name" 3; then
		echo "FAIL: $name has no page: add man/$name.3 (or an alias" \
			"'.so man3/PAGE.3' to the page that documents it)"
		fail=1
	fi
done <"$tmp/names"
echo "$nnames functions and function-like macros checked"

# --- 2. every other public name is mentioned ------------------------------

for page in "$mandir"/*.[37]; do
	[ -n "$(alias_target "$page")" ] || cat "$page"
done >"$tmp/fulltext"

{
	# object-like macros, but include guards
	while read -r h; do
		sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\)\([^A-Za-z0-9_(].*\)\{0,1\}$/\1/p' "$h"
	done <"$tmp/headers" | grep -v '_H$' | grep -v '_$'
	# struct, union and enum tags
	grep -oE '(struct|union|enum)[[:space:]]+[A-Za-z_][A-Za-z0-9_]*' \
		"$tmp/own.i" | sed 's/.*[[:space:]]//'
	# enumeration constants: NAME = value, or NAME, inside enum { }
	grep -oE 'enum[[:space:]]+[A-Za-z_0-9]*[[:space:]]*[{][^}]*[}]' \
		"$tmp/own.i" | sed 's/^[^{]*{//; s/}$//' | tr ',' '\n' |
		sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p'
	# typedef names: (*name) of a function pointer, else the last word
	grep -o 'typedef[^;]*;' "$tmp/own.i" | sed -n '
		s/.*(\*[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*).*/\1/p
		t
		s/.*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*;$/\1/p'
} | grep -v '^__' | LC_ALL=C sort -u >"$tmp/others"

nothers=0
while read -r name; do
	nothers=$((nothers + 1))
	if ! grep -qw -- "$name" "$tmp/fulltext"; then
		echo "FAIL: $name (constant, tag or type) appears in no page"
		fail=1
	fi
done <"$tmp/others"
echo "$nothers constants, tags and types checked"

# --- 3. NAME sections and aliases -----------------------------------------

# The names listed in the NAME section of page $1, one a line.
name_section() {
	awk '
		/^\.SH/ { inname = ($0 ~ /^\.SH[ \t]+"?NAME"?[ \t]*$/); next }
		inname { printf("%s ", $0) }
		END { print "" }
	' "$1" | sed 's/[[:space:]]\\-.*//' | tr ',' '\n' |
		sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$'
}

for page in "$mandir"/*.[37]; do
	file=${page##*/}
	target=$(alias_target "$page")
	if [ -n "$target" ]; then
		[ -f "$mandir/$target" ] || continue # man_lint.sh reports it
		if ! name_section "$mandir/$target" | grep -qx -- "${file%.*}"
		then
			echo "FAIL: $file is an alias of $target, whose NAME" \
				"section does not list ${file%.*}"
			fail=1
		fi
		continue
	fi
	sec=${file##*.}
	for name in $(name_section "$page"); do
		if ! have_page "$name" "$sec"; then
			echo "FAIL: $file names $name, which has no page:" \
				"add man/$name.$sec ('.so man$sec/$file')"
			fail=1
		fi
	done
done

# --- 4. every page is installed -------------------------------------------

(cd "$mandir" && ls -- *.[37]) | LC_ALL=C sort >"$tmp/pages"
awk '{ for (i = 1; i <= NF; i++) print $i }' "$srcdir/man/local.mk" |
	sed -n 's/^man\/\([^/]*\.[37]\)$/\1/p' |
	LC_ALL=C sort >"$tmp/listed"
if ! cmp -s "$tmp/pages" "$tmp/listed"; then
	echo "FAIL: pages of the manual (<) and those of man/local.mk (>)" \
		"differ:"
	diff "$tmp/pages" "$tmp/listed" | grep '^[<>]'
	fail=1
fi

exit "$fail"
