"""The egress allowlist of mini-tapbox (issue 5), end to end.

Allowed traffic goes only to the test hosts of tests/integration/testhosts.sh
(network namespace msbx-testhosts, 198.18.0.0/24 and fd42:4d53:4258::/64,
reached over a veth from the host) and, for the npm test, to the npm registry
configured on this machine.  Blocked destinations are rejected inside the
sandbox's network namespace, so nothing leaves the machine for them.  Domain
entries are resolved by a stub DNS server each test starts on 127.0.0.1 and
passes as --resolver.
"""
import json
import socket
import threading
import urllib.parse

import pytest

from conftest import run, sandbox

PY = "/usr/bin/python3"
HOST_A = "198.18.0.10"       # outside 198.18.0.16/28
HOST_B = "198.18.0.11"
HOST_C = "198.18.0.20"       # inside 198.18.0.16/28
HOST_V6_A = "fd42:4d53:4258::10"
HOST_V6_B = "fd42:4d53:4258::11"

# Runs inside the sandbox: connect to each HOST:PORT ([V6]:PORT or NAME:PORT),
# send an HTTP request (with a Host header, as every client sends it: the
# name gate refuses a request without one to a domain entry), read the
# answer; one JSON object per target.
PROBE = r"""
import errno, json, socket, sys, time
res = []
for spec in sys.argv[1:]:
    host, port = spec.rsplit(":", 1)
    host = host.strip("[]")
    t = time.monotonic()
    r = {"spec": spec}
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        r.update(ok=True, data=data.decode(errors="replace"))
    except OSError as e:
        r.update(ok=False, err=errno.errorcode.get(e.errno, str(e)))
    r["ms"] = (time.monotonic() - t) * 1000
    res.append(r)
print(json.dumps(res))
"""


def probe(args, targets, cwd, timeout=60):
    """Start mini-tapbox with ARGS and probe TARGETS from inside."""
    p = sandbox(*args, "--", PY, "-c", PROBE, *targets, tapbox=True, cwd=cwd,
                timeout=timeout)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    return {r["spec"]: r for r in res}


def assert_refused(r, fast=True):
    assert not r["ok"], r
    assert r["err"] == "ECONNREFUSED", r
    if fast:
        # A RST answers the first SYN; a dropped SYN would be retried only
        # after 1 s (and ECONNREFUSED excludes a timeout).  Below 900 ms
        # keeps that distinction on a loaded machine (155 ms seen at load 9).
        assert r["ms"] < 900, r


# --- reachability ---------------------------------------------------------------

def test_allowed_address_and_port_reachable_other_port_refused(workdir):
    r = probe(["--allow", "%s:8080" % HOST_A],
              ["%s:8080" % HOST_A, "%s:80" % HOST_A, "%s:8080" % HOST_B], workdir)
    assert r["%s:8080" % HOST_A]["ok"]
    assert "msbx-testhost" in r["%s:8080" % HOST_A]["data"]
    assert_refused(r["%s:80" % HOST_A])
    assert_refused(r["%s:8080" % HOST_B])


def test_whole_host_entry_allows_every_port(workdir):
    r = probe(["--allow", HOST_B], ["%s:8080" % HOST_B, "%s:80" % HOST_B, "%s:9000" % HOST_B],
              workdir)
    assert all(x["ok"] for x in r.values()), r


def test_protocol_suffix(workdir):
    """:PORT/udp allows no TCP to that port."""
    r = probe(["--allow", "%s:8080/udp" % HOST_A, "--allow", "%s:80/tcp" % HOST_A],
              ["%s:8080" % HOST_A, "%s:80" % HOST_A], workdir)
    assert_refused(r["%s:8080" % HOST_A])
    assert r["%s:80" % HOST_A]["ok"]


def test_cidr_member_allowed_non_member_refused(workdir):
    r = probe(["--allow", "198.18.0.16/28"], ["%s:8080" % HOST_C, "%s:8080" % HOST_A], workdir)
    assert r["%s:8080" % HOST_C]["ok"]
    assert_refused(r["%s:8080" % HOST_A])


