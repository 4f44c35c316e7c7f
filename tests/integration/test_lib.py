"""libminisandbox and pyminisandbox: a running program sandboxes itself.

The C scenarios live in tests/lib/lib-client.c (built by meson); the Python
ones run small scripts with Debian's /usr/bin/python3 against the build
tree's library (PYMINISANDBOX_LIBRARY) and the source tree's package.
Everything is checked from the host side: what persisted, what leaked,
which processes are left.
"""
import os
import select
import shutil
import signal
import socket
import subprocess
import textwrap
import threading
import time

import pytest

from conftest import BUILD, run

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
CLIENT = os.path.join(BUILD, "tests", "lib", "lib-client")
PY = "/usr/bin/python3"
PYENV = {"PYMINISANDBOX_LIBRARY": BUILD, "PYTHONPATH": os.path.join(SRC, "python")}


def client(*args, cwd, env=None, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    return run([CLIENT, *map(str, args)], cwd=cwd, env=e, timeout=timeout)


def report(proc):
    """The client's "key value" lines as a dict."""
    out = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        out[key] = value
    return out


def python(script, *, cwd, env=None, timeout=60, **kw):
    e = dict(os.environ)
    e.update(PYENV)
    e.update(env or {})
    return run([PY, "-c", textwrap.dedent(script)], cwd=cwd, env=e, timeout=timeout, **kw)


class TcpServer:
    """A loopback server that greets every connection with "hello"."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.sendall(b"hello\n")

    def close(self):
        self.sock.close()


@pytest.fixture
def server():
    s = TcpServer()
    yield s
    s.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- C API ---------------------------------------------------------------

def test_configuration_calls_check_their_arguments(workdir):
    """The original's convention: a failing call returns -1 (-2 for a start
    inside a sandbox, -201) and keeps its code for mini_sandbox_get_last_error_code(), which
    a later successful call does not clear."""
    r = report(client("config", cwd=workdir))

    def fails(key, code):
        assert r[key] == "%d %d" % (-2 if code == -201 else -1, code), (key, r[key])

    def ok(key):
        assert r[key].split()[0] == "0", (key, r[key])

    fails("relative", -6)
    fails("missing", -5)
    assert "/nonexistent/mini-sandbox-test" in r["missing-msg"]
    fails("workdir-missing", -5)
    fails("tmpfs-file", -3)
    assert r["ok"] == "0 -3" and r["ok-code"] == "-3"      # sticky
    fails("read-and-write", -9)
    ok("default")
    ok("default-again")
    fails("hermetic-after-default", -2)                    # a second root, as there
    fails("tmp-in-default", -11)
    ok("log")
    fails("log-again", -7)
    for key in ("bad-ipv4", "bad-subnet", "bad-domain", "bad-entry", "bad-port",
                "share-after-allow", "all-after-allow", "resolver-bad", "max-conn-bad",
                "allow-after-share"):
        fails(key, -10)
    for key in ("ipv4", "subnet-bare", "resolver", "reset", "share"):
        ok(key)
    fails("spawn-empty", -8)
    assert r["is-running"] == "0"


def test_code_after_start_is_sandboxed(workdir, tmp_path, server):
    inside = workdir / "result.txt"
    outside = tmp_path / "outside.txt"
    p = client("sandboxed", inside, outside, server.port, cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    assert r["inside"].endswith("running=1")
    assert r["write-cwd"] == "ok"
    assert inside.read_text() == "x\n"                # CWD is shared
    assert not outside.exists()                       # outside CWD: failed or vanished
    assert r["connect-host"] != "ok"                  # no network by default
    assert r["connect-gateway"] != "ok"
    assert server.accepted == 0


def test_continuation_is_not_pid1_and_exit_code_propagates(workdir):
    p = client("exit", 42, cwd=workdir)
    assert p.returncode == 42, p.stderr
    r = report(p)
    pid = int(r["inside"].split()[0].split("=")[1])
    assert pid > 1


def test_start_twice_and_configuration_after_start(workdir):
    p = client("twice", cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    for key in ("second-start", "mount-after", "allow-after", "reset-after"):
        assert r[key] == "-1 -202", (key, r[key])      # as the original: -1, code kept
    assert r["last-code"] == "-202"


def test_failed_setup_returns_in_the_caller_and_nothing_ran(workdir, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    marker = workdir / "ran-unsandboxed"
    p = client("vanishing-path", gone, marker, cwd=workdir)
    r = report(p)
    assert p.returncode == 3, (p.stdout, p.stderr)    # start() returned in the caller
    code, _, msg = r["start-failed"].partition(" ")
    assert int(code) < 0 and r["start-rc"] == "-1"       # the original's -1, code kept
    assert str(gone) in msg
    assert r["is-running"] == "0"
    assert not marker.exists()


def test_failed_setup_without_user_namespaces(workdir):
    p = run(["unshare", "-Ur", "sh", "-c",
             'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" start-only', CLIENT],
            cwd=workdir, timeout=60)
    r = report(p)
    assert p.returncode == 3, (p.stdout, p.stderr)
    code, _, msg = r["start-failed"].partition(" ")
    assert int(code) == -100
    assert "namespace" in msg.lower()
    assert r["is-running"] == "0"
    assert "inside" not in r


def test_fds_kept_and_directory_fds_closed(workdir, tmp_path):
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    (hostdir / "secret").write_text("top secret\n")
    log = tmp_path / "caller.log"
    log.write_text("")
    p = client("fds", hostdir, log, cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    assert "stderr-dup-works" in p.stderr
    assert "log-file-works" in log.read_text()
    assert r["openat-dir-read"] == "EBADF"
    assert r["openat-dir-create"] == "EBADF"
    assert r["openat-path-read"] == "EBADF"
    assert r["fchdir"] == "EBADF"
    assert sorted(os.listdir(hostdir)) == ["secret"]


def test_proc_self_mem_from_before_start_cannot_write_the_launcher(workdir):
    """/proc/self/mem opened before start() is the caller's memory, and the
    caller is the launcher, outside: the continuation must not reach it."""
    p = client("procmem", cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    assert "inside" in r, p.stdout
    assert r["mem-write"] == "EBADF"
    assert r["launcher-flag"] == "untouched"


def test_fds_of_every_kind_from_before_start_are_closed(workdir):
    p = client("fdkinds", os.environ["HOME"], cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    for kind in ("procfs", "nsfs", "eventfd", "inotify", "memfd", "pidfd"):
        assert r[kind] == "closed", (kind, p.stdout)
    assert r["file"] == "open"
    assert r["pipe"] == "open"


def test_file_opened_read_only_before_start_cannot_be_reopened_for_writing(workdir,
                                                                          tmp_path):
    """Issue 14 item 4 in library mode: Landlock applies to the continuation."""
    config = tmp_path / "app.conf"
    config.write_text("setting = 1\n")
    p = client("reopen", config, cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    assert r["reopen-write"] == "EACCES"
    assert config.read_text() == "setting = 1\n"


def test_user_namespaces_refused_unless_allowed(workdir):
    r = report(client("userns", 0, cwd=workdir))
    assert r["unshare-user"] == "EPERM"
    r = report(client("userns", 1, cwd=workdir))
    assert r["unshare-user"] == "ok"


def test_python_allow_userns(workdir):
    p = python("""
        import ctypes, pyminisandbox
        pyminisandbox.Sandbox().allow_userns().start()
        libc = ctypes.CDLL(None, use_errno=True)
        print("unshared" if libc.unshare(0x10000000) == 0 else ctypes.get_errno())
        """, cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "unshared\n"


def test_sockets_from_before_start_are_closed(workdir):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.5)
    try:
        p = client("sockets", srv.getsockname()[1], cwd=workdir)
        r = report(p)
        assert p.returncode == 0, p.stderr
        assert r["before-connect"] == "EBADF", r
        assert r["inside-connect"] in ("ECONNREFUSED", "ENETUNREACH"), r
        with pytest.raises(socket.timeout):
            srv.accept()                       # nothing from the sandbox arrived
    finally:
        srv.close()


def processes_with(token):
    """Host pids whose command line contains TOKEN."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if token.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_killing_the_outer_process_kills_the_sandbox(workdir):
    token = "msbx-lib-kill-%d" % os.getpid()
    p = subprocess.Popen([CLIENT, "wait", token], cwd=workdir, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 30)
        assert ready, "sandbox did not start"
        assert b"inside" in p.stdout.readline()
        assert p.stdout.readline() == b"ready\n"
        assert len(processes_with(token)) >= 2    # outer + pid 1 + continuation
        p.kill()
        p.wait(timeout=10)
        deadline = time.monotonic() + 10
        while processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_with(token) == []
    finally:
        p.kill()
        p.wait(timeout=10)


