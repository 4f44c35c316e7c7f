#!/usr/bin/env bash
# Built-in resolver throughput vs dnsmasq, and the launcher's memory under load.
#
#   bench/dns.sh BUILD_DIR [COUNT] [WINDOW]
#
# 1. dnsmasq (Debian dnsmasq-base) serves NAMES bench-1.test … bench-100.test
#    from a hosts file on 127.0.0.1:PORT; bench/dnsload.c (built here) sends
#    COUNT A queries (default 1 000 000), WINDOW (default 32) in flight,
#    from the host.
# 2. mini-tapbox -F (the same 100 names, resolved at start-up through that
#    dnsmasq) runs the same generator inside the sandbox against the
#    built-in resolver 10.0.2.3; the launcher's VmRSS is sampled during the
#    run.
# Load only ever goes to the two resolvers this script starts.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/dns.sh BUILD_DIR [COUNT] [WINDOW]}" && pwd)
COUNT=${2:-1000000}
WINDOW=${3:-32}
LIMIT_SECS=${DNS_BENCH_SECS:-300}
HERE=$(cd "$(dirname "$0")" && pwd)
TAPBOX=$BUILD/src/mini-tapbox
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || { echo "dnsmasq not found (apt-get install dnsmasq-base)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/msbx-dns-bench.XXXXXX")
chmod 0755 "$WORK"
dnsmasq_pid=
cleanup() {
	[ -n "$dnsmasq_pid" ] && kill "$dnsmasq_pid" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

cc -O2 -Wall -o dnsload "$HERE/dnsload.c"
names=()
: >hosts
: >allow
for i in $(seq 1 100); do
	echo "192.0.2.$i bench-$i.test" >>hosts
	echo "bench-$i.test:443" >>allow
	names+=("bench-$i.test")
done

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --port="$PORT" \
	--listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
	--addn-hosts="$WORK/hosts" --local=/test/ --pid-file= --cache-size=1000 --local-ttl=30 \
	>dnsmasq.log 2>&1 &
dnsmasq_pid=$!
# wait (bounded) until dnsmasq answers
for _ in $(seq 1 50); do
	./dnsload 127.0.0.1 "$PORT" 1 0.2 1 bench-1.test >/dev/null 2>&1 && break
done

run_field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }

echo "== dnsmasq on 127.0.0.1:$PORT, generator on the host: $COUNT queries, window $WINDOW =="
host_out=$(./dnsload 127.0.0.1 "$PORT" "$COUNT" "$LIMIT_SECS" "$WINDOW" "${names[@]}")
echo "$host_out"

echo "== mini-tapbox built-in resolver, generator inside the sandbox =="
"$TAPBOX" --resolver "127.0.0.1:$PORT" -F "$WORK/allow" -- \
	./dnsload 10.0.2.3 53 "$COUNT" "$LIMIT_SECS" "$WINDOW" "${names[@]}" >sandbox.out 2>sandbox.err &
tap_pid=$!
: >rss
while kill -0 "$tap_pid" 2>/dev/null; do
	awk '/^VmRSS/ {print $2}' "/proc/$tap_pid/status" 2>/dev/null >>rss || true
	sleep 0.2
done
wait "$tap_pid" || { cat sandbox.err >&2; exit 1; }
sandbox_out=$(cat sandbox.out)
echo "$sandbox_out"

host_qps=$(echo "$host_out" | run_field qps)
box_qps=$(echo "$sandbox_out" | run_field qps)
# RSS at 10 %, 50 %, 90 % and the end of the run (samples every 0.2 s)
read -r rss10 rss50 rss90 rss_end rss_max < <(awk '
	NF { n++; v[n] = $1; if ($1 > m) m = $1 }
	END { a = int(n / 10); b = int(n / 2); c = int(n * 9 / 10)
	      if (a < 1) a = 1; if (b < 1) b = 1; if (c < 1) c = 1
	      print v[a], v[b], v[c], v[n], m }' rss)
echo
printf '| resolver | replies | qps | × dnsmasq |\n|---|---:|---:|---:|\n'
printf '| dnsmasq (host 127.0.0.1) | %s | %s | 1.00 |\n' \
	"$(echo "$host_out" | run_field replies)" "$host_qps"
printf '| mini-tapbox built-in (in sandbox) | %s | %s | %.2f |\n' \
	"$(echo "$sandbox_out" | run_field replies)" "$box_qps" \
	"$(echo "$box_qps $host_qps" | awk '{print $1 / $2}')"
echo
echo "launcher VmRSS at 10/50/90/100 % of the run: ${rss10} / ${rss50} / ${rss90} / ${rss_end} kB (max ${rss_max} kB, $(wc -l <rss) samples)"