def test_cidr_with_port_from_file(workdir, tmp_path):
    f = tmp_path / "allow.txt"
    f.write_text("# test hosts\n\n198.18.0.0/24:9000/tcp   # banner port only\n")
    r = probe(["-F", str(f)], ["%s:9000" % HOST_A, "%s:9000" % HOST_C, "%s:8080" % HOST_C],
              workdir)
    assert r["%s:9000" % HOST_A]["ok"]
    assert r["%s:9000" % HOST_C]["ok"]
    assert_refused(r["%s:8080" % HOST_C])


def test_blocked_connect_fails_fast_with_econnrefused(workdir):
    r = probe(["--allow", HOST_C], ["%s:8080" % HOST_A, "%s:9000" % HOST_B], workdir)
    for x in r.values():
        assert_refused(x)


def test_many_blocked_attempts_then_allowed_connect_at_once(workdir):
    script = r"""
import errno, socket, sys, time
for i in range(1000):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("%s", 8080))
        sys.exit("blocked connect %%d succeeded" %% i)
    except ConnectionRefusedError:
        pass
    finally:
        s.close()
t = time.monotonic()
s = socket.create_connection(("%s", 9000), timeout=5)
data = s.recv(100)
print("%%.1f %%s" %% ((time.monotonic() - t) * 1000, data.decode().strip()))
""" % (HOST_A, HOST_C)
    p = sandbox("--allow", HOST_C, "--", PY, "-c", script, tapbox=True, cwd=workdir,
                timeout=120)
    assert p.returncode == 0, p.stderr
    ms, banner = p.stdout.split(" ", 1)
    assert float(ms) < 500, p.stdout
    assert banner.startswith("msbx-testhost")


def test_ipv6_allow_and_deny(workdir):
    r = probe(["--allow", "[%s]:8080" % HOST_V6_A],
              ["[%s]:8080" % HOST_V6_A, "[%s]:80" % HOST_V6_A, "[%s]:8080" % HOST_V6_B,
               "%s:8080" % HOST_A], workdir)
    assert r["[%s]:8080" % HOST_V6_A]["ok"], r
    assert_refused(r["[%s]:80" % HOST_V6_A])
    assert_refused(r["[%s]:8080" % HOST_V6_B])
    assert_refused(r["%s:8080" % HOST_A])


def test_ipv6_cidr(workdir):
    r = probe(["--allow", "fd42:4d53:4258::/64"],
              ["[%s]:9001" % HOST_V6_B, "%s:9001" % HOST_B], workdir)
    assert r["[%s]:9001" % HOST_V6_B]["ok"], r
    assert_refused(r["%s:9001" % HOST_B])


def test_host_loopback_closed_unless_port_opened(workdir):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(30)
    port = srv.getsockname()[1]
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(8)

    def serve():
        try:
            c, _ = srv.accept()
            c.settimeout(10)
            c.recv(4096)           # the probe's request: read it, or close() resets
            c.sendall(b"host-loopback\n")
            c.close()
        except OSError:
            pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r = probe(["--allow", "0.0.0.0/0", "--allow-host-port", str(port)],
                  ["10.0.2.2:%d" % port, "10.0.2.2:%d" % other.getsockname()[1]], workdir)
        assert r["10.0.2.2:%d" % port]["ok"], r
        assert "host-loopback" in r["10.0.2.2:%d" % port]["data"]
        # a broad CIDR never opens the gateway
        assert_refused(r["10.0.2.2:%d" % other.getsockname()[1]])
    finally:
        srv.close()
        other.close()
        t.join(timeout=5)


def test_without_allowlist_egress_is_open_but_host_loopback_closed(workdir):
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(8)
    try:
        p = sandbox("--", PY, "-c", PROBE, "%s:80" % HOST_A, "[%s]:9001" % HOST_V6_B,
                    "10.0.2.2:%d" % other.getsockname()[1], tapbox=True, cwd=workdir,
                    timeout=60)
        assert p.returncode == 0, p.stderr
        assert "unrestricted" in p.stderr
        r = {x["spec"]: x for x in json.loads(p.stdout.strip().splitlines()[-1])}
        assert r["%s:80" % HOST_A]["ok"], r
        assert r["[%s]:9001" % HOST_V6_B]["ok"], r
        assert_refused(r["10.0.2.2:%d" % other.getsockname()[1]])
    finally:
        other.close()