def test_multithreaded_caller_can_start(workdir):
    p = client("threads", 8, 5, cwd=workdir)
    assert p.returncode == 5, (p.stdout, p.stderr)
    assert report(p)["threads-inside"] == "1"


def test_threads_holding_libc_locks_do_not_hang_the_continuation(workdir):
    # Threads in malloc, stdio and setenv while start() forks.  glibc's fork
    # resets the malloc and stdio locks, not setenv's: the library's own
    # setenv(MINI_SANDBOX_INSIDE) in the continuation hung (19 of 20 runs).
    for _ in range(5):
        p = client("threads-libc", 4, cwd=workdir, timeout=30)
        r = report(p)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert r["inside"].endswith("running=1")
        assert r["marker"] == "1"


def test_threads_holding_glib_locks_do_not_hang_the_sandbox(workdir):
    # A GLib program's threads in g_strerror() while start() forks: pid 1's
    # set-up used g_strerror() too, and its lock was never free there (a
    # race: about 1 start in 20 hung here; 20 starts take about 2 s).
    for _ in range(20):
        p = client("threads-glib", 4, cwd=workdir, timeout=30)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert report(p)["inside"].endswith("running=1")


def test_fork_hooks_run_like_pthread_atfork(workdir):
    p = client("hooks", "-", cwd=workdir)
    r = report(p)
    assert p.returncode == 0, (p.stdout, p.stderr)
    # prepare in the caller, child in the continuation before start() returns
    assert r["hooks"] == "prepare@caller,child-running@other"
    assert r["hooks-after-start"] == "-1 -202"      # -1, the code kept (issue 18)


