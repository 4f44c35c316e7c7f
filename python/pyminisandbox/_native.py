# SPDX-License-Identifier: MIT
"""Finding and loading libminisandbox.so, and the ctypes prototypes.

Where the library comes from, in order:

1. ``$PYMINISANDBOX_LIBRARY``: a path to the .so, or a meson build directory
   (``src/libminisandbox.so.0`` below it) — for tests of an uninstalled tree;
2. the directory ``meson install`` put it in (``_paths.py``, generated then);
3. the dynamic linker's own search (``libminisandbox.so.0``: ld.so.cache,
   ``LD_LIBRARY_PATH``, /lib, /usr/lib) and ``ctypes.util.find_library``;
4. the standard directories /usr/local/lib[/MULTIARCH], /usr/lib[/MULTIARCH].

The tapbox flavour (``pyminitapbox``) loads ``libmini-tapbox.so.0`` the
same way (next to the file ``$PYMINISANDBOX_LIBRARY`` names): the original's
tapbox library, where a sandbox with no network call gets the unrestricted
tap network, like mini-tapbox(1) without -F.

Anything else is an exception: on a platform other than Linux
:class:`UnsupportedPlatformError`, without the library
:class:`LibraryNotFoundError` — never a silent "success" that would let the
program run unsandboxed.
"""
import ctypes
import ctypes.util
import os
import sys
import sysconfig
import threading

from ._errors import LibraryNotFoundError, UnsupportedPlatformError

ENV_LIBRARY = "PYMINISANDBOX_LIBRARY"
SONAME = "libminisandbox.so.0"
# flavour -> (soname, name for find_library)
FLAVOURS = {"sandbox": (SONAME, "minisandbox"),
            "tapbox": ("libmini-tapbox.so.0", "mini-tapbox")}

_lib = None          # CDLL: configuration calls (release the GIL)
_lib_gil = None      # PyDLL: start() keeps the GIL held across the fork
_load_lock = threading.Lock()
_loaded_from = None
_tapbox = None       # (CDLL, PyDLL, path) of the tapbox flavour, once loaded


def is_platform_supported():
    """True on Linux, the only system with the namespaces the sandbox needs."""
    return sys.platform.startswith("linux")


def _candidates(flavour="sandbox"):
    soname, short = FLAVOURS[flavour]
    env = os.environ.get(ENV_LIBRARY)
    if env:
        if os.path.isdir(env):
            yield os.path.join(env, "src", soname)
            yield os.path.join(env, soname)
        elif flavour == "sandbox":
            yield env
        else:
            yield os.path.join(os.path.dirname(env), soname)
        return  # an explicit choice is not second-guessed
    try:
        from . import _paths  # written by meson install
        yield os.path.join(_paths.LIBDIR, soname)
    except ImportError:
        pass
    yield soname
    found = ctypes.util.find_library(short)
    if found:
        yield found
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for base in ("/usr/local/lib", "/usr/local/lib64", "/usr/lib", "/usr/lib64"):
        if multiarch:
            yield os.path.join(base, multiarch, soname)
        yield os.path.join(base, soname)


def _declare(lib):
    c_int, c_char_p = ctypes.c_int, ctypes.c_char_p
    pid_t = ctypes.c_int
    proto = {
        "mini_sandbox_setup_default": (c_int, []),
        "mini_sandbox_setup_custom": (c_int, [c_char_p, c_char_p]),
        "mini_sandbox_setup_hermetic": (c_int, [c_char_p]),
        "mini_sandbox_mount_bind": (c_int, [c_char_p]),
        "mini_sandbox_mount_write": (c_int, [c_char_p]),
        "mini_sandbox_mount_tmpfs": (c_int, [c_char_p]),
        "mini_sandbox_mount_overlay": (c_int, [c_char_p]),
        "mini_sandbox_mount_empty_output_file": (c_int, [c_char_p]),
        "mini_sandbox_mount_parents_write": (c_int, []),
        "mini_sandbox_allow_host_proc": (c_int, []),
        "mini_sandbox_set_working_dir": (c_int, [c_char_p]),
        "mini_sandbox_enable_log": (c_int, [c_char_p]),
        "mini_sandbox_allow_userns": (c_int, []),
        "mini_sandbox_share_network": (c_int, []),
        "mini_sandbox_allow": (c_int, [c_char_p]),
        "mini_sandbox_allow_connections": (c_int, [c_char_p]),
        "mini_sandbox_allow_ipv4": (c_int, [c_char_p]),
        "mini_sandbox_allow_ipv4_subnet": (c_int, [c_char_p]),
        "mini_sandbox_allow_domain": (c_int, [c_char_p]),
        "mini_sandbox_allow_all_domains": (c_int, []),
        "mini_sandbox_learn_allowlist": (c_int, [c_char_p]),
        "mini_sandbox_allow_profile": (c_int, [c_char_p]),
        "mini_sandbox_allow_host_port": (c_int, [c_int]),
        "mini_sandbox_set_resolver": (c_int, [c_char_p]),
        "mini_sandbox_allow_max_connections": (c_int, [c_int]),
        "mini_sandbox_disable_name_check": (c_int, []),
        "mini_sandbox_set_max_procs": (c_int, [c_int]),
        "mini_sandbox_start": (c_int, []),
        "mini_sandbox_set_fork_hooks": (c_int, [ctypes.c_void_p] * 3),
        "mini_sandbox_is_running": (c_int, []),
        "mini_sandbox_spawn_fds": (pid_t, [ctypes.POINTER(c_char_p), c_int, c_int, c_int]),
        "mini_sandbox_reset": (c_int, []),
        "mini_sandbox_get_last_error_code": (c_int, []),
        "mini_sandbox_get_last_error_msg": (c_char_p, []),
    }
    for name, (restype, argtypes) in proto.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load(flavour="sandbox"):
    """Load the library (once) and return the ctypes handle."""
    global _lib, _lib_gil, _loaded_from, _tapbox
    if flavour == "tapbox":
        if _tapbox is None:
            with _load_lock:
                if _tapbox is None:
                    _tapbox = _open(flavour)
        return _tapbox[0]
    if _lib is not None:
        return _lib
    with _load_lock:
        if _lib is None:
            _lib, _lib_gil, _loaded_from = _open(flavour)
        return _lib


