#!/bin/sh
# setup.sh -- from a fresh clone on Debian or Ubuntu: installs the build
# dependencies and everything 'make check' uses (so that it skips no
# test: abigail-tools for the ABI check, mandoc and groff for the manual),
# builds, installs (to /usr/local), then builds and runs an example
# against the installed library through pkg-config.
# Run it as root, or as a user who may use sudo.
set -eu

cd "$(dirname "$0")/.."

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if command -v apt-get >/dev/null 2>&1; then
	# an index that fails to download (a mirror in sync) need not stop us:
	# the install below says so if a package cannot be had
	as_root apt-get update -qq ||
		echo "setup.sh: apt-get update failed; using the lists there are" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		gcc make autoconf automake libtool \
		pkg-config check groff-base mandoc abigail-tools
fi

autoreconf -fi
./configure
make -j"$(nproc)"
as_root make install
as_root ldconfig

export PKG_CONFIG_PATH="/usr/local/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046 # pkg-config prints words to split
cc -o "$out/basic" examples/basic.c $(pkg-config --cflags --libs miniasync)
"$out/basic"
