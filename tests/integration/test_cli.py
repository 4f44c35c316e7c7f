"""The command line of mini-sandbox and mini-tapbox, end to end: --help and
--version, usage errors (exit 125, a message naming the options, and the
command never runs), where options end, @FILE argument files, long options
behaving as their short forms in a real sandbox.

The parser itself is unit-tested in tests/unit/test-options*.c; these tests
check what a user sees from the real binaries.
"""
import os
import re
import shutil
import struct

import pytest

from conftest import SANDBOX, TAPBOX, run, sandbox


def test_help_is_short_and_points_at_the_man_page():
    for prog, name in ((SANDBOX, "mini-sandbox"), (TAPBOX, "mini-tapbox")):
        r = run([prog, "--help"], timeout=10)
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        assert r.stdout.startswith("Usage: %s " % name)
        assert "man %s" % name in r.stdout
        assert len(r.stdout.splitlines()) <= 25
    assert "--allow-host-port" in run([TAPBOX, "--help"], timeout=10).stdout
    assert "--allow-host-port" not in run([SANDBOX, "--help"], timeout=10).stdout


def test_version():
    for prog, name in ((SANDBOX, "mini-sandbox"), (TAPBOX, "mini-tapbox")):
        r = run([prog, "--version"], timeout=10)
        assert r.returncode == 0, r.stderr
        assert re.fullmatch(r"%s \d+\.\d+\.\d+\n" % name, r.stdout), r.stdout


@pytest.mark.parametrize("args, needles", [
    (["-R", "-U"], ["-R (--fake-root)", "-U (--nobody)"]),
    (["--nobody", "--fake-root"], ["-R", "-U"]),
    (["-x", "-o", "/"], ["-x (--default)", "-o (--root)"]),
    (["-n", "-N"], ["-n", "-N"]),
    (["-w", "rel/path"], ["-w rel/path: not an absolute path", '"$PWD/rel/path"']),
    (["-x", "-w", "/tmp"], ["-w /tmp", "private /tmp"]),
    (["-T", "soon"], ["-T soon: not a number"]),
    (["--allow-host-port", "8080"], ["--allow-host-port needs mini-tapbox"]),
    (["-F", "/dev/null"], ["-F needs mini-tapbox"]),
    (["--no-such-option"], ["unknown option --no-such-option"]),
])
def test_usage_errors_exit_125_and_run_nothing(workdir, args, needles):
    canary = workdir / "payload-ran"
    r = sandbox(*args, "--", "touch", str(canary), cwd=workdir, timeout=20)
    assert r.returncode == 125, r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)
    assert "Try 'mini-sandbox --help'" in r.stderr
    assert r.stdout == ""
    assert not canary.exists()


def test_tapbox_refuses_host_network(workdir):
    canary = workdir / "payload-ran"
    r = sandbox("-N", "--", "touch", str(canary), tapbox=True, cwd=workdir, timeout=20)
    assert r.returncode == 125, r.stderr
    assert "-N cannot be used with mini-tapbox" in r.stderr
    assert not canary.exists()


def elf_has_interp(path):
    """Whether the ELF64 file PATH names a dynamic loader (PT_INTERP)."""
    with open(path, "rb") as f:
        elf = f.read()
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return any(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 3    # PT_INTERP
               for i in range(phnum))


def elf_needed(path):
    """The DT_NEEDED entries of the ELF64 little-endian file PATH: the
    shared libraries the dynamic loader maps for it."""
    with open(path, "rb") as f:
        elf = f.read()
    assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, "not ELF64 LE: %s" % path
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize)
                for i in range(shnum)]
    needed = []
    for _name, sh_type, _flags, _addr, off, size, link, _info, _align, entsize in sections:
        if sh_type != 6:            # SHT_DYNAMIC
            continue
        strtab_off = sections[link][4]
        for pos in range(off, off + size, entsize):
            tag, val = struct.unpack_from("<qQ", elf, pos)
            if tag == 0:            # DT_NULL
                break
            if tag == 1:            # DT_NEEDED
                end = elf.index(b"\0", strtab_off + val)
                needed.append(elf[strtab_off + val:end].decode())
    return needed


NETWORK_LIBS = ("libslirp", "libnftnl", "libmnl")