def test_fork_hooks_on_failed_start_keep_the_error(workdir):
    gone = workdir / "gone"
    gone.mkdir()
    p = client("hooks", gone, cwd=workdir)
    r = report(p)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert r["hooks"] == "prepare@caller,parent@caller"
    # the parent hook's own failing call (-6, a relative path) did not
    # replace start()'s error
    assert r["start-failed"].startswith("-5 mini_sandbox_start: -w "), r
    assert str(gone) in r["start-failed"]


def test_spawn_runs_a_command_sandboxed_and_caller_waits(workdir):
    p = client("spawn", 9, cwd=workdir)
    r = report(p)
    assert p.returncode == 0, p.stderr
    assert r["spawn-status"] == "9"
    assert "spawned-output" in p.stdout
    assert r["is-running"] == "0"


def test_nested_start_is_refused(workdir):
    # The inner client runs inside the sandbox, where the build tree may be
    # hidden (e.g. under /var/tmp): give it a copy in the shared CWD.
    shutil.copy(CLIENT, workdir / "lib-client")
    shutil.copy(os.path.join(BUILD, "src", "libminisandbox.so.0"), workdir)
    p = client("nested", workdir / "lib-client", cwd=workdir,
               env={"LD_LIBRARY_PATH": str(workdir)})
    lines = p.stdout.splitlines()
    assert "marker 1" in lines
    failed = [l for l in lines if l.startswith("start-failed")]
    assert failed and failed[0].split()[1] == "-201", (p.stdout, p.stderr)
    assert "start-rc -2" in lines                          # recoverable: -2, as there


