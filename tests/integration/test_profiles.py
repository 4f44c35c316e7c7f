"""Package-manager profiles (issue 17) and URL entries (issue 16), end to end.

Every profile runs against a fake configuration in a fake $HOME (below the
test user's real home, since -x hides /tmp) that points at the netns test
hosts of tests/integration/testhosts.sh (198.18.0.x); names go through a
stub DNS server (stubdns.py) passed as --resolver.  Checked from the host:
the named hosts are reachable and others refused, the settings file is
visible and read-only inside, the profile cache persists between runs and
is not the host's cache, a loopback proxy is translated, and settings that
do not parse stop the run with FILE:LINE.  The end-to-end npm install
reads the registry from the machine's npm configuration at run time.
"""
import json
import os
import shutil
import socket
import stat
import threading
import uuid

import pytest

from conftest import run, sandbox
from stubdns import StubResolver
from test_allowlist import PROBE, assert_refused

PY = "/usr/bin/python3"
HOST_A = "198.18.0.10"
HOST_B = "198.18.0.11"
HOST_C = "198.18.0.12"
REAL_HOME = os.path.expanduser("~")

# Run inside: print a few facts as JSON on the first line, then the probe.
FACTS = r"""
import json, os, sys
home = os.environ["HOME"]
f = {}
for name in sys.argv[1:]:
    p = os.path.join(home, name)
    try:
        f[name] = open(p).read()
    except OSError as e:
        f[name] = "ERR " + e.__class__.__name__
    try:
        open(p, "a").close()
        f[name + ":writable"] = True
    except OSError:
        f[name + ":writable"] = False
f["env"] = {k: v for k, v in os.environ.items()
            if k.lower().endswith("proxy") or k in ("npm_config_cache", "PIP_CACHE_DIR")}
print(json.dumps(f))
"""


