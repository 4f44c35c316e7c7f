#!/usr/bin/env bash
# The whole test suite: unit tests (cmocka, under ASan/UBSan), integration
# tests (real sandboxes, started as an unprivileged user), a short fuzz run,
# cppcheck, and (as root) the Debian packages installed and smoke-tested.
#
# As root (CI): copies the tree to a world-readable place, creates the test
# user, gives /dev/net/tun mode 0666, creates the test hosts' network
# namespaces, then runs the integration tests as that user — and the ones
# marked "root" as root.  As a normal user: runs everything as yourself
# (then /dev/net/tun must already be 0666 and the netns test hosts are
# absent: those tests fail, they are not skipped).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
"$SRC/scripts/deps.sh" test

if [ "$(id -u)" -eq 0 ]; then
	STAGE=${MSBX_STAGE:-/var/tmp/msbx-ci}
	rm -rf "$STAGE"
	mkdir -p "$STAGE"
	chmod 0755 "$STAGE"
	rsync -a --exclude '/build*' --exclude '.git' "$SRC/" "$STAGE/src/"
	chmod -R a+rX "$STAGE"
	WORK=$STAGE/src
else
	WORK=$SRC
fi
cd "$WORK"

# 0. static analysis
scripts/cppcheck.sh

# 1. build (strict) + unit tests under sanitizers
meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false >/dev/null
meson compile -C build-asan >/dev/null
meson test -C build-asan --suite unit --print-errorlogs

# 2. the build the integration tests use (no sanitizers: ASan and
#    clone(CLONE_NEWPID) / seccomp do not mix well)
meson setup build -Dwerror=true >/dev/null
meson compile -C build >/dev/null
chmod -R a+rX build

# 3. fuzz smoke run
if [ -x tests/fuzz/run.sh ]; then
	tests/fuzz/run.sh smoke
fi

# 4. the Debian packages built, installed, smoke-tested and purged (root:
#    it installs them; about 4 minutes).  A failure here does not hide the
#    integration tests' results: both count.
pkg_status=0
if [ "$(id -u)" -eq 0 ]; then
	tests/pkg/run.sh || pkg_status=$?
fi

# 5. integration tests
status=0
tests/integration/run.sh "$WORK/build" || status=$?
[ "$pkg_status" -eq 0 ] || echo "run-all: tests/pkg/run.sh failed (exit $pkg_status)" >&2
[ "$status" -eq 0 ] && exit "$pkg_status"
exit "$status"
