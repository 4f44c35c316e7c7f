"""The launcher's TCP relay (net/relay/tcp-relay.c), end to end.

The relay ends the sandbox's outgoing TCP connections in the launcher and
carries them on host sockets.  These tests check, from the host side, what
a TCP peer must get right: a refused connect becomes a reset at once, the
guest's half-close keeps the host's direction flowing, a reader that
stops (zero window) or a host that does not read loses nothing, IPv6 works,
many short connections leave no sockets behind in the launcher, and a reset
from the host reaches the sandbox as ECONNRESET.

As in test_net.py, every server is started by the test on 127.0.0.1 or ::1
and reached from inside only through --allow-host-port (10.0.2.2 /
fd00::2).  Every wait is bounded; the only sleeps are the stalls under test
(a reader or a writer that pauses).  Inside, the peer's window scale (from
TCP_INFO) tells which TCP answered: the relay scales by 5, libslirp does not
scale at all (--slirp-tcp).
"""
import hashlib
import os
import random
import re
import select
import socket
import struct
import subprocess
import time

import pytest

from conftest import TAPBOX, sandbox
from test_net import PY, echo_handler, free_port, server

MIB = 1 << 20
RELAY_WSCALE = 5
ENGINES = {"relay": [], "slirp": ["--slirp-tcp"]}

# Prepended to every payload: WSCALE(s) is the window scale the peer
# announced (-1: none), RECV_ALL(s) reads to EOF and returns (bytes, sha256).
PRE = r"""
import errno, hashlib, random, socket, sys, time
def wscale(s):
    i = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return i[6] & 15 if i[5] & 4 else -1
def recv_all(s):
    h, n = hashlib.sha256(), 0
    while True:
        b = s.recv(MIB)
        if not b:
            return n, h.hexdigest()
        h.update(b); n += len(b)
MIB = 1 << 20
"""


def tapbox(args, code, *argv, cwd, timeout=60):
    return sandbox(*map(str, args), "--", PY, "-c", PRE + code, *map(str, argv),
                   tapbox=True, cwd=cwd, timeout=timeout)


def seeded(seed, n):
    return random.Random(seed).randbytes(n)


