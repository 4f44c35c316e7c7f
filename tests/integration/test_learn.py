"""Learn mode: an allowlist from a run (issue 16, part 3).

mini-tapbox --learn FILE runs the command with egress open and writes the
allowlist it needed; -F FILE then enforces it.  Every test talks only to
the netns test hosts (testhosts.sh) and a stub resolver on loopback.
"""
import os
import socket
import subprocess
import textwrap

import pytest

from conftest import BUILD, TAPBOX, run, sandbox

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
PORT = 9000   # testhosts.sh: banner on tcp 9000, echo on udp 9000


def find_host(addr):
    """Check from the host side that a test host answers; fail loudly if not."""
    try:
        with socket.create_connection((addr, PORT), timeout=5) as s:
            s.settimeout(5)
            assert s.recv(100).startswith(b"msbx-testhost ")
    except OSError as e:
        pytest.fail("test host %s:%d unreachable (run tests/integration/testhosts.sh up "
                    "as root): %s" % (addr, PORT, e))
    return addr


def entries(path):
    """The list's entries, without comments and blank lines."""
    with open(path) as f:
        return [l.split("#")[0].strip() for l in f if l.split("#")[0].strip()]


def tapbox(*args, workdir, timeout=60):
    return sandbox(*args, tapbox=True, cwd=workdir, timeout=timeout)


# The payload of the round trip: TCP by name and by address, UDP by name
# and by address, one name looked up and never used.  Prints what worked.
CLIENT = textwrap.dedent(r'''
    import socket, sys
    def tcp(host):
        try:
            with socket.create_connection((host, 9000), timeout=5) as c:
                return c.recv(100).startswith(b"msbx-testhost")
        except OSError:
            return False
    def udp(host):
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(3)
            u.sendto(b"ping", (socket.gethostbyname(host), 9000))
            return u.recv(100) == b"ping"
        except OSError:
            return False
    try:
        socket.getaddrinfo("looked.learn.test", 80)
    except OSError:
        pass
    print("tcp-name", tcp("a.learn.test"))
    print("tcp-addr", tcp("198.18.0.10"))
    print("udp-name", udp("u.learn.test"))
    print("udp-addr", udp("198.18.0.11"))
''')
ALL_OK = ["tcp-name True", "tcp-addr True", "udp-name True", "udp-addr True"]


def records():
    return {"a.learn.test": [find_host("198.18.0.20")],
            "u.learn.test": ["198.18.0.12"],
            "looked.learn.test": [find_host("198.18.0.21")]}