# --- domains -----------------------------------------------------------------------

def test_domain_resolved_via_resolver_and_pinned_in_hosts(workdir, stub):
    dns = stub({"th.msbx.test": [HOST_B, HOST_V6_B], "other.msbx.test": [HOST_A]})
    script = "cat /etc/hosts; %s -c '%s' th.msbx.test:8080 %s:8080" % (
        PY, PROBE.replace("'", "'\\''"), HOST_A)
    p = sandbox("--resolver", dns.addr, "--allow", "TH.msbx.test:8080", "--", "sh", "-c",
                script, tapbox=True, cwd=workdir, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "%s\tth.msbx.test" % HOST_B in lines
    assert "%s\tth.msbx.test" % HOST_V6_B in lines
    res = {r["spec"]: r for r in json.loads(lines[-1])}
    assert res["th.msbx.test:8080"]["ok"], res
    assert_refused(res["%s:8080" % HOST_A])
    assert ("th.msbx.test", 1) in dns.queries and ("th.msbx.test", 28) in dns.queries
    assert not any(q[0] == "other.msbx.test" for q in dns.queries)


def test_unresolvable_domain_is_an_error_naming_it(workdir, stub):
    dns = stub({})
    marker = workdir / "ran"
    p = sandbox("--resolver", dns.addr, "--allow", "nowhere.msbx.test", "--", "touch",
                str(marker), tapbox=True, cwd=workdir)
    assert p.returncode == 125, p.stderr
    assert "nowhere.msbx.test" in p.stderr
    assert "--allow:1" in p.stderr
    assert not marker.exists()
    p = sandbox("--resolver", dns.addr, "--allow-unresolved", "--allow", "nowhere.msbx.test",
                "--", "touch", str(marker), tapbox=True, cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert "nowhere.msbx.test" in p.stderr
    assert marker.exists()


def test_answers_in_refused_ranges_are_not_allowed(workdir, stub):
    dns = stub({"meta.msbx.test": ["169.254.169.254"],
                    "mixed.msbx.test": ["127.0.0.1", HOST_B]})
    p = sandbox("--resolver", dns.addr, "--allow", "meta.msbx.test", "--", "true",
                tapbox=True, cwd=workdir)
    assert p.returncode == 125
    assert "meta.msbx.test" in p.stderr and "169.254.169.254" in p.stderr
    p = sandbox("--resolver", dns.addr, "--allow", "mixed.msbx.test", "--", "cat",
                "/etc/hosts", tapbox=True, cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert "127.0.0.1\tmixed.msbx.test" not in p.stdout
    assert "%s\tmixed.msbx.test" % HOST_B in p.stdout


# --- malformed allowlists ------------------------------------------------------------

MALFORMED = [
    ("1.2.3", "invalid IPv4 address '1.2.3'"),
    ("256.0.0.1", "invalid IPv4 address"),
    ("10.0.0.1/8", "host bits set (did you mean 10.0.0.0/8?)"),
    ("10.0.0.0/33", "invalid prefix length '/33' (expected 0-32)"),
    ("2001:db8::/129", "invalid prefix length '/129' (expected 0-128)"),
    ("198.18.0.10:0", "invalid port '0'"),
    ("198.18.0.10:70000", "invalid port '70000'"),
    ("198.18.0.10:", "missing port after ':'"),
    ("198.18.0.10:443/sctp", "unknown protocol 'sctp'"),
    ("example.com/tcp", "a protocol needs a port"),
    ("[2001:db8::1", "missing ']'"),
    ("[198.18.0.10]:80", "is not an IPv6 address"),
    ("2001:db8:::1", "invalid IPv6 address"),
    ("exa mple.com", "unexpected space"),
    ("*example.com", "invalid domain name"),
    ("a.*.example.com", "invalid domain name"),
    ("bad_$.example", "invalid domain name"),
]


@pytest.mark.parametrize("line,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_line_stops_with_file_and_line(workdir, tmp_path, line, message):
    f = tmp_path / "allow.txt"
    f.write_text("# allowlist\n198.18.0.10\n\n%s\n198.18.0.11\n" % line)
    marker = workdir / "ran"
    p = sandbox("-F", str(f), "--", "touch", str(marker), tapbox=True, cwd=workdir)
    assert p.returncode == 125, (p.returncode, p.stderr)
    lines = [l for l in p.stderr.splitlines() if ("%s:4: " % f) in l]
    assert len(lines) == 1 and message in lines[0], p.stderr
    assert not marker.exists()


def test_malformed_allow_option_names_its_position(workdir):
    marker = workdir / "ran"
    p = sandbox("--allow", "198.18.0.10", "--allow", "1.2.3.4/99", "--", "touch",
                str(marker), tapbox=True, cwd=workdir)
    assert p.returncode == 125
    assert "--allow:2: invalid prefix length '/99'" in p.stderr
    assert not marker.exists()


def test_unreadable_allowlist_file(workdir, tmp_path):
    p = sandbox("-F", str(tmp_path / "missing.txt"), "--", "true", tapbox=True, cwd=workdir)
    assert p.returncode == 125
    assert "missing.txt" in p.stderr


# --- the payload cannot change or bypass the rules ---------------------------------------

ESCAPES = r"""
set -u
/usr/sbin/nft flush ruleset 2>/dev/null && echo "FLUSHED"
/usr/sbin/nft add element inet mini_sandbox allow4 '{ %(blocked)s }' 2>/dev/null && echo "ADDED"
%(py)s - <<'EOF'
import socket
for fam, typ, proto in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP),
                        (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP),
                        (socket.AF_PACKET, socket.SOCK_RAW, 0x0300)):
    try:
        socket.socket(fam, typ, proto)
        print("RAW-OPENED", fam)
    except PermissionError:
        pass
EOF
# a new user+net namespace is allowed, but it is empty: no way out from it
unshare -Urn %(py)s -c '
import socket
s = socket.socket(); s.settimeout(3)
try:
    s.connect(("%(blocked)s", 8080)); print("ESCAPED")
except OSError:
    pass
' 2>/dev/null
%(py)s -c '%(probe)s' %(blocked)s:8080 %(allowed)s:9000
"""


@pytest.mark.parametrize("fake_root", [False, True], ids=["user", "fake-root"])
def test_payload_cannot_flush_rules_open_raw_sockets_or_escape(workdir, fake_root):
    script = ESCAPES % {"blocked": HOST_A, "allowed": HOST_C, "py": PY,
                        "probe": PROBE.replace("'", "'\\''")}
    args = ["-R"] if fake_root else []
    p = sandbox(*args, "--allow", HOST_C, "--", "sh", "-c", script, tapbox=True, cwd=workdir,
                timeout=60)
    assert p.returncode == 0, p.stderr
    for bad in ("FLUSHED", "ADDED", "RAW-OPENED", "ESCAPED"):
        assert bad not in p.stdout, p.stdout
    res = {r["spec"]: r for r in json.loads(p.stdout.strip().splitlines()[-1])}
    assert_refused(res["%s:8080" % HOST_A])
    assert res["%s:9000" % HOST_C]["ok"]


# --- end to end: npm install with only the registry allowed -------------------------------

def _npm_registry_host():
    p = run(["npm", "config", "get", "registry"], timeout=60)
    assert p.returncode == 0, p.stderr
    url = urllib.parse.urlparse(p.stdout.strip())
    assert url.scheme == "https" and url.hostname, p.stdout
    return url.hostname, url.port or 443


def test_npm_install_with_only_the_registry_allowed(workdir):
    host, port = _npm_registry_host()
    script = r"""
set -e
export npm_config_cache="$PWD/.npm-cache" npm_config_update_notifier=false
npm install --no-audit --no-fund is-number >npm.log 2>&1 || { cat npm.log; exit 3; }
test -f node_modules/is-number/package.json
%s -c '%s' %s:80
""" % (PY, PROBE.replace("'", "'\\''"), host)
    p = sandbox("--allow", "%s:%d/tcp" % (host, port), "--", "sh", "-c", script, tapbox=True,
                cwd=workdir, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (workdir / "node_modules" / "is-number" / "package.json").exists()
    res = json.loads(p.stdout.strip().splitlines()[-1])
    # the same host on a port that is not allowlisted is refused at once
    assert_refused(res[0])
