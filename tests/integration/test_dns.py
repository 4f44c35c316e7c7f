"""The built-in resolver and the denial log of mini-tapbox (issue 7).

A stub DNS server started by each test on 127.0.0.1 records every query it
receives and is passed as --resolver: it serves the start-up resolution of
domain entries and the on-demand answers for *.domain entries, so the tests
can check from the host side which names left the sandbox.  Blocked
destinations are only ever rejected inside the sandbox's network namespace
(nothing leaves the machine); allowed connections go to the test hosts of
tests/integration/testhosts.sh (198.18.0.20 / .21, tcp 9000).
"""
import json
import os
import select
import socket
import subprocess
import time

import pytest

from conftest import TAPBOX, sandbox
from stubdns import StubResolver

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))

# Addresses used only as DNS answers.  Connections to them are rejected by
# the ruleset inside the sandbox (they are not on any allowlist port), so no
# packet to them ever leaves the machine.
DOC4 = "192.0.2.10"
DOC6 = "2001:db8::10"


# The recording stub resolver is conftest.py's `stub` fixture (stubdns.py).


# --- the test hosts of testhosts.sh ---------------------------------------------

# Layout fixed by testhosts.sh: each address runs a banner server on tcp 9000.
TESTHOST_PORT = 9000


def find_testhost(addr):
    """(ADDR, port) of a test host of testhosts.sh (run as root by run.sh
    before the tests), after checking from the host side that it answers.
    Fails loudly when the hosts are not up."""
    try:
        with socket.create_connection((addr, TESTHOST_PORT), timeout=5) as s:
            s.settimeout(5)
            banner = s.recv(100).decode()
    except OSError as e:
        pytest.fail("test host %s:%d unreachable (run tests/integration/testhosts.sh up "
                    "as root): %s" % (addr, TESTHOST_PORT, e))
    # the server is dual-stack: IPv4 peers show as ::ffff:ADDR
    assert banner.startswith("msbx-testhost ") and addr in banner, banner
    return addr, TESTHOST_PORT


# --- helpers -----------------------------------------------------------------

# In-sandbox DNS client: sends one raw query to the built-in resolver and
# prints "rcode ancount" (or "timeout").
RAW_QUERY = r'''
import socket, struct, sys
def q(name, qtype, server="10.0.2.3", raw=None):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    if raw is None:
        raw = struct.pack(">HHHHHH", 0x4d53, 0x0100, 1, 0, 0, 0) + b"".join(
            bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
    s.sendto(raw, (server, 53))
    try:
        r = s.recv(4096)
    except socket.timeout:
        return "timeout"
    return "%d %d" % (r[3] & 15, struct.unpack(">H", r[6:8])[0])
'''


def tapbox(args, cmd, workdir, timeout=60):
    return sandbox(*args, "--", *cmd, tapbox=True, cwd=workdir, timeout=timeout)


def py(code):
    return [PY, "-c", code]


def log_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# --- tests -------------------------------------------------------------------