def test_learn_then_enforce_round_trip(stub, workdir):
    find_host("198.18.0.10")
    dns = stub(records())
    learned = workdir / "learned.list"
    r = tapbox("--resolver", dns.addr, "--learn", str(learned), "--", PY, "-c", CLIENT,
               workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ALL_OK, r.stdout + r.stderr
    assert "--learn" in r.stderr and "unrestricted" in r.stderr   # egress open: said so
    # names where a lookup led to the connection, addresses otherwise;
    # sorted, and nothing that was not contacted
    assert entries(learned) == ["198.18.0.10:9000/tcp", "198.18.0.11:9000/udp",
                                "a.learn.test:9000", "u.learn.test:9000/udp"]
    text = learned.read_text()
    assert text.startswith("# Allowlist written by mini-tapbox --learn")
    assert "# 1 connection, first 20" in text
    assert "#   looked.learn.test" in text        # looked up only: a comment
    assert not any(n.startswith(".learned.list.") for n in os.listdir(workdir))

    # enforced: the same run works with the learned list and nothing else
    r = tapbox("--resolver", dns.addr, "-F", str(learned), "--", PY, "-c", CLIENT,
               workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ALL_OK, r.stdout + r.stderr
    assert "blocked 0 connections, 1 name" in r.stderr     # only looked.learn.test


def test_learn_with_a_base_list_records_only_what_it_denied(stub, workdir):
    # *.wild.test:9000 enforced: x.wild.test:9000 passes (a wildcard answer)
    # and is not learned; x.wild.test:9001 is blocked and learned by name;
    # a.learn.test is refused as a name; 198.18.0.10:9000 blocked by address.
    find_host("198.18.0.10")
    dns = stub({"x.wild.test": [find_host("198.18.0.21")],
                "a.learn.test": [find_host("198.18.0.20")]})
    base = workdir / "base.list"
    base.write_text("*.wild.test:9000\n")
    learned = workdir / "more.list"
    client = textwrap.dedent(r'''
        import socket
        def tcp(host, port):
            try:
                with socket.create_connection((host, port), timeout=3) as c:
                    return c.recv(100).startswith(b"msbx-testhost")
            except OSError:
                return False
        print(tcp("x.wild.test", 9000), tcp("x.wild.test", 9001),
              tcp("a.learn.test", 9000), tcp("198.18.0.10", 9000))
    ''')
    r = tapbox("--resolver", dns.addr, "-F", str(base), "--learn", str(learned),
               "--", PY, "-c", client, workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "False", "False", "False"], r.stdout + r.stderr
    assert "unrestricted" not in r.stderr
    assert entries(learned) == ["198.18.0.10:9000/tcp", "a.learn.test", "x.wild.test:9001"]
    text = learned.read_text()
    assert "denied" in text.splitlines()[3]           # the header says how it was made
    assert "port is unknown" in text
    assert base.read_text() == "*.wild.test:9000\n"    # the base is left alone


def test_learn_grows_the_list_it_enforces(stub, workdir):
    find_host("198.18.0.10")
    dns = stub({})
    lst = workdir / "grow.list"
    lst.write_text("# mine\n198.18.0.11:9000/udp\n")
    client = "import socket; socket.create_connection(('198.18.0.10', 9000), timeout=3)"
    r = tapbox("--resolver", dns.addr, "-F", str(lst), "--learn", str(lst),
               "--", PY, "-c", client, workdir=workdir)
    assert r.returncode != 0                          # blocked this time
    assert lst.read_text().startswith("# mine\n198.18.0.11:9000/udp\n\n# Allowlist written")
    assert entries(lst) == ["198.18.0.11:9000/udp", "198.18.0.10:9000/tcp"]
    r = tapbox("--resolver", dns.addr, "-F", str(lst), "--", PY, "-c", client,
               workdir=workdir)
    assert r.returncode == 0, r.stderr                # and allowed the next


def test_learn_file_cannot_be_altered_from_inside(stub, workdir):
    # the list lies in CWD, which the sandbox may write: the file is
    # read-only inside and cannot be moved away; the launcher writes it
    # after the sandbox is gone
    dns = stub({})
    learned = workdir / "learned.list"
    learned.write_text("198.18.0.99:1/tcp\n")
    r = tapbox("--resolver", dns.addr, "--learn", str(learned), "--", "/bin/sh", "-c",
               f"echo evil.example > {learned} || echo NOWRITE; "
               f"mv {learned} {learned}.x || echo NOMOVE; "
               f"rm -f {learned} || echo NORM", workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["NOWRITE", "NOMOVE", "NORM"], r.stdout + r.stderr
    assert not os.path.exists(str(learned) + ".x")
    assert entries(learned) == []                     # the run's list: nothing reached
    assert "evil" not in learned.read_text()


def test_learn_file_through_a_planted_link_is_refused(workdir, tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (workdir / "link").symlink_to(real)
    r = tapbox("--learn", str(workdir / "link" / "x.list"), "--", "true", workdir=workdir)
    assert r.returncode == 125, r.stderr
    assert "--learn" in r.stderr and "link" in r.stderr, r.stderr
    assert os.listdir(real) == []


def test_learn_is_a_tapbox_option(workdir):
    r = sandbox("--learn", str(workdir / "x"), "--", "true", cwd=workdir)
    assert r.returncode == 125
    assert "--learn" in r.stderr


def test_python_sandbox_learn(stub, workdir):
    find_host("198.18.0.10")
    learned = workdir / "py.list"
    script = textwrap.dedent(f"""
        import socket, pyminisandbox
        sb = pyminisandbox.Sandbox().learn({str(learned)!r})
        r = sb.run(["{PY}", "-c", "import socket; socket.create_connection(('198.18.0.10', 9000), timeout=5)"])
        print("rc", r.returncode)
    """)
    env = dict(os.environ, PYMINISANDBOX_LIBRARY=BUILD, PYTHONPATH=os.path.join(SRC, "python"))
    r = run([PY, "-c", script], cwd=workdir, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "rc 0" in r.stdout, r.stdout + r.stderr
    assert entries(learned) == ["198.18.0.10:9000/tcp"]


def npm_registry_host():
    """The npm registry's host, read at run time (never written in the tree)."""
    try:
        r = run(["npm", "config", "get", "registry"], timeout=60)
    except FileNotFoundError:
        pytest.skip("npm is not installed")
    url = r.stdout.strip()
    assert r.returncode == 0 and url.startswith("https://"), r.stdout + r.stderr
    return url.split("/")[2].split(":")[0]


def test_npm_install_learn_then_enforce_in_a_fresh_copy(tmp_path):
    # The acceptance run of issue 16: the npm registry is the only
    # non-local host a test may reach.
    host = npm_registry_host()
    manifest = '{"name":"t","version":"1.0.0","dependencies":{"is-number":"7.0.0"}}\n'
    first, fresh = tmp_path / "first", tmp_path / "fresh"
    for d in (first, fresh):
        d.mkdir()
        (d / "package.json").write_text(manifest)
    learned = first / "npm.list"
    npm = ["npm", "install", "--no-audit", "--no-fund", "--fetch-retries=1"]
    r = tapbox("-x", "--learn", str(learned), "--", *npm, workdir=first, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (first / "node_modules" / "is-number").is_dir()
    # the registry entry, and nothing that was not contacted
    assert entries(learned) == [f"{host}:443"], learned.read_text()

    (fresh / "npm.list").write_text(learned.read_text())
    r = tapbox("-x", "-F", str(fresh / "npm.list"), "--", *npm, workdir=fresh, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (fresh / "node_modules" / "is-number").is_dir()
    assert "denied" not in r.stderr and "blocked" not in r.stderr, r.stderr


def test_learn_with_a_base_list_records_the_name_the_gate_saw(stub, workdir):
    # alpha.msbx.test:80 enforced; an HTTP request to its address naming
    # beta.msbx.test in Host: is refused by the name gate and learned by
    # that name (testhosts.sh: HTTP on 80 of every test host)
    cdn = find_host("198.18.0.12")
    dns = stub({"alpha.msbx.test": [cdn]})
    learned = workdir / "gate.list"
    client = textwrap.dedent(r'''
        import socket
        def get(host):
            try:
                with socket.create_connection(("alpha.msbx.test", 80), timeout=5) as s:
                    s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host)
                    return s.recv(100).startswith(b"HTTP/")
            except OSError:
                return False
        print(get(b"alpha.msbx.test"), get(b"beta.msbx.test"))
    ''')
    r = tapbox("--resolver", dns.addr, "--allow", "alpha.msbx.test:80", "--learn", str(learned),
               "--", PY, "-c", client, workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "False"], r.stdout + r.stderr
    assert entries(learned) == ["beta.msbx.test:80"], learned.read_text()
