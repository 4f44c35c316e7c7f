#!/usr/bin/env bash
# Smoke tests of the *installed* packages, never a build tree: the commands
# in /usr/bin, the library through `pkg-config minisandbox`, the Python
# package of python3-pyminisandbox (and optionally the wheel in a venv).
# Runs as whoever calls it (tests/pkg/run.sh calls it as root and as the
# unprivileged test user; debian/tests/smoke is the autopkgtest).
#
#   smoke.sh [--testhosts] [--venv DIR]
#     --testhosts  also mini-tapbox with an allowlist, against the netns test
#                  hosts of tests/integration/testhosts.sh (must be up)
#     --venv DIR   also pyminisandbox from the virtualenv DIR (wheel installed)
#
# Prints one "ok ..." line per check; the first failed check stops it (exit 1).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
testhosts=0
venv=
while [ $# -gt 0 ]; do
	case $1 in
	--testhosts) testhosts=1 ;;
	--venv) venv=${2:?--venv needs a directory}; shift ;;
	*) echo "usage: smoke.sh [--testhosts] [--venv DIR]" >&2; exit 2 ;;
	esac
	shift
done

fail() { echo "FAIL ($(id -un)): $*" >&2; exit 1; }
ok() { echo "ok ($(id -un)): $*"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/msbx-smoke.XXXXXX")
# A file the sandbox must hide: $HOME is an empty scratch inside.
MARKER=$HOME/.msbx-smoke-marker.$$
cleanup() { rm -rf "$WORK" "$MARKER"; }
trap cleanup EXIT
touch "$MARKER"
cd "$WORK"

# --- the commands -----------------------------------------------------------
[ "$(command -v mini-sandbox)" = /usr/bin/mini-sandbox ] ||
	fail "mini-sandbox is $(command -v mini-sandbox || echo missing), not /usr/bin/mini-sandbox"
[ -x /usr/bin/mini-tapbox ] && [ ! -L /usr/bin/mini-tapbox ] ||
	fail "/usr/bin/mini-tapbox is not an executable of its own"
# mini-sandbox has no user-mode network, so none of its libraries (issue 19)
if ldd /usr/bin/mini-sandbox | grep -E 'libslirp|libnftnl|libmnl'; then
	fail "/usr/bin/mini-sandbox loads the user-mode network's libraries"
fi
mini-sandbox -x -- true || fail "mini-sandbox -x -- true: exit $?"
rc=0; mini-sandbox -x -- false || rc=$?
[ $rc = 1 ] || fail "mini-sandbox -x -- false: exit $rc, want the command's 1"
mini-sandbox -x -- test ! -e "$MARKER" || fail "mini-sandbox -x: $MARKER visible inside"
ok "mini-sandbox -x -- true; the exit status passes through; \$HOME hidden"
mini-sandbox --help >/dev/null || fail "mini-sandbox --help"
man -w mini-sandbox >/dev/null 2>&1 || [ -e /usr/share/man/man1/mini-sandbox.1.gz ] ||
	fail "man page mini-sandbox(1) not installed"

# --- mini-tapbox with an allowlist of one test host -------------------------
# Connects to each HOST:PORT, prints "HOST:PORT ok LAST-LINE" or
# "HOST:PORT ERRNO-NAME"; 5 s bound on each.  The hosts answer
# "msbx-testhost ADDR PORT", ADDR v4-mapped (their servers listen on ::).
PROBE='
import errno, socket, sys
for spec in sys.argv[1:]:
    host, port = spec.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = s.makefile("rb").read().decode(errors="replace")
        print(spec, "ok", data.strip().splitlines()[-1])
    except OSError as e:
        print(spec, errno.errorcode.get(e.errno, str(e)))
'
if [ $testhosts = 1 ]; then
	# the control: both hosts answer the host itself
	out=$("$PY" -c "$PROBE" 198.18.0.10:80 198.18.0.11:80)
	grep -Eqx '198.18.0.11:80 ok msbx-testhost (::ffff:)?198.18.0.11 80' <<<"$out" ||
		fail "test hosts not reachable from the host (tests/integration/testhosts.sh up): $out"
	printf '# smoke allowlist\n198.18.0.10:80\n' >"$WORK/allowlist"
	out=$(mini-tapbox -x -F "$WORK/allowlist" -- "$PY" -c "$PROBE" 198.18.0.10:80 198.18.0.11:80) ||
		fail "mini-tapbox -F allowlist: exit $?"
	grep -Eqx '198.18.0.10:80 ok msbx-testhost (::ffff:)?198.18.0.10 80' <<<"$out" ||
		fail "mini-tapbox: allowed 198.18.0.10:80 not reached: $out"
	grep -qx '198.18.0.11:80 ECONNREFUSED' <<<"$out" ||
		fail "mini-tapbox: 198.18.0.11:80 (not in the allowlist) not refused: $out"
	ok "mini-tapbox -F allowlist: 198.18.0.10:80 reached, 198.18.0.11:80 refused"
fi

# --- a C client built with pkg-config ----------------------------------------
pc_libdir=$(pkg-config --variable=libdir minisandbox) || fail "pkg-config minisandbox"
# shellcheck disable=SC2046  # pkg-config's words are meant to split
cc -Wall -Werror -o "$WORK/client" "$HERE/client.c" $(pkg-config --cflags --libs minisandbox) ||
	fail "cc client.c \$(pkg-config --cflags --libs minisandbox)"
# (compared as real paths: with merged /usr, ld.so finds it under /lib)
linked=$(ldd "$WORK/client" | sed -n 's/^[[:space:]]*libminisandbox\.so\.0 => \([^ ]*\) .*/\1/p')
[ -n "$linked" ] && [ "$(realpath "$linked")" = "$(realpath "$pc_libdir/libminisandbox.so.0")" ] ||
	fail "client not linked with $pc_libdir/libminisandbox.so.0: $(ldd "$WORK/client")"
out=$("$WORK/client" "$MARKER") || fail "client: exit $?: $out"
[ "$out" = "inside home-hidden" ] || fail "client: $out"
ok "C client (pkg-config minisandbox, $pc_libdir): setup_default + start"

# --- Python: the Debian package, then the wheel in a virtualenv --------------
# In the sandboxed call $HOME must be empty, and the library must be the
# installed one (its path in /proc/self/maps).
PYCHECK='
import os, sys
import pyminisandbox
want_dir, marker, libdir = sys.argv[1:4]
assert pyminisandbox.__file__.startswith(want_dir), pyminisandbox.__file__
assert os.path.exists(marker)
r = pyminisandbox.run(["/bin/sh", "-c", "test ! -e \"$1\"", "sh", marker], timeout=60)
assert r.returncode == 0, "marker visible in the sandbox (exit %d)" % r.returncode
want = os.path.realpath(os.path.join(libdir, "libminisandbox.so.0"))
mapped = {l.split()[-1] for l in open("/proc/self/maps") if "libminisandbox" in l}
assert {os.path.realpath(m) for m in mapped} == {want}, (mapped, want)
print(pyminisandbox.__file__)
'
"$PY" -I -c 'import pyminisandbox' || fail "python3 -c 'import pyminisandbox'"
where=$("$PY" -I -c "$PYCHECK" /usr/lib/python3/dist-packages/pyminisandbox/ "$MARKER" "$pc_libdir") ||
	fail "python3-pyminisandbox: sandboxed run"
ok "python3 -c 'import pyminisandbox' ($where) and pyminisandbox.run() sandboxed"
if [ -n "$venv" ]; then
	where=$("$venv/bin/python3" -I -c "$PYCHECK" "$venv/" "$MARKER" "$pc_libdir") ||
		fail "pyminisandbox wheel in $venv: sandboxed run"
	ok "wheel in a virtualenv ($where) finds the installed library"
fi
