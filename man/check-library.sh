#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Documentation check (meson test "man-library"): every function the
# library header declares is in the SYNOPSIS of libminisandbox(3) and
# described below it, every MINI_SANDBOX_* constant it defines is named in
# the page, and the page renders without a single groff warning.  The
# header is what a caller sees; the page must not lag behind it.
#
# Usage: check-library.sh HEADER PAGE [GROFF]
set -eu

header=$1
page=$2
groff=${3:-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declarations look like:	int mini_sandbox_allow(const char *entry);
sed -n 's/^[a-z_ ]*[ *]\(mini_sandbox_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u >"$tmp/functions"
sed -n 's/^#define \(MINI_SANDBOX_[A-Z0-9_]*\)[[:space:]].*/\1/p' "$header" | sort -u >"$tmp/constants"
if [ ! -s "$tmp/functions" ]; then
	echo "no mini_sandbox_* declarations found in $header" >&2
	exit 1
fi

# The names are written plainly in the page (roff needs no escape for
# letters, digits and underscores), so a plain text search finds them.
sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$page" >"$tmp/synopsis"
sed '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/d' "$page" >"$tmp/body"

fail=0
while read -r f; do
	grep -q "$f" "$tmp/synopsis" || { echo "$page: $f not in the SYNOPSIS" >&2; fail=1; }
	grep -q "$f" "$tmp/body" || { echo "$page: $f not described" >&2; fail=1; }
done <"$tmp/functions"
while read -r c; do
	grep -q "$c" "$page" || { echo "$page: $c (from $header) not named" >&2; fail=1; }
done <"$tmp/constants"

if [ -n "$groff" ]; then
	warnings=$("$groff" -man -Tutf8 -ww -z "$page" 2>&1 || echo "groff failed")
	if [ -n "$warnings" ]; then
		echo "$page:" >&2
		echo "$warnings" >&2
		fail=1
	fi
fi
exit $fail