def test_forged_marker_does_not_switch_the_sandbox_off(workdir, tmp_path):
    p = client("sandboxed", workdir / "r.txt", tmp_path / "leak.txt", free_port(),
               cwd=workdir, env={"MINI_SANDBOX_INSIDE": "1"})
    r = report(p)
    assert r["inside"].endswith("running=1"), (p.stdout, p.stderr)
    assert not (tmp_path / "leak.txt").exists()


def test_continuation_connects_at_once_every_time(workdir, server):
    """The continuation connects right after mini_sandbox_start(): tap0
    may still be being made by pid 1 when the launcher has sent NET_UP.
    The launcher watches tap0 only after the set-up report: an epoll watch
    added before the device existed never heard of a frame again (the
    guest's ARP went unanswered, EHOSTUNREACH after 3 s; ~3 runs in 100
    here).  150 starts in a row (~4 s), each must connect."""
    other = TcpServer()
    try:
        for i in range(150):
            p = client("net", server.port, other.port, cwd=workdir, timeout=30)
            r = report(p)
            assert r.get("allowed") == "ok", (i, p.stdout, p.stderr)
    finally:
        other.close()


def test_allow_host_port_enforced_like_the_cli(workdir, server):
    other = TcpServer()
    try:
        p = client("net", server.port, other.port, cwd=workdir)
        r = report(p)
        assert r.get("allowed") == "ok", (p.stdout, p.stderr)
        assert r["other"] != "ok"
        assert other.accepted == 0
    finally:
        other.close()


# ---- Python: the original's function-per-call API -------------------------

def test_python_original_api_start(workdir, tmp_path):
    outside = tmp_path / "py-outside.txt"
    p = python("""
        import os, sys
        from pyminisandbox import pyminisandbox as m
        assert m.mini_sandbox_mount_write("relative") == -1
        assert m.mini_sandbox_get_last_error_code() == -6
        assert "relative" in m.mini_sandbox_get_last_error_msg()
        assert m.mini_sandbox_setup_default() == 0
        assert m.mini_sandbox_is_running() is False
        rc = m.mini_sandbox_start()
        print("start", rc, m.mini_sandbox_is_running(), flush=True)
        open("inside.txt", "w").write("py\\n")
        try:
            open(sys.argv[1], "w").write("leak")
        except OSError:
            pass
        print("again", m.mini_sandbox_start(), m.mini_sandbox_mount_bind("/etc"),
              m.mini_sandbox_get_last_error_code())
        sys.exit(17)
        """.replace("sys.argv[1]", repr(str(outside))), cwd=workdir)
    assert p.returncode == 17, (p.stdout, p.stderr)
    assert "start 0 True" in p.stdout
    assert "again -1 -1 -202" in p.stdout
    assert (workdir / "inside.txt").read_text() == "py\n"
    assert not outside.exists()


def test_python_tapbox_module_has_the_original_names():
    p = python("""
        from pyminisandbox import pyminitapbox as t, pyminisandbox as s
        names = ["mini_sandbox_setup_default", "mini_sandbox_setup_custom",
                 "mini_sandbox_setup_hermetic", "mini_sandbox_mount_bind",
                 "mini_sandbox_mount_write", "mini_sandbox_mount_tmpfs",
                 "mini_sandbox_mount_overlay", "mini_sandbox_mount_empty_output_file",
                 "mini_sandbox_set_working_dir", "mini_sandbox_mount_parents_write",
                 "mini_sandbox_share_network", "mini_sandbox_enable_log",
                 "mini_sandbox_allow_connections", "mini_sandbox_allow_ipv4",
                 "mini_sandbox_allow_ipv4_subnet", "mini_sandbox_allow_domain",
                 "mini_sandbox_allow_all_domains", "mini_sandbox_allow_max_connections",
                 "mini_sandbox_start", "mini_sandbox_is_running",
                 "mini_sandbox_get_last_error_code", "mini_sandbox_get_last_error_msg"]
        missing = [n for n in names if not (hasattr(t, n) and hasattr(s, n))]
        assert not missing, missing
        assert t.mini_sandbox_allow_ipv4("10.0.0.256") == -1
        assert (t.mini_sandbox_get_last_error_code()
                == t.MiniSandboxErrors.ILLEGAL_NETWORK_CONFIGURATION)
        assert t.mini_sandbox_allow_ipv4("10.0.0.1") == 0
        assert t.mini_sandbox_share_network() == -1
        assert t.mini_sandbox_get_last_error_code() == -10
        print("ok")
        """, cwd="/")
    assert p.returncode == 0 and "ok" in p.stdout, p.stderr


