"""Denials are visible by default (issue 16, part 1).

The first denial of each destination is shown on mini-tapbox's stderr as
it happens, without -v; repeats are not; -q silences it; the exit summary
names what was blocked and what to add; service probes of allowed names
are answered and are no denials.  Only the stub resolver on loopback is
contacted; blocked connections never leave the sandbox.
"""
import os
import select
import subprocess
import time

import pytest

from conftest import TAPBOX, sandbox

PY = "/usr/bin/python3"
DOC4 = "192.0.2.10"      # an answer only: connections to it are refused inside

RAW_QUERY = r'''
import socket, struct, sys
def q(name, qtype):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    raw = struct.pack(">HHHHHH", 0x4d53, 0x0100, 1, 0, 0, 0) + b"".join(
        bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
    s.sendto(raw, ("10.0.2.3", 53))
    try:
        r = s.recv(4096)
    except socket.timeout:
        return "timeout"
    return "%d %d" % (r[3] & 15, struct.unpack(">H", r[6:8])[0])
'''


def tapbox(*args, workdir, timeout=60):
    return sandbox(*args, tapbox=True, cwd=workdir, timeout=timeout)


def denied_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("mini-tapbox: denied:")]


def test_first_denial_shown_at_once_and_named_in_the_summary(stub, workdir):
    dns = stub({"good.test": [DOC4]})
    # three refusals of one name, then the payload waits for us: the line
    # must be on stderr while it still runs
    code = RAW_QUERY + (
        "for i in range(3): q('blocked.test', 1)\n"
        "print('asked', flush=True)\n"
        "sys.stdin.readline()\n")
    p = subprocess.Popen([TAPBOX, "--resolver", dns.addr, "--allow", "good.test:443",
                          "--", PY, "-c", code], cwd=workdir, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "asked\n"
        asked = time.monotonic()
        seen = ""
        while "denied: name blocked.test" not in seen:
            left = asked + 1.0 - time.monotonic()
            assert left > 0, "no denial line within 1 s of the lookup: %r" % seen
            ready, _, _ = select.select([p.stderr], [], [], left)
            if ready:
                line = p.stderr.readline()
                assert line, "stderr closed: %r" % seen
                seen += line
        p.stdin.write("done\n")
        p.stdin.close()
        rest = p.stderr.read()
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    stderr = seen + rest
    assert denied_lines(stderr) == [
        "mini-tapbox: denied: name blocked.test (A): not in the allowlist"], stderr
    assert "mini-tapbox: blocked 0 connections, 1 name: name blocked.test\n" in stderr
    assert "mini-tapbox: add to the allowlist: blocked.test:PORT (PORT:" in stderr


def test_blocked_connection_named_with_its_entry(stub, workdir):
    dns = stub({"good.test": [DOC4]})
    code = ("import socket\n"
            "for port in (80, 80, 8080):\n"
            "    try: socket.create_connection(('good.test', port), timeout=3)\n"
            "    except OSError: pass\n"
            "try: socket.create_connection(('192.0.2.99', 9000), timeout=3)\n"
            "except OSError: pass\n")
    r = tapbox("--resolver", dns.addr, "--allow", "good.test:443", "--", PY, "-c", code,
               workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert denied_lines(r.stderr) == [
        f"mini-tapbox: denied: tcp to {DOC4}:80 (good.test)",
        f"mini-tapbox: denied: tcp to {DOC4}:8080 (good.test)",
        "mini-tapbox: denied: tcp to 192.0.2.99:9000"], r.stderr
    assert ("mini-tapbox: add to the allowlist: good.test:80 good.test:8080 "
            "192.0.2.99:9000/tcp; or let --learn FILE write the list") in r.stderr


def test_quiet_shows_only_the_summary(stub, workdir):
    dns = stub({"good.test": [DOC4]})
    r = tapbox("-q", "--resolver", dns.addr, "--allow", "good.test:443", "--", PY, "-c",
               RAW_QUERY + "q('blocked.test', 1)\n", workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert denied_lines(r.stderr) == [], r.stderr
    assert "mini-tapbox: blocked 0 connections, 1 name: name blocked.test" in r.stderr


def test_more_than_five_are_summed_up(stub, workdir):
    dns = stub({"good.test": [DOC4]})
    code = RAW_QUERY + "for i in range(8): q('n%d.blocked.test' % i, 1)\n"
    r = tapbox("--resolver", dns.addr, "--allow", "good.test:443", "--", PY, "-c", code,
               workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert len(denied_lines(r.stderr)) == 8
    summary = [l for l in r.stderr.splitlines() if "blocked 0 connections" in l]
    assert len(summary) == 1 and summary[0].endswith(
        "name n4.blocked.test, and 3 more, see --log FILE or -v"), r.stderr


def test_service_probe_of_an_allowed_name_is_not_a_denial(stub, workdir):
    dns = stub({"mirror.test": [DOC4]})
    code = RAW_QUERY + ("print(q('_http._tcp.mirror.test', 33))\n"   # apt's SRV probe
                        "print(q('mirror.test', 65))\n"              # HTTPS record type
                        "print(q('_http._tcp.other.test', 33))\n")   # not allowed: a denial
    r = tapbox("--resolver", dns.addr, "--allow", "mirror.test:80", "--", PY, "-c", code,
               workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["3 0", "0 0", "3 0"], r.stdout
    assert denied_lines(r.stderr) == [
        "mini-tapbox: denied: name _http._tcp.other.test (SRV): not in the allowlist"], r.stderr
    assert "blocked 0 connections, 1 name" in r.stderr
    assert not any("mirror" in q[0] for q in dns.queries if q[1] != 1 and q[1] != 28)


def test_no_denial_no_lines(stub, workdir):
    dns = stub({"good.test": [DOC4]})
    r = tapbox("--resolver", dns.addr, "--allow", "good.test:443", "--", PY, "-c",
               RAW_QUERY + "q('good.test', 1)\n", workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert "denied" not in r.stderr and "blocked" not in r.stderr, r.stderr


def test_run_time_lines_are_rate_limited(stub, workdir):
    # a payload walking through many names gets 20 lines, then one saying
    # the rest is held back; the summary still counts every one
    dns = stub({"good.test": [DOC4]})
    code = RAW_QUERY + "for i in range(30): q('n%d.blocked.test' % i, 1)\n"
    r = tapbox("--resolver", dns.addr, "--allow", "good.test:443", "--", PY, "-c", code,
               workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert len(denied_lines(r.stderr)) == 20, r.stderr
    assert r.stderr.count("mini-tapbox: more denials; not shown for 10 s") == 1, r.stderr
    assert "blocked 0 connections, 30 names: " in r.stderr
    assert ", and 25 more, see --log FILE or -v" in r.stderr
