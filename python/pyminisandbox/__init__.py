# SPDX-License-Identifier: MIT
"""pyminisandbox — sandbox a running Python program, or a command, rootless.

Pythonic layer over libminisandbox (ctypes, pure Python)::

    import pyminisandbox

    # a command, like subprocess.run, egress only to what is allowed
    r = pyminisandbox.run(["curl", "-sS", "https://pypi.org/simple/"],
                          allow=["pypi.org:443"], capture_output=True, text=True)

    # the rest of this program
    pyminisandbox.Sandbox().write("/home/me/results").allow("pypi.org:443").start()

Errors raise :class:`SandboxError` (``.code``, ``.message``).  The original
project's function-per-call API is in :mod:`pyminisandbox.pyminisandbox` and
:mod:`pyminisandbox.pyminitapbox`.

The library keeps one configuration per process.  A :class:`Sandbox` owns it
while it is being built and used (each builder call is checked at once by
the library); building another Sandbox, or using the raw functions, replaces
it.  Reference: libminisandbox(3).
"""
import os
import selectors
import signal
import subprocess
import threading
import time

from . import _native
from ._errors import (LibraryNotFoundError, MiniSandboxErrors, SandboxError,
                      UnsupportedPlatformError)

__all__ = ["Sandbox", "run", "SandboxError", "LibraryNotFoundError",
           "UnsupportedPlatformError", "MiniSandboxErrors", "is_running",
           "is_platform_supported"]
__version__ = "0.1.0"

is_platform_supported = _native.is_platform_supported

_config_lock = threading.RLock()
_owner = None   # the Sandbox whose operations the library's config holds

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT


def is_running():
    """True inside a sandbox this process entered with start()."""
    return _native.lib().mini_sandbox_is_running() == 1


def _call(name, *args):
    fn = getattr(_native.lib(), name)
    rc = fn(*[_native.encode(a) if isinstance(a, (str, bytes, os.PathLike)) else a
              for a in args])
    if rc < 0:
        code, msg = _native.last_error()
        raise SandboxError(code or rc, msg or name)
    return rc


