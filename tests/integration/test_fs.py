"""Filesystem isolation (issue 3), checked from the host side.

One test per row of the -x table in doc/ARCHITECTURE.md "Filesystem" and per mode.  Every
sandbox is a real mini-sandbox run as the unprivileged test user; what
persisted or leaked is checked on the host after it exited.
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import uuid

import pytest

from conftest import SANDBOX, TAPBOX, run, sandbox

HOME = os.path.expanduser("~")


def sh(*args, cwd, timeout=60):
    """mini-sandbox ARGS... -- sh -c SCRIPT, SCRIPT being the last arg."""
    *opts, script = args
    return sandbox(*opts, "--", "/bin/sh", "-c", script, cwd=cwd, timeout=timeout)


@pytest.fixture
def home_project():
    """~/msbx-fs-<id>/proj/sub with a sibling file, removed afterwards."""
    top = os.path.join(HOME, "msbx-fs-" + uuid.uuid4().hex[:8])
    sub = os.path.join(top, "proj", "sub")
    os.makedirs(sub)
    with open(os.path.join(top, "proj", "sibling.txt"), "w") as f:
        f.write("original\n")
    yield sub
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def home_secret():
    """~/.ssh/id_test, as a real user would have it."""
    d = os.path.join(HOME, ".ssh")
    os.makedirs(d, mode=0o700, exist_ok=True)
    p = os.path.join(d, "id_test")
    with open(p, "w") as f:
        f.write("PRIVATE KEY\n")
    os.chmod(p, 0o600)
    yield p
    os.unlink(p)


def landlock_abi():
    """The kernel's Landlock ABI, 0 without Landlock."""
    libc = ctypes.CDLL(None, use_errno=True)
    return max(libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)), 0)


# ---- -x: system directories ------------------------------------------------

