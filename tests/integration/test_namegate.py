"""The TCP relay's name gate (issue 13), end to end.

A domain entry becomes a set of addresses, and a CDN or a proxy serves many
sites on one address, choosing by the name the client sends.  The gate
holds a connection that only a domain entry admitted until its first bytes
name an allowed host (TLS SNI, HTTP Host, CONNECT / SOCKS target), and
resets it otherwise without a byte sent upstream.

Servers (tests/integration/testhosts.sh, in the test hosts' namespace): a
TLS server on 443 with a throw-away CA serving alpha.msbx.test,
beta.msbx.test and *.wild.msbx.test on every address, like a CDN; HTTP on
80; a CONNECT proxy on 3128 and a SOCKS5 proxy on 1080; echo on 7; banners
on 9000.  Each logs what reached it under /run/msbx-testhosts, so a test
can show that a refused request never arrived.  Names come from a stub
resolver (stubdns.py); every address is a test host's.
"""
import glob
import json
import os
import shutil
import socket
import urllib.parse
import uuid

import pytest

from conftest import sandbox
from stubdns import StubResolver

PY = "/usr/bin/python3"
STATE = "/run/msbx-testhosts"
CDN = "198.18.0.12"          # every name of the TLS server
PROXY = "198.18.0.21"        # proxy.msbx.test
OTHER = "198.18.0.11"        # a host reached through the proxies by address
CDN6 = "fd42:4d53:4258::11"
NAMES = {"alpha.msbx.test": [CDN], "beta.msbx.test": [CDN], "a.wild.msbx.test": [CDN],
         "proxy.msbx.test": [PROXY], "v6.wild.msbx.test": [CDN6]}

# Runs inside the sandbox: each step of the JSON list in argv[1] is one
# connection; prints one JSON result per step.
CLIENT = r"""
import errno, json, socket, ssl, struct, sys, time

def talk(s, data, until_close=True):
    if data:
        s.sendall(data)
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
        if not until_close:
            break
    return out

def step(st):
    kind, host, port = st["kind"], st["host"], st["port"]
    if kind == "udp":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        u.sendto(st["tag"].encode(), (socket.gethostbyname(host), port))
        return u.recv(100)
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(10)
    if kind == "tls":
        ctx = ssl.create_default_context(cafile="ca.pem")
        if st.get("sni") is None:
            ctx.check_hostname = False
        s = ctx.wrap_socket(s, server_hostname=st.get("sni"))
        return talk(s, b"GET /%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                    % (st["tag"].encode(), st["hosthdr"].encode()))
    if kind == "http":
        return talk(s, b"GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n"
                    % (st["tag"].encode(), st["hosthdr"].encode()))
    if kind == "connect":
        return talk(s, b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                    % (st["target"].encode(), st["target"].encode()))
    if kind == "socks5":
        if talk(s, b"\x05\x01\x00", False) != b"\x05\x00":
            raise OSError(errno.EPROTO, "no method reply")
        t, tport = st["target"].rsplit(":", 1)
        try:
            addr = b"\x01" + socket.inet_aton(t)
        except OSError:
            addr = b"\x03" + bytes([len(t)]) + t.encode()
        return talk(s, b"\x05\x01\x00" + addr + struct.pack(">H", int(tport)))
    if kind == "raw":
        return talk(s, st["data"].encode(), not st.get("once", False))
    if kind == "banner":
        return talk(s, b"")
    raise ValueError(kind)

res = []
for st in json.loads(sys.argv[1]):
    t = time.monotonic()
    r = {"name": st["name"]}
    try:
        r.update(ok=True, data=step(st).decode(errors="replace"))
    except OSError as e:
        r.update(ok=False, err=errno.errorcode.get(e.errno, type(e).__name__))
    r["ms"] = (time.monotonic() - t) * 1000
    res.append(r)
print(json.dumps(res))
"""


