#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# relpath.sh FROM TO -- prints the path of directory TO relative to
# directory FROM, both absolute (e.g. /usr/lib/cmake/miniasync and
# /usr/include give ../../../include). Used by cmake/local.mk to make the
# installed CMake package relocatable. Neither directory needs to exist;
# '.' components and repeated slashes are dropped, '..' is not resolved.
set -eu

# One component a line, without empty and '.' components.
components() {
	printf '%s\n' "$1" | tr '/' '\n' | grep -v -e '^$' -e '^\.$' || true
}

for d in "$1" "$2"; do
	case $d in
	/*) ;;
	*) echo "relpath.sh: '$d' is not an absolute path" >&2; exit 1 ;;
	esac
done

from=$(components "$1")
to=$(components "$2")

# Drop the components both start with.
while [ -n "$from" ] && [ -n "$to" ]; do
	f=$(printf '%s\n' "$from" | sed -n 1p)
	t=$(printf '%s\n' "$to" | sed -n 1p)
	[ "$f" = "$t" ] || break
	from=$(printf '%s\n' "$from" | sed 1d)
	to=$(printf '%s\n' "$to" | sed 1d)
done

# One '..' for each component left in FROM, then what is left of TO
# (split at newlines only: a component may hold a space).
IFS='
'
out=
for c in $from; do
	out=$out../
done
for c in $to; do
	out=$out$c/
done
out=${out%/}
printf '%s\n' "${out:-.}"
