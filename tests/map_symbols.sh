# SPDX-License-Identifier: BSD-3-Clause
# Copyright 2026, libminiasync developers
#
# map_symbols.sh -- sourced by tests/abi_symbols.sh and tests/tree_check.sh:
# reads a version script (lib/libminiasync.map,
# dml/libminiasync-vdm-dml.map), the one list of a library's exports.
#
# map_symbols MAP: prints "symbol node" for every global of the version
# script MAP, and "node node" for each of its nodes (the version
# definitions the library exports). Knows the script's grammar as ld
# takes it: NODE { global: a; b; local: *; } [PARENT]; with /* */
# comments anywhere. An anonymous script ({ global: ...; }; without a
# node name, as 0.2's libminiasync-vdm-dml had) gives its symbols the
# library's base version, which objdump calls "Base", and no node line.
map_symbols() {
	awk '
		function take(t) {
			if (depth == 0) {
				if (t == "{") {
					depth = 1
					scope = "global"
					if (node == "")
						node = "Base"
				} else if (t == ";") {
					closed = 0
					node = ""
				} else if (!closed) {
					node = t
					print node, node
				}
				return
			}
			if (t == "}") {
				depth = 0
				closed = 1
			} else if (t == "global" || t == "local") {
				scope = t
			} else if (t != ":" && t != ";" && scope == "global") {
				print t, node
			}
		}
		{
			line = $0
			out = ""
			while (line != "") {
				if (incomment) {
					i = index(line, "*/")
					if (i == 0)
						line = ""
					else {
						line = substr(line, i + 2)
						incomment = 0
					}
				} else {
					i = index(line, "/*")
					if (i == 0) {
						out = out line
						line = ""
					} else {
						out = out substr(line, 1, i - 1) " "
						line = substr(line, i + 2)
						incomment = 1
					}
				}
			}
			gsub(/[{};:]/, " & ", out)
			n = split(out, tok, /[ \t]+/)
			for (k = 1; k <= n; k++)
				if (tok[k] != "")
					take(tok[k])
		}
	' "$1"
}
