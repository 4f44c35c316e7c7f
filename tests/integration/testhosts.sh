#!/usr/bin/env bash
# Test hosts for the network integration tests, in a network namespace of
# their own, reachable from the host's namespace (and so through libslirp
# from inside mini-tapbox) over a veth pair.  Run as root by
# tests/integration/run.sh:
#
#   testhosts.sh up     create (idempotent: tears down a previous set first)
#   testhosts.sh down   remove everything it made
#   testhosts.sh status exit 0 when the hosts answer
#
# Layout (addresses are from the benchmarking range 198.18.0.0/15, RFC 2544,
# and a ULA prefix, so they never collide with a real network):
#
#   host netns:  msbx-th0   198.18.0.1/24     fd42:4d53:4258::1/64
#   netns msbx-testhosts, eth0:
#       198.18.0.10  198.18.0.11  198.18.0.12  198.18.0.20  198.18.0.21
#       fd42:4d53:4258::10  fd42:4d53:4258::11
#   servers on every address:
#       tcp 80, 8080   HTTP, GET / answers "msbx-testhost <addr> <port>"
#       tcp 9000, 9001 banner "msbx-testhost <addr> <port>\n", then FIN; the
#                      socket closes when the client has closed
#       udp 9000       echo
set -euo pipefail
NS=msbx-testhosts
VETH=msbx-th0
STATE=/run/msbx-testhosts
V4_HOSTS=(198.18.0.10 198.18.0.11 198.18.0.12 198.18.0.20 198.18.0.21)
V6_HOSTS=(fd42:4d53:4258::10 fd42:4d53:4258::11)

down() {
	if [ -f "$STATE/server.pid" ]; then
		kill "$(cat "$STATE/server.pid")" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	ip link del "$VETH" 2>/dev/null || true
	rm -rf "$STATE"
}

server_py() {
	cat <<'EOF'
import http.server, socket, socketserver, sys, threading

class Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        addr, port = self.connection.getsockname()[:2]
        body = ("msbx-testhost %s %d\n" % (addr, port)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

class Banner(socketserver.BaseRequestHandler):
    def handle(self):
        addr, port = self.request.getsockname()[:2]
        self.request.sendall(("msbx-testhost %s %d\n" % (addr, port)).encode())
        # close only after the client did: closing with its request unread
        # would send a RST that can destroy the banner before it is read
        self.request.shutdown(socket.SHUT_WR)
        self.request.settimeout(10)
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass

class UdpEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)

class V6Http(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
class V6Tcp(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
class V6Udp(socketserver.ThreadingUDPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True

servers = []
for port in (80, 8080):
    servers.append(V6Http(("::", port), Http))
for port in (9000, 9001):
    servers.append(V6Tcp(("::", port), Banner))
servers.append(V6Udp(("::", 9000), UdpEcho))
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdout.write("ready\n")
sys.stdout.flush()
threading.Event().wait()
EOF
}

up() {
	down
	mkdir -p "$STATE"
	ip netns add "$NS"
	ip link add "$VETH" type veth peer name eth0 netns "$NS"
	ip -n "$NS" link set lo up
	sysctl -qw "net.ipv6.conf.$VETH.disable_ipv6=0" || true
	ip addr add 198.18.0.1/24 dev "$VETH"
	ip -6 addr add fd42:4d53:4258::1/64 dev "$VETH" nodad
	ip link set "$VETH" up
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 || true
	for a in "${V4_HOSTS[@]}"; do
		ip -n "$NS" addr add "$a/24" dev eth0
	done
	for a in "${V6_HOSTS[@]}"; do
		ip -n "$NS" -6 addr add "$a/64" dev eth0 nodad
	done
	ip -n "$NS" link set eth0 up
	ip -n "$NS" route add default via 198.18.0.1
	ip -n "$NS" -6 route add default via fd42:4d53:4258::1

	server_py >"$STATE/server.py"
	# the server says "ready" once every socket is bound: a handshake, no sleep
	mkfifo "$STATE/ready"
	setsid ip netns exec "$NS" /usr/bin/python3 -u "$STATE/server.py" >"$STATE/ready" \
		2>"$STATE/server.log" </dev/null &
	echo $! >"$STATE/server.pid"
	if ! timeout 20 head -n1 "$STATE/ready" | grep -qx ready; then
		echo "testhosts: server did not start" >&2
		cat "$STATE/server.log" >&2 || true
		exit 1
	fi
	status
}

status() {
	curl -fsS --max-time 5 "http://${V4_HOSTS[0]}:8080/" >/dev/null &&
		curl -fsS --max-time 5 "http://[${V6_HOSTS[0]}]:8080/" >/dev/null
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