class Sandbox:
    """Builder for a sandbox: filesystem mode and paths, network, then
    :meth:`start` (this program continues inside), :meth:`run` or
    :meth:`spawn` (a command runs inside, this program stays outside).

    ``mode``: ``"default"`` (mini-sandbox -x: fresh root, system read-only,
    CWD writable, $HOME empty), ``"readonly"`` (no new root, everything
    read-only but CWD), ``"custom"`` (``root`` and ``overlay_dir``),
    ``"hermetic"`` (``root``; only what is mounted).
    """

    def __init__(self, mode="default", *, root=None, overlay_dir=None):
        self._ops = []
        if mode == "default":
            self._add("mini_sandbox_setup_default")
        elif mode == "custom":
            if root is None or overlay_dir is None:
                raise ValueError("mode='custom' needs root= and overlay_dir=")
            self._add("mini_sandbox_setup_custom", overlay_dir, root)
        elif mode == "hermetic":
            if root is None:
                raise ValueError("mode='hermetic' needs root=")
            self._add("mini_sandbox_setup_hermetic", root)
        elif mode == "readonly":
            self._add(None)
        else:
            raise ValueError("mode must be 'default', 'readonly', 'custom' or 'hermetic'")

    # -- configuration (each call is checked by the library at once) ------

    def _add(self, name, *args):
        global _owner
        with _config_lock:
            if _owner is not self:
                self._apply_all()
            if name is not None:
                _call(name, *args)
                self._ops.append((name, args))
        return self

    def _apply_all(self):
        global _owner
        _owner = None
        _call("mini_sandbox_reset")
        for name, args in self._ops:
            _call(name, *args)
        _owner = self

    def write(self, path):
        """Read-write bind: writes to PATH persist on the host (-w)."""
        return self._add("mini_sandbox_mount_write", path)

    def read(self, path):
        """Read-only bind (-M)."""
        return self._add("mini_sandbox_mount_bind", path)

    def tmpfs(self, path):
        """An empty tmpfs over the directory PATH (-e)."""
        return self._add("mini_sandbox_mount_tmpfs", path)

    def overlay(self, path):
        """PATH writable inside, changes thrown away (-k)."""
        return self._add("mini_sandbox_mount_overlay", path)

    def output_file(self, path):
        """PATH as a writable file (created empty on the host if missing)."""
        return self._add("mini_sandbox_mount_empty_output_file", path)

    def workdir(self, path):
        """Working directory inside (-W); default: the current directory."""
        return self._add("mini_sandbox_set_working_dir", path)

    def parents_write(self):
        """Folders above the working directory writable, not overlaid."""
        return self._add("mini_sandbox_mount_parents_write")

    def host_proc(self):
        """The host's /proc where a new one is refused (--proc=host)."""
        return self._add("mini_sandbox_allow_host_proc")

    def log(self, path):
        """Debug log of the set-up stages (-D)."""
        return self._add("mini_sandbox_enable_log", path)

    def allow_userns(self):
        """Let the code inside create user namespaces (--allow-userns)."""
        return self._add("mini_sandbox_allow_userns")

    def share_network(self):
        """The host's network (-N)."""
        return self._add("mini_sandbox_share_network")

    def allow(self, entry):
        """Allow egress to ENTRY (allowlist grammar: "host:443",
        "10.0.0.0/8", "[2001:db8::1]:443", "*.example.com").  Any allow
        gives the filtered network; without one the sandbox has none."""
        return self._add("mini_sandbox_allow", entry)

    def allow_file(self, path):
        """Every entry of an allowlist file (-F)."""
        return self._add("mini_sandbox_allow_connections", path)

    def profile(self, name):
        """The package-manager profile NAME ("npm", "pip", "apt", "git", "go", "cargo"):
        egress to the hosts the tool's own settings name, its settings
        files read-only inside (mini-tapbox --profile)."""
        return self._add("mini_sandbox_allow_profile", name)

    def allow_host_port(self, port):
        """Host loopback port PORT, reachable inside as 10.0.2.2:PORT."""
        return self._add("mini_sandbox_allow_host_port", int(port))

    def allow_all(self):
        """The user-mode network without a filter."""
        return self._add("mini_sandbox_allow_all_domains")

    def learn(self, path):
        """Write the allowlist the run needed to PATH at exit (mini-tapbox
        --learn): egress open while learning, or, with allow calls, those
        enforced and PATH getting only what they denied."""
        return self._add("mini_sandbox_learn_allowlist", path)

    def resolver(self, addr):
        """DNS server used to resolve allowed domains ("ADDR[:PORT]")."""
        return self._add("mini_sandbox_set_resolver", addr)

    def max_connections(self, n):
        """Limit of simultaneous connections (filtered network)."""
        return self._add("mini_sandbox_allow_max_connections", int(n))

    def no_name_check(self):
        """Turn the name gate off: domain entries admit any name on their
        addresses (weaker; see mini-tapbox(1) --no-name-check)."""
        return self._add("mini_sandbox_disable_name_check")

    def max_procs(self, n):
        """At most N tasks (processes and threads) inside (--max-procs)."""
        return self._add("mini_sandbox_set_max_procs", int(n))

    # -- running ----------------------------------------------------------

    def start(self):
        """Enter the sandbox: returns inside it; the outer process waits and
        exits with the sandbox's status.  Raises SandboxError (nothing ran)
        when set-up fails.  Only the calling thread continues inside."""
        with _config_lock:
            self._apply_all()
            rc = _native.start_with_fork_protocol()
            if rc < 0:
                code, msg = _native.last_error()
                raise SandboxError(code or rc, msg)
        os.environ["MINI_SANDBOX_INSIDE"] = "1"

    def spawn(self, args, *, stdin=-1, stdout=-1, stderr=-1):
        """Start ARGS sandboxed as a child with the given fds (-1: inherit);
        returns its pid (reap it with os.waitpid)."""
        import ctypes
        argv = [os.fsencode(a) for a in args]
        arr = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
        with _config_lock:
            self._apply_all()
            return _call("mini_sandbox_spawn_fds", arr, stdin, stdout, stderr)

    def run(self, args, *, stdin=None, input=None, stdout=None, stderr=None,
            capture_output=False, text=False, encoding=None, errors=None,
            timeout=None, check=False):
        """Like subprocess.run(), sandboxed.  Returns a
        subprocess.CompletedProcess; its returncode is the command's exit
        code (128+N if it died of signal N, 125 when set-up failed with the
        message on stderr)."""
        return _run(self, list(args), stdin=stdin, input=input, stdout=stdout,
                    stderr=stderr, capture_output=capture_output, text=text,
                    encoding=encoding, errors=errors, timeout=timeout, check=check)


def run(args, *, allow=(), write=(), read=(), tmpfs=(), overlay=(), mode="default",
        root=None, overlay_dir=None, cwd=None, share_network=False, allow_all=False,
        host_ports=(), resolver=None, log=None, max_procs=None, **kwargs):
    """Run ARGS in a fresh sandbox and wait, like subprocess.run().

    ``allow``: allowlist entries (the filtered network; none = no network);
    ``write`` / ``read`` / ``tmpfs`` / ``overlay``: paths; ``cwd``: working
    directory inside; the other keywords as :class:`Sandbox` and
    subprocess.run (``input``, ``capture_output``, ``text``, ``timeout``,
    ``check``, ``stdin``, ``stdout``, ``stderr``, ``encoding``, ``errors``).
    """
    sb = Sandbox(mode, root=root, overlay_dir=overlay_dir)
    for p in write:
        sb.write(p)
    for p in read:
        sb.read(p)
    for p in tmpfs:
        sb.tmpfs(p)
    for p in overlay:
        sb.overlay(p)
    if cwd is not None:
        sb.workdir(os.path.abspath(cwd))
    if share_network:
        sb.share_network()
    if allow_all:
        sb.allow_all()
    for e in allow:
        sb.allow(e)
    for port in host_ports:
        sb.allow_host_port(port)
    if resolver is not None:
        sb.resolver(resolver)
    if log is not None:
        sb.log(log)
    if max_procs is not None:
        sb.max_procs(max_procs)
    return sb.run(args, **kwargs)


