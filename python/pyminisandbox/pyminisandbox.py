# SPDX-License-Identifier: MIT
"""The original mini-sandbox Python API, one function per library call.

Same names, arguments and return values as the original project's
``pyminisandbox`` module: each function returns 0 on success, -1 on failure
(-2 when the failure is recoverable: already started, nested), and
``mini_sandbox_get_last_error_code()`` (a :class:`MiniSandboxErrors` code)
/ ``..._msg()`` tell what failed; like the original's, the last error stays
until the next failure.
Unlike the original, a missing library or a non-Linux system raises
:class:`LibraryNotFoundError` / :class:`UnsupportedPlatformError` instead of
returning a code a caller might ignore and then run unsandboxed.

The network functions (``mini_sandbox_allow_*``) are available here as in
``pyminitapbox``; any allow call selects the filtered mini-tapbox network (see
libminisandbox(3)); with no network call the sandbox has no network.
``pyminitapbox`` has the same functions over libmini-tapbox, where no network
call means the unrestricted tap network, as in the original.
"""
import os

from . import _native
from ._errors import (LibraryNotFoundError, MiniSandboxErrors, SandboxError,  # noqa: F401
                      UnsupportedPlatformError)
from ._native import is_platform_supported  # noqa: F401

_enc = _native.encode
# Which library the functions below call: pyminitapbox rebinds them to
# "tapbox" (libmini-tapbox).
_FLAVOUR = "sandbox"


def init(tap_mode=False):
    """Load the library now (the original's entry point; optional here)."""
    _native.load(_FLAVOUR)


def mini_sandbox_get_last_error_code():
    return _native.lib(_FLAVOUR).mini_sandbox_get_last_error_code()


def mini_sandbox_get_last_error_msg():
    msg = _native.lib(_FLAVOUR).mini_sandbox_get_last_error_msg()
    return (msg or b"").decode("utf-8", "replace")


def mini_sandbox_enable_log(path):
    return _native.lib(_FLAVOUR).mini_sandbox_enable_log(_enc(path))


def mini_sandbox_allow_userns():
    return _native.lib(_FLAVOUR).mini_sandbox_allow_userns()


def mini_sandbox_mount_parents_write(num_of_parents=-1):
    """All folders above the working directory writable; or, with
    NUM_OF_PARENTS > 0, only that many levels up (as the original)."""
    if num_of_parents == -1:
        return _native.lib(_FLAVOUR).mini_sandbox_mount_parents_write()
    if isinstance(num_of_parents, int) and num_of_parents > 0:
        parent = os.path.abspath(os.path.join(*([os.curdir] + [os.pardir] * num_of_parents)))
        return _native.lib(_FLAVOUR).mini_sandbox_mount_write(_enc(parent))
    return MiniSandboxErrors.INVALID_ARG


def mini_sandbox_setup_default():
    return _native.lib(_FLAVOUR).mini_sandbox_setup_default()


def mini_sandbox_setup_custom(overlayfs_dir, sandbox_root):
    return _native.lib(_FLAVOUR).mini_sandbox_setup_custom(_enc(overlayfs_dir),
                                                           _enc(sandbox_root))


def mini_sandbox_setup_hermetic(sandbox_root):
    return _native.lib(_FLAVOUR).mini_sandbox_setup_hermetic(_enc(sandbox_root))


def mini_sandbox_start():
    """Enter the sandbox.  Returns 0 inside it (the rest of the program runs
    sandboxed); never returns in the outer process on success (it exits with
    the sandbox's status); < 0 on failure, and then nothing ran sandboxed or
    not — check it."""
    rc = _native.start_with_fork_protocol(_FLAVOUR)
    if rc == 0:
        os.environ["MINI_SANDBOX_INSIDE"] = "1"
    return rc


def mini_sandbox_mount_bind(path):
    return _native.lib(_FLAVOUR).mini_sandbox_mount_bind(_enc(path))


def mini_sandbox_mount_write(path):
    return _native.lib(_FLAVOUR).mini_sandbox_mount_write(_enc(path))


def mini_sandbox_mount_tmpfs(path):
    return _native.lib(_FLAVOUR).mini_sandbox_mount_tmpfs(_enc(path))


def mini_sandbox_mount_overlay(path):
    return _native.lib(_FLAVOUR).mini_sandbox_mount_overlay(_enc(path))


def mini_sandbox_mount_empty_output_file(path):
    return _native.lib(_FLAVOUR).mini_sandbox_mount_empty_output_file(_enc(path))


def mini_sandbox_set_working_dir(path):
    return _native.lib(_FLAVOUR).mini_sandbox_set_working_dir(_enc(path))


def mini_sandbox_share_network():
    return _native.lib(_FLAVOUR).mini_sandbox_share_network()


def mini_sandbox_allow_max_connections(max_connections):
    return _native.lib(_FLAVOUR).mini_sandbox_allow_max_connections(int(max_connections))


def mini_sandbox_disable_name_check():
    return _native.lib(_FLAVOUR).mini_sandbox_disable_name_check()


def mini_sandbox_set_max_procs(max_procs):
    return _native.lib(_FLAVOUR).mini_sandbox_set_max_procs(int(max_procs))


def mini_sandbox_allow_connections(path):
    return _native.lib(_FLAVOUR).mini_sandbox_allow_connections(_enc(path))


def mini_sandbox_allow_ipv4(ip):
    return _native.lib(_FLAVOUR).mini_sandbox_allow_ipv4(_enc(ip))


def mini_sandbox_allow_domain(domain):
    return _native.lib(_FLAVOUR).mini_sandbox_allow_domain(_enc(domain))


def mini_sandbox_allow_profile(name):
    return _native.lib().mini_sandbox_allow_profile(_enc(name))


def mini_sandbox_allow_all_domains():
    return _native.lib(_FLAVOUR).mini_sandbox_allow_all_domains()


def mini_sandbox_allow_ipv4_subnet(subnet):
    return _native.lib(_FLAVOUR).mini_sandbox_allow_ipv4_subnet(_enc(subnet))


def mini_sandbox_is_running():
    return _native.lib(_FLAVOUR).mini_sandbox_is_running() == 1


# ---- additions of this implementation ---------------------------------------

def mini_sandbox_allow(entry):
    """Any entry of the allowlist grammar: "host:443", "[2001:db8::1]:443",
    "10.0.0.0/8", "*.example.com"."""
    return _native.lib(_FLAVOUR).mini_sandbox_allow(_enc(entry))


def mini_sandbox_allow_host_port(port):
    return _native.lib(_FLAVOUR).mini_sandbox_allow_host_port(int(port))


def mini_sandbox_set_resolver(addr):
    return _native.lib(_FLAVOUR).mini_sandbox_set_resolver(_enc(addr))


def mini_sandbox_spawn(argv, stdin_fd=-1, stdout_fd=-1, stderr_fd=-1):
    """Run ARGV sandboxed as a child; returns its pid (os.waitpid it), or -1
    on failure (the code from mini_sandbox_get_last_error_code())."""
    import ctypes
    args = [_enc(a) for a in argv]
    arr = (ctypes.c_char_p * (len(args) + 1))(*args, None)
    return _native.lib(_FLAVOUR).mini_sandbox_spawn_fds(arr, stdin_fd, stdout_fd, stderr_fd)


def mini_sandbox_reset():
    return _native.lib(_FLAVOUR).mini_sandbox_reset()


__all__ = sorted(n for n in dir() if n.startswith("mini_sandbox_")) + [
    "MiniSandboxErrors", "SandboxError", "LibraryNotFoundError",
    "UnsupportedPlatformError", "init", "is_platform_supported"]
