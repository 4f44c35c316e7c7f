"""A true drop-in for the original mini-sandbox (issue 18).

Clients written against the original project's header (tests/compat/),
compiled unchanged with gcc, clang, g++ and clang++ and linked with
-lmini-sandbox / -lmini-tapbox (and the static archives), and the original's
Python modules, checked against the original's documented behaviour: return
values, the tapbox library's default network, custom mode.  Network checks
talk only to the netns test hosts (tests/integration/testhosts.sh).
"""
import os
import shutil
import textwrap

import pytest

from conftest import BUILD, run

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPAT = os.path.join(BUILD, "tests", "compat")
PY = "/usr/bin/python3"
PYENV = {"PYMINISANDBOX_LIBRARY": BUILD, "PYTHONPATH": os.path.join(SRC, "python")}
HOST = "198.18.0.10"          # test host, HTTP on 8080
PORT = 8080

SHARED = ["compat-%s-%s-%s" % (lang, cc, lib)
          for lang, ccs in (("c", ("gcc", "clang")), ("cxx", ("g++", "clang++")))
          for cc in ccs for lib in ("mini-sandbox", "mini-tapbox")]
STATIC = ["compat-c-static-mini-sandbox", "compat-c-static-mini-tapbox"]
CLIENTS = SHARED + STATIC