@pytest.fixture
def env(workdir, tmp_path):
    """A stub resolver with the test names, the CA in the sandbox's CWD, and
    a function that runs CLIENT steps in mini-tapbox with some options."""
    for f in ("ca.pem", "tls.log", "http.log", "proxy.log"):
        if not os.path.exists(os.path.join(STATE, f)):
            pytest.fail("%s/%s missing: run tests/integration/testhosts.sh up as root" %
                        (STATE, f))
    shutil.copy(os.path.join(STATE, "ca.pem"), workdir / "ca.pem")
    dns = StubResolver(NAMES)
    log = tmp_path / "deny.jsonl"

    def go(args, steps, code=0):
        for st in steps:
            st.setdefault("tag", uuid.uuid4().hex)
        p = sandbox("--resolver", dns.addr, "--log", str(log), "-v", *args, "--", PY, "-c",
                    CLIENT, json.dumps(steps), tapbox=True, cwd=workdir, timeout=90)
        assert p.returncode == code, p.stdout + p.stderr
        out = {r["name"]: r for r in json.loads(p.stdout.strip().splitlines()[-1])}
        records = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
        log.unlink(missing_ok=True)
        return out, records, p.stderr
    yield go
    dns.close()


def server_log(name):
    with open(os.path.join(STATE, name)) as f:
        return f.read()


def assert_reset(r):
    """Refused by the gate: a reset at once, not a timeout."""
    assert not r["ok"], r
    assert r["err"] in ("ECONNRESET", "EPIPE"), r
    assert r["ms"] < 2000, r


def refusals(records):
    return [x for x in records if x["event"] == "connection" and "reason" in x]


def tls(name, host, sni, hosthdr=None, tag=None):
    st = {"name": name, "kind": "tls", "host": host, "port": 443, "sni": sni,
          "hosthdr": hosthdr or sni or host}
    if tag:
        st["tag"] = tag
    return st


# --- TLS: the server name ----------------------------------------------------------

def test_allowed_name_works_other_name_on_same_address_refused(env):
    bad = "r%s.wild.msbx.test" % uuid.uuid4().hex[:12]
    tag = uuid.uuid4().hex
    out, records, stderr = env(["--allow", "alpha.msbx.test:443"], [
        tls("bad", "alpha.msbx.test", bad, tag=tag),
        tls("beta", "alpha.msbx.test", "beta.msbx.test"),
        tls("good", "alpha.msbx.test", "alpha.msbx.test"),
    ])
    assert out["good"]["ok"], out
    assert "200 OK" in out["good"]["data"] and "msbx-tls alpha.msbx.test" in out["good"]["data"]
    assert_reset(out["bad"])
    assert_reset(out["beta"])
    # the good request reached the server after the refused ones: they did not
    log = server_log("tls.log")
    assert "get alpha.msbx.test alpha.msbx.test /" in log
    assert bad not in log and tag not in log
    gate = refusals(records)
    assert {(x["reason"], x["name"], x["port"], x["addr"]) for x in gate} == {
        ("sni", bad, 443, CDN), ("sni", "beta.msbx.test", 443, CDN)}
    assert records[-1]["event"] == "summary" and records[-1]["connections"] >= 2
    assert "sni name beta.msbx.test is not in the allowlist" in stderr
    assert "blocked 2 connections" in stderr


def test_ipv6_destination(env):
    out, records, stderr = env(["--allow", "v6.wild.msbx.test:443"], [
        tls("beta", "v6.wild.msbx.test", "beta.msbx.test"),
        tls("good", "v6.wild.msbx.test", "v6.wild.msbx.test"),
    ])
    assert out["good"]["ok"] and "msbx-tls v6.wild.msbx.test" in out["good"]["data"], out
    assert_reset(out["beta"])
    assert [(x["reason"], x["name"], x["addr"]) for x in refusals(records)] == [
        ("sni", "beta.msbx.test", CDN6)]
    assert "tcp to [%s]:443: sni name beta.msbx.test" % CDN6 in stderr


def test_no_sni_refused(env):
    out, records, _ = env(["--allow", "alpha.msbx.test:443"], [
        tls("nosni", "alpha.msbx.test", None, hosthdr="alpha.msbx.test"),
    ])
    assert_reset(out["nosni"])
    assert [(x["reason"], x["name"]) for x in refusals(records)] == [("sni", "")]


