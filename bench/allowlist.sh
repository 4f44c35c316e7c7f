#!/usr/bin/env bash
# What the egress allowlist costs.
#
#   bench/allowlist.sh BUILD_DIR
#
# 1. Start-up: hyperfine over `mini-tapbox -- true` without an allowlist and
#    with 1, 100 and 10 000 entries (distinct, non-adjacent IPv4 addresses:
#    nothing merges, the worst case for the sets).  Entries are literal, so
#    no name is resolved.
# 2. Throughput: iperf3 from inside mini-tapbox to a server on a test host
#    (tests/integration/testhosts.sh, network namespace msbx-testhosts),
#    without -F and with the 10 000-entry list plus the server's address,
#    both directions.
# Run as root (for the test hosts); the sandboxes run as $MSBX_BENCH_USER
# (default msbx-test).  Traffic only goes to the test host this script
# brings up.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/allowlist.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
TESTHOSTS=$HERE/../tests/integration/testhosts.sh
TAPBOX=$BUILD/src/mini-tapbox
USER_=${MSBX_BENCH_USER:-msbx-test}
SERVER=198.18.0.10
SECS=${IPERF_SECS:-10}
RUNS=${BENCH_RUNS:-30}

[ "$(id -u)" -eq 0 ] || { echo "run as root (test hosts need a network namespace)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "iperf3 missing" >&2; exit 1; }

WORK=$(mktemp -d /tmp/msbx-allow-bench.XXXXXX)
chmod 0755 "$WORK"
mkdir "$WORK/w"
chown "$USER_" "$WORK/w"
iperf_pid=
cleanup() {
	[ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

as_user() { (cd "$WORK/w" && runuser -u "$USER_" -- "$@"); }

# --- lists: 10.A.B.C with C odd, so no two entries are adjacent ---
gen() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		echo "10.$((i / 32768 % 256)).$((i / 128 % 256)).$((i % 128 * 2 + 1))"
	done
}
for n in 1 100 10000; do
	gen "$n" >"$WORK/list-$n"
done
chmod 0644 "$WORK"/list-*

echo "== start-up (hyperfine, $RUNS runs) =="
as_user hyperfine --shell=none --warmup 3 --runs "$RUNS" --style basic \
	--export-markdown "$WORK/w/startup.md" \
	-n "no allowlist" "$TAPBOX -- true" \
	-n "1 entry" "$TAPBOX -F $WORK/list-1 -- true" \
	-n "100 entries" "$TAPBOX -F $WORK/list-100 -- true" \
	-n "10000 entries" "$TAPBOX -F $WORK/list-10000 -- true" >"$WORK/hyperfine.log" 2>&1 || { cat "$WORK/hyperfine.log"; exit 1; }
cat "$WORK/w/startup.md"

echo "== throughput (iperf3 -t $SECS to $SERVER) =="
if ! "$TESTHOSTS" status 2>/dev/null; then
	"$TESTHOSTS" up
fi
ip netns exec msbx-testhosts iperf3 -s -B "$SERVER" >/dev/null 2>&1 &
iperf_pid=$!
# wait until the server listens (bounded)
for _ in $(seq 1 50); do
	ip netns exec msbx-testhosts ss -ltn "sport = :5201" | grep -q LISTEN && break
	sleep 0.1
done
cp "$WORK/list-10000" "$WORK/list-iperf"
echo "$SERVER" >>"$WORK/list-iperf"

measure() { # LABEL DIRECTION(args) TAPBOX-ARGS...
	local label=$1 dir=$2
	shift 2
	as_user "$TAPBOX" "$@" -- iperf3 -c "$SERVER" -t "$SECS" -J $dir >"$WORK/iperf.json"
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))' "$WORK/iperf.json"
}
printf '| direction | no allowlist Gbit/s | 10 001 entries Gbit/s | ratio |\n|---|---:|---:|---:|\n'
for dir in "" "-R"; do
	a=$(measure open "$dir")
	b=$(measure list "$dir" -F "$WORK/list-iperf")
	name=$([ -z "$dir" ] && echo "sandbox → host" || echo "host → sandbox")
	printf '| %s | %s | %s | %s |\n' "$name" "$a" "$b" \
		"$(python3 -c "print('%.3f' % ($b / $a))")"
done
