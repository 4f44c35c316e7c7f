"""Resource bounds (issue 15): a payload cannot take the host's memory, pids
or disk with it.  mini-sandbox(1) RESOURCES lists every limit.

Every test measures from the host side where it can, waits only with
bounds, and leaves no process or directory behind.
"""
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BUILD, SANDBOX, run

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
PYENV = {"PYMINISANDBOX_LIBRARY": BUILD, "PYTHONPATH": os.path.join(SRC, "python")}


def start(args, cwd, **kw):
    """mini-sandbox ARGS in the background, stdin and stdout as pipes."""
    return subprocess.Popen([SANDBOX, *args], cwd=cwd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def read_line(proc, timeout=60):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no output from the sandbox within %ss" % timeout
    return proc.stdout.readline().strip()


# --- tasks: --max-procs ------------------------------------------------------

# Forks children that block on a pipe until the payload's stdin closes, up to
# ATTEMPTS of them or the first failure; prints "<started> <errno>", then
# waits for stdin to close and reaps every child it made.
FORK_LOOP = textwrap.dedent("""
    import errno, os, sys
    attempts = int(sys.argv[1])
    r, w = os.pipe()
    kids, err = [], 0
    for _ in range(attempts):
        try:
            pid = os.fork()
        except OSError as e:
            err = e.errno
            break
        if pid == 0:
            os.close(w)
            os.read(r, 1)
            os._exit(0)
        kids.append(pid)
    print(len(kids), err, flush=True)
    sys.stdin.read()
    os.close(w)
    for pid in kids:
        os.waitpid(pid, 0)
    print("reaped", flush=True)
""")


def host_can_fork():
    return run(["/bin/true"], timeout=30).returncode == 0


@pytest.mark.parametrize("identity", [[], ["-R"]])
def test_fork_loop_stops_at_max_procs(workdir, identity):
    """A fork loop of N+50 inside --max-procs N gets EAGAIN near N while the
    host still forks; fails on a build without the cap (all N+50 start)."""
    cap = 120
    p = start(["-x", *identity, "--max-procs", str(cap), "--", PY, "-c", FORK_LOOP,
               str(cap + 50)], cwd=workdir)
    try:
        started, err = map(int, read_line(p).split())
        # Counted: pid 1, the payload, its children.
        assert cap - 10 <= started <= cap - 2, started
        assert err == 11, os.strerror(err)          # EAGAIN
        assert host_can_fork()
        out, errs = p.communicate("", timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=30)
    assert p.returncode == 0, errs
    assert out.strip() == "reaped"


def test_max_procs_default_and_not_raisable(workdir):
    """Without --max-procs the default cap (4096) is in force, and the payload,
    even as fake root (all capabilities in its own nested user namespace),
    cannot raise it."""
    script = textwrap.dedent("""
        import resource
        print(*resource.getrlimit(resource.RLIMIT_NPROC))
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (1 << 20, 1 << 20))
            print("raised")
        except (ValueError, OSError) as e:
            print("refused")
    """)
    r = run([SANDBOX, "-x", "-R", "--", PY, "-c", script], cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    soft, hard = map(int, lines[0].split())
    assert hard <= 4096 and soft == hard, lines[0]
    assert lines[1] == "refused"


def test_max_procs_bad_value(workdir):
    r = run([SANDBOX, "-x", "--max-procs", "0", "--", "true"], cwd=workdir)
    assert r.returncode == 125
    assert "--max-procs 0" in r.stderr and "4194304" in r.stderr


def test_library_max_procs(workdir):
    """pyminisandbox's Sandbox.max_procs(): the same cap from the library."""
    script = textwrap.dedent("""
        import os, pyminisandbox
        sb = pyminisandbox.Sandbox("default")
        sb.max_procs(40)
        sb.start()
        r, w = os.pipe()
        kids, err = [], 0
        for _ in range(90):
            try:
                pid = os.fork()
            except OSError as e:
                err = e.errno
                break
            if pid == 0:
                os.close(w)
                os.read(r, 1)
                os._exit(0)
            kids.append(pid)
        os.close(w)
        for pid in kids:
            os.waitpid(pid, 0)
        print(len(kids), err, flush=True)
    """)
    env = dict(os.environ)
    env.update(PYENV)
    r = run([PY, "-c", script], cwd=workdir, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    started, err = map(int, r.stdout.split())
    assert 30 <= started <= 38 and err == 11, r.stdout
