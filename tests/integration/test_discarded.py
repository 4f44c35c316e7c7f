"""Discarded writes are reported (issue 16, part 2).

Writes that land in an overlay thrown away at exit (the project folder
above CWD in -x, -k paths, the custom root) get one line on the
launcher's stderr naming the path, the count and the size, and how to
keep them.  Private scratch (/tmp, $HOME) is expected to vanish and is
never reported.  The count is taken by the launcher after the sandbox is
gone, so it works however the payload ended.
"""
import os
import re
import shutil
import subprocess
import textwrap
import uuid

import pytest

from conftest import BUILD, sandbox, run

HOME = os.path.expanduser("~")
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))


def sh(*args, cwd, timeout=60):
    *opts, script = args
    return sandbox(*opts, "--", "/bin/sh", "-c", script, cwd=cwd, timeout=timeout)


def discarded_lines(stderr):
    return [l for l in stderr.splitlines() if "discarded" in l]


@pytest.fixture
def project():
    """~/msbx-dw-<id>/sub: the sandbox runs in sub, the project folder
    (overlaid in -x) is its parent."""
    top = os.path.join(HOME, "msbx-dw-" + uuid.uuid4().hex[:8])
    sub = os.path.join(top, "sub")
    os.makedirs(sub)
    yield top, sub
    shutil.rmtree(top, ignore_errors=True)


def test_writes_above_cwd_are_reported_with_count_and_path(project):
    top, sub = project
    r = sh("-x", """
        echo hello > ../one.txt
        mkdir -p ../pkg/lib && i=0
        while [ $i -lt 25 ]; do echo data > ../pkg/lib/f$i; i=$((i + 1)); done
        echo kept > ./in-cwd
        """, cwd=sub)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(top, "one.txt"))     # really discarded
    assert os.path.exists(os.path.join(sub, "in-cwd"))          # CWD is shared
    lines = discarded_lines(r.stderr)
    assert lines == [f"mini-sandbox: discarded 26 files (131 bytes) written under {top}: "
                     f"keep them with -w {top}"], r.stderr


def test_nothing_discarded_nothing_printed(project):
    top, sub = project
    r = sh("-x", "echo a > ./here; echo b > /tmp/t; echo c > $HOME/h; cat ../../ >/dev/null 2>&1; true",
           cwd=sub)
    assert r.returncode == 0, r.stderr
    assert discarded_lines(r.stderr) == [], r.stderr


def test_tmp_and_home_scratch_not_reported(workdir):
    # CWD under /tmp: no project overlay; /tmp and $HOME are private scratch
    r = sh("-x", "mkdir -p /tmp/x $HOME/y && touch /tmp/x/1 $HOME/y/2 /var/tmp/3", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert discarded_lines(r.stderr) == [], r.stderr


def test_reported_after_the_payload_was_killed(project):
    top, sub = project
    r = sh("-x", "echo x > ../lost; kill -KILL $$", cwd=sub)
    assert r.returncode == 128 + 9, r.stderr
    assert discarded_lines(r.stderr) == [
        f"mini-sandbox: discarded 1 file (2 bytes) written under {top}: keep them with -w {top}"
    ], r.stderr


def test_reported_after_timeout_and_sigkill_of_the_namespace(project):
    # -T 1 -t 0: SIGTERM (ignored by the payload), then SIGKILL to pid 1
    top, sub = project
    r = sh("-x", "-T", "1", "-t", "0",
           "trap '' TERM; echo x > ../lost; while :; do sleep 1; done", cwd=sub, timeout=30)
    assert r.returncode != 0
    assert any(f"written under {top}" in l for l in discarded_lines(r.stderr)), r.stderr


def test_overlay_path_k_and_custom_root(workdir, tmp_path):
    root, ovl = tmp_path / "root", tmp_path / "ovl"
    root.mkdir()
    ovl.mkdir()
    (root / "etc").mkdir()    # a ROOT with content is overlaid (an empty one is scratch)
    r = sandbox("-o", str(root), "-d", str(ovl), "-k", "/usr", "-M", "/lib", "-M", "/lib64",
                "--", "/usr/bin/sh", "-c",
                "echo x > /usr/msbx-a; echo y > /usr/msbx-b; echo z > /marker",
                cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = discarded_lines(r.stderr)
    assert "mini-sandbox: discarded 2 files (4 bytes) written under /usr: "\
           "keep them with -w /usr instead of -k" in lines, r.stderr
    # the custom root: only the payload's file, not the mount points set-up made
    assert "mini-sandbox: discarded 1 file (2 bytes) written under /: "\
           "keep them with -d DIR --keep-overlay" in lines, r.stderr
    assert len(lines) == 2, r.stderr


def test_keep_overlay_is_not_reported_as_discarded(workdir, tmp_path):
    root, ovl = tmp_path / "root", tmp_path / "ovl"
    root.mkdir()
    ovl.mkdir()
    r = sandbox("-o", str(root), "-d", str(ovl), "--keep-overlay", "-k", "/usr",
                "-M", "/lib", "-M", "/lib64", "--", "/usr/bin/sh", "-c",
                "echo kept > /usr/msbx-kept", cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert discarded_lines(r.stderr) == [], r.stderr
    assert "overlay changes kept in" in r.stderr
    subprocess.run(["chmod", "-R", "u+rwx", str(ovl)], check=False, timeout=30)


def test_library_mode_reports_on_the_launchers_stderr(project):
    top, sub = project
    script = textwrap.dedent("""
        import pyminisandbox
        pyminisandbox.Sandbox().start()
        with open("../from-lib", "w") as f:
            f.write("abc")
    """)
    env = dict(os.environ, PYMINISANDBOX_LIBRARY=BUILD, PYTHONPATH=os.path.join(SRC, "python"))
    r = run(["/usr/bin/python3", "-c", script], cwd=sub, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(top, "from-lib"))
    assert discarded_lines(r.stderr) == [
        f"mini-sandbox: discarded 1 file (3 bytes) written under {top}: keep them with -w {top}"
    ], r.stderr
