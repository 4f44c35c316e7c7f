"""Nothing a sandbox does may weaken the next run (issue 14, items 1, 2, 6).

Each attack is reproduced the way the review did it: run 1 plants or
rewrites something in a place it may write, run 2 (the same command line)
is checked from the host.  Positive controls show the intended use still
works: settings files in CWD, root's own system symlinks.

The masked-/proc tests are marked ``root``: they build the mask with
``unshare -m`` + ``mount --bind`` over /proc/keys in a private mount
namespace (as Docker and Podman do) and start the sandbox in it as the
unprivileged test user.
"""
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import textwrap
import uuid

import pytest

from conftest import SANDBOX, run, sandbox
from test_allowlist import HOST_A, HOST_B, assert_refused, probe
from test_lib import PYENV, python

HOME = os.path.expanduser("~")
TEST_USER = "msbx-test"


def sh(*args, cwd, tapbox=False, timeout=60):
    """mini-sandbox ARGS... -- sh -c SCRIPT, SCRIPT being the last arg."""
    *opts, script = args
    return sandbox(*opts, "--", "/bin/sh", "-c", script, cwd=cwd, tapbox=tapbox,
                   timeout=timeout)


@pytest.fixture
def home_marker():
    """A path in the real home that no sandbox of these tests may create."""
    p = os.path.join(HOME, "msbx-integrity-" + uuid.uuid4().hex[:8])
    yield p
    if os.path.lexists(p):
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def assert_planted_link_refused(r, link, target):
    assert r.returncode == 125, (r.returncode, r.stdout, r.stderr)
    assert link in r.stderr and target in r.stderr, r.stderr
    assert "symbolic link" in r.stderr, r.stderr


# ---- item 1: settings files the sandbox could rewrite ----------------------