def seeded_blocks(seed, n):
    """What N bytes drawn from SEED one MiB at a time are (as the payloads do)."""
    rng = random.Random(seed)
    return b"".join(rng.randbytes(MIB) for _ in range(n // MIB))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def recv_all(conn):
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(MIB)
        if not b:
            return n, h.hexdigest()
        h.update(b)
        n += len(b)


def finish(srv):
    """The server's handler threads are done (bounded)."""
    for t in srv.threads:
        t.join(30)
        assert not t.is_alive(), "server handler still running"
    assert not srv.errors, srv.errors


# ---------------------------------------------------------------- refused

# Inside: connect to HOST:PORT; "OK" or "ERR <errno name> <ms>".
CONNECT = r"""
host, port = sys.argv[1], int(sys.argv[2])
t = time.monotonic()
try:
    socket.create_connection((host, port), timeout=10)
    print("OK")
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, str(e)), int((time.monotonic() - t) * 1000))
"""


def test_refused_connect_resets_at_once(workdir, tmp_path):
    """Nothing listens on the allowed port: the relay's host connect fails
    and the guest's connect fails with ECONNREFUSED (a RST) within 2 s
    (measured: a few ms), not after SYN retransmissions or a timeout."""
    port = free_port()
    log = tmp_path / "debug.log"
    r = tapbox(["--allow-host-port", port, "--debug-log", log], CONNECT, "10.0.2.2", port,
               cwd=workdir)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert out[:2] == ["ERR", "ECONNREFUSED"], r.stdout
    assert int(out[2]) < 2000, r.stdout
    # the relay refused it, not libslirp
    assert re.search(r"tcp relay: .*port %d: Connection refused" % port, log.read_text()), \
        log.read_text()


# ---------------------------------------------------------------- half-close

# Inside: send N seeded bytes, shut down writing, read the reply to EOF.
HALF_CLOSE = r"""
port, seed, n = map(int, sys.argv[1:4])
s = socket.create_connection(("10.0.2.2", port), timeout=30)
data = random.Random(seed).randbytes(n)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    b = s.recv(MIB)
    if not b:
        break
    reply += b
print(wscale(s), hashlib.sha256(data).hexdigest(), reply[:64].decode(), len(reply) - 64,
      hashlib.sha256(reply[64:]).hexdigest())
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_half_close_guest_first(workdir, engine):
    """The guest's FIN reaches the host as EOF after all 3 MiB; the host's
    2 MiB answer, sent after that, still reaches the guest in full, and
    the host's close ends it."""
    seed, n, reply = random.randrange(1 << 30), 3 * MIB, seeded(7, 2 * MIB)
    got = []

    def handle(conn):
        got.append(recv_all(conn))
        conn.sendall(got[0][1].encode() + reply)

    with server(handle) as srv:
        r = tapbox(["--allow-host-port", srv.port, *ENGINES[engine]], HALF_CLOSE, srv.port,
                   seed, n, cwd=workdir)
        assert r.returncode == 0, r.stdout + r.stderr
        finish(srv)
    ws, sent, echoed, rlen, rsha = r.stdout.split()
    assert int(ws) == (RELAY_WSCALE if engine == "relay" else -1), r.stdout
    assert sent == sha(seeded(seed, n))
    assert got == [(n, sent)]
    assert echoed == sent
    assert (int(rlen), rsha) == (len(reply), sha(reply))


# ---------------------------------------------------------------- stalls

# Inside: connect, stall 2 s without reading, then read to EOF.
SLOW_READER = r"""
s = socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=30)
ws = wscale(s)
time.sleep(2)
t = time.monotonic()
n, digest = recv_all(s)
print(ws, n, digest, t)
"""


def test_slow_reader_zero_window(workdir):
    """32 MiB from a host that writes as fast as it can to a guest that
    does not read for 2 s: the guest's window closes, the relay holds back
    (the host's writes block, its buffers are bounded) and, once the guest
    reads, everything arrives intact."""
    seed, n = random.randrange(1 << 30), 32 * MIB
    sent, done_at = [], []      # digest; when each MiB was taken

    def handle(conn):
        rng, h = random.Random(seed), hashlib.sha256()
        for _ in range(n // MIB):
            b = rng.randbytes(MIB)
            conn.sendall(b)
            h.update(b)
            done_at.append(time.monotonic())
        sent.append(h.hexdigest())

    with server(handle) as srv:
        r = tapbox(["--allow-host-port", srv.port], SLOW_READER, srv.port, cwd=workdir)
        assert r.returncode == 0, r.stdout + r.stderr
        finish(srv)
    ws, got, digest, read_start = r.stdout.split()
    assert int(ws) == RELAY_WSCALE
    assert (int(got), digest) == (n, sent[0])
    # While the guest did not read, the host could write only what the
    # buffers on the way hold (relay 1 MiB, socket buffers; ~4 MiB here),
    # not all 32 MiB.  The monotonic clock is the same inside the sandbox.
    early = sum(t < float(read_start) for t in done_at)
    assert early < n // MIB // 2, "%d MiB taken before the guest read" % early


# Inside: send N seeded bytes (how long sendall took), shut down writing,
# read the host's "<bytes> <sha256>" to EOF.
FAST_WRITER = r"""
port, seed, n = map(int, sys.argv[1:4])
s = socket.create_connection(("10.0.2.2", port), timeout=30)
rng, h = random.Random(seed), hashlib.sha256()
t = time.monotonic()
for _ in range(n // MIB):
    b = rng.randbytes(MIB)
    s.sendall(b); h.update(b)
took = time.monotonic() - t
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    reply += b
print(wscale(s), h.hexdigest(), reply.decode(), "%.3f" % took)
"""


def test_host_not_reading(workdir):
    """The guest sends 16 MiB to a host that reads only after 2 s: the
    relay's window to the guest closes (the guest's sendall waits) and
    no byte is lost or reordered."""
    seed, n = random.randrange(1 << 30), 16 * MIB
    stall = 2.0

    def handle(conn):
        time.sleep(stall)        # the host not reading is what is tested
        n_got, digest = recv_all(conn)
        conn.sendall(b"%d %s" % (n_got, digest.encode()))

    with server(handle) as srv:
        r = tapbox(["--allow-host-port", srv.port], FAST_WRITER, srv.port, seed, n,
                   cwd=workdir)
        assert r.returncode == 0, r.stdout + r.stderr
        finish(srv)
    ws, digest, got_n, got_digest, took = r.stdout.split()
    assert int(ws) == RELAY_WSCALE
    assert digest == sha(seeded_blocks(seed, n))
    assert (int(got_n), got_digest) == (n, digest)
    assert float(took) > stall / 2, "16 MiB buffered without the host reading: " + took


# ---------------------------------------------------------------- IPv6

ECHO6 = r"""
port, seed, n = map(int, sys.argv[1:4])
s = socket.create_connection(("fd00::2", port), timeout=30)
data = random.Random(seed).randbytes(n)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
print(wscale(s), hashlib.sha256(data).hexdigest(), *recv_all(s))
"""


def test_ipv6_echo_through_relay(workdir):
    """fd00::2:PORT inside is [::1]:PORT on the host, through the relay."""
    seed, n = random.randrange(1 << 30), 256 * 1024
    with server(echo_handler, host="::1") as srv:
        r = tapbox(["--allow-host-port", srv.port], ECHO6, srv.port, seed, n, cwd=workdir)
        assert r.returncode == 0, r.stdout + r.stderr
        finish(srv)
    ws, sent, got_n, got = r.stdout.split()
    assert int(ws) == RELAY_WSCALE
    assert sent == sha(seeded(seed, n))
    assert (int(got_n), got) == (n, sent)
    assert srv.accepted == 1


# ---------------------------------------------------------------- many

# Inside: "ready", wait for a line on stdin, COUNT echo round trips on
# fresh connections (each closed in order), "done <ok>" (echoed intact, by
# the relay), wait for stdin EOF.
MANY = r"""
port, count = int(sys.argv[1]), int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
ok = 0
for i in range(count):
    s = socket.create_connection(("10.0.2.2", port), timeout=10)
    msg = b"message %04d " % i * 20
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
    ok += got == msg and wscale(s) == 5
    s.close()
print("done", ok, flush=True)
sys.stdin.read()
"""


def read_line(p, timeout):
    """One line of P's stdout (unbuffered pipe) within TIMEOUT seconds."""
    fd, buf, deadline = p.stdout.fileno(), b"", time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, "no line from the payload in %ds (got %r)" % (timeout, buf)
        b = os.read(fd, 1)
        assert b, "payload output ended (got %r)" % buf
        buf += b
    return buf.decode()


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_many_short_connections_leak_nothing(workdir, tmp_path):
    """200 sequential connections through the relay all echo correctly, and
    the launcher holds no more descriptors afterwards than before them."""
    count = 200
    err = open(tmp_path / "stderr", "w+")
    with server(echo_handler) as srv:
        p = subprocess.Popen([TAPBOX, "--allow-host-port", str(srv.port), "--", PY, "-c",
                              PRE + MANY, str(srv.port), str(count)], cwd=workdir,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                             bufsize=0)
        try:
            assert read_line(p, 30) == "ready\n"
            before = open_fds(p.pid)
            p.stdin.write(b"go\n")
            assert read_line(p, 60) == "done %d\n" % count
            after = open_fds(p.pid)
            p.stdin.close()
            assert p.wait(30) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)
            err.seek(0)
            stderr = err.read()
            err.close()
        finish(srv)
    assert srv.accepted == count, stderr
    # the last connection's final ACK may still be on its way: allow 2
    assert after <= before + 2, (before, after)
    assert after < 40, after


# ---------------------------------------------------------------- reset

# Inside: connect, send one byte, recv: "EOF", "DATA" or "ERR <name> <ms>".
RESET = r"""
s = socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=10)
s.sendall(b"x")
t = time.monotonic()
try:
    print("DATA" if s.recv(100) else "EOF")
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, str(e)), int((time.monotonic() - t) * 1000))
"""


def test_host_reset_reaches_guest(workdir, tmp_path):
    """The host server takes the byte, then aborts (SO_LINGER 0: a RST).
    Inside, the recv fails with ECONNRESET — not EOF, not a
    timeout — within 2 s; the relay logs the reset."""
    log = tmp_path / "debug.log"

    def handle(conn):
        assert conn.recv(1) == b"x"
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    with server(handle) as srv:
        r = tapbox(["--allow-host-port", srv.port, "--debug-log", log], RESET, srv.port,
                   cwd=workdir)
        assert r.returncode == 0, r.stdout + r.stderr
        finish(srv)
    out = r.stdout.split()
    assert out[:2] == ["ERR", "ECONNRESET"], r.stdout
    assert int(out[2]) < 2000, r.stdout
    assert re.search(r"tcp relay: host connection to port %d: Connection reset" % srv.port,
                     log.read_text()), log.read_text()