def _open(flavour):
    """(CDLL, PyDLL, path) of the first candidate that loads."""
    if not is_platform_supported():
        raise UnsupportedPlatformError(
            "mini-sandbox needs Linux (user namespaces); this is %s" % sys.platform)
    tried = []
    for path in _candidates(flavour):
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        _declare(lib)
        gil = ctypes.PyDLL(path)
        gil.mini_sandbox_start.restype = ctypes.c_int
        gil.mini_sandbox_start.argtypes = []
        return lib, gil, path
    raise LibraryNotFoundError(
        "%s not found; install mini-sandbox (meson install) or set "
        "%s to the library or the build directory. Tried: %s"
        % (FLAVOURS[flavour][0], ENV_LIBRARY, "; ".join(tried)))


def lib(flavour="sandbox"):
    if flavour == "sandbox" and _lib is not None:
        return _lib
    return load(flavour)


def lib_holding_gil(flavour="sandbox"):
    load(flavour)
    return _tapbox[1] if flavour == "tapbox" else _lib_gil


def loaded_from():
    """Path the library was loaded from (None before the first call)."""
    return _loaded_from


def encode(path):
    """str / bytes / os.PathLike → bytes for a char * argument."""
    if path is None:
        return None
    return os.fsencode(path)


def last_error(flavour="sandbox"):
    """(code, message) of the last failed call in this thread."""
    lib_ = lib(flavour)
    msg = lib_.mini_sandbox_get_last_error_msg()
    return lib_.mini_sandbox_get_last_error_code(), (msg or b"").decode("utf-8", "replace")


def _fork_hooks():
    """Addresses of PyOS_BeforeFork / AfterFork_Parent / AfterFork_Child."""
    api = ctypes.pythonapi
    return [ctypes.cast(fn, ctypes.c_void_p).value
            for fn in (api.PyOS_BeforeFork, api.PyOS_AfterFork_Parent,
                       api.PyOS_AfterFork_Child)]


def start_with_fork_protocol(flavour="sandbox"):
    """mini_sandbox_start() with Python's fork protocol around it.

    The library forks inside this call.  Holding the GIL across it (PyDLL)
    and running PyOS_BeforeFork / PyOS_AfterFork_* — what os.fork() does —
    keeps the interpreter consistent in the continuation (locks re-made,
    other threads' states dropped, os.register_at_fork hooks run).  In the
    outer process the call never returns on success: it becomes the
    launcher with the GIL held, so the caller's other Python threads stay
    stopped there instead of running unsandboxed.

    The library calls the PyOS_* functions itself (its fork hooks), as
    os.fork() does in C: PyOS_AfterFork_Child must run before the
    interpreter executes the next bytecode in the continuation.  Back in
    the eval loop first, a request for the GIL that another thread made in
    the outer process before the fork (every switch interval while start()
    holds the GIL) is still set; the continuation then hands the GIL over
    and waits forever for a thread that is not there.
    """
    gil = lib_holding_gil(flavour)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or odd stream must not block start
            pass
    # Fails only after a start, and then start() fails too, with its message.
    lib(flavour).mini_sandbox_set_fork_hooks(*_fork_hooks())
    return gil.mini_sandbox_start()
