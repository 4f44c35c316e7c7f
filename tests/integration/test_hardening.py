"""Integrity hardening (issue 14 items 3, 4, 5, 7): nothing a sandbox does
may weaken the next run or reach the host.

Each test reproduces an attack of the review and shows that it fails now,
next to the positive control (the intended use still works).  Checked from
the host side where it can be.  The library's fd closing (item 3) is tested
in test_lib.py (procmem, fdkinds) and tests/lib/test-api.c.
"""
import ctypes
import errno
import os
import socket
import uuid

import pytest

from conftest import SANDBOX, run, sandbox


# --- item 7: nested user namespaces ------------------------------------------

def test_new_user_namespace_is_refused_inside(workdir):
    r = sandbox("-x", "--", "unshare", "-U", "true", cwd=workdir)
    assert r.returncode != 0, r.stdout
    assert "Operation not permitted" in r.stderr


def test_nft_through_a_nested_user_namespace_is_refused_in_tapbox(workdir):
    """The attack: unshare -Urn nft reaches the whole nf_tables API."""
    r = sandbox("-x", "--", "unshare", "-Urn", "/usr/sbin/nft", "add", "table", "inet", "pwned",
                tapbox=True, cwd=workdir)
    assert r.returncode != 0, r.stdout
    assert "Operation not permitted" in r.stderr


