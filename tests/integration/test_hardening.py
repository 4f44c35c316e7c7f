"""Integrity hardening (issue 14 items 3, 4, 5, 7): nothing a sandbox does
may weaken the next run or reach the host.

Each test reproduces an attack of the review and shows that it fails now,
next to the positive control (the intended use still works).  Checked from
the host side where it can be.  The library's fd closing (item 3) is tested
in test_lib.py (procmem, fdkinds) and tests/lib/test-api.c.
"""
import os

import pytest

from conftest import run, sandbox


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


def test_allow_userns_lets_a_nested_namespace_be_created(workdir):
    r = sandbox("-x", "--allow-userns", "--", "unshare", "-Ur", "id", "-u", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


def test_allow_userns_in_tapbox_positive_control(workdir):
    r = sandbox("-x", "--allow-userns", "--", "unshare", "-Urn", "/usr/sbin/nft", "add", "table",
                "inet", "mine", tapbox=True, cwd=workdir)
    assert r.returncode == 0, r.stderr
