"""Resource bounds (issue 15): a payload cannot take the host's memory, pids
or disk with it.  mini-sandbox(1) RESOURCES lists every limit.

Every test measures from the host side where it can, waits only with
bounds, and leaves no process or directory behind.
"""
import fcntl
import os
import select
import signal
import subprocess
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


def read_lines(proc, n, timeout=60):
    """The next N lines of PROC's stdout, or fail after TIMEOUT seconds.
    Unbuffered (os.read): select() on a buffered reader misses lines that
    already sit in its buffer.  Every payload here waits after its last
    line, so nothing past line N is lost."""
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < n:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        assert ready, "no output from the sandbox within %ss (got %r)" % (timeout, data)
        chunk = os.read(fd, 65536)
        assert chunk, "the sandbox closed its output early (got %r)" % data
        data += chunk
    return [line.strip() for line in data.decode().split("\n")[:n]]


def read_line(proc, timeout=60):
    return read_lines(proc, 1, timeout)[0]


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


@pytest.mark.root
def test_max_procs_refused_as_root(workdir):
    """The kernel does not apply RLIMIT_NPROC to the host's root: an explicit
    --max-procs is refused (125) rather than silently not enforced; without
    it root's sandboxes still run."""
    r = run([SANDBOX, "-x", "--max-procs", "50", "--", "/bin/echo", "RAN"], cwd=workdir)
    assert r.returncode == 125, r.stderr
    assert "RAN" not in r.stdout
    assert "--max-procs 50 cannot be enforced" in r.stderr and "unprivileged" in r.stderr
    r = run([SANDBOX, "-x", "--", "/bin/echo", "RAN"], cwd=workdir)
    assert r.returncode == 0 and r.stdout == "RAN\n", r.stderr


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


def test_library_run_max_procs(workdir):
    """pyminisandbox.run(..., max_procs=N): the cap for a command it runs."""
    script = textwrap.dedent("""
        import pyminisandbox, sys
        r = pyminisandbox.run([sys.argv[1], "-c", sys.argv[2], "90"], max_procs=40,
                              input="", capture_output=True, text=True, timeout=60)
        print(r.returncode, r.stdout.split("\\n")[0])
    """)
    env = dict(os.environ)
    env.update(PYENV)
    r = run([PY, "-c", script, PY, FORK_LOOP], cwd=workdir, env=env, timeout=90)
    assert r.returncode == 0, r.stderr
    rc, started, err = map(int, r.stdout.split())
    assert rc == 0 and 30 <= started <= 38 and err == 11, r.stdout


# --- memory: one budget for every scratch filesystem -------------------------

MiB = 1 << 20

# Writes zeros into a new file in every directory given, in turn, 1 MiB at a
# time, up to CAP bytes each (so a build without the shared budget fails
# the test instead of filling the host's memory); prints "<dir> <bytes>
# <errno>" per directory.  The files stay: they all hold memory at once.
FILL = textwrap.dedent("""
    import os, sys
    cap = int(sys.argv[1])
    chunk = b"\\0" * (1 << 20)
    for d in sys.argv[2:]:
        written, err = 0, 0
        try:
            fd = os.open(os.path.join(d, "fill"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            print(d, 0, e.errno, flush=True)
            continue
        try:
            while written < cap:
                written += os.write(fd, chunk)
        except OSError as e:
            err = e.errno
        os.close(fd)
        print(d, written, err, flush=True)
    if os.environ.get("FILL_HOLD"):
        print("HOLD", flush=True)
        sys.stdin.read()
""")


def sandbox_pid1(launcher):
    """Host pid of the sandbox's pid 1: the launcher's child."""
    with open("/proc/%d/task/%d/children" % (launcher.pid, launcher.pid)) as f:
        return int(f.read().split()[0])


def used_bytes(path):
    s = os.statvfs(path)
    return (s.f_blocks - s.f_bfree) * s.f_frsize


def test_all_scratch_shares_one_budget(workdir):
    """With --tmpfs-size 32m, /tmp, /var/tmp, /dev/shm, /run, $HOME, /dev, an
    -e dir, an -k overlay and the new root together hold at most 32 MiB and
    the payload gets ENOSPC; the host sees the same through the sandbox's
    root (statvfs of /proc/PID/root/...).  The old build gave each its own 32 MiB and /dev
    no limit at all (each capped at 48 MiB here: the old build fails)."""
    edir = workdir / "edir"
    kdir = workdir / "kdir"
    edir.mkdir()
    kdir.mkdir()
    dirs = ["/tmp", "/var/tmp", "/dev/shm", "/run", os.environ.get("HOME", "/home/msbx-test"),
            "/dev", str(edir), str(kdir), "/"]
    p = start(["-x", "--tmpfs-size", "32m", "-e", str(edir), "-k", str(kdir), "--",
               "/usr/bin/env", "FILL_HOLD=1", PY, "-c", FILL, str(48 * MiB), *dirs], cwd=workdir)
    try:
        *rows, hold = read_lines(p, len(dirs) + 1)
        rows = [row.split() for row in rows]
        assert hold == "HOLD", hold
        # From the host, while the payload holds every file: the kernel's
        # own count of what the sandbox's writable memory holds.
        root = "/proc/%d/root" % sandbox_pid1(p)
        held = {used_bytes(root + d) for d in ("/", "/tmp", "/dev/shm")}
        dev = used_bytes(root + "/dev")
        out, errs = p.communicate("", timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=30)
    assert p.returncode == 0, errs
    assert [row[0] for row in rows] == dirs, rows
    total = sum(int(row[1]) for row in rows)
    errs = {int(row[2]) for row in rows}
    assert total <= 32 * MiB + MiB, rows
    assert total >= 24 * MiB, rows               # the budget is really usable
    # ENOSPC, nothing else; EACCES only where Landlock allows no new files
    # at all (/dev and the root tmpfs, mini-sandbox(1) SECURITY)
    assert all(int(row[2]) in ((13, 28) if row[0] in ("/dev", "/") else (0, 28))
               for row in rows), rows
    assert 28 in errs, rows
    assert len(held) == 1, held                 # one file system
    assert 24 * MiB <= min(held) <= 32 * MiB and dev <= 64 * 1024, (held, dev)
    # Nothing written on the host through the -e dir or the overlay.
    assert list(edir.iterdir()) == [] and list(kdir.iterdir()) == []