def test_clone3_fails_with_enosys_and_threads_still_work(workdir):
    """clone3's flags are out of seccomp's reach: ENOSYS, and libc falls
    back to clone for threads and subprocesses."""
    script = (
        "import ctypes, errno, os, subprocess, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "r = libc.syscall(435, None, 0)\n"
        "print('clone3', errno.errorcode.get(ctypes.get_errno(), r))\n"
        "t = threading.Thread(target=lambda: print('thread ok')); t.start(); t.join()\n"
        "print(subprocess.run(['echo', 'spawn ok'], capture_output=True, text=True).stdout.strip())\n"
    )
    r = sandbox("-x", "--", "/usr/bin/python3", "-c", script, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["clone3 ENOSYS", "thread ok", "spawn ok"]


def test_nested_mini_sandbox_needs_allow_userns(workdir):
    # The build may sit under /var/tmp (CI stages it there), which -x
    # replaces with a private scratch: bind it in read-only.
    bindir = ("-M", os.path.dirname(SANDBOX))
    r = sandbox("-x", *bindir, "--", SANDBOX, "-x", "--", "true", cwd=workdir)
    assert r.returncode == 125
    assert "--allow-userns" in r.stderr
    # The outer sandbox masks parts of its /proc (/proc/sys read-only), so
    # the kernel refuses the inner one a new procfs: it takes the outer's.
    r = sandbox("-x", *bindir, "--allow-userns", "--", SANDBOX, "-x", "--proc=host", "--",
                "echo", "nested", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "nested\n"


def test_allow_userns_lets_a_nested_namespace_be_created(workdir):
    r = sandbox("-x", "--allow-userns", "--", "unshare", "-Ur", "id", "-u", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


def test_allow_userns_in_tapbox_positive_control(workdir):
    r = sandbox("-x", "--allow-userns", "--", "unshare", "-Urn", "/usr/sbin/nft", "add", "table",
                "inet", "mine", tapbox=True, cwd=workdir)
    assert r.returncode == 0, r.stderr


# --- item 4: Landlock ----------------------------------------------------------

def landlock_abi():
    """The kernel's Landlock ABI, 0 without Landlock."""
    libc = ctypes.CDLL(None, use_errno=True)
    return max(libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)), 0)


@pytest.fixture
def secret_input(tmp_path):
    """~/secret/input.txt: a file in a directory the sandbox does not show."""
    d = tmp_path / "secret"
    d.mkdir()
    f = d / "input.txt"
    f.write_text("original\n")
    return f


def require_landlock():
    if landlock_abi() < 1:
        pytest.skip("the kernel has no Landlock")   # a failure under CI=true


def test_read_only_stdin_cannot_be_reopened_for_writing(workdir, secret_input):
    """The attack: echo PWNED > /proc/self/fd/0 < ~/secret/input.txt."""
    require_landlock()
    with open(secret_input) as stdin:
        r = sandbox("-x", "--", "sh", "-c", "echo PWNED > /proc/self/fd/0", stdin=stdin,
                    cwd=workdir)
    assert r.returncode != 0
    assert "Permission denied" in r.stderr
    assert secret_input.read_text() == "original\n"


def test_read_only_stdin_in_read_only_mode_and_through_dev_stdin(workdir, secret_input):
    require_landlock()
    with open(secret_input) as stdin:
        r = sandbox("--", "sh", "-c", "echo PWNED > /dev/stdin; echo PWNED >> /dev/fd/0",
                    stdin=stdin, cwd=workdir)
    assert r.stderr.count("Permission denied") == 2, r.stderr
    assert secret_input.read_text() == "original\n"


def test_writable_places_stay_writable(workdir, tmp_path):
    """Positive control: CWD, -w (directory and file), /tmp, $HOME scratch,
    /dev/shm, /dev/null, an overlay, and stdout/stderr by name."""
    require_landlock()
    outdir = tmp_path / "out"
    outdir.mkdir()
    outfile = tmp_path / "single.txt"
    outfile.write_text("")
    errlog = tmp_path / "err.txt"
    script = f"""
        set -e
        echo cwd > here; mkdir d; mv here d/moved; rm -r d
        echo w > {outdir}/made; ln -s made {outdir}/link
        echo f > {outfile}
        echo t > /tmp/t; mkdir -p ~/.cache/x; echo h > ~/.cache/x/h
        echo s > /dev/shm/s; echo n > /dev/null
        echo by-name > /dev/stdout; echo err-by-name > /dev/stderr
        echo DONE
        """
    with open(errlog, "w") as err:
        r = sandbox("-x", "-w", str(outdir), "-w", str(outfile), "--", "sh", "-c", script,
                    cwd=workdir, stderr=err)
    assert r.returncode == 0, errlog.read_text()
    assert r.stdout.splitlines() == ["by-name", "DONE"]
    assert errlog.read_text() == "err-by-name\n"
    assert (outdir / "made").read_text() == "w\n"
    assert outfile.read_text() == "f\n"


def test_overlay_is_writable_and_thrown_away(workdir):
    require_landlock()
    tag = uuid.uuid4().hex
    r = sandbox("-x", "-k", "/opt", "--", "sh", "-c",
                f"echo x > /opt/msbx-{tag} && cat /opt/msbx-{tag}", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "x\n"
    assert not os.path.exists(f"/opt/msbx-{tag}")


def test_landlock_is_named_in_the_debug_log(workdir, tmp_path):
    log = tmp_path / "debug.log"
    r = sandbox("-x", "-D", str(log), "--", "true", cwd=workdir)
    assert r.returncode == 0, r.stderr
    text = log.read_text()
    if landlock_abi() >= 1:
        assert "landlock: ABI %d" % landlock_abi() in text
        assert "payload: landlock ruleset enforced" in text
    else:
        assert "landlock: not available" in text


def test_require_landlock_runs_where_the_kernel_has_it(workdir):
    require_landlock()
    r = sandbox("-x", "--require-landlock", "--", "true", cwd=workdir)
    assert r.returncode == 0, r.stderr


def test_require_landlock_contradicts_allow_userns(workdir):
    """--allow-userns leaves Landlock's filesystem rules out (the kernel
    refuses mounts under them): asking for both is an error, not a silent
    downgrade."""
    r = sandbox("-x", "--allow-userns", "--require-landlock", "--", "true", cwd=workdir)
    assert r.returncode == 125
    assert "--allow-userns and --require-landlock" in r.stderr


def test_abstract_unix_socket_of_the_host_is_out_of_reach(workdir):
    """ABI 6: with -N the host's abstract sockets are in the same network
    namespace, but outside the Landlock domain."""
    if landlock_abi() < 6:
        pytest.skip("Landlock ABI < 6: no scoping")
    name = "msbx-test-" + uuid.uuid4().hex
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind("\0" + name)
    srv.listen(1)
    try:
        script = ("import socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                  "try:\n    s.connect('\\0' + sys.argv[1]); print('CONNECTED')\n"
                  "except OSError as e:\n    print('refused', e.errno)\n")
        r = sandbox("-x", "-N", "--", "/usr/bin/python3", "-c", script, name,
                    cwd=workdir)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "refused %d" % errno.EPERM
    finally:
        srv.close()


# --- item 5: host mounts made after the start ---------------------------------

# Runs as root in a mount namespace of its own whose root is made shared, as
# on systemd hosts: a USB stick udisks mounts below /media, or anything
# mounted below a -M path, would propagate into the sandbox's slave binds.
# The sandbox itself runs as the unprivileged test user.
LATE_MOUNT_HELPER = r"""
import os, subprocess, sys
sandbox, user, target, mountpoint = sys.argv[1:5]
args = sys.argv[5:]
subprocess.run(["mount", "--make-rshared", "/"], check=True)
os.makedirs(mountpoint, exist_ok=True)
script = ('echo ready; read go; '
          'if grep -q " %s " /proc/self/mountinfo; then echo VISIBLE; fi; '
          'if echo x > %s/pwned; then echo WROTE; fi; echo done') % (mountpoint, mountpoint)
p = subprocess.Popen(["runuser", "-u", user, "--", sandbox, *args, "--", "sh", "-c", script],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd="/")
assert p.stdout.readline() == "ready\n"
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777,size=1m", "late", mountpoint],
               check=True)
out, _ = p.communicate("go\n", timeout=60)
print(out, end="")
print("host-sees-pwned", os.path.exists(os.path.join(mountpoint, "pwned")))
"""


def late_mount(target, mountpoint, *args):
    """Start a sandbox, mount a tmpfs at MOUNTPOINT on the host side, report
    what the sandbox saw there."""
    r = run(["unshare", "-m", "--propagation", "unchanged", "/usr/bin/python3", "-c",
             LATE_MOUNT_HELPER, SANDBOX, "msbx-test", target, mountpoint, *args],
            timeout=90)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def shared_dir():
    """A directory the test user can read, removed afterwards (the late
    tmpfs lives in the helper's mount namespace only)."""
    d = "/mnt/msbx-late-" + uuid.uuid4().hex[:12]
    os.mkdir(d)
    os.chmod(d, 0o755)
    yield d
    os.rmdir(os.path.join(d, "sub")) if os.path.isdir(os.path.join(d, "sub")) else None
    os.rmdir(d)


@pytest.mark.root
def test_late_host_mount_below_a_read_only_path_is_not_writable(shared_dir):
    out = late_mount(shared_dir, shared_dir + "/sub", "-x", "-M", shared_dir)
    assert "done" in out, out
    assert "VISIBLE" not in out, out
    assert "WROTE" not in out, out
    assert "host-sees-pwned False" in out


@pytest.mark.root
def test_late_host_mount_below_media_in_read_only_mode_is_not_writable():
    media = "/media/msbx-late-" + uuid.uuid4().hex[:12]
    os.makedirs("/media", exist_ok=True)
    try:
        out = late_mount("/media", media)            # read-only mode: the host's tree
        assert "done" in out, out
        assert "VISIBLE" not in out, out
        assert "WROTE" not in out, out
        assert "host-sees-pwned False" in out
    finally:
        if os.path.isdir(media):
            os.rmdir(media)