def client(name, *args, cwd, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return run([os.path.join(COMPAT, name), *map(str, args)], cwd=cwd, env=e, timeout=60)


def report(p):
    return dict(line.partition(" ")[::2] for line in p.stdout.splitlines())


def python(script, *, cwd):
    e = dict(os.environ)
    e.update(PYENV)
    return run([PY, "-c", textwrap.dedent(script)], cwd=cwd, env=e, timeout=60)


def test_clients_built_with_every_compiler():
    missing = [n for n in CLIENTS if not os.access(os.path.join(COMPAT, n), os.X_OK)]
    assert not missing, "not built (compiler missing?): %s" % missing


@pytest.mark.parametrize("name", CLIENTS)
def test_return_values_and_codes_as_the_original(name, workdir):
    p = client(name, "errors", cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = report(p)
    assert r["relative"] == "-1 -6"                 # -1, code kept
    assert r["default"] == "0 -6"                   # success does not clear it
    assert r["hermetic-after-default"] == "-1 -2"   # a second root
    if name.endswith("tapbox"):
        assert r["subnet-bare"] == "0"              # a bare address is a /32
    else:
        assert r["share"] == "0"


@pytest.mark.parametrize("name", ["compat-c-gcc-mini-sandbox", "compat-c-clang-mini-tapbox"])
def test_start_twice_is_recoverable(name, workdir):
    p = client(name, "twice", cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = report(p)
    assert r["second-start"] == "-1 -202"             # as the original: -1, code kept
    assert r["mount-after"] == "-1 -202"


@pytest.mark.parametrize("name", ["compat-c-gcc-mini-tapbox", "compat-cxx-g++-mini-tapbox",
                                  "compat-c-static-mini-tapbox"])
def test_tapbox_library_without_rules_has_the_tap_network(name, workdir):
    p = client(name, "default", HOST, PORT, cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = report(p)
    assert r["connect"] == "ok", (p.stdout, p.stderr)
    assert "egress from the sandbox is unrestricted" in p.stderr


@pytest.mark.parametrize("name", ["compat-c-clang-mini-sandbox", "compat-cxx-clang++-mini-sandbox",
                                  "compat-c-static-mini-sandbox"])
def test_sandbox_library_without_rules_has_no_network(name, workdir):
    p = client(name, "default", HOST, PORT, cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = report(p)
    assert r["home-write"] == "ok"
    assert r["connect"] == "refused"
    assert "unrestricted" not in p.stderr


CONNECT = """
import socket, sys
from pyminisandbox import {module} as m
{calls}
assert m.mini_sandbox_setup_default() == 0
assert m.mini_sandbox_start() == 0, m.mini_sandbox_get_last_error_msg()
held = []
for i in range({n}):
    try:
        held.append(socket.create_connection(("{host}", {port}), timeout=5))
        print("connect", i, "ok", flush=True)
    except OSError as e:
        print("connect", i, "refused", flush=True)
"""


def py_connect(module, workdir, n=1, calls=""):
    return python(CONNECT.format(module=module, calls=calls, n=n, host=HOST, port=PORT),
                  cwd=workdir)


def test_pyminitapbox_without_rules_has_the_tap_network(workdir):
    p = py_connect("pyminitapbox", workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "connect 0 ok" in p.stdout
    assert "egress from the sandbox is unrestricted" in p.stderr


def test_pyminisandbox_without_rules_has_no_network(workdir):
    p = py_connect("pyminisandbox", workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "connect 0 refused" in p.stdout


def test_pyminitapbox_rule_limits_the_network(workdir):
    p = py_connect("pyminitapbox", workdir,
                   calls='assert m.mini_sandbox_allow_ipv4("198.18.0.11") == 0')
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "connect 0 refused" in p.stdout
    assert "unrestricted" not in p.stderr


def test_max_connections_alone_limits_the_tap_network(workdir):
    # Two connections held open pass, the third is refused: deterministic,
    # DNS to the sandbox's resolver does not count.
    p = py_connect("pyminitapbox", workdir, n=3,
                   calls="assert m.mini_sandbox_allow_max_connections(2) == 0")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "connect 0 ok" in p.stdout and "connect 1 ok" in p.stdout, (p.stdout, p.stderr)
    assert "connect 2 refused" in p.stdout


def test_python_return_values_as_the_original(workdir):
    p = python("""
        from pyminisandbox import pyminisandbox as s, pyminitapbox as t
        for m in (s, t):
            assert m.mini_sandbox_mount_write("a/b/c") == -1
            assert m.mini_sandbox_get_last_error_code() == -6
            assert m.mini_sandbox_setup_default() == 0
            assert m.mini_sandbox_get_last_error_code() == -6    # sticky
            assert m.mini_sandbox_setup_hermetic("/tmp") == -1
            assert m.mini_sandbox_get_last_error_code() == -2
            assert m.mini_sandbox_allow_ipv4_subnet("198.51.100.7") == 0
        print("ok")
        """, cwd=workdir)
    assert p.returncode == 0 and "ok" in p.stdout, (p.stdout, p.stderr)


# ---- CLI -------------------------------------------------------------------

@pytest.mark.parametrize("tapbox", [False, True])
def test_original_letters_are_accepted_with_a_notice(workdir, tapbox):
    from conftest import sandbox
    p = sandbox("-x", "-P", "-m", "/t", "-S", "/s", "-G", "g", "-l", "/o", "-L", "/e",
                "--", "sh", "-c", "echo ran > ran.txt", tapbox=tapbox, cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert (workdir / "ran.txt").read_text() == "ran\n"
    assert "-P has no effect" in p.stderr
    for letter in "mSGlL":
        assert "-%s " % letter in p.stderr and "ignored" in p.stderr


# ---- -o / -d as the original uses them --------------------------------------

def tapped(*args, cwd, timeout=60):
    from conftest import sandbox
    return sandbox(*args, cwd=cwd, timeout=timeout)


KS = ["-k", "/usr", "-k", "/bin", "-k", "/lib", "-k", "/lib64", "-k", "/etc"]


def test_custom_base_dirs_created_and_shared_like_the_original(workdir, tmp_path):
    # The original's docs: -o /tmp/sbx -d /tmp/sbx -k /usr ...; neither exists.
    base = tmp_path / "not" / "yet" / "sbx"
    r = tapped("-o", str(base), "-d", str(base), *KS, "--", "/bin/sh", "-c",
               'echo x > /usr/compat-o && test -z "$(ls -A "$HOME")" && '
               'echo h > "$HOME/f" && cat "$HOME/f" && ls /', cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "h"
    assert "usr" in r.stdout.split() and "home" in r.stdout.split()
    assert base.is_dir()
    assert os.listdir(base) == []                 # run directory removed, nothing else left
    assert not os.path.exists("/usr/compat-o")


def test_custom_runs_in_one_base_dir_do_not_collide(workdir, tmp_path):
    import subprocess
    from conftest import SANDBOX
    base = tmp_path / "sbx"
    procs = [subprocess.Popen([SANDBOX, "-o", str(base), "-d", str(base), *KS, "--",
                               "/bin/sh", "-c", "echo %d > /usr/which; read _; cat /usr/which" % i],
                              cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    # both are running (each waits on stdin) before either reads its file back
    outs = [p.communicate("go\n", timeout=60) for p in procs]
    for i, (p, (out, err)) in enumerate(zip(procs, outs)):
        assert p.returncode == 0, err
        assert out.strip() == str(i)
    assert os.listdir(base) == []


def test_custom_nonempty_root_stays_a_lower_layer_and_d_inside_is_refused(workdir, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "marker").write_text("lower\n")
    r = tapped("-o", str(root), "-d", str(root / "ovl"), *KS, "--", "/bin/true", cwd=workdir)
    assert r.returncode == 125, r.stderr
    assert "not empty" in r.stderr
    r = tapped("-o", str(root), *KS, "--", "/bin/cat", "/marker", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "lower\n"


def test_setup_custom_agrees_with_the_cli(workdir, tmp_path):
    base = tmp_path / "lib" / "base"
    p = client("compat-c-gcc-mini-sandbox", "custom", base, cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = report(p)
    assert r["home-write"] == "ok" and r["bin"] == "ok"
    assert (base / "root").is_dir() and (base / "overlay").is_dir()


# ---- overlays of directories with mounts below them ------------------------
# The bind mounts are made by the test itself in a user+mount namespace of
# its own (unshare -Urm), where mini-sandbox then runs nested: to the
# sandbox's namespace they are locked submounts, as Docker's /etc/hosts is.

def nested(script, cwd):
    from conftest import SANDBOX
    return run(["unshare", "-Urm", "sh", "-c", script, SANDBOX], cwd=cwd, timeout=60)


def test_overlay_of_a_k_directory_with_a_bind_mount_below(workdir, tmp_path):
    kdir, src = tmp_path / "kdir", tmp_path / "src"
    (kdir / "sub").mkdir(parents=True)
    (kdir / "deep" / "er").mkdir(parents=True)
    src.mkdir()
    (src / "f").write_text("inner\n")
    (kdir / "top").write_text("top\n")
    (kdir / "deep" / "er" / "d").write_text("deep\n")
    os.symlink("top", kdir / "link")
    p = nested(f"""
        mount --bind {src} {kdir}/sub || exit 99
        exec "$0" -x -k {kdir} -- sh -c '
            cat {kdir}/sub/f {kdir}/link {kdir}/deep/er/d
            echo y > {kdir}/sub/g && echo SUB-WRITE
            echo n > {kdir}/new && echo NEW-WRITE
            echo d >> {kdir}/deep/er/d && echo DEEP-WRITE
            echo t >> {kdir}/top || echo TOP-READ-ONLY'
        """, cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    out = p.stdout.split()
    assert out[:3] == ["inner", "top", "deep"], p.stdout
    for word in ("SUB-WRITE", "NEW-WRITE", "DEEP-WRITE", "TOP-READ-ONLY"):
        assert word in out, (word, p.stdout, p.stderr)
    # the host is untouched: everything written was overlay or tmpfs
    assert sorted(os.listdir(src)) == ["f"]
    assert sorted(os.listdir(kdir)) == ["deep", "link", "sub", "top"]
    assert (kdir / "deep" / "er" / "d").read_text() == "deep\n"
    assert (kdir / "top").read_text() == "top\n"


def test_overlay_of_the_project_folder_with_a_bind_mount_inside(tmp_path):
    home = os.environ["HOME"]
    proj = os.path.join(home, "msbx-compat-proj-%d" % os.getpid())
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("inner\n")
    os.makedirs(os.path.join(proj, "work"))
    os.makedirs(os.path.join(proj, "mnt"))
    try:
        p = nested(f"""
            mount --bind {src} {proj}/mnt || exit 99
            exec "$0" -x -- sh -c '
                cat ../mnt/f
                echo y > ../mnt/g && echo MNT-WRITE
                echo n > ../new && echo PROJECT-WRITE
                echo c > here && echo CWD-WRITE'
            """, cwd=os.path.join(proj, "work"))
        assert p.returncode == 0, (p.stdout, p.stderr)
        out = p.stdout.split()
        assert out[0] == "inner"
        for word in ("MNT-WRITE", "PROJECT-WRITE", "CWD-WRITE"):
            assert word in out, (word, p.stdout, p.stderr)
        assert sorted(os.listdir(proj)) == ["mnt", "work"]     # project overlay discarded
        assert os.listdir(os.path.join(proj, "work")) == ["here"]   # CWD shared
        assert sorted(os.listdir(src)) == ["f"]
    finally:
        shutil.rmtree(proj, ignore_errors=True)


def test_custom_root_with_a_submount(workdir, tmp_path):
    root, src = tmp_path / "root", tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    src.mkdir()
    (root / "marker").write_text("m\n")
    (src / "f").write_text("inner\n")
    p = nested(f"""
        mount --bind {src} {root}/sub || exit 99
        exec "$0" -o {root} {" ".join(KS)} -- /bin/sh -c '
            cat /marker /sub/f
            echo x > /sub/g && echo SUB-WRITE
            echo y > /new && echo ROOT-WRITE'
        """, cwd=workdir)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.split() == ["m", "inner", "SUB-WRITE", "ROOT-WRITE"]
    assert sorted(os.listdir(root)) == ["marker", "sub"]
    assert sorted(os.listdir(src)) == ["f"]