# ---- Python: the Pythonic layer ---------------------------------------------

def test_python_sandbox_builder_start_with_threads(workdir, tmp_path):
    outside = tmp_path / "builder-leak.txt"
    p = python("""
        import os, sys, threading, time
        import pyminisandbox
        stop = False
        def spin():
            while not stop:
                time.sleep(0.001)
        for _ in range(4):
            threading.Thread(target=spin, daemon=True).start()
        try:
            pyminisandbox.Sandbox().write("/nonexistent/x")
        except pyminisandbox.SandboxError as e:
            print("error", e.code, "/nonexistent/x" in e.message)
        pyminisandbox.Sandbox().log(%r).start()
        print("inside", pyminisandbox.is_running(), threading.active_count(),
              os.environ.get("MINI_SANDBOX_INSIDE"), flush=True)
        open("b.txt", "w").write("b")
        try:
            open(%r, "w").write("leak")
        except OSError:
            pass
        sys.exit(23)
        """ % (str(tmp_path / "setup.log"), str(outside)), cwd=workdir)
    assert p.returncode == 23, (p.stdout, p.stderr)
    assert "error -5 True" in p.stdout
    assert "inside True 1 1" in p.stdout
    assert "launcher:" in (tmp_path / "setup.log").read_text()     # enable_log / -D
    assert (workdir / "b.txt").read_text() == "b"
    assert not outside.exists()


def test_python_start_with_threads_wanting_the_gil_does_not_hang(workdir):
    # Busy threads and the shortest switch interval: when the library forks,
    # a thread has asked the holder for the GIL.  If the continuation ran
    # bytecode before PyOS_AfterFork_Child, it would honour that copied
    # request, hand the GIL to nobody and wait forever (it did, every time).
    # The at-fork callback shows that the child protocol ran, before start()
    # returned, in the continuation.
    script = """
        import os, sys, threading
        import pyminisandbox
        sys.setswitchinterval(1e-6)
        def busy():
            while True:
                pass
        for _ in range(3):
            threading.Thread(target=busy, daemon=True).start()
        outer = os.getpid()
        seen = []
        os.register_at_fork(after_in_child=lambda: seen.append(os.getpid() != outer))
        pyminisandbox.Sandbox().start()
        print("inside", pyminisandbox.is_running(), threading.active_count(), seen, flush=True)
        sys.exit(23)
        """
    for _ in range(3):
        p = python(script, cwd=workdir, timeout=30)
        assert p.returncode == 23, (p.stdout, p.stderr)
        assert "inside True 1 [True]" in p.stdout


def test_python_sandbox_start_failure_raises_and_nothing_ran(workdir):
    p = run(["unshare", "-Ur", "sh", "-c",
             'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" -c "$1"', PY,
             textwrap.dedent("""
                import pyminisandbox
                try:
                    pyminisandbox.Sandbox().start()
                    print("RAN")
                except pyminisandbox.SandboxError as e:
                    print("error", e.code, pyminisandbox.is_running())
                """)],
            cwd=workdir, env={**os.environ, **PYENV}, timeout=60)
    assert "RAN" not in p.stdout
    assert "error -100 False" in p.stdout, (p.stdout, p.stderr)