def test_argfile_cannot_be_rewritten_for_the_next_run(workdir, home_marker):
    args = workdir / "build.args"
    args.write_text("-x\n")
    # Run 1: append "-w $HOME", or failing that move the file away and
    # write a new one.  Every way must fail inside.
    r = sh("@build.args", f"""
        printf -- '-w\\n%s\\n' "{HOME}" >> build.args 2>/dev/null && echo APPENDED
        mv build.args moved.args 2>/dev/null && echo MOVED
        rm -f build.args 2>/dev/null; [ -e build.args ] || echo REMOVED
        echo ok > other && echo CWD-WRITABLE
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "CWD-WRITABLE" in r.stdout                     # the rest of CWD is still writable
    for attack in ("APPENDED", "MOVED", "REMOVED"):
        assert attack not in r.stdout, r.stdout
    assert args.read_text() == "-x\n"
    assert not (workdir / "moved.args").exists()
    # Run 2, same command line: the real home stays out of reach.
    r = sh("@build.args", f"echo pwned > {home_marker} 2>/dev/null; echo RAN", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "RAN" in r.stdout
    assert not os.path.exists(home_marker)


def test_argfile_in_a_subdirectory_cannot_be_swapped(workdir):
    """The directories between CWD and the file cannot be renamed either,
    so the file cannot be moved away with its directory and replaced."""
    conf = workdir / "conf" / "sandbox"
    conf.mkdir(parents=True)
    (conf / "args").write_text("-x\n")
    r = sh("@conf/sandbox/args", """
        mv conf conf.old 2>/dev/null && echo MOVED-TOP
        mv conf/sandbox conf/other 2>/dev/null && echo MOVED-SUB
        echo new > conf/sandbox/new && echo DIR-WRITABLE
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "MOVED" not in r.stdout, r.stdout
    assert "DIR-WRITABLE" in r.stdout
    assert (conf / "args").read_text() == "-x\n"
    assert (conf / "new").read_text() == "new\n"


def test_allowlist_cannot_be_widened_for_the_next_run(workdir):
    allow = workdir / "allow.txt"
    allow.write_text(f"{HOST_A}:80\n")
    r = sh("-F", "allow.txt", """
        echo 0.0.0.0/0 >> allow.txt 2>/dev/null && echo APPENDED
        mv allow.txt x 2>/dev/null && echo MOVED
        rm -f allow.txt 2>/dev/null; [ -e allow.txt ] || echo REMOVED
        echo done
        """, cwd=workdir, tapbox=True)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout
    for attack in ("APPENDED", "MOVED", "REMOVED"):
        assert attack not in r.stdout, r.stdout
    assert allow.read_text() == f"{HOST_A}:80\n"
    # Run 2: still only the listed host.
    res = probe(["-F", "allow.txt"], [f"{HOST_A}:80", f"{HOST_B}:80"], workdir)
    assert res[f"{HOST_A}:80"]["ok"], res
    assert_refused(res[f"{HOST_B}:80"])


@pytest.mark.parametrize("opt,name,tapbox", [
    ("-D", "debug.log", False),
    ("--log", "deny.json", True),
])
def test_written_log_cannot_be_replaced_inside(workdir, home_marker, opt, name, tapbox):
    r = sh(opt, name, f"""
        rm -f {name} 2>/dev/null; ln -s {home_marker} {name} 2>/dev/null && echo PLANTED
        echo x >> {name} 2>/dev/null && echo WROTE
        echo done
        """, cwd=workdir, tapbox=tapbox)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout
    assert "PLANTED" not in r.stdout and "WROTE" not in r.stdout, r.stdout
    assert not os.path.islink(workdir / name)
    assert not os.path.lexists(home_marker)


@pytest.mark.parametrize("opt,name,tapbox", [
    ("-D", "debug.log", False),
    ("--log", "deny.json", True),
])
def test_written_log_that_is_a_symlink_is_refused(workdir, home_marker, opt, name, tapbox):
    """A link left by an older build (or planted any other way): the
    launcher, outside the sandbox, must not write through it."""
    os.symlink(home_marker, workdir / name)
    r = sh(opt, name, "echo RAN", cwd=workdir, tapbox=tapbox)
    assert_planted_link_refused(r, str(workdir / name), home_marker)
    assert "RAN" not in r.stdout
    assert not os.path.lexists(home_marker)


def test_settings_file_that_is_a_fifo_is_refused_not_waited_on(workdir):
    os.mkfifo(workdir / "debug.log")
    r = sh("-D", "debug.log", "echo RAN", cwd=workdir, timeout=20)
    assert r.returncode == 125, r.stderr
    assert "not a regular file" in r.stderr, r.stderr
    assert "RAN" not in r.stdout


def test_argfile_that_is_a_symlink_in_cwd_is_refused(workdir, tmp_path):
    real = tmp_path / "real.args"
    real.write_text("-x\n")
    os.symlink(real, workdir / "build.args")
    r = sh("@build.args", "echo RAN", cwd=workdir)
    assert_planted_link_refused(r, str(workdir / "build.args"), str(real))
    # the real path is the fix the message gives
    r = sh(f"@{real}", "echo RAN", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "RAN" in r.stdout


def test_settings_files_in_cwd_still_work(workdir):
    """Positive control: the man pages' own examples keep working."""
    (workdir / "build.args").write_text("-x\n-H\n")
    (workdir / "allow.txt").write_text(f"{HOST_A}:80\n")
    r = sh("@build.args", "-D", "debug.log", "hostname; echo out > result", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "localhost"
    assert (workdir / "result").read_text() == "out\n"
    assert (workdir / "debug.log").stat().st_size > 0
    res = probe(["-F", "allow.txt", "--log", "deny.json"], [f"{HOST_A}:80", f"{HOST_B}:80"],
                workdir)
    assert res[f"{HOST_A}:80"]["ok"], res
    assert_refused(res[f"{HOST_B}:80"])
    assert HOST_B in (workdir / "deny.json").read_text()


# ---- item 2: symlinks planted by a previous run ------------------------------

def plant_build_link(workdir):
    """Run 1 (-x, CWD writable) replaces ./build with a relative link to the
    real home, as the review did."""
    up = "../" * (len(str(workdir).strip("/").split("/")))
    target = up + HOME.strip("/")
    r = sh("-x", f"rm -rf build; ln -s {target} build && echo PLANTED", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "PLANTED" in r.stdout
    assert os.path.realpath(workdir / "build") == os.path.realpath(HOME)
    return target


@pytest.mark.parametrize("opt", ["-w", "-M", "-k", "-e", "-W"])
def test_planted_link_redirects_no_path_option(workdir, home_marker, opt):
    (workdir / "build").mkdir()
    target = plant_build_link(workdir)
    name = os.path.basename(home_marker)
    r = sh("-x", opt, str(workdir / "build"),
           f"echo pwned > {home_marker} 2>/dev/null; echo pwned > build/{name} 2>/dev/null; "
           f"ls {HOME}; echo RAN", cwd=workdir)
    assert_planted_link_refused(r, str(workdir / "build"), target)
    assert "RAN" not in r.stdout
    assert not os.path.lexists(home_marker)     # neither name reached the real home


def test_planted_link_in_the_middle_of_a_path_is_refused(workdir, tmp_path):
    real = tmp_path / "elsewhere"
    (real / "out").mkdir(parents=True)
    os.symlink(real, workdir / "link")
    r = sh("-x", "-w", str(workdir / "link" / "out"), "echo RAN", cwd=workdir)
    assert_planted_link_refused(r, str(workdir / "link"), str(real))


def test_root_owned_system_link_is_followed():
    """Positive control: a link root made in a directory only root can
    write (merged /usr: /lib -> usr/lib) was not planted by a sandbox."""
    links = [os.path.join("/", e) for e in sorted(os.listdir("/"))
             if os.path.islink(os.path.join("/", e))]
    linked_files = [(l, os.path.join(l, "os-release")) for l in links
                    if os.path.isfile(os.path.join(l, "os-release"))]
    if not linked_files:
        pytest.skip("no top-level system symlink holding os-release on this host")
    link, path = linked_files[0]
    st = os.lstat(link)
    assert st.st_uid == 0 and os.stat("/").st_uid == 0
    r = sandbox("-M", path, "--", "cat", path, cwd="/", timeout=60)
    assert r.returncode == 0, r.stderr
    with open(path) as f:
        assert r.stdout == f.read()


def test_real_directories_still_work(workdir, tmp_path):
    """Positive control: the same options on real directories."""
    out = tmp_path / "out"
    out.mkdir()
    r = sh("-x", "-w", str(out), "-W", str(workdir), f"echo ok > {out}/f && pwd", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert (out / "f").read_text() == "ok\n"


# ---- the same through the library -------------------------------------------

def test_library_mount_through_planted_link_refused(workdir, home_marker):
    (workdir / "build").mkdir()
    target = plant_build_link(workdir)
    p = python("""
        import pyminisandbox
        try:
            pyminisandbox.Sandbox().write(%r).start()
            open(%r, "w").write("pwned")
            print("RAN")
        except pyminisandbox.SandboxError as e:
            print("error", e.code, pyminisandbox.is_running())
            print(e.message)
        """ % (str(workdir / "build"), home_marker), cwd=workdir)
    assert "RAN" not in p.stdout, (p.stdout, p.stderr)
    assert "error -3 False" in p.stdout, (p.stdout, p.stderr)
    assert str(workdir / "build") in p.stdout and target in p.stdout, p.stdout
    assert not os.path.lexists(home_marker)


def test_library_settings_files_read_only_inside(workdir, home_marker):
    (workdir / "allow.txt").write_text(f"{HOST_A}:80\n")
    p = python("""
        import os, pyminisandbox
        pyminisandbox.Sandbox().log(%r).allow_file(%r).start()
        for name in ("debug.log", "allow.txt"):
            try:
                open(name, "a").write("0.0.0.0/0\\n")
                print("WROTE", name)
            except OSError as e:
                print("refused", name, e.errno)
            try:
                os.unlink(name)
                os.symlink(%r, name)
                print("PLANTED", name)
            except OSError as e:
                print("refused", name, e.errno)
        open("other", "w").write("ok")
        """ % (str(workdir / "debug.log"), str(workdir / "allow.txt"), home_marker),
        cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "WROTE" not in p.stdout and "PLANTED" not in p.stdout, p.stdout
    assert p.stdout.count("refused") == 4, p.stdout
    assert (workdir / "other").read_text() == "ok"
    assert (workdir / "allow.txt").read_text() == f"{HOST_A}:80\n"
    assert not os.path.islink(workdir / "debug.log")
    assert not os.path.lexists(home_marker)


def test_library_log_that_is_a_symlink_is_refused(workdir, home_marker):
    os.symlink(home_marker, workdir / "debug.log")
    p = python("""
        import pyminisandbox
        try:
            pyminisandbox.Sandbox().log(%r).start()
            print("RAN")
        except pyminisandbox.SandboxError as e:
            print("error", e.code)
            print(e.message)
        """ % str(workdir / "debug.log"), cwd=workdir)
    assert "RAN" not in p.stdout, (p.stdout, p.stderr)
    assert "error" in p.stdout and "symbolic link" in p.stdout, p.stdout
    assert not os.path.lexists(home_marker)


# ---- item 6: a masked /proc ---------------------------------------------------

def run_in_masked_proc(cwd, *args):
    """As root: a private mount namespace with /dev/null bound over
    /proc/keys (as container engines mask it), then mini-sandbox ARGS as the
    unprivileged test user inside it."""
    script = ('set -e; mount --make-rprivate /; mount --bind /dev/null /proc/keys; '
              'cd "$1"; shift; exec runuser -u ' + TEST_USER + ' -- env -i '
              'PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent LANG=C.UTF-8 "$@"')
    return run(["unshare", "-m", "sh", "-c", script, "sh", str(cwd), SANDBOX, *args],
               timeout=60)


def test_masked_proc_fails_closed_unprivileged(workdir):
    """The same mask built by the test user in a user namespace of its own
    (unshare -Urm), so the unprivileged pass covers it too."""
    r = run(["unshare", "-Urm", "/bin/sh", "-c",
             'mount --bind /dev/null /proc/keys && exec "$@"', "sh",
             SANDBOX, "-x", "--", "/bin/sh", "-c", "echo RAN"], cwd=workdir, timeout=60)
    assert r.returncode == 125, (r.returncode, r.stdout, r.stderr)
    assert "RAN" not in r.stdout
    assert "/proc/keys" in r.stderr and "--proc=host" in r.stderr, r.stderr


def test_library_masked_proc_fails_closed_unless_host_proc(workdir):
    script = """
        import os, sys, pyminisandbox
        sb = pyminisandbox.Sandbox()
        if sys.argv[1] == "opt-in":
            sb.host_proc()
        try:
            sb.start()
        except pyminisandbox.SandboxError as e:
            print("error", e.code, "/proc/keys" in e.message, pyminisandbox.is_running())
            sys.exit(0)
        print("inside", os.path.isdir("/proc/%d" % int(sys.argv[2])))
        """
    results = {}
    for mode in ("default", "opt-in"):
        p = run(["unshare", "-Urm", "/bin/sh", "-c",
                 'mount --bind /dev/null /proc/keys && exec "$@"', "sh",
                 "/usr/bin/python3", "-c", textwrap.dedent(script), mode, str(os.getpid())],
                cwd=workdir, env={**os.environ, **PYENV}, timeout=60)
        results[mode] = p
    assert "error -100 True False" in results["default"].stdout, results["default"]
    assert "inside" not in results["default"].stdout
    # opted in: the host's /proc, with this test's own pid in it, and a warning
    assert "inside True" in results["opt-in"].stdout, results["opt-in"]
    assert "--proc=host" in results["opt-in"].stderr, results["opt-in"].stderr


@pytest.fixture
def user_dir():
    """A directory the test user owns, for root-marked tests."""
    pw = pwd.getpwnam(TEST_USER)
    d = tempfile.mkdtemp(prefix="msbx-integrity-", dir="/tmp")
    os.chown(d, pw.pw_uid, pw.pw_gid)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.root
def test_masked_proc_fails_closed(user_dir):
    assert os.getuid() == 0
    r = run_in_masked_proc(user_dir, "-x", "--", "sh", "-c", "echo RAN; ls /proc")
    assert r.returncode == 125, (r.returncode, r.stdout, r.stderr)
    assert "RAN" not in r.stdout
    assert "/proc/keys" in r.stderr, r.stderr
    assert "--proc=host" in r.stderr and "unmasked /proc" in r.stderr, r.stderr


@pytest.mark.root
def test_masked_proc_with_explicit_host_opt_in_warns(user_dir):
    me = os.getpid()
    r = run_in_masked_proc(user_dir, "-x", "--proc=host", "--", "sh", "-c",
                           f"test -d /proc/{me} && echo HOST-PROC")
    assert r.returncode == 0, r.stderr
    assert "HOST-PROC" in r.stdout                # the host's pids: what the user opted into
    assert "warning" in r.stderr and "--proc=host" in r.stderr, r.stderr
    assert "/proc/keys" in r.stderr, r.stderr


@pytest.mark.root
def test_unmasked_proc_is_a_new_one(user_dir):
    """Positive control: the same start without the mask gets its own /proc."""
    me = os.getpid()
    script = ('cd "$1"; shift; exec runuser -u ' + TEST_USER + ' -- env -i '
              'PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent LANG=C.UTF-8 "$@"')
    r = run(["sh", "-c", script, "sh", user_dir, SANDBOX, "-x", "--proc=host", "--",
             "sh", "-c", f"test -d /proc/{me} && echo HOST-PROC; echo RAN"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert "RAN" in r.stdout and "HOST-PROC" not in r.stdout
    assert "warning" not in r.stderr, r.stderr


@pytest.mark.root
def test_root_made_link_like_var_home_is_followed(user_dir):
    """Positive control for the /home -> /var/home layout: root makes a link
    in a directory only root can write, pointing into the user's tree; the
    unprivileged user's -w through it works and writes where it points."""
    rootdir = tempfile.mkdtemp(prefix="msbx-rootlinks-", dir="/tmp")
    try:
        os.chmod(rootdir, 0o755)
        os.symlink(user_dir, os.path.join(rootdir, "home"))
        out = os.path.join(user_dir, "out")
        os.mkdir(out)
        os.chown(out, *pwd.getpwnam(TEST_USER)[2:4])
        script = ('cd "$1"; shift; exec runuser -u ' + TEST_USER + ' -- env -i '
                  'PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent LANG=C.UTF-8 "$@"')
        via = os.path.join(rootdir, "home", "out")
        r = run(["sh", "-c", script, "sh", user_dir, SANDBOX, "-x", "-w", via, "--",
                 "sh", "-c", f"echo ok > {via}/f && echo WROTE"], timeout=60)
        assert r.returncode == 0, r.stderr
        assert "WROTE" in r.stdout
        with open(os.path.join(out, "f")) as f:
            assert f.read() == "ok\n"
    finally:
        shutil.rmtree(rootdir, ignore_errors=True)
