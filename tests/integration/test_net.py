"""The mini-tapbox network (issue 4): tap0 + libslirp in the launcher.

Every server here is started by the test itself on 127.0.0.1 or ::1 and is
reached from the sandbox only through --allow-host-port (10.0.2.2 / fd00::2)
or, inbound, through --publish.  Nothing else is ever targeted.  Servers
listen before the sandbox starts, and every wait is bounded (socket
timeouts, subprocess timeouts, a pipe the test controls) — no sleeps.
"""
import contextlib
import hashlib
import os
import random
import select
import socket
import subprocess
import threading
import time

import pytest

from conftest import TAPBOX, run, sandbox

PY = "/usr/bin/python3"
BODY = b"hello from the host\n"


# ---------------------------------------------------------------- helpers

class Server:
    """A TCP server on HOST:0 in a thread; HANDLER(conn) runs per connection.
    Counts the connections it accepted (to check from the host side that
    nothing reached it)."""

    def __init__(self, handler, host="127.0.0.1", backlog=1024):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.errors = []
        self.handler = handler
        self.threads = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn):
        try:
            with conn:
                conn.settimeout(120)
                self.handler(conn)
        except Exception as e:  # reported by the test that cares
            self.errors.append(e)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


@contextlib.contextmanager
def server(handler, host="127.0.0.1"):
    s = Server(handler, host)
    try:
        yield s
    finally:
        s.close()


def http_handler(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)


def free_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# Runs inside the sandbox: fetch http://HOST:PORT/ with a plain socket and
# print the body, or "ERR <errno name> <ms>" when the connect fails.
FETCH = r"""
import errno, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
t = time.monotonic()
try:
    s = socket.create_connection((host, port), timeout=10)
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, str(e)), int((time.monotonic() - t) * 1000))
    sys.exit(3)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.split(b"\r\n\r\n", 1)[1].decode())
"""


def fetch(args, host, port, cwd, timeout=60):
    return sandbox(*args, "--", PY, "-c", FETCH, host, str(port),
                   tapbox=True, cwd=cwd, timeout=timeout)


# ---------------------------------------------------------------- host ports

def test_http_through_allowed_host_port(workdir):
    with server(http_handler) as srv:
        r = fetch(["--allow-host-port", str(srv.port)], "10.0.2.2", srv.port, workdir)
        assert r.returncode == 0, r.stderr
        assert r.stdout == BODY.decode()
        assert srv.accepted == 1


def test_host_loopback_closed_without_flag(workdir):
    with server(http_handler) as srv:
        r = fetch([], "10.0.2.2", srv.port, workdir)
        assert r.returncode == 3, r.stdout + r.stderr
        assert r.stdout.startswith("ERR"), r.stdout
        # fails at once, never reaches the host's loopback
        assert int(r.stdout.split()[2]) < 2000, r.stdout
        assert srv.accepted == 0


def test_unlisted_port_refused_with_flag(workdir):
    with server(http_handler) as allowed, server(http_handler) as other:
        r = fetch(["--allow-host-port", str(allowed.port)], "10.0.2.2", other.port, workdir)
        assert r.returncode == 3, r.stdout + r.stderr
        err, ms = r.stdout.split()[1:3]
        assert err == "ECONNREFUSED", r.stdout
        assert int(ms) < 1000, r.stdout
        assert other.accepted == 0
        assert allowed.accepted == 0


def test_ipv6_host_port_reaches_host_ipv6_loopback(workdir):
    """fd00::2:PORT inside is [::1]:PORT on the host (slirp maps its IPv6
    addresses to ::1; the gate admits only listed ports)."""
    with server(http_handler, host="::1") as srv, \
            server(http_handler, host="::1") as other:
        r = fetch(["--allow-host-port", str(srv.port)], "fd00::2", srv.port, workdir)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout == BODY.decode()
        r = fetch(["--allow-host-port", str(srv.port)], "fd00::2", other.port, workdir)
        assert r.returncode == 3 and "ECONNREFUSED" in r.stdout, r.stdout + r.stderr
        assert other.accepted == 0