def test_python_run_captures_output_and_status(workdir, tmp_path):
    p = python("""
        import subprocess, pyminisandbox
        r = pyminisandbox.run(["sh", "-c", "cat; echo out; echo err >&2; touch here; exit 3"],
                              input="from-stdin\\n", capture_output=True, text=True, timeout=60)
        print(repr(r.stdout), repr(r.stderr), r.returncode, isinstance(r, subprocess.CompletedProcess))
        try:
            pyminisandbox.run(["false"], check=True, timeout=60)
        except subprocess.CalledProcessError as e:
            print("check", e.returncode)
        try:
            pyminisandbox.run(["sleep", "30"], timeout=0.5)
        except subprocess.TimeoutExpired:
            print("timeout")
        r = pyminisandbox.run(["sh", "-c", "echo x > %s"], capture_output=True)
        print("outside-status", r.returncode)
        # Python ignores SIGPIPE; the command must not inherit that
        r = pyminisandbox.run(["grep", "SigIgn", "/proc/self/status"], stdout=subprocess.PIPE,
                              text=True, timeout=60)
        print(r.stdout.strip())
        """ % (tmp_path / "run-leak.txt"), cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert "'from-stdin\\nout\\n' 'err\\n' 3 True" in p.stdout
    assert "check 1" in p.stdout
    assert "timeout" in p.stdout
    assert (workdir / "here").exists()
    assert not (tmp_path / "run-leak.txt").exists()
    assert "SigIgn:\t0000000000000000" in p.stdout


def test_python_run_allowlist(workdir, server):
    other = TcpServer()
    try:
        p = python("""
            import pyminisandbox
            probe = "import socket,sys\\n" \\
                "def c(p):\\n" \\
                " try:\\n" \\
                "  s=socket.create_connection(('10.0.2.2',p),timeout=5); return s.recv(5).decode()\\n" \\
                " except OSError as e: return type(e).__name__\\n" \\
                "print(c(%d), c(%d))"
            r = pyminisandbox.run(["/usr/bin/python3", "-c", probe], host_ports=[%d],
                                  capture_output=True, text=True, timeout=60)
            print(r.returncode, r.stdout.strip(), r.stderr)
            """ % (server.port, other.port, server.port), cwd=workdir)
        assert p.stdout.startswith("0 hello "), (p.stdout, p.stderr)
        assert "hello" not in p.stdout.split()[2]
        assert other.accepted == 0
    finally:
        other.close()


def test_python_missing_library_raises():
    p = python("""
        import pyminisandbox
        from pyminisandbox import pyminisandbox as m
        for call in (lambda: m.mini_sandbox_setup_default(), lambda: pyminisandbox.Sandbox()):
            try:
                call()
                print("silent success")
            except pyminisandbox.LibraryNotFoundError as e:
                print("raised", e.code)
        """, cwd="/", env={"PYMINISANDBOX_LIBRARY": "/nonexistent/libminisandbox.so.0"})
    assert "silent success" not in p.stdout
    assert p.stdout.count("raised -1001") == 2, (p.stdout, p.stderr)


def test_python_package_installs_offline_with_pip(tmp_path):
    target = tmp_path / "site"
    p = run([PY, "-m", "pip", "install", "--no-index", "--no-cache-dir", "--target",
             str(target), os.path.join(SRC, "python")], timeout=120, cwd=tmp_path,
            env={**os.environ, "PIP_NO_INDEX": "1"})
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert (target / "pyminisandbox" / "pyminitapbox.py").exists()
    q = run([PY, "-c", "import pyminisandbox, pyminisandbox.pyminisandbox as m;"
             "print(pyminisandbox.__file__, m.mini_sandbox_setup_default())"],
            cwd=tmp_path, timeout=60,
            env={**os.environ, "PYTHONPATH": str(target), "PYMINISANDBOX_LIBRARY": BUILD})
    assert q.returncode == 0, q.stderr
    assert q.stdout.startswith(str(target)) and q.stdout.split()[1] == "0"


# ---- allowlist calls against the test hosts (tests/integration/testhosts.sh) ----

PROBE = textwrap.dedent("""
    import socket, time
    def probe(addr, port):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        t = time.monotonic()
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect((addr, port))
                data = s.recv(64).decode()
                return "ok" if data.startswith("msbx-testhost") else "no-banner"
        except OSError as e:
            return "%s:%.1f" % (type(e).__name__, time.monotonic() - t)
    """)


@pytest.fixture
def testhosts():
    """The netns test hosts must answer from the host, else the sandbox's
    results mean nothing: fail (never skip) with the fix."""
    try:
        with socket.create_connection(("198.18.0.10", 9000), timeout=3) as s:
            assert s.recv(13) == b"msbx-testhost"
    except OSError as e:
        pytest.fail("test hosts unreachable from the host (%s): run "
                    "tests/integration/testhosts.sh up as root" % e)


def blocked_fast(result):
    """A refused connect fails at once (reject rules), not by timing out."""
    name, _, secs = result.partition(":")
    return name in ("ConnectionRefusedError", "OSError", "PermissionError") and float(secs) < 2


def test_python_original_tapbox_calls_enforce_the_allowlist(workdir, testhosts):
    p = python(PROBE + textwrap.dedent("""
        from pyminisandbox import pyminitapbox as t
        assert t.mini_sandbox_setup_default() == 0
        assert t.mini_sandbox_allow_ipv4("198.18.0.10") == 0
        assert t.mini_sandbox_allow_ipv4_subnet("198.18.0.16/28") == 0
        assert t.mini_sandbox_start() == 0
        for host in ("198.18.0.10", "198.18.0.20", "198.18.0.11"):
            print(host, probe(host, 9000))
        """), cwd=workdir)
    r = dict(l.split(" ", 1) for l in p.stdout.splitlines())
    assert r.get("198.18.0.10") == "ok", (p.stdout, p.stderr)
    assert r["198.18.0.20"] == "ok"                       # CIDR member
    assert blocked_fast(r["198.18.0.11"]), r              # not listed


def test_python_run_allow_entries_with_ports_and_ipv6(workdir, testhosts):
    script = PROBE + textwrap.dedent("""
        for addr, port in (("198.18.0.10", 9000), ("198.18.0.10", 9001),
                           ("198.18.0.11", 9000), ("fd42:4d53:4258::10", 9000),
                           ("fd42:4d53:4258::11", 9000)):
            print("%s:%d" % (addr, port), probe(addr, port))
        """)
    p = python("""
        import sys, pyminisandbox
        r = pyminisandbox.run([sys.executable, "-c", %r], capture_output=True, text=True,
                              allow=["198.18.0.10:9000/tcp", "[fd42:4d53:4258::10]:9000"],
                              timeout=120)
        print(r.stdout, r.stderr, "status", r.returncode)
        """ % script, cwd=workdir)
    r = dict(l.split(" ", 1) for l in p.stdout.splitlines() if l.count(" ") == 1)
    assert r.get("198.18.0.10:9000") == "ok", (p.stdout, p.stderr)
    assert blocked_fast(r["198.18.0.10:9001"]), r          # same host, other port
    assert blocked_fast(r["198.18.0.11:9000"]), r
    assert r["fd42:4d53:4258::10:9000"] == "ok"
    assert blocked_fast(r["fd42:4d53:4258::11:9000"]), r


def test_host_port_alone_opens_no_other_egress(workdir, server, testhosts):
    p = python(PROBE + textwrap.dedent("""
        import pyminisandbox
        pyminisandbox.Sandbox().allow_host_port(%d).start()
        print("testhost", probe("198.18.0.10", 9000))
        """ % server.port), cwd=workdir)
    assert "testhost " in p.stdout, (p.stdout, p.stderr)
    assert blocked_fast(p.stdout.split("testhost ")[1].strip()), p.stdout


def test_signals_to_the_outer_process_reach_the_continuation(workdir):
    token = "msbx-lib-term-%d" % os.getpid()
    p = subprocess.Popen([CLIENT, "wait", token], cwd=workdir, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 30)
        assert ready, "sandbox did not start"
        assert b"inside" in p.stdout.readline()
        assert p.stdout.readline() == b"ready\n"
        p.terminate()                       # SIGTERM, forwarded to the continuation
        assert p.wait(timeout=10) == 128 + signal.SIGTERM
    finally:
        p.kill()
        p.wait(timeout=10)
