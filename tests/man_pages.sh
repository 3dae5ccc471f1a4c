# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# man_pages.sh -- sourced by the man_*.sh tests: gathers the manual as
# 'make install' installs it into one directory, so that the tests read
# every page under its installed name.
#
# A full page is built by make from man/PAGE.in (version and date filled
# in) into the build tree; an alias page ('.so manS/PAGE.S') is in the
# source tree as it is. In a build in the source tree both a page and its
# .in are in man/: the .in says which one is a built page.
#
# ma_gather_manual SRCDIR BUILDDIR DEST: copies every page into DEST.
# Prints a FAIL line and returns 1 when a built page is missing (make has
# not built the manual).
ma_gather_manual() {
	ma_src=$1/man
	ma_build=$2/man
	ma_dest=$3
	ma_rc=0

	for ma_in in "$ma_src"/*.[37].in; do
		[ -f "$ma_in" ] || continue
		ma_page=${ma_in##*/}
		ma_page=${ma_page%.in}
		if [ -f "$ma_build/$ma_page" ]; then
			cp "$ma_build/$ma_page" "$ma_dest/$ma_page"
		else
			echo "FAIL: $ma_build/$ma_page not built (run make)"
			ma_rc=1
		fi
	done
	for ma_page in "$ma_src"/*.[37]; do
		[ -f "$ma_page" ] || continue
		[ -f "$ma_page.in" ] && continue
		cp "$ma_page" "$ma_dest/${ma_page##*/}"
	done
	return "$ma_rc"
}