def test_mini_sandbox_loads_none_of_the_network_libraries():
    # mini-sandbox has no user-mode network: linking its libraries would
    # only cost start-up time (issue 19).  mini-tapbox, the control, has.
    sandbox_libs = elf_needed(SANDBOX)
    tapbox_libs = elf_needed(TAPBOX)
    assert any(lib.startswith("libc.so") for lib in tapbox_libs), tapbox_libs  # the reader works
    if not sandbox_libs:
        # static_pie (a source build's default): no dynamic loader at all
        assert not elf_has_interp(SANDBOX)
    else:
        assert any(lib.startswith("libc.so") for lib in sandbox_libs), sandbox_libs
    for prefix in NETWORK_LIBS:
        assert not [lib for lib in sandbox_libs if lib.startswith(prefix)], sandbox_libs
    assert [lib for lib in tapbox_libs if lib.startswith("libmnl")], tapbox_libs
    with open(SANDBOX, "rb") as f:
        sandbox_bytes = f.read()
    with open(TAPBOX, "rb") as f:
        tapbox_bytes = f.read()
    # libnftnl: shared, or linked into mini-tapbox (static_nftnl) — never
    # into mini-sandbox (a function of it, by name in the unstripped build)
    assert b"nftnl_batch_begin" not in sandbox_bytes
    assert ([lib for lib in tapbox_libs if lib.startswith("libnftnl")] or
            b"nftnl_batch_begin" in tapbox_bytes), tapbox_libs
    # libslirp: loaded by mini-tapbox with dlopen() after the clone
    # (net/slirp-lib.h), by name; mini-sandbox has no such name
    assert b"libslirp.so.0" in tapbox_bytes
    assert b"libslirp.so.0" not in sandbox_bytes
    assert not os.path.islink(TAPBOX), "mini-tapbox must be an executable of its own"


@pytest.mark.parametrize("name, how", [
    ("mini-tapbox", "symlink"),
    ("mini-tapbox", "copy"),
    ("my-mini-tapbox.old", "symlink"),
])
@pytest.mark.parametrize("args", [["--", "touch"], ["-x", "--", "touch"], ["--version"]])
def test_mini_sandbox_under_tapbox_name_refuses(workdir, tmp_path, name, how, args):
    # mini-sandbox has no tap network: run as mini-tapbox it must run
    # nothing rather than a command without the network the name promises.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prog = bindir / name
    if how == "symlink":
        prog.symlink_to(SANDBOX)
    else:
        shutil.copy2(SANDBOX, prog)
    canary = workdir / "payload-ran"
    argv = [str(prog), *args] + ([str(canary)] if args[-1] == "touch" else [])
    r = run(argv, cwd=workdir, timeout=20)
    assert r.returncode == 125, r.stderr
    assert "built without mini-tapbox's user-mode network" in r.stderr
    assert "run the mini-tapbox executable" in r.stderr
    assert r.stdout == ""
    assert not canary.exists()
    # the control: the same executable under its own name runs the command
    sandbox_copy = bindir / "mini-sandbox"
    sandbox_copy.symlink_to(SANDBOX)
    r = run([str(sandbox_copy), "--", "touch", str(canary)], cwd=workdir, timeout=20)
    assert r.returncode == 0, r.stderr
    assert canary.exists()


def test_no_command_is_a_usage_error(workdir):
    for args in ([], ["-x"], ["-x", "--"]):
        r = sandbox(*args, cwd=workdir, timeout=20)
        assert r.returncode == 125, r.stderr
        assert "no command given" in r.stderr


def test_options_end_at_the_first_non_option(workdir):
    # -H after the command belongs to the command (sh's own option syntax
    # would reject it), and the status comes back unchanged
    r = sandbox("-H", "sh", "-c", 'echo "$0 $1"; exit 7', "-R", "-U", cwd=workdir, timeout=30)
    assert r.returncode == 7, r.stderr
    assert r.stdout == "-R -U\n"


def test_long_options_act_like_short_ones(workdir):
    r = sandbox("--hostname-localhost", "--", "uname", "-n", cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "localhost"
    r = sandbox("--nobody", "--", "id", "-u", cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "65534"


def test_argument_file(workdir, tmp_path):
    args = tmp_path / "args"
    args.write_text("--hostname-localhost\n-U\n--\nsh\n-c\necho $(uname -n) $(id -u) \"$0\"\n")
    r = sandbox("@%s" % args, "@not-expanded", cwd=workdir, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "localhost 65534 @not-expanded\n"


def test_unreadable_argument_file_is_named(workdir, tmp_path):
    missing = tmp_path / "no-such-args"
    canary = workdir / "payload-ran"
    r = sandbox("@%s" % missing, "--", "touch", str(canary), cwd=workdir, timeout=20)
    assert r.returncode == 125, r.stderr
    assert str(missing) in r.stderr
    assert "cannot read argument file" in r.stderr
    assert not canary.exists()
