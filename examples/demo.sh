#!/usr/bin/env bash
# The built-in example: run a small "untrusted" script under `mini-sandbox -x`
# and show from the host side what it could and could not do.
set -euo pipefail
BUILD=${1:-build}
SBX=$(cd "$BUILD" && pwd)/src/mini-sandbox
work=$(mktemp -d "${TMPDIR:-/tmp}/msbx-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > untrusted.sh <<'PAYLOAD'
echo "inside: uid=$(id -u) pid=$$"
echo result > result.txt                    && echo "inside: wrote result.txt in CWD"
{ echo evil >> /etc/passwd; } 2>/dev/null   || echo "inside: /etc/passwd is read-only"
[ -z "$(ls -A "$HOME")" ]                   && echo 'inside: $HOME is empty'
echo "inside: network interfaces: $(awk -F: 'NR > 2 { gsub(/ /, "", $1); printf "%s ", $1 }' /proc/net/dev)"
PAYLOAD

echo "\$ mini-sandbox -x -- bash untrusted.sh"
set +e
"$SBX" -x -- bash untrusted.sh
status=$?
set -e
echo "exit status: $status"
echo "host: result.txt = $(cat result.txt 2>/dev/null || echo MISSING)"
exit "$status"