def test_wildcard_entry_matches_subdomains_only(env):
    out, records, _ = env(["--allow", "*.wild.msbx.test:443"], [
        tls("sub", "a.wild.msbx.test", "a.wild.msbx.test"),
        tls("deeper", "a.wild.msbx.test", "x.y.wild.msbx.test"),
        tls("apex", "a.wild.msbx.test", "wild.msbx.test"),
        tls("other", "a.wild.msbx.test", "alpha.msbx.test"),
    ])
    assert out["sub"]["ok"] and "msbx-tls a.wild.msbx.test" in out["sub"]["data"], out
    # the certificate covers one label below wild.msbx.test: the gate let it
    # through, TLS then failed on the name, which is not the gate's business
    assert out["deeper"]["ok"] or out["deeper"]["err"] not in ("ECONNRESET",), out
    assert_reset(out["apex"])
    assert_reset(out["other"])
    assert sorted(x["name"] for x in refusals(records)) == ["alpha.msbx.test", "wild.msbx.test"]


def test_ip_entry_wins_over_domain_entry(env):
    out, records, _ = env(["--allow", "alpha.msbx.test:443", "--allow", "%s:443" % CDN], [
        tls("beta", CDN, "beta.msbx.test"),
        tls("nosni", CDN, None, hosthdr="x"),
    ])
    assert out["beta"]["ok"] and "msbx-tls beta.msbx.test" in out["beta"]["data"], out
    assert out["nosni"]["ok"], out
    assert refusals(records) == []


def test_no_name_check_turns_the_gate_off(env):
    out, records, _ = env(["--allow", "alpha.msbx.test:443", "--no-name-check"], [
        tls("beta", "alpha.msbx.test", "beta.msbx.test"),
    ])
    assert out["beta"]["ok"] and "msbx-tls beta.msbx.test" in out["beta"]["data"], out
    assert refusals(records) == []


# --- plain HTTP: the Host header ----------------------------------------------------

def test_http_host_spoof_refused(env):
    good, spoof = uuid.uuid4().hex, uuid.uuid4().hex
    out, records, _ = env(["--allow", "alpha.msbx.test:80"], [
        {"name": "spoof", "kind": "http", "host": "alpha.msbx.test", "port": 80,
         "hosthdr": "beta.msbx.test", "tag": spoof},
        {"name": "good", "kind": "http", "host": "alpha.msbx.test", "port": 80,
         "hosthdr": "alpha.msbx.test", "tag": good},
    ])
    assert out["good"]["ok"] and "200 OK" in out["good"]["data"], out
    assert_reset(out["spoof"])
    log = server_log("http.log")
    assert "alpha.msbx.test /%s" % good in log
    assert spoof not in log
    assert [(x["reason"], x["name"]) for x in refusals(records)] == [("host", "beta.msbx.test")]


# --- proxies: the target counts, not the proxy's name ------------------------------

def test_connect_and_socks5_through_allowed_proxy_to_other_host_refused(env):
    c_bad = "c%s.msbx.test:443" % uuid.uuid4().hex[:12]
    s_bad = "s%s.msbx.test:443" % uuid.uuid4().hex[:12]
    out, records, _ = env(["--allow", "proxy.msbx.test:3128", "--allow", "proxy.msbx.test:1080",
                           "--allow", "%s:9000/tcp" % OTHER], [
        {"name": "c_bad", "kind": "connect", "host": "proxy.msbx.test", "port": 3128,
         "target": c_bad},
        {"name": "c_alpha", "kind": "connect", "host": "proxy.msbx.test", "port": 3128,
         "target": "alpha.msbx.test:443"},
        {"name": "s_bad", "kind": "socks5", "host": "proxy.msbx.test", "port": 1080,
         "target": s_bad},
        # positive controls: a target the allowlist admits goes through
        {"name": "c_ok", "kind": "connect", "host": "proxy.msbx.test", "port": 3128,
         "target": "%s:9000" % OTHER},
        {"name": "s_ok", "kind": "socks5", "host": "proxy.msbx.test", "port": 1080,
         "target": "%s:9000" % OTHER},
    ])
    assert_reset(out["c_bad"])
    assert_reset(out["c_alpha"])
    assert_reset(out["s_bad"])
    assert out["c_ok"]["ok"] and "msbx-testhost" in out["c_ok"]["data"], out
    assert out["s_ok"]["ok"] and "msbx-testhost" in out["s_ok"]["data"], out
    log = server_log("proxy.log")
    assert c_bad not in log and s_bad not in log
    assert "socks5 %s:9000" % OTHER in log
    assert sorted((x["reason"], x["name"]) for x in refusals(records)) == [
        ("host", "alpha.msbx.test"), ("host", c_bad.rsplit(":", 1)[0]),
        ("socks", s_bad.rsplit(":", 1)[0])]