# ---------------------------------------------------------------- --publish

# Runs inside: serve one HTTP request on [ADDR]:PORT, say "ready" first.
SERVE_ONE = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
print("ready", flush=True)
s.settimeout(30)
c, peer = s.accept()
data = b""
while b"\r\n\r\n" not in data:
    data += c.recv(4096)
c.sendall(b"HTTP/1.0 200 OK\r\n\r\nfrom the sandbox " + peer[0].encode() + b"\n")
c.close()
"""


def listeners(port):
    """Local addresses (hex, as in /proc/net/tcp*) listening on PORT."""
    found = []
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(f).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                found.append(addr)
    return found


def published_fetch(workdir, publish, bind, host_addr, host_port, extra=()):
    p = subprocess.Popen([TAPBOX, *extra, "--publish", publish, "--", PY, "-c", SERVE_ONE, bind,
                          "8000"],
                         cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        bound = listeners(host_port)
        with socket.create_connection((host_addr, host_port), timeout=10) as c:
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            c.settimeout(10)
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
        out, err = p.communicate(timeout=30)
        return data.decode(), p.returncode, err, bound
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def test_publish_reachable_from_host(workdir):
    port = free_port()
    body, rc, err, bound = published_fetch(workdir, f"{port}:8000", "0.0.0.0", "127.0.0.1",
                                           port)
    assert "from the sandbox 10.0.2.2" in body, err
    assert rc == 0, err
    # while it ran, the host port listened on 127.0.0.1 only
    assert bound == ["0100007F"], bound
    # and nothing listens there once the sandbox has ended
    assert listeners(port) == []


def test_publish_reachable_from_host_with_an_allowlist(workdir):
    """With an allowlist (policy drop) the replies of a published
    connection still reach the gateway: by port and ACK flag, as the
    start-up ruleset has no conntrack."""
    port = free_port()
    body, rc, err, bound = published_fetch(workdir, f"{port}:8000", "0.0.0.0", "127.0.0.1",
                                           port, extra=("--allow", "198.18.0.10"))
    assert "from the sandbox 10.0.2.2" in body, err
    assert rc == 0, err


def test_ipv6_publish_reachable_from_host(workdir):
    """IPv6 end to end: host [::1]:PORT → sandbox [fd00::100]:8000."""
    port = free_port("::1")
    body, rc, err, bound = published_fetch(workdir, f"[::1]:{port}:8000", "::", "::1", port)
    assert "from the sandbox fd00::2" in body, err
    assert rc == 0, err
    assert bound == ["00000000000000000000000001000000"], bound


# Runs inside: connect to 10.0.2.2:PORT from source port 8000 (a published
# port); print "connected" or the errno name.
CONNECT_FROM_PUBLISHED = r"""
import errno, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8000))
s.settimeout(10)
try:
    s.connect(("10.0.2.2", int(sys.argv[1])))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
"""


@pytest.mark.parametrize("allow", [(), ("--allow", "198.18.0.10")], ids=["open", "list"])
def test_published_port_cannot_open_connections_to_the_host(workdir, allow):
    """Replies from a published port pass the gateway's deny (by source
    port and ACK flag, not conntrack): a new connection from that port to
    the host's loopback does not, with or without an allowlist."""
    with server(http_handler) as srv:
        r = sandbox(*allow, "--publish", f"{free_port()}:8000", "--", PY, "-c",
                    CONNECT_FROM_PUBLISHED, str(srv.port), tapbox=True, cwd=workdir, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() in ("ECONNREFUSED", "EHOSTUNREACH", "EACCES", "EPERM"), r.stdout
        assert srv.errors == [] and not srv.accepted, "the host server was reached"


def test_publish_port_in_use_fails_setup(workdir):
    """A host port that cannot be bound stops the sandbox before the payload
    runs (exit 125), and the message names the port and the cause."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        marker = workdir / "payload-ran"
        r = sandbox("--publish", f"{port}:80", "--", "touch", str(marker),
                    tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 125, r.stderr
    assert f"publish 127.0.0.1:{port}" in r.stderr, r.stderr
    assert "Address already in use" in r.stderr, r.stderr
    assert not marker.exists()


# ---------------------------------------------------------------- load

def echo_handler(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


PARALLEL = r"""
import selectors, socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("10.0.2.2", port))
    socks.append(s)