def _child_fd(spec, for_stdin, opened, parent_ends):
    """Map a subprocess-style stdin/stdout/stderr value to the child's fd."""
    if spec is None:
        return -1
    if spec == PIPE:
        r, w = os.pipe()
        child, parent = (r, w) if for_stdin else (w, r)
        opened.append(child)
        parent_ends.append(parent)
        return child
    if spec == DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        opened.append(fd)
        return fd
    if isinstance(spec, int) and spec >= 0:
        return spec
    if hasattr(spec, "fileno"):
        return spec.fileno()
    raise ValueError("unsupported stdin/stdout/stderr value: %r" % (spec,))


def _run(sb, args, *, stdin, input, stdout, stderr, capture_output, text, encoding,
         errors, timeout, check):
    if capture_output:
        if stdout is not None or stderr is not None:
            raise ValueError("capture_output may not be used with stdout or stderr")
        stdout = stderr = PIPE
    if input is not None:
        if stdin is not None:
            raise ValueError("stdin and input arguments may not both be used")
        stdin = PIPE
    text_mode = text or encoding is not None or errors is not None
    if text_mode and isinstance(input, str):
        input = input.encode(encoding or "utf-8", errors or "strict")

    opened = []
    ends = {}
    try:
        parents = []
        fd_in = _child_fd(stdin, True, opened, parents)
        ends["stdin"] = parents.pop() if parents else None
        fd_out = _child_fd(stdout, False, opened, parents)
        ends["stdout"] = parents.pop() if parents else None
        if stderr == STDOUT:
            fd_err = fd_out if fd_out >= 0 else 1
        else:
            fd_err = _child_fd(stderr, False, opened, parents)
        ends["stderr"] = parents.pop() if parents else None
        pid = sb.spawn(args, stdin=fd_in, stdout=fd_out, stderr=fd_err)
    except BaseException:
        for fd in opened + [e for e in ends.values() if e is not None]:
            os.close(fd)
        raise
    for fd in opened:
        os.close(fd)

    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        out, err = _communicate(ends, input, deadline)
        status = _wait(pid, deadline)
    except subprocess.TimeoutExpired:
        _kill_and_reap(pid)
        raise subprocess.TimeoutExpired(args, timeout)
    except BaseException:
        _kill_and_reap(pid)
        raise
    finally:
        for fd in ends.values():
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    if text_mode:
        enc, errs = encoding or "utf-8", errors or "strict"
        out = out.decode(enc, errs) if out is not None else None
        err = err.decode(enc, errs) if err is not None else None
    result = subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), out, err)
    if check:
        result.check_returncode()
    return result


def _remaining(deadline):
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise subprocess.TimeoutExpired("sandbox", 0)
    return left


def _communicate(ends, input, deadline):
    chunks = {"stdout": [], "stderr": []}
    sel = selectors.DefaultSelector()
    try:
        if ends["stdin"] is not None:
            if input:
                os.set_blocking(ends["stdin"], False)
                sel.register(ends["stdin"], selectors.EVENT_WRITE, "stdin")
            else:
                os.close(ends["stdin"])
                ends["stdin"] = None
        for name in ("stdout", "stderr"):
            if ends[name] is not None:
                sel.register(ends[name], selectors.EVENT_READ, name)
        view = memoryview(input or b"")
        while sel.get_map():
            for key, _ in sel.select(_remaining(deadline)):
                name = key.data
                if name == "stdin":
                    try:
                        n = os.write(key.fd, view[:65536])
                    except BrokenPipeError:
                        n = len(view)
                    view = view[n:]
                    if not view:
                        sel.unregister(key.fd)
                        os.close(key.fd)
                        ends["stdin"] = None
                    continue
                data = os.read(key.fd, 65536)
                if data:
                    chunks[name].append(data)
                else:
                    sel.unregister(key.fd)
            if deadline is not None and sel.get_map():
                _remaining(deadline)
    finally:
        sel.close()
    return (b"".join(chunks["stdout"]) if ends["stdout"] is not None else None,
            b"".join(chunks["stderr"]) if ends["stderr"] is not None else None)


def _wait(pid, deadline):
    """waitpid with a bound: a pidfd becomes readable when PID exits."""
    if deadline is not None:
        pidfd = os.pidfd_open(pid)
        try:
            sel = selectors.DefaultSelector()
            sel.register(pidfd, selectors.EVENT_READ)
            try:
                if not sel.select(_remaining(deadline)):
                    raise subprocess.TimeoutExpired("sandbox", 0)
            finally:
                sel.close()
        finally:
            os.close(pidfd)
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _kill_and_reap(pid):
    """Killing the child launcher kills the whole sandbox (PDEATHSIG)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