def test_system_dirs_read_only(workdir):
    tag = uuid.uuid4().hex
    r = sh("-x", f"""
        for d in /usr /etc /opt /var; do
            if touch $d/msbx-{tag} 2>/dev/null; then echo WROTE $d; fi
        done
        # submounts are read-only too (mount_setattr AT_RECURSIVE)
        grep -v ' / /proc' /proc/self/mountinfo | awk '$5 ~ "^/(usr|etc|sys)" && $6 !~ /^ro/ {{print "RW", $5}}'
        (echo > /msbx-{tag}) 2>/dev/null && echo ROOT-WRITE-OK
        true
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "WROTE" not in r.stdout
    assert "RW " not in r.stdout, r.stdout
    # "/" is a private tmpfs that vanishes; with Landlock nothing can be
    # created in it at all (a grant there would cover the binds below).
    assert ("ROOT-WRITE-OK" in r.stdout) == (landlock_abi() == 0), r.stdout
    for d in ("/usr", "/etc", "/opt", "/var", "/"):
        assert not os.path.exists(os.path.join(d, "msbx-" + tag))


def test_merged_usr_symlinks(workdir):
    r = sh("-x", "readlink /bin; /bin/true && echo BIN-OK", cwd=workdir)
    assert r.returncode == 0, r.stderr
    if os.path.islink("/bin"):
        assert r.stdout.splitlines()[0] == os.readlink("/bin")
    assert "BIN-OK" in r.stdout


# ---- -x: CWD and its project folder ----------------------------------------

def test_cwd_writes_persist_with_callers_ownership(workdir):
    r = sh("-x", "echo result > out.txt && mkdir -p build/obj && echo o > build/obj/a.o",
           cwd=workdir)
    assert r.returncode == 0, r.stderr
    out = workdir / "out.txt"
    assert out.read_text() == "result\n"
    for p in (out, workdir / "build", workdir / "build" / "obj" / "a.o"):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


def test_parent_folder_writes_vanish(home_project):
    proj = os.path.dirname(home_project)
    r = sh("-x", """
        echo changed > ../sibling.txt && echo new > ../new.txt && mkdir ../newdir &&
        cat ../sibling.txt && echo kept > here.txt
        """, cwd=home_project)
    assert r.returncode == 0, r.stderr
    assert "changed" in r.stdout                       # writable inside …
    with open(os.path.join(proj, "sibling.txt")) as f:
        assert f.read() == "original\n"                # … thrown away after
    assert not os.path.exists(os.path.join(proj, "new.txt"))
    assert not os.path.exists(os.path.join(proj, "newdir"))
    with open(os.path.join(home_project, "here.txt")) as f:
        assert f.read() == "kept\n"


def test_cwd_is_home_warns():
    r = sh("-x", "pwd", cwd=HOME)
    assert r.returncode == 0, r.stderr
    assert "home" in r.stderr and "warning" in r.stderr


# ---- -x: $HOME and other homes ---------------------------------------------

def test_home_secrets_invisible(workdir, home_secret):
    r = sh("-x", f"""
        cat {home_secret} 2>/dev/null && echo READ-SECRET
        ls -A {HOME}; echo ---; ls -A /home
        echo scratch > {HOME}/scratch.txt && echo HOME-WRITABLE
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "READ-SECRET" not in r.stdout
    listing, rest = r.stdout.split("---")
    assert listing.split() == []                  # an empty scratch, no dotfiles
    homes, last = rest.split()[:-1], rest.split()[-1]
    assert homes == [os.path.basename(HOME)]      # other users' homes are gone too
    assert last == "HOME-WRITABLE"
    assert not os.path.exists(os.path.join(HOME, "scratch.txt"))


def test_home_secret_hidden_when_cwd_in_home(home_project, home_secret):
    r = sh("-x", f"cat {home_secret} 2>/dev/null && echo READ-SECRET; ls -A {HOME}",
           cwd=home_project)
    assert r.returncode == 0, r.stderr
    assert "READ-SECRET" not in r.stdout
    assert ".ssh" not in r.stdout.split()
    # only the project's folder shows up in the home scratch
    assert r.stdout.split() == [os.path.relpath(home_project, HOME).split("/")[0]]


@pytest.mark.parametrize("home", [None, "/nonexistent", "/home"], ids=["unset", "missing", "slash-home"])
def test_home_secret_hidden_when_home_env_wrong(home_project, home_secret, home):
    # $HOME is the caller's to unset or point elsewhere; the passwd home
    # must be hidden all the same, and never become the project folder.
    env = {k: v for k, v in os.environ.items() if k != "HOME"}
    if home:
        env["HOME"] = home
    r = sandbox("-x", "--", "/bin/sh", "-c",
                f"cat {home_secret} 2>/dev/null && echo READ-SECRET; ls -A {HOME}",
                cwd=home_project, env=env)
    assert r.returncode == 0, r.stderr
    assert "READ-SECRET" not in r.stdout
    assert ".ssh" not in r.stdout.split()
    assert r.stdout.split() == [os.path.relpath(home_project, HOME).split("/")[0]]


# An account that /etc/passwd does not have, from another user database:
# a systemd userdb drop-in record (nss-systemd reads /run/userdb), set up in
# a private mount namespace (tmpfs on /run and /srv) so that nothing of the
# host changes.  The statically linked mini-sandbox must not load NSS
# modules itself (that crashed: SIGSEGV), and must still find this home
# (through getent) to hide it when $HOME does not name it.
NSS_UID = 23456
NSS_HOME_SCRIPT = r"""
set -e
mount --make-rprivate /
mount -t tmpfs msbx-test-run /run
mkdir /run/userdb
printf '%s' '{"userName":"msbxnss","uid":UID,"gid":UID,"homeDirectory":"/srv/msbxnss-home","disposition":"regular"}' > /run/userdb/msbxnss.user
ln -s msbxnss.user /run/userdb/UID.user
mount -t tmpfs msbx-test-srv /srv
mkdir -p /srv/msbxnss-home/.ssh /srv/proj
echo NSS-HOME-SECRET > /srv/msbxnss-home/.ssh/id
chown -R UID:UID /srv/msbxnss-home /srv/proj
getent passwd UID || echo "no account UID"
cd /srv/proj
exec setpriv --reuid UID --regid UID --clear-groups env -u HOME "$@"
""".replace("UID", str(NSS_UID))


@pytest.mark.root
@pytest.mark.parametrize("records", [True, False], ids=["nss-account", "no-account"])
@pytest.mark.parametrize("prog", [SANDBOX, TAPBOX], ids=["mini-sandbox", "mini-tapbox"])
def test_home_from_other_user_database_hidden(records, prog):
    assert os.getuid() == 0
    assert os.path.isdir("/srv"), "this test mounts a tmpfs on /srv"
    script = NSS_HOME_SCRIPT if records else NSS_HOME_SCRIPT.replace(
        "ln -s msbxnss.user", "rm /run/userdb/msbxnss.user; : ")
    r = run(["unshare", "-m", "sh", "-c", script, "sh", prog, "-x", "--", "sh", "-c",
             "cat /srv/msbxnss-home/.ssh/id 2>/dev/null; ls -A /srv/msbxnss-home; echo RAN"],
            timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "RAN" in r.stdout
    if records:
        # the home getent names is hidden: neither the key nor .ssh shows
        assert "/srv/msbxnss-home:" in r.stdout     # getent found the account
        assert "NSS-HOME-SECRET" not in r.stdout and ".ssh" not in r.stdout.split()
    else:
        # control: without the record nothing names that home, and -x shows
        # /srv as the host has it — so the case above is decided by the lookup
        assert "NSS-HOME-SECRET" in r.stdout


# ---- /tmp, /var/tmp, /dev/shm ----------------------------------------------

@pytest.mark.parametrize("mode", [["-x"], []], ids=["default", "read-only"])
def test_tmp_and_shm_private(workdir, mode):
    tag = uuid.uuid4().hex
    host_file = f"/tmp/msbx-host-{tag}"
    host_shm = f"/dev/shm/msbx-host-{tag}"
    for p in (host_file, host_shm):
        with open(p, "w") as f:
            f.write("host\n")
    try:
        r = sh(*mode, f"""
            ls -A /tmp /dev/shm
            echo s > /tmp/msbx-sbx-{tag} && echo s > /dev/shm/msbx-sbx-{tag} && echo WROTE
            """, cwd=workdir)
        assert r.returncode == 0, r.stderr
        assert tag not in r.stdout.replace(f"msbx-sbx-{tag}", "")
        assert "WROTE" in r.stdout
        assert not os.path.exists(f"/tmp/msbx-sbx-{tag}")
        assert not os.path.exists(f"/dev/shm/msbx-sbx-{tag}")
    finally:
        os.unlink(host_file)
        os.unlink(host_shm)


def test_var_tmp_private(workdir):
    tag = uuid.uuid4().hex
    r = sh("-x", f"echo x > /var/tmp/msbx-{tag} && echo WROTE", cwd=workdir)
    assert r.returncode == 0 and "WROTE" in r.stdout, r.stderr
    assert not os.path.exists(f"/var/tmp/msbx-{tag}")


@pytest.fixture
def var_tmp_dir():
    """/var/tmp/msbx-fs-<id>, removed afterwards."""
    d = "/var/tmp/msbx-fs-" + uuid.uuid4().hex[:8]
    os.makedirs(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_cwd_under_var_tmp_shares_only_cwd(var_tmp_dir):
    # /var/tmp is private like /tmp: running from a directory below it
    # shares that directory alone, never the host's /var/tmp.
    cwd = os.path.join(var_tmp_dir, "proj", "sub")
    os.makedirs(cwd)
    host_file = os.path.join(var_tmp_dir, "host-secret.txt")
    with open(host_file, "w") as f:
        f.write("HOST\n")
    r = sh("-x", f"""
        cat {host_file} 2>/dev/null && echo READ-HOST
        ls -A /var/tmp
        echo x > {var_tmp_dir}/made-inside && echo WROTE-PARENT
        echo y > out.txt && echo WROTE-CWD
        """, cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert "READ-HOST" not in r.stdout
    assert r.stdout.split()[0] == os.path.basename(var_tmp_dir)
    assert "WROTE-CWD" in r.stdout
    assert not os.path.exists(os.path.join(var_tmp_dir, "made-inside"))
    with open(os.path.join(cwd, "out.txt")) as f:
        assert f.read() == "y\n"


def test_cwd_is_var_tmp_refused():
    r = sh("-x", "ls -A /var/tmp | wc -l", cwd="/var/tmp")
    assert r.returncode == 0, r.stderr
    assert "not shared" in r.stderr
    assert r.stdout.split() == ["0"]


# ---- /dev, /proc, /sys -------------------------------------------------------

def test_dev_proc_sys(workdir):
    r = sh("-x", """
        ls /dev | tr '\\n' ' '; echo
        echo x > /dev/null && head -c 4 /dev/urandom | wc -c
        test -c /dev/pts/ptmx && echo PTMX
        ls /proc | grep -c '^[0-9]'
        touch /sys/msbx 2>/dev/null || echo SYS-RO
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    devs = set(lines[0].split())
    assert {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "ptmx"} <= devs
    assert not devs & {"sda", "vda", "kmsg", "mem", "net", "fuse"}
    assert lines[1] == "4"
    assert "PTMX" in lines
    assert int(lines[3]) < 10          # a new procfs: only the sandbox's pids
    assert "SYS-RO" in lines


# ---- no host unix sockets ----------------------------------------------------

def _listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


CONNECT = """
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(p.replace("@", "\\0", 1) if p.startswith("@") else p)
        print("CONNECTED", p)
    except OSError as e:
        print("refused", p, e.errno)
"""


def test_host_unix_sockets_unreachable(workdir):
    tag = uuid.uuid4().hex[:12]
    paths, socks = [], []
    run_user = f"/run/user/{os.getuid()}"
    if os.environ.get("CI") == "true":    # run.sh creates it, as logind would
        assert os.access(run_user, os.W_OK), run_user
    dirs = ["/tmp"] + ([run_user] if os.access(run_user, os.W_OK) else [])
    for d in dirs:
        p = os.path.join(d, f"msbx-{tag}.sock")
        socks.append(_listen(p))
        paths.append(p)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(f"\0msbx-{tag}")               # abstract: only the network namespace hides it
    s.listen(1)
    socks.append(s)
    paths.append(f"@msbx-{tag}")
    try:
        for mode in (["-x"], []):
            r = sandbox(*mode, "--", "/usr/bin/python3", "-c", CONNECT, *paths,
                        cwd=workdir, timeout=60)
            assert r.returncode == 0, r.stderr
            assert "CONNECTED" not in r.stdout, (mode, r.stdout)
            assert r.stdout.count("refused") == len(paths)
    finally:
        for s in socks:
            s.close()
        for p in paths:
            if not p.startswith("@"):
                os.unlink(p)


def test_run_user_never_visible(workdir):
    r = sh("-x", f"ls -A /run; test -e /run/user/{os.getuid()} && echo RUN-USER; true",
           cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "RUN-USER" not in r.stdout
    for entry in r.stdout.split():
        assert entry in ("systemd",), r.stdout    # at most the resolv.conf target


# ---- -w / -M / -k / -e -------------------------------------------------------

def test_write_file_persists_siblings_do_not(workdir, tmp_path):
    d = tmp_path / "files"
    d.mkdir()
    out, sib = d / "out.txt", d / "sibling.txt"
    out.write_text("old\n")
    sib.write_text("sib\n")
    r = sh("-x", "-w", str(out), f"""
        ls {d}
        echo new > {out} && echo WROTE-OUT
        echo changed > {sib} 2>/dev/null; true
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "WROTE-OUT" in r.stdout
    assert out.read_text() == "new\n"
    assert sib.read_text() == "sib\n"
    assert "sibling.txt" not in r.stdout.split()      # siblings are not even visible


def test_symlink_in_write_tree_does_not_extend_it(workdir, tmp_path):
    base = tmp_path / "sym"
    tree = base / "tree"
    tree.mkdir(parents=True)
    secret = base / "secret.txt"
    secret.write_text("secret\n")
    os.symlink(secret, tree / "link")
    os.symlink("../secret.txt", tree / "rel-link")
    r = sh("-x", "-w", str(tree), f"""
        echo pwned > {tree}/link 2>/dev/null
        echo pwned > {tree}/rel-link 2>/dev/null
        echo ok > {tree}/inside && echo INSIDE
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "INSIDE" in r.stdout
    assert (tree / "inside").read_text() == "ok\n"
    assert secret.read_text() == "secret\n"


def test_read_only_inside_write_and_back(workdir, tmp_path):
    a = tmp_path / "a"
    (a / "ro").mkdir(parents=True)
    (a / "ro" / "rw").mkdir()
    r = sh("-x", "-w", str(a), "-M", str(a / "ro"), "-w", str(a / "ro" / "rw"), f"""
        echo 1 > {a}/top && echo TOP
        echo 2 > {a}/ro/mid 2>/dev/null || echo MID-RO
        echo 3 > {a}/ro/rw/low && echo LOW
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["TOP", "MID-RO", "LOW"]
    assert (a / "top").exists() and (a / "ro" / "rw" / "low").exists()
    assert not (a / "ro" / "mid").exists()


def test_overlay_and_empty_options_with_odd_names(workdir, tmp_path):
    odd = tmp_path / "dir with space, comma:colon\\slash"
    odd.mkdir()
    (odd / "f").write_text("host\n")
    empty = tmp_path / "cache"
    empty.mkdir()
    (empty / "old").write_text("x")
    r = sh("-x", "-k", str(odd), "-e", str(empty), f"""
        cd '{odd}' && cat f && echo sandbox > f && echo new > g && cat f
        ls -A '{empty}' | wc -l; echo e > '{empty}/e'
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["host", "sandbox", "0"]
    assert (odd / "f").read_text() == "host\n"
    assert not (odd / "g").exists()
    assert sorted(os.listdir(empty)) == ["old"]


# ---- errors: exit 125, message names the option and the path -----------------

@pytest.mark.parametrize("args,needle", [
    (["-w", "/nonexistent-msbx/dir"], "/nonexistent-msbx/dir"),
    (["-M", "relative/path"], "relative/path"),
    (["-W", "/nonexistent-msbx/wd"], "/nonexistent-msbx/wd"),
    (["-e", "/etc/hostname"], "/etc/hostname"),
])
def test_path_errors_exit_125(workdir, args, needle):
    r = sandbox("-x", *args, "--", "/bin/true", cwd=workdir)
    assert r.returncode == 125
    assert needle in r.stderr
    assert args[0] in r.stderr


def test_symlink_loop_is_refused(workdir, tmp_path):
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    r = sandbox("-x", "-w", str(loop), "--", "/bin/true", cwd=workdir)
    assert r.returncode == 125
    assert str(loop) in r.stderr and "loop" in r.stderr


def test_write_and_read_same_path(workdir, tmp_path):
    r = sandbox("-x", "-w", str(tmp_path), "-M", str(tmp_path), "--", "/bin/true", cwd=workdir)
    assert r.returncode == 125
    assert str(tmp_path) in r.stderr


# ---- leave nothing behind ----------------------------------------------------

def _listing():
    out = {}
    for d in ("/tmp", "/var/tmp", HOME):
        try:
            out[d] = set(os.listdir(d))
        except OSError:
            out[d] = set()
    return out


def test_nothing_left_after_sigkill(home_project):
    before = _listing()
    p = subprocess.Popen([SANDBOX, "-x", "--", "/bin/sh", "-c",
                          "echo x > /tmp/t; echo y > ../parent.txt; echo READY; exec cat"],
                         cwd=home_project, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "READY"
        p.send_signal(signal.SIGKILL)
        assert p.wait(timeout=30) == -signal.SIGKILL
    finally:
        p.kill()
        p.wait(timeout=30)
        p.stdin.close()
    after = _listing()
    for d in before:
        new = {n for n in after[d] - before[d] if not n.startswith("pytest-of-")}
        assert not new, (d, new)
    assert not os.path.exists(os.path.join(os.path.dirname(home_project), "parent.txt"))


def test_twenty_sandboxes_do_not_share_tmp(workdir):
    procs = []
    try:
        for i in range(20):
            procs.append(subprocess.Popen(
                [SANDBOX, "-x", "--", "/bin/sh", "-c",
                 f"echo {i} > /tmp/mine-{i}; echo READY; read go; ls /tmp"],
                cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
        for p in procs:          # every sandbox has written before any lists
            assert p.stdout.readline().strip() == "READY"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        for i, p in enumerate(procs):
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            # (pytest-of-* is the skeleton holding the shared CWD)
            assert [n for n in out.split() if not n.startswith("pytest-of-")] == [f"mine-{i}"]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)


# ---- the other modes ---------------------------------------------------------

def test_read_only_mode(workdir, home_secret):
    tag = uuid.uuid4().hex
    r = sh(f"""
        touch /usr/msbx-{tag} 2>/dev/null || echo USR-RO
        touch {HOME}/msbx-{tag} 2>/dev/null || echo HOME-RO
        echo cwd > cwd.txt && echo CWD-RW
        grep -c . /proc/self/mountinfo >/dev/null && awk '$6 !~ /^ro/ {{print $5}}' /proc/self/mountinfo
        """, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert {"USR-RO", "HOME-RO", "CWD-RW"} <= set(r.stdout.split())
    assert (workdir / "cwd.txt").read_text() == "cwd\n"
    assert not os.path.exists(f"{HOME}/msbx-{tag}")
    # every writable mount is one we meant to be writable
    allowed = ("/tmp", "/dev", "/proc", "/run", str(workdir))
    for mp in r.stdout.split()[3:]:
        assert mp.startswith(allowed), mp


def test_custom_mode(workdir, tmp_path):
    root = tmp_path / "root"
    ovl = tmp_path / "ovl"
    root.mkdir()
    ovl.mkdir()
    (root / "marker").write_text("root\n")
    r = sandbox("-o", str(root), "-d", str(ovl), "-k", "/usr", "-k", "/etc",
                "-M", "/lib", "-M", "/lib64", "--", "/usr/bin/sh", "-c", """
        ls /; echo x > /usr/msbx-custom && echo USR-OVERLAY
        echo y > /marker && cat /marker
        test -z "$(ls -A "$HOME")" && echo h > "$HOME/f" && echo EMPTY-HOME
        """, cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert "USR-OVERLAY" in out and "EMPTY-HOME" in out and "y" in out
    assert "var" not in out and "opt" not in out
    assert not os.path.exists("/usr/msbx-custom")
    assert (root / "marker").read_text() == "root\n"
    assert sorted(os.listdir(root)) == ["marker"]       # no mount points left in ROOT
    assert os.listdir(ovl) == []                        # run directory removed at exit


def test_overlay_dir_removed_however_deep(workdir, tmp_path):
    # Cleanup of -d must not depend on the fd limit: 1500 nested
    # directories (more than 2 fds a level fit in 1024) all go at exit.
    root, ovl = tmp_path / "root", tmp_path / "ovl"
    root.mkdir()
    ovl.mkdir()
    r = sandbox("-o", str(root), "-d", str(ovl), "-k", "/usr",
                "-M", "/lib", "-M", "/lib64", "--", "/usr/bin/sh", "-c", """
        cd /usr || exit 1
        i=0
        while [ $i -lt 1500 ]; do mkdir d && cd d || exit 1; i=$((i + 1)); done
        echo bottom > f && echo DEEP
        """, cwd=workdir, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "DEEP" in r.stdout
    assert "cannot remove" not in r.stderr and "left behind" not in r.stderr, r.stderr
    assert os.listdir(ovl) == []                        # run directory removed at exit


def test_custom_mode_keep_overlay(workdir, tmp_path):
    root, ovl = tmp_path / "root", tmp_path / "ovl"
    root.mkdir()
    ovl.mkdir()
    r = sandbox("-o", str(root), "-d", str(ovl), "--keep-overlay", "-k", "/usr",
                "-M", "/lib", "-M", "/lib64", "--", "/usr/bin/sh", "-c",
                "echo kept > /usr/msbx-kept", cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    kept = [os.path.join(dp, f) for dp, _, fs in os.walk(ovl) for f in fs]
    assert any(p.endswith("/usr/msbx-kept") or p.endswith("msbx-kept") for p in kept), kept
    subprocess.run(["chmod", "-R", "u+rwx", str(ovl)], check=False, timeout=30)


def test_hermetic_mode_without_proc(workdir, tmp_path):
    h = tmp_path / "herm"
    h.mkdir()
    r = sandbox("-h", str(h), "-M", "/usr", "-M", "/lib", "-M", "/lib64", "--", "/usr/bin/sh",
                "-c", "test -e /proc/self || echo NO-PROC", cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "NO-PROC" in r.stdout


def test_hermetic_mode(workdir, tmp_path):
    h = tmp_path / "herm"
    h.mkdir()
    base = ["-h", str(h), "-M", "/usr", "-M", "/lib", "-M", "/lib64", "--proc"]
    r = sandbox(*base, "--", "/usr/bin/sh", "-c",
                f"ls /; echo h > {h}/out; test -e /proc/self && echo PROC; "
                "echo x > /usr/msbx-h 2>/dev/null || echo USR-RO",
                cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    # only what was named: no /etc, /var, /home …
    assert not {"etc", "var", "opt", "home", "sys", "run"} & set(out), out
    assert {"usr", "lib", "lib64", "dev", "tmp", "proc", "PROC", "USR-RO"} <= set(out), out
    assert (h / "out").read_text() == "h\n"
    assert not os.path.exists("/usr/msbx-h")


# ---- -W, odd names, library-only options --------------------------------------

def test_workdir_option(workdir, home_project):
    proj = os.path.dirname(home_project)
    r = sandbox("-x", "-W", home_project, "--", "/bin/sh", "-c",
                "pwd; echo w > w.txt; echo p > ../p.txt", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [home_project]
    with open(os.path.join(home_project, "w.txt")) as f:
        assert f.read() == "w\n"
    assert not os.path.exists(os.path.join(proj, "p.txt"))     # parents overlaid


def test_write_path_with_newline(workdir, tmp_path):
    d = tmp_path / "new\nline dir"
    d.mkdir()
    r = sandbox("-x", "-w", str(d), "--", "/bin/sh", "-c", 'echo n > "$1/f"', "sh", str(d),
                cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert (d / "f").read_text() == "n\n"


LIB_SCRIPT = """
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1])
what, a, b = sys.argv[2], sys.argv[3], sys.argv[4]
assert lib.mini_sandbox_setup_default() == 0
if what == "empty":
    assert lib.mini_sandbox_mount_empty_output_file(a.encode()) == 0
else:
    assert lib.mini_sandbox_mount_parents_write() == 0
if lib.mini_sandbox_start() < 0:
    sys.exit(3)
print(open(a).read() if what == "empty" else "", end="")
open(a if what == "empty" else "../parent.txt", "w").write("from sandbox\\n")
try:
    open(b, "w").write("x")
except OSError:
    pass
"""


def _lib():
    from conftest import BUILD
    return os.path.join(BUILD, "src", "libminisandbox.so")


def test_empty_output_file(home_project, workdir):
    d = os.path.dirname(home_project)
    out, sib = os.path.join(d, "out.log"), os.path.join(d, "sib.log")
    with open(out, "w") as f:
        f.write("stale\n")
    r = run(["/usr/bin/python3", "-c", LIB_SCRIPT, _lib(), "empty", out, sib],
            cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""                       # handed over empty …
    with open(out) as f:
        assert f.read() == "from sandbox\n"     # … and what was written persists
    assert os.stat(out).st_uid == os.getuid()
    assert not os.path.exists(sib)


def test_parents_write(home_project):
    r = run(["/usr/bin/python3", "-c", LIB_SCRIPT, _lib(), "parents", "-", "-"],
            cwd=home_project, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(os.path.dirname(home_project), "parent.txt")) as f:
        assert f.read() == "from sandbox\n"


def test_tmpfs_size_limit(workdir):
    r = sh("-x", "--tmpfs-size", "1048576",
           "head -c 2097152 /dev/zero > /tmp/big 2>/dev/null || echo FULL; "
           "head -c 2097152 /dev/zero > /dev/shm/big 2>/dev/null || echo SHM-FULL", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["FULL", "SHM-FULL"]


def test_proc_fallback_when_masked(workdir, tmp_path):
    """Like a container with masked /proc paths: the kernel refuses a new
    procfs.  The host's /proc is bound only with the explicit --proc=host,
    which warns (issue 14; without it: test_integrity.py, exit 125)."""
    log = tmp_path / "debug.log"
    r = run(["unshare", "-Urm", "/bin/sh", "-c",
             'mount -t tmpfs none /proc/sys && exec "$@"', "sh",
             SANDBOX, "-x", "--proc=host", "-D", str(log), "--", "/bin/sh", "-c",
             "test -r /proc/self/status && echo PROC"],
            cwd=workdir, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "PROC" in r.stdout
    assert "--proc=host" in r.stderr and "/proc/sys" in r.stderr, r.stderr
    assert "the sandbox gets the host's /proc" in log.read_text()