sel = selectors.DefaultSelector()
for i, s in enumerate(socks):
    sel.register(s, selectors.EVENT_WRITE, i)
msgs = {i: b"conn-%05d\n" % i for i in range(n)}
got = {i: b"" for i in range(n)}
done = 0
import time
deadline = time.monotonic() + 60
while done < n and time.monotonic() < deadline:
    for key, ev in sel.select(1):
        i, s = key.data, key.fileobj
        if ev & selectors.EVENT_WRITE:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                print("connect failed", i, err); sys.exit(2)
            s.sendall(msgs[i])
            sel.modify(s, selectors.EVENT_READ, i)
        else:
            got[i] += s.recv(4096)
            if got[i] == msgs[i]:
                sel.unregister(s); s.close(); done += 1
print("done", done)
"""


def test_500_parallel_connections(workdir):
    with server(echo_handler) as srv:
        r = sandbox("--allow-host-port", str(srv.port), "--", PY, "-c", PARALLEL, "500",
                    str(srv.port), tapbox=True, cwd=workdir, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.strip() == "done 500"
        assert srv.accepted == 500
        assert not srv.errors


GIB = 1 << 30
BLOCK = 1 << 20

# Inside: "down SEED" reads 1 GiB and prints its sha256; "up SEED" sends 1 GiB
# of the seeded stream and prints the sha256 of what it sent.
TRANSFER = r"""
import hashlib, random, socket, sys
mode, seed, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("10.0.2.2", port), timeout=60)
s.sendall(mode[0].encode())
h, n = hashlib.sha256(), 0
if mode == "down":
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b); n += len(b)
else:
    rng = random.Random(seed)
    for _ in range(1024):
        b = rng.randbytes(1 << 20)
        s.sendall(b); h.update(b); n += len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
