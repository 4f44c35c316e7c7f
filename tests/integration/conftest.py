"""Shared fixtures for the integration tests.

Every test starts real sandboxes with the binaries of $MSBX_BUILD and checks
from the host side what leaked or persisted.  Tests run as an unprivileged
user (tests/integration/run.sh arranges that under CI); tests marked
``root`` run as root in a second pass.

In CI (CI=true) a skipped test is turned into a failure: a test that cannot
run here is a broken test environment, not a pass.
"""
import os
import subprocess
import pytest

BUILD = os.environ.get("MSBX_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
BUILD = os.path.abspath(BUILD)
SANDBOX = os.path.join(BUILD, "src", "mini-sandbox")
TAPBOX = os.path.join(BUILD, "src", "mini-tapbox")


def pytest_configure(config):
    config.addinivalue_line("markers", "root: launched as root (second pass in CI)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if os.environ.get("CI") == "true" and rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = "skipped under CI (a test that cannot run is a failure): %s" % (
            rep.longrepr,)


# The test hosts (testhosts.sh) live behind the veth msbx-th0.  Without it
# their addresses (198.18.0.0/24, fd42:4d53:4258::/64) would follow the
# default route out of this machine, to whatever answers there: a test that
# names them must not even start then.
TESTHOSTS_DEV = "msbx-th0"
_testhost_modules = {}


def _module_uses_testhosts(path):
    if path not in _testhost_modules:
        with open(path) as f:
            text = f.read()
        _testhost_modules[path] = "198.18." in text or "fd42:4d53:4258" in text
    return _testhost_modules[path]


def testhost_routes_missing():
    """The test hosts' networks that are not routed through msbx-th0."""
    missing = []
    with open("/proc/net/route") as f:   # Iface Destination(hex, LE) ... Mask
        v4 = [line.split() for line in f.read().splitlines()[1:]]
    # 198.18.0.0/24, little-endian hex as /proc/net/route writes it
    if not any(r[0] == TESTHOSTS_DEV and r[1] == "000012C6" and r[7] == "00FFFFFF"
               for r in v4 if len(r) > 7):
        missing.append("198.18.0.0/24")
    with open("/proc/net/ipv6_route") as f:  # dest plen src splen next metric ref use flags dev
        v6 = [line.split() for line in f.read().splitlines()]
    if not any(r[0] == "fd424d53425800000000000000000000" and r[1] == "40" and
               r[9] == TESTHOSTS_DEV for r in v6 if len(r) > 9):
        missing.append("fd42:4d53:4258::/64")
    return missing


@pytest.fixture(autouse=True)
def _testhosts_routed(request):
    """Fail, before it sends anything, a test whose module talks to the test
    hosts while they are down."""
    if _module_uses_testhosts(str(request.node.fspath)):
        missing = testhost_routes_missing()
        if missing:
            pytest.fail("the test hosts are down (%s not routed through %s): their "
                        "addresses would leave this machine; run "
                        "'tests/integration/testhosts.sh up' as root" % (
                            ", ".join(missing), TESTHOSTS_DEV))


def run(argv, *, timeout=60, check=False, **kw):
    """Run argv with a bounded wait; returns CompletedProcess (text mode)."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(argv, timeout=timeout, check=check, text=True, **kw)


def sandbox(*args, tapbox=False, **kw):
    """Run mini-sandbox (or mini-tapbox) with ARGS ("--" and the command included)."""
    return run([TAPBOX if tapbox else SANDBOX, *args], **kw)


@pytest.fixture
def workdir(tmp_path):
    """A fresh directory owned by the test user, used as the sandbox's CWD."""
    d = tmp_path / "work"
    d.mkdir()
    return d


# A stub resolver on 127.0.0.1 (stubdns.py) for --resolver: stub(RECORDS)
# starts one; every one started is closed after the test.
@pytest.fixture
def stub():
    from stubdns import StubResolver
    servers = []

    def make(records):
        s = StubResolver(records)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()