@pytest.fixture
def fake():
    """A fake $HOME and a project directory below the real home."""
    top = os.path.join(REAL_HOME, "msbx-prof-" + uuid.uuid4().hex[:8])
    home = os.path.join(top, "home")
    proj = os.path.join(top, "proj")
    os.makedirs(home)
    os.makedirs(proj)
    with open(os.path.join(proj, "package.json"), "w") as f:
        f.write('{"name": "p", "version": "1.0.0"}\n')
    env = {k: v for k, v in os.environ.items()
           if not k.lower().startswith(("npm_config_", "pip_"))
           and not k.lower().endswith("_proxy")}
    env["HOME"] = home
    env.pop("VIRTUAL_ENV", None)
    env.pop("XDG_CONFIG_HOME", None)
    yield {"top": top, "home": home, "proj": proj, "env": env}
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def dns():
    s = StubResolver({"reg.msbx.test": [HOST_A], "scoped.msbx.test": [HOST_B]})
    yield s
    s.close()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def tapbox_facts(fake, args, names, targets, timeout=90):
    """mini-tapbox ARGS in the project: facts about NAMES, then probe TARGETS."""
    script = "%s -c '%s' %s && %s -c '%s' %s" % (
        PY, FACTS.replace("'", "'\\''"), " ".join(names),
        PY, PROBE.replace("'", "'\\''"), " ".join(targets))
    p = sandbox(*args, "--", "sh", "-c", script, tapbox=True, cwd=fake["proj"],
                env=fake["env"], timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.strip().splitlines()
    facts = json.loads(lines[-2])
    res = {r["spec"]: r for r in json.loads(lines[-1])}
    return facts, res, p


# --- URL entries (issue 16) ------------------------------------------------------------

def test_url_entries_mean_host_and_port(fake, tmp_path):
    lst = os.path.join(fake["top"], "allow.list")
    write(lst, "# copied from a config\nhttp://%s:8080/some/path?x=1\n" % HOST_B)
    log = os.path.join(fake["top"], "debug.log")
    _, r, _ = tapbox_facts(fake, ["-x", "-D", log, "--allow", "https://user:pw@%s:9000/x" % HOST_A,
                                  "-F", lst],
                           [], ["%s:9000" % HOST_A, "%s:443" % HOST_A, "%s:8080" % HOST_B,
                                "%s:80" % HOST_B])
    assert r["%s:9000" % HOST_A]["ok"], r
    assert r["%s:8080" % HOST_B]["ok"], r
    assert_refused(r["%s:443" % HOST_A])
    assert_refused(r["%s:80" % HOST_B])
    text = open(log).read()
    assert "path '/some/path?x=1' ignored" in text
    assert "pw" not in text.replace("path", "")


def test_url_entry_scheme_gives_the_port(fake):
    _, r, _ = tapbox_facts(fake, ["-x", "--allow", "http://%s/" % HOST_A], [],
                           ["%s:80" % HOST_A, "%s:8080" % HOST_A])
    assert r["%s:80" % HOST_A]["ok"], r
    assert_refused(r["%s:8080" % HOST_A])
    p = sandbox("--allow", "ftp://%s/" % HOST_A, "--", "true", tapbox=True, cwd=fake["proj"])
    assert p.returncode == 125
    assert "unknown URL scheme 'ftp'" in p.stderr


# --- npm ----------------------------------------------------------------------------------

NPMRC = """; test registry on the netns test hosts
registry = http://reg.msbx.test:8080/
@corp:registry="http://scoped.msbx.test/"
//reg.msbx.test:8080/:_authToken=${FAKE_TOKEN}
"""


def test_npm_profile_allows_its_registries_only(fake, dns):
    write(os.path.join(fake["home"], ".npmrc"), NPMRC)
    fake["env"]["FAKE_TOKEN"] = "tok-123"
    facts, r, _ = tapbox_facts(
        fake, ["-x", "--resolver", dns.addr, "--profile", "npm"], [".npmrc"],
        ["reg.msbx.test:8080", "scoped.msbx.test:80", "%s:80" % HOST_A, "%s:8080" % HOST_C])
    assert r["reg.msbx.test:8080"]["ok"], r
    assert r["scoped.msbx.test:80"]["ok"], r     # the scoped registry
    assert_refused(r["%s:80" % HOST_A])          # the registry host, another port
    assert_refused(r["%s:8080" % HOST_C])        # not named anywhere
    # the settings file is visible inside (tokens and all) and read-only
    assert facts[".npmrc"] == NPMRC
    assert facts[".npmrc:writable"] is False
    with open(os.path.join(fake["home"], ".npmrc")) as f:
        assert f.read() == NPMRC


def test_npm_project_npmrc_and_profile_line_in_allowlist(fake, dns):
    # npm reads the .npmrc of the project root (where package.json is)
    sub = os.path.join(fake["proj"], "src")
    os.makedirs(sub)
    write(os.path.join(fake["proj"], ".npmrc"), "registry=http://%s:9000/\n" % HOST_C)
    lst = os.path.join(fake["top"], "allow.list")
    write(lst, "profile npm\n")
    script = "%s -c '%s' %s:9000 %s:9001" % (PY, PROBE.replace("'", "'\\''"), HOST_C, HOST_C)
    p = sandbox("-x", "-F", lst, "--", "sh", "-c", script, tapbox=True, cwd=sub,
                env=fake["env"], timeout=90)
    assert p.returncode == 0, p.stderr
    r = {x["spec"]: x for x in json.loads(p.stdout.strip().splitlines()[-1])}
    assert r["%s:9000" % HOST_C]["ok"], r
    assert_refused(r["%s:9001" % HOST_C])
    # in the project root (CWD, writable in -x) its .npmrc is bound read-only
    p = sandbox("-x", "-F", lst, "--", "sh", "-c", "echo x >> .npmrc", tapbox=True,
                cwd=fake["proj"], env=fake["env"])
    assert p.returncode != 0
    assert "Read-only file system" in p.stderr
    assert open(os.path.join(fake["proj"], ".npmrc")).read() == \
        "registry=http://%s:9000/\n" % HOST_C


def test_print_profile_and_errors(fake):
    write(os.path.join(fake["home"], ".npmrc"),
          "fund=false\nregistry=http://%s:8080/npm/\n" % HOST_A)
    p = sandbox("--print-profile", "npm", tapbox=True, cwd=fake["proj"], env=fake["env"])
    assert p.returncode == 0, p.stderr
    npmrc = os.path.join(fake["home"], ".npmrc")
    assert "%s:8080  # %s:2" % (HOST_A, npmrc) in p.stdout
    assert npmrc in p.stdout
    # unknown profile: 125, listing the known ones
    for args in (["--print-profile", "cpan"], ["--profile", "cpan", "--", "true"]):
        p = sandbox(*args, tapbox=True, cwd=fake["proj"], env=fake["env"])
        assert p.returncode == 125
        assert "npm, pip, apt, git, go, cargo" in p.stderr
    # a settings file that does not parse: 125 naming FILE:LINE, nothing runs
    marker = os.path.join(fake["proj"], "ran")
    write(npmrc, "fund=false\nregistry=${UNSET_VAR_FOR_TEST}\n")
    p = sandbox("-x", "--profile", "npm", "--", "touch", marker, tapbox=True,
                cwd=fake["proj"], env=fake["env"])
    assert p.returncode == 125
    assert "%s:2:" % npmrc in p.stderr
    assert not os.path.exists(marker)


def test_planted_npmrc_link_is_not_followed(fake):
    """A sandbox that could write $HOME plants ~/.npmrc -> a secret; the next
    --profile npm run must not read it, nor bind it inside."""
    secret = os.path.join(fake["top"], "id_secret")
    write(secret, "registry=http://%s/\nSECRET-KEY\n" % HOST_A)
    os.symlink(secret, os.path.join(fake["home"], ".npmrc"))
    marker = os.path.join(fake["proj"], "ran")
    p = sandbox("-x", "--profile", "npm", "--", "sh", "-c", "cat ~/.npmrc; touch ran",
                tapbox=True, cwd=fake["proj"], env=fake["env"])
    assert p.returncode == 125, p.stdout + p.stderr
    assert "symbolic link" in p.stderr
    assert "SECRET-KEY" not in p.stdout
    assert not os.path.exists(marker)


# --- the cache --------------------------------------------------------------------------

def test_profile_cache_persists_and_is_not_the_hosts(fake):
    host_cache = os.path.join(fake["home"], ".npm")
    write(os.path.join(host_cache, "host-only"), "host\n")
    script = ('test -n "$npm_config_cache" && cat "$npm_config_cache/marker" 2>/dev/null; '
              'echo run >> "$npm_config_cache/marker"; echo "$npm_config_cache"; '
              'ls ~/.npm 2>&1 | head -1')
    outs = []
    for _ in range(2):
        p = sandbox("-x", "--allow", "%s:80" % HOST_A, "--profile", "npm", "--profile-cache",
                    "--", "sh", "-c", script, tapbox=True, cwd=fake["proj"], env=fake["env"])
        assert p.returncode == 0, p.stderr
        outs.append(p.stdout.splitlines())
    cache = os.path.join(fake["home"], ".cache", "mini-sandbox", "npm")
    assert outs[0][0] == cache, outs            # first run: nothing cached yet
    assert outs[1][:2] == ["run", cache], outs  # second run saw the first's write
    assert "No such file" in outs[1][2]         # the host's own cache is invisible
    assert open(os.path.join(cache, "marker")).read() == "run\nrun\n"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert os.listdir(host_cache) == ["host-only"]


def test_planted_cache_link_is_refused(fake):
    """~/.cache/mini-sandbox planted as a link to another directory must not
    become a writable bind of that directory."""
    target = os.path.join(fake["top"], "precious")
    os.makedirs(target)
    os.makedirs(os.path.join(fake["home"], ".cache"))
    os.symlink(target, os.path.join(fake["home"], ".cache", "mini-sandbox"))
    p = sandbox("-x", "--profile", "npm", "--profile-cache", "--", "sh", "-c",
                'touch "$npm_config_cache/x"', tapbox=True, cwd=fake["proj"], env=fake["env"])
    assert p.returncode == 125, p.stderr
    assert "symbolic link" in p.stderr
    assert os.listdir(target) == []


# --- proxies ----------------------------------------------------------------------------

def test_loopback_proxy_is_translated(fake):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(30)
    port = srv.getsockname()[1]

    def serve():
        try:
            c, _ = srv.accept()
            c.settimeout(10)
            c.recv(4096)
            c.sendall(b"proxy-here\n")
            c.close()
        except OSError:
            pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    fake["env"]["HTTPS_PROXY"] = "http://127.0.0.1:%d" % port
    try:
        facts, r, p = tapbox_facts(fake, ["-x", "--profile", "npm"], [],
                                   ["10.0.2.2:%d" % port])
    finally:
        srv.close()
        t.join(timeout=5)
    assert facts["env"]["HTTPS_PROXY"] == "http://10.0.2.2:%d" % port
    assert r["10.0.2.2:%d" % port]["ok"], r
    assert "proxy-here" in r["10.0.2.2:%d" % port]["data"]
    assert p.stderr.count("the proxy decides what is reachable") == 1


# --- pip, git -----------------------------------------------------------------------------

def test_pip_profile(fake):
    write(os.path.join(fake["home"], ".config", "pip", "pip.conf"),
          "# fake index\n[global]\nindex-url = http://%s:8080/simple\n"
          "extra-index-url =\n    http://%s:9000/extra\n" % (HOST_A, HOST_B))
    facts, r, _ = tapbox_facts(
        fake, ["-x", "--profile", "pip"], [".config/pip/pip.conf"],
        ["%s:8080" % HOST_A, "%s:9000" % HOST_B, "%s:80" % HOST_A, "%s:8080" % HOST_C])
    assert r["%s:8080" % HOST_A]["ok"], r
    assert r["%s:9000" % HOST_B]["ok"], r
    assert_refused(r["%s:80" % HOST_A])
    assert_refused(r["%s:8080" % HOST_C])
    assert "index-url" in facts[".config/pip/pip.conf"]
    assert facts[".config/pip/pip.conf:writable"] is False


@pytest.mark.skipif(not shutil.which("git"), reason="git is not installed")
def test_git_profile(fake):
    p = run(["git", "init", "-q", fake["proj"]], env=fake["env"])
    assert p.returncode == 0, p.stderr
    p = run(["git", "-C", fake["proj"], "remote", "add", "origin",
             "http://%s:8080/r.git" % HOST_B], env=fake["env"])
    assert p.returncode == 0, p.stderr
    _, r, _ = tapbox_facts(fake, ["-x", "--profile", "git"], [],
                           ["%s:8080" % HOST_B, "%s:80" % HOST_B])
    assert r["%s:8080" % HOST_B]["ok"], r
    assert_refused(r["%s:80" % HOST_B])


# --- library: Sandbox().profile() -------------------------------------------------------

def test_python_sandbox_profile(fake):
    from test_lib import python
    write(os.path.join(fake["home"], ".npmrc"), "registry=http://%s:8080/\n" % HOST_A)
    script = """
        import json, socket, pyminisandbox
        pyminisandbox.Sandbox().profile("npm").start()
        res = []
        for port in (8080, 80):
            try:
                socket.create_connection(("%s", port), timeout=5).close()
                res.append("ok")
            except OSError as e:
                res.append(e.__class__.__name__)
        print(json.dumps(res))
    """ % HOST_A
    p = python(script, cwd=fake["proj"], env=fake["env"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == ["ok", "ConnectionRefusedError"]
    p = python("import pyminisandbox\npyminisandbox.Sandbox().profile('cpan')\n",
               cwd=fake["proj"], env=fake["env"])
    assert p.returncode != 0
    assert "unknown profile" in p.stderr and "npm, pip, apt, git, go, cargo" in p.stderr
    # the original's function-per-call API: an error code, no exception
    p = python("from pyminisandbox import pyminitapbox as t\n"
               "print(t.mini_sandbox_allow_profile('cpan'), t.mini_sandbox_allow_profile('npm'))\n",
               cwd=fake["proj"], env=fake["env"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["-8", "0"]


# --- end to end: npm install with nothing but the npm profile ------------------------

@pytest.mark.skipif(not shutil.which("npm"), reason="npm is not installed")
def test_npm_install_with_only_the_npm_profile(workdir):
    """The machine's own npm configuration (read at run time, never written
    here) is all mini-tapbox gets: --profile npm and nothing else."""
    script = r"""
set -e
export npm_config_update_notifier=false
npm install --no-audit --no-fund is-number >npm.log 2>&1 || { cat npm.log; exit 3; }
test -f node_modules/is-number/package.json
"""
    p = sandbox("-x", "--profile", "npm", "--profile-cache", "--", "sh", "-c", script,
                tapbox=True, cwd=workdir, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (workdir / "node_modules" / "is-number" / "package.json").exists()


# --- go, cargo ------------------------------------------------------------------------

def test_go_profile(fake):
    write(os.path.join(fake["home"], ".config", "go", "env"),
          "GOPROXY=http://%s:8080/mod,direct\nGOSUMDB=off\n" % HOST_A)
    facts, r, p = tapbox_facts(fake, ["-x", "--profile", "go"], [".config/go/env"],
                               ["%s:8080" % HOST_A, "%s:80" % HOST_A])
    assert r["%s:8080" % HOST_A]["ok"], r
    assert_refused(r["%s:80" % HOST_A])
    assert facts[".config/go/env:writable"] is False
    # the environment wins over the go env file
    fake["env"]["GOPROXY"] = "http://%s:9000" % HOST_B
    _, r, _ = tapbox_facts(fake, ["-x", "--profile", "go"], [],
                           ["%s:9000" % HOST_B, "%s:8080" % HOST_A])
    assert r["%s:9000" % HOST_B]["ok"], r
    assert_refused(r["%s:8080" % HOST_A])


def test_cargo_profile(fake, dns):
    write(os.path.join(fake["home"], ".cargo", "config.toml"),
          '[source.crates-io]\nreplace-with = "local"\n'
          '[source.local]\nregistry = "sparse+http://reg.msbx.test:8080/index/"\n')
    write(os.path.join(fake["proj"], ".cargo", "config.toml"),
          "[registries]\nteam = { index = 'http://%s:9000/' }\n" % HOST_C)
    facts, r, _ = tapbox_facts(fake, ["-x", "--resolver", dns.addr, "--profile", "cargo"],
                               [".cargo/config.toml"],
                               ["reg.msbx.test:8080", "%s:9000" % HOST_C, "%s:80" % HOST_C])
    assert r["reg.msbx.test:8080"]["ok"], r
    assert r["%s:9000" % HOST_C]["ok"], r
    assert_refused(r["%s:80" % HOST_C])
    assert "replace-with" in facts[".cargo/config.toml"]
    assert facts[".cargo/config.toml:writable"] is False
    write(os.path.join(fake["proj"], ".cargo", "config.toml"), "[registries\n")
    p = sandbox("-x", "--profile", "cargo", "--", "true", tapbox=True, cwd=fake["proj"],
                env=fake["env"])
    assert p.returncode == 125
    assert "%s:1:" % os.path.join(fake["proj"], ".cargo", "config.toml") in p.stderr