def test_allowlisted_a_and_aaaa_answered_inside(stub, workdir):
    dns = stub({"good.test": [(1, DOC4, 300), (28, DOC6, 300)]})
    r = tapbox(["--resolver", dns.addr, "--allow", "good.test:443"],
               py("import socket\n"
                  "for fam in (socket.AF_INET, socket.AF_INET6):\n"
                  "    for ai in socket.getaddrinfo('good.test', 443, fam, socket.SOCK_STREAM):\n"
                  "        print(ai[4][0])\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [DOC4, DOC6]
    # the answers came from the start-up resolution: only that reached the stub
    assert len(dns.seen("good.test")) <= 4, dns.queries


def test_other_name_nxdomain_and_never_leaves(stub, workdir):
    dns = stub({"good.test": [(1, DOC4, 300)]})
    r = tapbox(["--resolver", dns.addr, "--allow", "good.test:443"],
               py(RAW_QUERY +
                  "print(q('evil.test', 1))\n"
                  "print(q('c2VjcmV0.exfil.evil.test', 16))\n"
                  "print(q('good.test', 15))\n"           # other type, allowlisted
                  "print(q('good.test', 1))\n"
                  "print(q('evil.test', 28, server='fd00::3'))\n"
                  "import socket\n"
                  "try:\n"
                  "    socket.getaddrinfo('evil.test', 80)\n"
                  "    print('resolved')\n"
                  "except socket.gaierror as e:\n"
                  "    print('gaierror')\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:6] == ["3 0", "3 0", "0 0", "0 1", "3 0", "gaierror"]
    assert dns.seen("evil") == [], dns.queries


def test_malformed_queries_do_not_hurt(stub, workdir):
    dns = stub({"good.test": [(1, DOC4, 300)]})
    loop = "struct.pack('>HHHHHH', 7, 0x100, 1, 0, 0, 0) + bytes([1, 97, 0xc0, 12, 0, 1, 0, 1])"
    two = ("struct.pack('>HHHHHH', 8, 0x100, 2, 0, 0, 0) + (bytes([1, 97, 0, 0, 1, 0, 1]) * 2)")
    r = tapbox(["--resolver", dns.addr, "--allow", "good.test:443"],
               py(RAW_QUERY +
                  "print(q(None, 0, raw=%s))\n" % loop +
                  "print(q(None, 0, raw=%s))\n" % two +
                  "print(q(None, 0, raw=b'\\x01'))\n" +             # too short: no answer
                  "print(q(None, 0, raw=bytes(range(256)) * 4))\n" +
                  "print(q('a' * 63 + '.' + 'b' * 63 + '.' + 'c' * 63 + '.' + 'd' * 63, 1))\n" +
                  "print(q('good.test', 1))\n"), workdir)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0] == "1 0"          # compression loop: FORMERR
    assert lines[1] == "1 0"          # two questions: FORMERR
    assert lines[2] == "timeout"      # shorter than a header: dropped
    assert lines[4] in ("1 0", "3 0")  # oversize name: FORMERR (or NXDOMAIN)
    assert lines[5] == "0 1"          # and the resolver still answers
    assert dns.seen("good.test") and not dns.seen("aaaa")


def test_tcp_to_port_53_refused(stub, workdir):
    dns = stub({"good.test": [(1, DOC4, 300)]})
    r = tapbox(["--resolver", dns.addr, "--allow", "good.test:443"],
               py("import socket, time\n"
                  "for addr in ('10.0.2.3', 'fd00::3'):\n"
                  "    t = time.monotonic()\n"
                  "    try:\n"
                  "        socket.create_connection((addr, 53), timeout=5)\n"
                  "        print('connected')\n"
                  "    except ConnectionRefusedError:\n"
                  "        print('refused', time.monotonic() - t < 1)\n"
                  "    except OSError as e:\n"
                  "        print('error', e.errno)\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["refused True", "refused True"]


def test_log_file_and_verbose_list_each_denial(stub, workdir, tmp_path):
    dns = stub({"good.test": [(1, DOC4, 300)]})
    log = tmp_path / "denials.jsonl"
    r = tapbox(["-v", "--log", str(log), "--resolver", dns.addr, "--allow", "good.test:443"],
               py(RAW_QUERY +
                  "print(q('evil.test', 1))\n"
                  "print(q('other.evil.test', 28))\n"
                  "import socket\n"
                  "for dst in (('good.test', 80), ('192.0.2.99', 8080)):\n"
                  "    try:\n"
                  "        socket.create_connection(dst, timeout=5)\n"
                  "    except ConnectionRefusedError:\n"
                  "        print('refused')\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3", "0", "3", "0", "refused", "refused"]
    recs = log_records(log)
    names = [(x["name"], x["qtype"]) for x in recs if x["event"] == "name"]
    assert names == [("evil.test", "A"), ("other.evil.test", "AAAA")]
    conns = [x for x in recs if x["event"] == "connection"]
    assert {"proto": "tcp", "addr": DOC4, "port": 80, "name": "good.test"}.items() <= \
        conns[0].items()
    assert any(c["addr"] == "192.0.2.99" and c["port"] == 8080 and "name" not in c
               for c in conns), conns
    assert all(x["time"].endswith("Z") for x in recs)
    assert recs[-1]["event"] == "summary"
    assert recs[-1]["names"] == 2 and recs[-1]["connections"] == len(conns)
    # -v: the same denials on stderr, and the summary line at exit
    assert "denied: name evil.test (A)" in r.stderr
    assert "denied: tcp to %s:80 (good.test)" % DOC4 in r.stderr
    assert "denied: tcp to 192.0.2.99:8080" in r.stderr
    assert "mini-tapbox: blocked %d connections, 2 names" % len(conns) in r.stderr


def test_summary_line_without_verbose(stub, workdir):
    dns = stub({"good.test": [(1, DOC4, 300)]})
    r = tapbox(["--resolver", dns.addr, "--allow", "good.test:443"],
               py(RAW_QUERY + "q('evil.test', 1)\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert "mini-tapbox: blocked 0 connections, 1 name: name evil.test" in r.stderr
    # without -v: the first denial of each destination, once (issue 16)
    assert [l for l in r.stderr.splitlines() if "denied:" in l] == [
        "mini-tapbox: denied: name evil.test (A): not in the allowlist"]


def test_wildcard_resolved_on_demand_and_connects(stub, workdir):
    host, port = find_testhost("198.18.0.20")
    dns = stub({"a.example.test": [(1, host, 60)],
                "example.test.evil": [(1, host, 60)]})
    r = tapbox(["--resolver", dns.addr, "--allow", "*.example.test"],
               py("import socket\n"
                  "s = socket.create_connection(('a.example.test', %d), timeout=10)\n"
                  "print('connected')\n"
                  "s.close()\n"
                  "try:\n"
                  "    socket.getaddrinfo('example.test.evil', %d)\n"
                  "    print('resolved')\n"
                  "except socket.gaierror:\n"
                  "    print('nxdomain')\n" % (port, port)), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["connected", "nxdomain"]
    assert ("a.example.test", 1) in dns.queries
    assert dns.seen("evil") == [], dns.queries


def test_wildcard_aaaa_resolved_on_demand_and_connects(stub, workdir):
    host, port = find_testhost("fd42:4d53:4258::11")
    dns = stub({"v6.example.test": [(28, host, 60)]})
    r = tapbox(["--resolver", dns.addr, "--allow", "*.example.test"],
               py("import socket\n"
                  "ai = socket.getaddrinfo('v6.example.test', %d, socket.AF_INET6,"
                  " socket.SOCK_STREAM)[0]\n"
                  "print(ai[4][0])\n"
                  "s = socket.create_connection(ai[4][:2], timeout=10)\n"
                  "print(s.recv(100).decode().split()[0])\n" % port), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [host, "msbx-testhost"]
    assert ("v6.example.test", 28) in dns.queries


def test_wildcard_answer_in_refused_range_not_added(stub, workdir, tmp_path):
    dns = stub({"meta.example.test": [(1, "169.254.169.254", 60), (1, DOC4, 60)],
                "lo.example.test": [(1, "127.0.0.1", 60)]})
    log = tmp_path / "log.jsonl"
    r = tapbox(["--log", str(log), "--resolver", dns.addr, "--allow", "*.example.test"],
               py(RAW_QUERY +
                  "import socket\n"
                  "print(sorted(a[4][0] for a in socket.getaddrinfo('meta.example.test', 80,"
                  " socket.AF_INET, socket.SOCK_STREAM)))\n"
                  "print(q('lo.example.test', 1))\n"
                  "try:\n"
                  "    socket.create_connection(('169.254.169.254', 80), timeout=5)\n"
                  "except ConnectionRefusedError:\n"
                  "    print('refused')\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["['%s']" % DOC4, "0 0", "refused"]
    refused = {x["addr"] for x in log_records(log) if x["event"] == "answer"}
    assert refused == {"169.254.169.254", "127.0.0.1"}
    assert any(x["event"] == "connection" and x["addr"] == "169.254.169.254"
               for x in log_records(log))


def test_wildcard_address_expires_with_ttl(stub, workdir):
    host, port = find_testhost("198.18.0.21")
    dns = stub({"short.example.test": [(1, host, 1)]})
    # Resolve once, connect at once (allowed), then keep opening new
    # connections until the set entry times out; bounded by a deadline.
    r = tapbox(["--resolver", dns.addr, "--allow", "*.example.test"],
               py("import socket, time\n"
                  "addr = socket.getaddrinfo('short.example.test', %d, socket.AF_INET)[0][4][0]\n"
                  "t0 = time.monotonic()\n"
                  "socket.create_connection((addr, %d), timeout=10).close()\n"
                  "print('connected')\n"
                  "while time.monotonic() - t0 < 40:\n"
                  "    try:\n"
                  "        socket.create_connection((addr, %d), timeout=10).close()\n"
                  "    except ConnectionRefusedError:\n"
                  "        print('expired after %%.1f' %% (time.monotonic() - t0))\n"
                  "        break\n"
                  "    time.sleep(0.25)\n"
                  "else:\n"
                  "    print('never expired')\n" % (port, port, port)), workdir, timeout=90)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("\n")
    assert out[0] == "connected"
    assert out[1].startswith("expired after"), out
    # TTL 1 is raised to the 5 s floor; the kernel's gc may take a little longer
    assert 3.0 <= float(out[1].split()[-1]) <= 30.0, out


def test_connection_outlives_the_ttl_of_its_answer(stub, workdir):
    host, _ = find_testhost("198.18.0.21")
    dns = stub({"long.example.test": [(1, host, 1)]})
    # Open an HTTP connection, then wait (bounded) until new connections are
    # refused — the answer has expired — and only then send the request on
    # the old connection: established flows must keep working.
    r = tapbox(["--resolver", dns.addr, "--allow", "*.example.test"],
               py("import socket, time\n"
                  "addr = socket.getaddrinfo('long.example.test', 80, socket.AF_INET)[0][4][0]\n"
                  "old = socket.create_connection((addr, 80), timeout=10)\n"
                  "t0 = time.monotonic()\n"
                  "while time.monotonic() - t0 < 40:\n"
                  "    try:\n"
                  "        socket.create_connection((addr, 80), timeout=10).close()\n"
                  "    except ConnectionRefusedError:\n"
                  "        print('expired')\n"
                  "        break\n"
                  "    time.sleep(0.25)\n"
                  "old.settimeout(10)\n"
                  "old.sendall(b'GET / HTTP/1.0\\r\\nHost: long.example.test\\r\\n\\r\\n')\n"
                  "data = b''\n"
                  "while True:\n"
                  "    chunk = old.recv(4096)\n"
                  "    if not chunk:\n"
                  "        break\n"
                  "    data += chunk\n"
                  "print('reply', b'msbx-testhost' in data)\n"), workdir, timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["expired", "reply True"], r.stdout


def test_unrestricted_tapbox_relays_queries(stub, workdir):
    dns = stub({"any.test": [(1, DOC4, 60)]})
    r = tapbox(["--resolver", dns.addr],
               py(RAW_QUERY + "print(q('any.test', 1))\nprint(q('nope.test', 16))\n"), workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["0 1", "3 0"]
    assert ("any.test", 1) in dns.queries and ("nope.test", 16) in dns.queries


# A payload that retries in a tight loop: many thousands of refused
# connects and sends, and refused names, in a second or two.
FLOOD = RAW_QUERY + r'''
import errno, socket, sys
n = int(sys.argv[1])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(("198.18.0.11", 9 + i % 2))
    except OSError:
        pass
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    try:
        u.sendto(b"x", ("198.18.0.11", 7))
    except OSError:
        pass
for i in range(200):
    q("evil.test", 1)
print("done")
'''


def test_repeated_denials_are_aggregated_and_the_log_stays_small(stub, workdir, tmp_path):
    """issue 15: 20 000 refused connects in a second wrote 2.1 MB to the host
    (≈ 110 bytes each, in --log and again with -v).  The first denial of a
    destination is written at once; repeats are counted and written as one
    "repeat" record per destination and interval, so the log holds a few
    lines per destination, and the summary still counts every denial."""
    n = 10000
    dns = stub({"good.test": [(1, DOC4, 300)]})
    log = tmp_path / "denials.jsonl"
    r = tapbox(["-v", "--log", str(log), "--resolver", dns.addr, "--allow", "good.test:443"],
               [PY, "-c", FLOOD, str(n)], workdir, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["done"]
    lost = "lost (socket overflow)" in r.stderr
    size = log.stat().st_size
    recs = log_records(log)
    # 4 destinations (tcp :9, tcp :10, udp :7, the name): a first record and
    # a repeat record per interval each; the old code wrote ~3 MB here
    assert size < 8000, (size, recs[:20])
    assert len(r.stderr) < 8000, r.stderr[-2000:]
    per_dest = {}
    for x in recs:
        if x["event"] in ("connection", "repeat") and x.get("of", "connection") == "connection":
            key = (x["proto"], x["port"])
            per_dest[key] = per_dest.get(key, 0) + x.get("count", 1)
    summary = recs[-1]
    assert summary["event"] == "summary"
    assert summary["names"] == 1
    assert summary["connections"] == sum(per_dest.values())
    if not lost:
        assert per_dest == {("tcp", 9): n // 2, ("tcp", 10): n // 2, ("udp", 7): n}, per_dest
    else:   # the kernel dropped reports: the counts can only be lower
        assert summary["connections"] > n
    names = [x for x in recs if x["event"] == "name" or x.get("of") == "name"]
    assert sum(x.get("count", 1) for x in names) == 200
    assert "denied: tcp to 198.18.0.11:9" in r.stderr
    assert "denied again" in r.stderr
    assert "mini-tapbox: blocked %d connections, 1 name" % summary["connections"] in r.stderr


# In-sandbox client for the flood of distinct wildcard answers: AAAA
# queries for n<I>.flood.test in batches (at most MAX_PENDING in flight in
# the resolver), a line "at I" at every checkpoint; waits for "go" on stdin
# after each so the host can read the launcher's memory.
FLOOD_NAMES = r'''
import socket, struct, sys
total, step, batch = int(sys.argv[1]), int(sys.argv[2]), 200
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.settimeout(3)
def query(i):
    name = b"n%d.flood.test" % i
    return struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + b"".join(
        bytes([len(l)]) + l for l in name.split(b".")) + b"\0" + struct.pack(">HH", 28, 1)
answered = 0
for start in range(0, total, batch):
    for i in range(start, min(start + batch, total)):
        s.sendto(query(i), ("10.0.2.3", 53))
    for _ in range(min(batch, total - start)):
        try:
            r = s.recv(512)
        except socket.timeout:
            break
        answered += (r[3] & 15) == 0 and r[7] == 1
    if (start + batch) % step == 0 or start + batch >= total:
        print("at %d %d" % (min(start + batch, total), answered), flush=True)
        sys.stdin.readline()
'''


def flood_answer(name, qtype):
    """n<I>.flood.test → AAAA 2001:db8:f::I (documentation range: never
    routed, never contacted), TTL 300: only the cap can bound the table."""
    if not name.endswith(".flood.test") or not name.startswith("n"):
        return None
    i = int(name.split(".")[0][1:])
    return [(28, "2001:db8:f::%x:%x" % (i >> 16, i & 0xffff), 300)]


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def test_wildcard_answer_table_stays_bounded(workdir):
    """issue 15: every distinct *.domain answer stayed in the launcher's
    table for ever (63 MB after 300 000 answers).  The table now has a hard
    cap (16 384 addresses, oldest evicted): the launcher's RSS, read from
    the host, stays flat once the table is full, over TOTAL distinct
    answers (the old code grew by ~90 bytes per answer: 14 MB from 40 000
    to 200 000).  10⁶ answers take about 4 minutes here (each is a query to
    a Python stub upstream and a netlink round trip into the sandbox, ~5000
    a second), so TOTAL is 200 000: about 40 s."""
    total, warm, step = 200000, 40000, 20000
    dns = StubResolver({}, synth=flood_answer, keep_queries=False)
    p = subprocess.Popen([TAPBOX, "--resolver", dns.addr, "--allow", "*.flood.test", "--",
                          PY, "-c", FLOOD_NAMES, str(total), str(step)],
                         cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    rss = {}
    try:
        deadline = time.monotonic() + 240
        while True:
            ready, _, _ = select.select([p.stdout], [], [], max(0, deadline - time.monotonic()))
            assert ready, "the flood did not progress in time: %s" % rss
            line = p.stdout.readline()
            assert line.startswith("at "), (line, p.poll())
            n, answered = map(int, line.split()[1:])
            rss[n] = (vm_rss_kib(p.pid), answered)
            p.stdin.write("go\n")
            p.stdin.flush()
            if n >= total:
                break
        p.stdin.close()
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        p.kill()
        p.wait(timeout=10)
        dns.close()
    print("launcher VmRSS KiB, answered, by query count:", rss)
    assert rss[total][1] >= total * 0.95, rss     # the answers did come back
    grown = rss[total][0] - rss[warm][0]
    # flat: a few MB of slack for allocator noise, against ~14 MB of growth
    # for the last 160 000 answers on the old code
    assert grown < 3 * 1024, ("launcher RSS grew by %d KiB from %d to %d answers: %s"
                              % (grown, warm, total, rss))


# Distinct destinations, each denied once: only the size cap bounds the log.
# Distinct refused destinations (UDP, then TCP, to 4 test hosts × every
# port) until the denial log, which the payload can read (it lies in the
# CWD, pinned read-only), has reached its cap: under such a flood the
# kernel drops some NFLOG reports, so a fixed count may fall short of it.
DISTINCT = r'''
import errno, os, socket, sys
log, cap = sys.argv[1], 16 * 2**20
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

def udp(addr):
    try:
        u.sendto(b"x", addr)
    except OSError:      # EPERM: the ruleset rejected it on the way out
        pass

def tcp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex(addr)
    s.close()

n = 0
stop = None          # 2000 more past the cap's edge, so the cap record comes
for send in (udp, tcp):
    for host in ("198.18.0.10", "198.18.0.11", "198.18.0.12", "198.18.0.21"):
        for port in range(1, 65536):
            send((host, port))
            n += 1
            if stop is None and n % 2000 == 0 and os.stat(log).st_size >= cap - 4096:
                stop = n + 2000
            if n == stop:
                print(n)
                sys.exit(0)
print(n)
'''


def test_denial_log_stops_at_its_size_cap(stub, workdir, tmp_path):
    """issue 15: distinct refused destinations (UDP and TCP to 4 addresses,
    none allowed, nothing leaves the namespace) until their first records
    fill 16 MiB: the log stops at the cap with one "cap" record, then only
    the summary, which counts every denial reported."""
    dns = stub({})
    log = workdir / "denials.jsonl"
    r = tapbox(["--log", str(log), "--resolver", dns.addr, "--allow", "198.18.0.20:9000"],
               [PY, "-c", DISTINCT, str(log)], workdir, timeout=180)
    assert r.returncode == 0, r.stderr
    size = log.stat().st_size
    assert 15 * 2**20 < size <= 16 * 2**20 + 1024, size
    with open(log, "rb") as f:
        f.seek(-1024, os.SEEK_END)
        tail = [json.loads(x) for x in f.read().decode().splitlines()[-2:]]
    assert tail[0]["event"] == "cap", tail
    assert tail[1]["event"] == "summary", tail
    written = sum(1 for _ in open(log)) - 2
    # every report counted, also those past the cap (the kernel may drop
    # some reports under this flood: it says so on stderr)
    assert tail[1]["connections"] > written
    if "lost (socket overflow)" not in r.stderr:
        assert tail[1]["connections"] == int(r.stdout.split()[0])