# --- protocols without a name -------------------------------------------------------

def test_server_first_and_ssh_work_unknown_refused(env):
    out, records, _ = env(["--allow", "alpha.msbx.test:9000", "--allow", "alpha.msbx.test:7"], [
        {"name": "banner", "kind": "banner", "host": "alpha.msbx.test", "port": 9000},
        {"name": "ssh", "kind": "raw", "host": "alpha.msbx.test", "port": 7,
         "data": "SSH-2.0-OpenSSH_9.2p1 Debian\r\n", "once": True},
        {"name": "unknown", "kind": "raw", "host": "alpha.msbx.test", "port": 7,
         "data": "HELO what is my name\r\n", "once": True},
    ])
    assert out["banner"]["ok"] and "msbx-testhost" in out["banner"]["data"], out
    assert out["ssh"]["ok"] and out["ssh"]["data"].startswith("SSH-2.0-OpenSSH_9.2p1"), out["ssh"]
    assert_reset(out["unknown"])
    assert [(x["reason"], x["name"]) for x in refusals(records)] == [("protocol", "")]


# --- UDP: QUIC hides the name -------------------------------------------------------

def test_udp_to_domain_entry_only_with_explicit_udp(env):
    out, _, _ = env(["--allow", "alpha.msbx.test", "--allow", "proxy.msbx.test:9000",
                     "--allow", "%s:9000/udp" % OTHER], [
        {"name": "noport", "kind": "udp", "host": "alpha.msbx.test", "port": 9000},
        {"name": "port", "kind": "udp", "host": "proxy.msbx.test", "port": 9000},
        {"name": "ip", "kind": "udp", "host": OTHER, "port": 9000},
    ])
    assert not out["noport"]["ok"] and not out["port"]["ok"], out
    assert out["ip"]["ok"], out
    out, _, _ = env(["--allow", "alpha.msbx.test:9000/udp"], [
        {"name": "explicit", "kind": "udp", "host": "alpha.msbx.test", "port": 9000},
    ])
    assert out["explicit"]["ok"], out


# --- --slirp-tcp cannot check names ------------------------------------------------

def test_slirp_tcp_with_domain_entry_refuses_to_start(env, workdir, tmp_path):
    p = sandbox("--allow", "alpha.msbx.test:443", "--slirp-tcp", "--", "true", tapbox=True,
                cwd=workdir)
    assert p.returncode == 125, p.stderr
    assert "--slirp-tcp" in p.stderr and "--no-name-check" in p.stderr, p.stderr
    f = tmp_path / "list"
    f.write_text("%s\nalpha.msbx.test:443\n" % OTHER)
    dns = StubResolver(NAMES)
    try:
        p = sandbox("--resolver", dns.addr, "-F", str(f), "--slirp-tcp", "--", "true",
                    tapbox=True, cwd=workdir)
        assert p.returncode == 125, p.stderr
        assert "--slirp-tcp" in p.stderr and "--no-name-check" in p.stderr, p.stderr
        # IP entries only: nothing to check, --slirp-tcp is fine
        p = sandbox("--allow", OTHER, "--slirp-tcp", "--", "true", tapbox=True, cwd=workdir)
        assert p.returncode == 0, p.stderr
    finally:
        dns.close()


# --- the library's switch ----------------------------------------------------------

