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
#       tcp 7          echo (the client speaks first)
#       tcp 443        TLS with a throw-away CA ($STATE/ca.pem, made at "up"),
#                      one certificate for alpha.msbx.test, beta.msbx.test and
#                      *.wild.msbx.test, like a CDN: GET / answers 200
#                      "msbx-tls <sni> <host>" for every name
#       tcp 3128       HTTP CONNECT proxy, tcp 1080 SOCKS5 proxy (no auth):
#                      they tunnel only to addresses of these test hosts
#                      (a name as target is answered with a failure)
# Logs, world-readable, one line per event, for the name gate's tests
# (test_namegate.py) to see what reached a server:
#   $STATE/http.log   "ADDR PORT HOST PATH" per HTTP request (ports 80, 8080)
#   $STATE/tls.log    "hello SNI" per ClientHello, "get SNI HOST PATH" per request
#   $STATE/proxy.log  "connect TARGET:PORT" / "socks5 TARGET:PORT" per request
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
import http.server, ipaddress, select, socket, socketserver, ssl, struct, sys, threading

STATE = sys.argv[1]
LOCK = threading.Lock()

def log(name, line):
    with LOCK, open("%s/%s" % (STATE, name), "a") as f:
        f.write(line.replace("\n", " ") + "\n")

class Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        addr, port = self.connection.getsockname()[:2]
        log("http.log", "%s %d %s %s" % (addr, port, self.headers.get("Host", "-"), self.path))
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

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        try:
            while True:
                b = self.request.recv(4096)
                if not b:
                    break
                self.request.sendall(b)
        except OSError:
            pass

class Tls(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sni = getattr(self.connection, "msbx_sni", None) or "-"
        log("tls.log", "get %s %s %s" % (sni, self.headers.get("Host", "-"), self.path))
        body = ("msbx-tls %s %s\n" % (sni, self.headers.get("Host", "-"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

def on_sni(sock, name, ctx):
    sock.msbx_sni = name
    log("tls.log", "hello %s" % (name or "-"))

class TlsServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    def __init__(self, addr, handler, ctx):
        super().__init__(addr, handler)
        self.ctx = ctx
    def get_request(self):
        sock, addr = self.socket.accept()
        return sock, addr
    def finish_request(self, sock, addr):
        sock.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError):
            return
        self.RequestHandlerClass(tls, addr, self)

def testhost(addr):
    a = ipaddress.ip_address(addr)
    return a in ipaddress.ip_network("198.18.0.0/24") or \
        a in ipaddress.ip_network("fd42:4d53:4258::/64")

def splice(a, b):
    a.settimeout(None)
    b.settimeout(None)
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                return
            for s in r:
                d = s.recv(65536)
                if not d:
                    return
                (b if s is a else a).sendall(d)
    except OSError:
        pass

def dial(host, port):
    """A connection to a test host's address, or None (names and other
    addresses are never dialled)."""
    try:
        if not testhost(host):
            return None
    except ValueError:
        return None
    try:
        return socket.create_connection((host, port), timeout=5)
    except OSError:
        return None

class Connect(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(4096).decode("latin-1").strip()
        while self.rfile.readline(4096).strip():
            pass
        log("proxy.log", "connect %s" % line.split(" ")[1] if " " in line else line)
        parts = line.split(" ")
        if len(parts) < 2 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Only CONNECT\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        up = dial(host.strip("[]"), int(port or 0))
        if not up:
            self.wfile.write(b"HTTP/1.1 502 Not a test host\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        splice(self.connection, up)

class Socks5(socketserver.BaseRequestHandler):
    def handle(self):
        c = self.request
        c.settimeout(10)
        try:
            hello = c.recv(2)
            c.recv(hello[1])
            c.sendall(b"\x05\x00")
            head = c.recv(4)
            if head[3] == 1:
                host = socket.inet_ntop(socket.AF_INET, c.recv(4))
            elif head[3] == 4:
                host = socket.inet_ntop(socket.AF_INET6, c.recv(16))
            else:
                host = c.recv(c.recv(1)[0]).decode("latin-1")
            port, = struct.unpack(">H", c.recv(2))
        except (OSError, IndexError):
            return
        log("proxy.log", "socks5 %s:%d" % (host, port))
        up = dial(host, port) if head[1] == 1 else None
        if not up:
            c.sendall(b"\x05\x04\x00\x01" + bytes(6))
            return
        c.sendall(b"\x05\x00\x00\x01" + bytes(6))
        splice(c, up)

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
servers.append(V6Tcp(("::", 7), Echo))
servers.append(V6Tcp(("::", 3128), Connect))
servers.append(V6Tcp(("::", 1080), Socks5))
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain("%s/tls.pem" % STATE, "%s/tls.key" % STATE)
tls.sni_callback = on_sni
servers.append(TlsServer(("::", 443), Tls, tls))
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdout.write("ready\n")
sys.stdout.flush()
threading.Event().wait()
EOF
}

# A throw-away CA and one certificate for the TLS server's names, made anew
# at every "up": the CA's key never leaves $STATE and dies with "down".
make_tls() {
	local d=$STATE
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.pem" -days 30 -subj "/CN=msbx-testhosts CA" \
		2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/tls.key" -out "$d/tls.csr" -subj "/CN=alpha.msbx.test" 2>/dev/null
	printf 'subjectAltName=DNS:alpha.msbx.test,DNS:beta.msbx.test,DNS:*.wild.msbx.test\n' \
		>"$d/tls.ext"
	openssl x509 -req -in "$d/tls.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 30 -extfile "$d/tls.ext" -out "$d/tls.pem" 2>/dev/null
	chmod 600 "$d/ca.key" "$d/tls.key"
	chmod 644 "$d/ca.pem"
}

up() {
	down
	mkdir -p "$STATE"
	chmod 755 "$STATE"
	make_tls
	for f in http.log tls.log proxy.log; do
		: >"$STATE/$f"
		chmod 644 "$STATE/$f"
	done
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
	setsid ip netns exec "$NS" /usr/bin/python3 -u "$STATE/server.py" "$STATE" >"$STATE/ready" \
		2>"$STATE/server.log" </dev/null &
	echo $! >"$STATE/server.pid"
	if ! timeout 20 head -n1 "$STATE/ready" | grep -qx ready; then
		echo "testhosts: server did not start" >&2
		cat "$STATE/server.log" >&2 || true
		exit 1
	fi
	status
}

# Ask the servers only when their networks are routed to the veth: without
# it the addresses would follow the default route off this machine.
routed() {
	ip -4 route show dev "$VETH" 2>/dev/null | grep -q '^198\.18\.0\.0/24' &&
		ip -6 route show dev "$VETH" 2>/dev/null | grep -q '^fd42:4d53:4258::/64'
}

status() {
	if ! routed; then
		echo "testhosts: down (no route to the test hosts through $VETH)" >&2
		return 1
	fi
	curl -fsS --max-time 5 "http://${V4_HOSTS[0]}:8080/" >/dev/null &&
		curl -fsS --max-time 5 "http://[${V6_HOSTS[0]}]:8080/" >/dev/null &&
		curl -fsS --max-time 5 --cacert "$STATE/ca.pem" \
			--resolve "alpha.msbx.test:443:${V4_HOSTS[2]}" https://alpha.msbx.test/ >/dev/null
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