def test_dev_is_tiny(workdir):
    """/dev holds device nodes, not data: a few pages at most, even with the
    default budget."""
    r = run([SANDBOX, "-x", "--", PY, "-c", FILL, str(16 * MiB), "/dev"], cwd=workdir,
            timeout=60)
    assert r.returncode == 0, r.stderr
    _, written, err = r.stdout.split()
    # ENOSPC at the size limit, or EACCES where Landlock lets nothing new
    # be created in /dev; the size itself holds either way:
    assert int(written) <= 64 * 1024 and int(err) in (13, 28), r.stdout
    r = run([SANDBOX, "-x", "--", PY, "-c",
             'import os; s = os.statvfs("/dev"); print(s.f_blocks * s.f_frsize)'],
            cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert 0 < int(r.stdout) <= 64 * 1024, r.stdout


def test_default_budget_is_a_quarter_of_memory(workdir):
    """Without --tmpfs-size the budget is MemTotal / 4: df of /tmp shows it
    (and /var/tmp shows the same file system)."""
    with open("/proc/meminfo") as f:
        mem_total = int(f.readline().split()[1]) * 1024
    script = ('import os\n'
              'for d in ("/tmp", "/var/tmp", "/dev/shm"):\n'
              '    s = os.statvfs(d)\n'
              '    print(s.f_blocks * s.f_frsize, s.f_fsid)\n')
    r = run([SANDBOX, "-x", "--", PY, "-c", script], cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()]
    size = int(rows[0][0])
    assert abs(size - mem_total // 4) <= 1 << 20, (size, mem_total)
    assert len({row[1] for row in rows}) == 1, r.stdout    # one file system


# --- disk: -d run directories after SIGKILL ----------------------------------

def wait_lock_free(lock, timeout=20):
    """Bounded wait until nobody holds LOCK (the killed sandbox is gone)."""
    deadline = time.monotonic() + timeout
    if not os.path.exists(lock):
        return          # a build without run-directory locks: nothing to wait for
    with open(lock) as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                assert time.monotonic() < deadline, "%s still locked after %ss" % (lock, timeout)
                time.sleep(0.05)


def run_dirs(d):
    return sorted(n for n in os.listdir(d) if n.startswith("mini-sandbox-"))


def test_stale_run_dirs_removed_after_sigkill(workdir, tmp_path):
    """A launcher killed with SIGKILL leaves its -d run directory; the next
    run with the same -d removes it (and says so in -D), keeps the one of a
    sandbox still running, and touches nothing it does not recognise."""
    root, ovl = tmp_path / "root", tmp_path / "ovl"
    root.mkdir()
    ovl.mkdir()
    base = ["-o", str(root), "-d", str(ovl), "-k", "/usr", "-M", "/lib", "-M", "/lib64"]
    hold = ["--", "/usr/bin/sh", "-c", "echo x > /usr/msbx-run && echo READY && exec cat"]

    # Things that look like run directories but are not ours to remove.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "launcher.lock").write_text("")
    (elsewhere / "precious").write_text("keep\n")
    os.symlink(elsewhere, ovl / "mini-sandbox-Symlnk")
    for name in ("mini-sandbox-nolock", "mini-sandbox-toolongname"):
        (ovl / name).mkdir()
    (ovl / "mini-sandbox-toolongname" / "launcher.lock").write_text("")
    decoys = ["mini-sandbox-Symlnk", "mini-sandbox-nolock", "mini-sandbox-toolongname"]

    killed = start(base + hold, cwd=workdir)
    running = None
    try:
        assert read_line(killed) == "READY"
        (killed_dir,) = set(run_dirs(ovl)) - set(decoys)
        running = start(base + hold, cwd=workdir)
        assert read_line(running) == "READY"
        (running_dir,) = set(run_dirs(ovl)) - set(decoys) - {killed_dir}

        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        wait_lock_free(ovl / killed_dir / "launcher.lock")
        assert killed_dir in run_dirs(ovl)          # left behind, as before

        log = tmp_path / "debug.log"
        r = run([SANDBOX, *base, "-D", str(log), "--", "/usr/bin/true"], cwd=workdir, timeout=60)
        assert r.returncode == 0, r.stderr
        assert sorted(run_dirs(ovl)) == sorted(decoys + [running_dir])
        text = log.read_text()
        assert "removing %s" % (ovl / killed_dir) in text, text
        assert running_dir not in text
        assert (elsewhere / "precious").read_text() == "keep\n"
        assert (elsewhere / "launcher.lock").exists()
        # The running one ends normally and removes its own directory.
        running.communicate("", timeout=60)
        assert running.returncode == 0
        assert run_dirs(ovl) == sorted(decoys)
    finally:
        for p in (killed, running):
            if p and p.poll() is None:
                p.kill()
                p.communicate(timeout=30)
    subprocess.run(["chmod", "-R", "u+rwx", str(ovl)], check=False, timeout=30)