LIB_SCRIPT = r"""
import json, sys
import pyminisandbox
sb = pyminisandbox.Sandbox("default")
sb.allow("alpha.msbx.test:443")
sb.resolver(sys.argv[1])
if sys.argv[2] == "off":
    sb.no_name_check()
p = sb.run([%r, "-c", sys.argv[3], sys.argv[4]], capture_output=True, text=True, timeout=60)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.exit(p.returncode)
""" % PY


@pytest.mark.parametrize("gate", ["on", "off"])
def test_library_switch(env, workdir, gate):
    from conftest import BUILD, run
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    e = dict(os.environ, PYMINISANDBOX_LIBRARY=BUILD, PYTHONPATH=os.path.join(src, "python"))
    dns = StubResolver(NAMES)
    try:
        steps = [tls("beta", "alpha.msbx.test", "beta.msbx.test"),
                 tls("alpha", "alpha.msbx.test", "alpha.msbx.test")]
        for st in steps:
            st["tag"] = uuid.uuid4().hex
        p = run([PY, "-c", LIB_SCRIPT, dns.addr, gate, CLIENT, json.dumps(steps)], cwd=workdir,
                env=e, timeout=90)
    finally:
        dns.close()
    assert p.returncode == 0, p.stdout + p.stderr
    out = {r["name"]: r for r in json.loads(p.stdout.strip().splitlines()[-1])}
    assert out["alpha"]["ok"] and "msbx-tls alpha.msbx.test" in out["alpha"]["data"], out
    if gate == "on":
        assert_reset(out["beta"])
    else:
        assert out["beta"]["ok"] and "msbx-tls beta.msbx.test" in out["beta"]["data"], out


# --- end to end: another site on the registry's address ----------------------------

def _npm_registry_host():
    from conftest import run
    p = run(["npm", "config", "get", "registry"], timeout=60)
    assert p.returncode == 0, p.stderr
    url = urllib.parse.urlparse(p.stdout.strip())
    assert url.scheme == "https" and url.hostname, p.stdout
    return url.hostname


def _apt_mirror_host():
    """The first http(s) mirror host of the enabled apt sources (one-line
    .list and deb822 .sources files), read now, never stored."""
    files = glob.glob("/etc/apt/sources.list") + sorted(
        glob.glob("/etc/apt/sources.list.d/*.list") +
        glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in files:
        with open(path) as f:
            for line in f:
                words = line.split("#", 1)[0].split()
                if not words:
                    continue
                if words[0] in ("deb", "deb-src"):
                    uris = [w for w in words[1:] if "://" in w][:1]
                elif words[0] == "URIs:":
                    uris = words[1:]
                else:
                    continue
                for u in uris:
                    host = urllib.parse.urlparse(u).hostname
                    if host:
                        return host
    pytest.fail("no apt mirror found in the apt sources")


def test_other_site_on_the_registrys_address_is_refused(workdir, tmp_path):
    """The attack of issue 13: with only the npm registry allowed, send the
    apt mirror's name to the registry's address (CDNs serve both there).
    The registry itself still works."""
    registry, mirror = _npm_registry_host(), _apt_mirror_host()
    assert registry != mirror
    addr = socket.getaddrinfo(registry, 443, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    log = tmp_path / "deny.jsonl"
    script = ("curl -sS -o /dev/null -w 'registry %%{http_code}\\n' --max-time 30 https://%s/; "
              "curl -sS -o /dev/null -w 'mirror %%{http_code}\\n' --max-time 30 "
              "--resolve %s:443:%s https://%s/; echo rc $?") % (registry, mirror, addr, mirror)
    p = sandbox("-x", "--log", str(log), "--allow", "%s:443" % registry, "--", "sh", "-c",
                script, tapbox=True, cwd=workdir, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    out = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    assert out["registry"] != "000", p.stdout + p.stderr
    assert out["mirror"] == "000" and out["rc"] != "0", p.stdout + p.stderr
    gate = [json.loads(x) for x in log.read_text().splitlines()]
    assert {(x.get("reason"), x.get("name"), x.get("addr")) for x in gate
            if x["event"] == "connection"} == {("sni", mirror, addr)}