print(n, h.hexdigest())
"""


def transfer_handler(results, seed):
    def handle(conn):
        mode = conn.recv(1)
        h, n = hashlib.sha256(), 0
        if mode == b"d":
            rng = random.Random(seed)
            for _ in range(GIB // BLOCK):
                b = rng.randbytes(BLOCK)
                conn.sendall(b)
                h.update(b)
                n += len(b)
        else:
            while True:
                b = conn.recv(1 << 20)
                if not b:
                    break
                h.update(b)
                n += len(b)
        results.append((n, h.hexdigest()))
    return handle


@pytest.mark.parametrize("direction", ["down", "up"])
def test_1gib_transfer_intact(workdir, direction):
    seed = random.randrange(1 << 30)
    results = []
    with server(transfer_handler(results, seed)) as srv:
        r = sandbox("--allow-host-port", str(srv.port), "--", PY, "-c", TRANSFER, direction,
                    str(seed), str(srv.port), tapbox=True, cwd=workdir, timeout=300)
        assert r.returncode == 0, r.stderr
        srv.thread.join(0)
        for t in srv.threads:
            t.join(60)
        n, digest = r.stdout.split()
        assert int(n) == GIB
        assert results == [(GIB, digest)], srv.errors


# ---------------------------------------------------------------- idle

def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


HOLD = r"""
import socket, sys
s = socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=10)
s.sendall(b"x")
sys.stdin.read()       # block until the test closes our stdin
s.close()
print("bye")
"""


def test_launcher_idle_with_open_connection(workdir):
    """The launcher must not poll busily while a connection sits idle
    (doc/PLATFORM.md §1.4 measured 100% CPU for the naive GSource)."""
    accepted = threading.Event()

    def hold(conn):
        conn.recv(1)
        accepted.set()
        conn.recv(1)   # until the payload closes

    with server(hold) as srv:
        p = subprocess.Popen([TAPBOX, "--allow-host-port", str(srv.port), "--", PY, "-c", HOLD,
                              str(srv.port)], cwd=workdir, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert accepted.wait(30), "payload never connected"
            hz = os.sysconf("SC_CLK_TCK")
            before, t0 = cpu_ticks(p.pid), time.monotonic()
            # bounded measuring interval, not a synchronisation sleep
            time.sleep(3)
            used = (cpu_ticks(p.pid) - before) / hz
            elapsed = time.monotonic() - t0
            out, err = p.communicate(input="", timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        assert p.returncode == 0, err
        assert out == "bye\n"
        assert used / elapsed < 0.02, f"launcher used {used:.2f}s CPU in {elapsed:.1f}s idle"


@pytest.mark.root
def test_launcher_timer_slack_not_the_sandbox(workdir):
    """The launcher's loop runs with coarse timers (launcher.c: each timed
    wait would otherwise reprogram the CPU's timer device twice); the
    sandbox, cloned before, keeps the kernel's default of 50 µs.  (Root:
    another process's timerslack_ns needs CAP_SYS_NICE to read.)"""
    p = subprocess.Popen([TAPBOX, "--", "sh", "-c", "cat /proc/self/timerslack_ns; read x"],
                         cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        # bounded: the payload prints at once, after the network is up
        ready, _, _ = select.select([p.stdout], [], [], 30)
        assert ready, "payload printed nothing"
        inside = int(p.stdout.readline())
        with open(f"/proc/{p.pid}/timerslack_ns") as f:
            launcher = int(f.read())
        out, err = p.communicate(input="\n", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 0, err
    assert launcher == 4_000_000
    assert inside == 50_000


# ---------------------------------------------------------------- lifecycle

def test_exit_status_and_clean_exit(workdir):
    token = "msbx-net-exit-%d" % random.randrange(1 << 30)
    r = sandbox("--", "sh", "-c", "exit 42", token, tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 42, r.stderr
    r = sandbox("--", "sh", "-c", "kill -TERM $$", token, tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 128 + 15, r.stderr
    # nothing of these runs keeps running (launcher, pid 1, payload all
    # carry the token in their command line)
    left = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                    left.append(pid)
    assert not left


# Inside: interfaces of the sandbox's namespace (ioctls, not /sys, which
# may be the host's): "NAME up|down MTU" per interface.
IFACES = r"""
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _, name in sorted(socket.if_nameindex()):
    req = struct.pack("16sH22x", name.encode(), 0)
    flags = struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, req))[1]   # SIOCGIFFLAGS
    mtu = struct.unpack("16si20x", fcntl.ioctl(s, 0x8921, req))[1]     # SIOCGIFMTU
    print(name, "up" if flags & 1 else "down", mtu)
"""


def test_warns_once_without_allowlist_and_sets_up_interfaces(workdir):
    r = sandbox("--", "sh", "-c", f"{PY} -c '{IFACES}'; cat /etc/resolv.conf",
                tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("unrestricted") == 1, r.stderr
    lines = r.stdout.split("\n")
    assert lines[:2] == ["lo up 65536", "tap0 up 65520"], r.stdout
    assert "nameserver 10.0.2.3" in r.stdout and "nameserver fd00::3" in r.stdout
    r = sandbox("--mtu", "1500", "--", PY, "-c", IFACES, tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "tap0 up 1500" in r.stdout.split("\n"), r.stdout


# Inside: the root queueing discipline of each interface, from an
# RTM_GETQDISC dump over rtnetlink (no privilege needed to read it):
# "NAME KIND" per line.
QDISCS = r"""
import socket, struct
RTM_NEWQDISC, RTM_GETQDISC, TC_H_ROOT, TCA_KIND = 36, 38, 0xFFFFFFFF, 1
names = dict(socket.if_nameindex())
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
tcm = struct.pack("BxxxiIII", socket.AF_UNSPEC, 0, 0, 0, 0)
s.send(struct.pack("IHHII", 16 + len(tcm), RTM_GETQDISC, 0x301, 1, 0) + tcm)  # REQUEST|DUMP
done = False
while not done:
    buf = s.recv(65536)
    while buf:
        ln, typ = struct.unpack_from("IH", buf)
        msg, buf = buf[16:ln], buf[(ln + 3) & ~3:]
        if typ != RTM_NEWQDISC:
            done = done or typ in (2, 3)   # NLMSG_ERROR, NLMSG_DONE
            continue
        _, ifindex, _, parent, _ = struct.unpack_from("BxxxiIII", msg)
        attrs = msg[20:]
        while len(attrs) >= 4:
            alen, atype = struct.unpack_from("HH", attrs)
            if atype == TCA_KIND and parent == TC_H_ROOT:
                print(names.get(ifindex, ifindex), attrs[4:alen].rstrip(b"\0").decode())
            attrs = attrs[(alen + 3) & ~3:]
"""


def test_tap_has_no_queue_in_front(workdir):
    """tap0's driver drops a frame when its own queue is full: a qdisc in
    front of it would only add an enqueue and a dequeue per frame."""
    r = sandbox("--", PY, "-c", QDISCS, tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "tap0 noqueue" in r.stdout.split("\n"), r.stdout


ADDRS = r"""
import socket, sys
# the payload's first packet must already have a network: no waiting here
for fam, host in ((socket.AF_INET, "10.0.2.2"), (socket.AF_INET6, "fd00::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((host, 9))
    print(s.getsockname()[0])
"""


def test_addresses_usable_at_once(workdir):
    r = sandbox("--", PY, "-c", ADDRS, tapbox=True, cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["10.0.2.100", "fd00::100"]


FDS = r"""
import os
for fd in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        print(fd, os.readlink("/proc/self/fd/" + fd))
    except OSError:
        pass
"""


def test_payload_holds_no_tap_or_netlink_fd(workdir):
    """tap0's fd and the namespace's netlink sockets live in the launcher
    only: the payload can neither read/inject raw frames nor talk to
    netfilter through an inherited socket."""
    r = sandbox("--", PY, "-c", FDS, tapbox=True, cwd=workdir, timeout=30,
                stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    targets = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert not any("tun" in t for t in targets.values()), targets
    assert not any(t.startswith("socket:") for t in targets.values()), targets


def test_mini_sandbox_modes_loopback(workdir):
    r = sandbox("--", PY, "-c", IFACES, cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == ["lo up 65536"], "only lo, up by default"
    r = sandbox("-n", "--", PY, "-c", IFACES, cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == ["lo down 65536"], "-n leaves lo down"


@pytest.mark.root
def test_tun_not_accessible_fails_with_fix(tmp_path):
    """/dev/net/tun 0600 (as on some distributions): exit 125, the message
    names the device, its mode and the fix; the payload never runs."""
    user = os.environ.get("MSBX_TEST_USER", "msbx-test")
    d = tmp_path / "w"
    d.mkdir()
    os.chmod(tmp_path, 0o777)
    os.chmod(d, 0o777)
    marker = d / "payload-ran"
    mode = os.stat("/dev/net/tun").st_mode & 0o7777
    os.chmod("/dev/net/tun", 0o600)
    try:
        r = run(["runuser", "-u", user, "--", TAPBOX, "--", "touch", str(marker)],
                cwd=d, timeout=30)
    finally:
        os.chmod("/dev/net/tun", mode)
    assert r.returncode == 125, r.stderr
    assert "/dev/net/tun" in r.stderr and "0600" in r.stderr, r.stderr
    assert "chmod 0666 /dev/net/tun" in r.stderr, r.stderr
    assert not marker.exists()


def fake_libslirp(tmp_path, fake):
    """A directory with a libslirp.so.0 that is not libslirp: an empty
    file, or a real shared object without libslirp's symbols; returns the
    environment that makes mini-tapbox load it."""
    libdir = tmp_path / "lib"
    libdir.mkdir()
    lib = libdir / "libslirp.so.0"
    if fake == "empty":
        lib.write_bytes(b"")
    else:
        src = tmp_path / "x.c"
        src.write_text("int not_slirp(void) { return 0; }\n")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    os.chmod(tmp_path, 0o755)
    os.chmod(libdir, 0o755)
    return dict(os.environ, LD_LIBRARY_PATH=str(libdir))


# Inside: one UDP datagram to a test host (testhosts.sh's range: nothing
# of anyone else's; the datagram never leaves here, as libslirp cannot
# load), then a long sleep; argv[1] marks the process.
UDP_THEN_SLEEP = r"""
import socket, sys, time
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.18.0.21", 9000))
time.sleep(float(sys.argv[1]))
"""


@pytest.mark.parametrize("fake", ["empty", "no-symbols"])
def test_libslirp_that_cannot_load_fails_with_fix(workdir, tmp_path, fake):
    """mini-tapbox loads libslirp only for the first frame that needs it
    (UDP other than DNS, ICMP: net_slirp_for_frame()).  A library that is
    not there or not libslirp then ends the sandbox at once: exit 125, a
    message naming it and the fix, the command killed (it would sleep 60 s)
    and none of the sandbox's processes left."""
    env = fake_libslirp(tmp_path, fake)
    nap = "60.%06d" % random.randrange(10**6)   # its command line marks it
    started = time.monotonic()
    r = run([TAPBOX, "-x", "--", PY, "-c", UDP_THEN_SLEEP, nap], cwd=workdir, env=env,
            timeout=50)
    assert r.returncode == 125, (r.returncode, r.stderr)
    assert time.monotonic() - started < 30, "the command was not ended"
    assert "libslirp.so.0" in r.stderr, r.stderr
    if fake == "empty":
        assert "install libslirp" in r.stderr, r.stderr
    else:
        assert "slirp_new@SLIRP_4.1" in r.stderr, r.stderr
    left = "?"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = run(["pgrep", "-f", nap], timeout=10).stdout.split()
        if not left:
            break
        time.sleep(0.05)
    assert not left, left


# Inside: one datagram to the test host's UDP echo (testhosts.sh), one
# bounded wait for the answer; prints "ok MS" or "lost".
UDP_ECHO_ONCE = r"""
import socket, sys, time
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
t = time.monotonic()
s.sendto(b"once", (host, 9000))
try:
    s.recvfrom(100)
    print("ok %.0f" % ((time.monotonic() - t) * 1000))
except OSError:
    print("lost")
"""


@pytest.mark.parametrize("host", ["198.18.0.21", "fd42:4d53:4258::10"])
def test_first_udp_answer_is_not_held_back(workdir, host):
    """libslirp, loaded for the sandbox's first UDP datagram, has seen none
    of the guest's ARP or neighbour discovery (tap0's entries are
    permanent); unless the launcher announces the guest to it, it holds the
    answer back behind an ARP round trip until its next poll — 0.5 to 1 s
    here — or drops it when that comes after a second.  Three fresh
    sandboxes each get their first answer well before that."""
    for _ in range(3):
        r = sandbox("--allow", host, "--", PY, "-c", UDP_ECHO_ONCE, host, tapbox=True,
                    cwd=workdir, timeout=30)
        assert r.returncode == 0, r.stderr
        word, *ms = r.stdout.split()
        assert word == "ok", r.stdout
        # the answer takes a few ms with the load of libslirp; the bound
        # only has to separate that from slirp's next poll
        assert float(ms[0]) < 400, r.stdout


# Inside: one TCP connect to the host port argv[1] through 10.0.2.2;
# prints "ok MS".
TCP_CONNECT_ONCE = r"""
import socket, sys, time
t = time.monotonic()
socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=5).close()
print("ok %.0f" % ((time.monotonic() - t) * 1000))
"""


def test_first_slirp_tcp_connection_is_not_held_back(workdir):
    """With --slirp-tcp libslirp answers the first SYN; it has not seen the
    guest's ARP (tap0's entries are permanent), so unless the launcher
    announces the guest, the SYN-ACK waits for libslirp's next poll (510
    ms here).  Three fresh sandboxes each connect well before that."""
    with server(http_handler) as srv:
        for _ in range(3):
            r = sandbox("--slirp-tcp", "--allow-host-port", str(srv.port), "--", PY, "-c",
                        TCP_CONNECT_ONCE, str(srv.port), tapbox=True, cwd=workdir, timeout=30)
            assert r.returncode == 0, r.stderr
            word, ms = r.stdout.split()
            assert word == "ok" and float(ms) < 400, r.stdout


def test_first_published_connection_is_not_held_back(workdir):
    """libslirp sends a published connection's SYN to the guest before the
    guest has sent anything; without the launcher's announcement it first
    asks for the guest's MAC and sends the SYN at its next poll, 0.5-1 s
    later, or drops it (the host's connect then hangs).  Three fresh
    sandboxes each answer well before that."""
    for _ in range(3):
        port = free_port()
        p = subprocess.Popen([TAPBOX, "--publish", f"{port}:8000", "--", PY, "-c", SERVE_ONE,
                              "0.0.0.0", "8000"], cwd=workdir, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            assert p.stdout.readline() == "ready\n"
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
                c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                c.settimeout(10)
                first = c.recv(100)
            elapsed = (time.monotonic() - started) * 1000
            assert first.startswith(b"HTTP/1.0 200"), first
            assert elapsed < 400, "%.0f ms to the first bytes" % elapsed
            p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_tcp_and_dns_do_not_load_libslirp(workdir, tmp_path):
    """The TCP relay, the resolver and tap0's permanent neighbour entries
    for the gateway and the resolver serve a payload that only connects
    and resolves: libslirp is never loaded (here it could not be), over
    IPv4 and IPv6, and the answer of a host port arrives."""
    env = fake_libslirp(tmp_path, "empty")
    code = ("import socket, sys\n"
            "for host, port in (('10.0.2.2', sys.argv[1]), ('fd00::2', sys.argv[2])):\n"
            "    c = socket.create_connection((host, int(port)), timeout=10)\n"
            "    c.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            "    print(c.recv(100).split(b'\\r\\n')[0].decode())\n"
            "    c.close()\n"
            "print(open('/proc/net/arp').read())\n")
    with server(http_handler) as srv4, server(http_handler, host="::1") as srv6:
        r = run([TAPBOX, "--allow-host-port", str(srv4.port), "--allow-host-port",
                 str(srv6.port), "--", PY, "-c", code, str(srv4.port), str(srv6.port)],
                cwd=workdir, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[:2] == ["HTTP/1.0 200 OK"] * 2, r.stdout
    # IP, HW type, flags 0x6 (ATF_COM | ATF_PERM), libslirp's MAC, mask, device
    arp = {f[0]: (f[2], f[3]) for f in (ln.split() for ln in lines[3:]) if len(f) == 6}
    assert arp == {"10.0.2.2": ("0x6", "52:55:0a:00:02:02"),
                   "10.0.2.3": ("0x6", "52:55:0a:00:02:03")}, r.stdout
    assert "libslirp" not in r.stderr, r.stderr
