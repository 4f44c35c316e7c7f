"""Launching as root: the same isolation as for an unprivileged caller.

Root on the host maps to root of the outer user namespace, and the payload
is root of a nested one without capabilities.  Root-owned host files then
appear owned by the payload's own uid, so plain permission bits would let
it write them: the read-only binds, not ownership, must keep the host
intact.  These run in CI's second pass (tests/integration/run.sh), as root.
"""
import os
import uuid

import pytest

from conftest import sandbox
from test_allowlist import HOST_A, HOST_B, assert_refused, probe

pytestmark = pytest.mark.root


@pytest.fixture
def root_secret():
    """A file in root's real $HOME that no sandbox may show."""
    path = os.path.join(os.path.expanduser("~"), ".msbx-root-secret-" + uuid.uuid4().hex)
    with open(path, "w") as f:
        f.write("secret\n")
    yield path
    os.unlink(path)


def test_root_default_mode_keeps_host_intact(workdir, root_secret):
    assert os.getuid() == 0
    marker = "/etc/msbx-root-" + uuid.uuid4().hex
    r = sandbox("-x", "--", "sh", "-c",
                f"id -u; echo x > {marker} || echo ETC-RO; echo out > result; "
                f"cat {root_secret} 2>/dev/null || echo NO-SECRET; "
                "grep -E '^Cap(Eff|Bnd)' /proc/self/status",
                cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "0"
    assert "ETC-RO" in lines and "NO-SECRET" in lines, r.stdout
    assert "secret" not in r.stdout
    assert all(l.split()[1] == "0000000000000000" for l in lines if l.startswith("Cap")), lines
    assert not os.path.exists(marker)
    assert (workdir / "result").read_text() == "out\n"
    assert (workdir / "result").stat().st_uid == 0


def test_root_read_only_mode(workdir):
    marker = "/usr/msbx-root-" + uuid.uuid4().hex
    r = sandbox("--", "sh", "-c", f"touch {marker} 2>/dev/null || echo USR-RO; touch here",
                cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "USR-RO" in r.stdout
    assert not os.path.exists(marker)
    assert (workdir / "here").exists()


def test_root_tapbox_allowlist(workdir):
    res = probe(["-x", "--allow", f"{HOST_A}:80"], [f"{HOST_A}:80", f"{HOST_B}:80"], workdir)
    assert res[f"{HOST_A}:80"]["ok"], res
    assert_refused(res[f"{HOST_B}:80"])


def test_root_payload_cannot_flush_rules(workdir):
    r = sandbox("-x", "-R", "--allow", f"{HOST_A}:80", "--", "sh", "-c",
                "nft flush ruleset 2>&1; echo rc=$?", tapbox=True, cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "rc=0" not in r.stdout, r.stdout
