#!/bin/sh
# need-check.sh -- stands in for the suites when configure found no Check:
# the test run fails (exit 99, a hard error) rather than passing empty.
echo "the Check framework (check >= 0.13) was not found by configure;" >&2
echo "install it (Debian: apt-get install check) and run configure again" >&2
exit 99
