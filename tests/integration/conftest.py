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
