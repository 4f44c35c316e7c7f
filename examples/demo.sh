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
echo "inside: uid=$(id -u) pid=$$ hostname=$(hostname)"
echo result > result.txt                                   && echo "inside: wrote result.txt in CWD"
echo evil >> /etc/passwd 2>/dev/null                       || echo "inside: /etc/passwd not writable"
ls -A "$HOME" | head -3 | sed 's/^/inside: $HOME has: /'   ; [ -z "$(ls -A "$HOME")" ] && echo 'inside: $HOME is empty'
(exec 3<>/dev/tcp/127.0.0.1/1) 2>/dev/null                 ; echo "inside: network: $( (getent hosts example.org >/dev/null && echo reachable) || echo none)"
PAYLOAD

echo "\$ mini-sandbox -x -- sh untrusted.sh"
set +e
"$SBX" -x -- bash untrusted.sh
status=$?
set -e
echo "exit status: $status"
echo "host: result.txt = $(cat result.txt 2>/dev/null || echo MISSING)"
exit "$status"
