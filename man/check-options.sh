#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Documentation check (meson test "man-pages"): every long option of the
# option table in src/options.c is documented in a man page and offered by
# the bash completion, and the pages render without a single groff warning.
# Users read the man page (STYLE 15): an undocumented option is a bug.
#
# Usage: check-options.sh OPTIONS_C COMPLETION MANPAGE... [-- GROFF]
set -eu

options_c=$1
completion=$2
shift 2
pages=
groff=
while [ $# -gt 0 ]; do
	if [ "$1" = "--" ]; then
		groff=${2:-}
		break
	fi
	pages="$pages $1"
	shift
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Table rows look like:	{ "write",              'w', OPTF_VALUE, OPT_WRITE },
sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",[[:space:]]*\(0\|'"'"'.'"'"'\),.*/--\1/p' \
	"$options_c" | sort -u >"$tmp/names"
if [ ! -s "$tmp/names" ]; then
	echo "no option table found in $options_c" >&2
	exit 1
fi
# roff writes the dashes escaped: \-\-allow\-host\-port
# shellcheck disable=SC2086
cat $pages | grep -o '\\-\\-[a-z]\([a-z]\|\\-\)*' | sed 's/\\-/-/g' | sort -u >"$tmp/documented"
grep -o -- '--[a-z][a-z-]*' "$completion" | sort -u >"$tmp/offered"

fail=0
for what in documented offered; do
	comm -23 "$tmp/names" "$tmp/$what" >"$tmp/missing"
	if [ -s "$tmp/missing" ]; then
		echo "long options not $what (${pages# } / $completion):" >&2
		cat "$tmp/missing" >&2
		fail=1
	fi
done

if [ -n "$groff" ]; then
	for page in $pages; do
		warnings=$("$groff" -man -Tutf8 -ww -z "$page" 2>&1 || echo "groff failed")
		if [ -n "$warnings" ]; then
			echo "$page:" >&2
			echo "$warnings" >&2
			fail=1
		fi
	done
fi
exit $fail
