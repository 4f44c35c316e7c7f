"""The command line of mini-sandbox and mini-tapbox, end to end: --help and
--version, usage errors (exit 125, a message naming the options, and the
command never runs), where options end, @FILE argument files, long options
behaving as their short forms in a real sandbox.

The parser itself is unit-tested in tests/unit/test-options*.c; these tests
check what a user sees from the real binaries.
"""
import re

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
