#!/usr/bin/env bash
# Run the integration tests against BUILD.  As root: as the test user
# (created here), then the tests marked "root" as root.
set -euo pipefail
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
TEST_USER=${MSBX_TEST_USER:-msbx-test}
export MSBX_BUILD=$BUILD

pytest_args=(-p no:cacheprovider -o console_output_style=classic -rfEs "$HERE")

if [ "$(id -u)" -ne 0 ]; then
	exec "$PY" -m pytest "${pytest_args[@]}" -m "not root"
fi

# --- root: prepare the machine the way a distro user has it ---
if ! id "$TEST_USER" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash "$TEST_USER"
fi
chmod 0666 /dev/net/tun
uid=$(id -u "$TEST_USER")
# A login session's runtime directory, as systemd-logind makes it: the
# filesystem tests put a socket there and check the sandbox cannot reach it.
install -d -m 0700 -o "$TEST_USER" -g "$TEST_USER" "/run/user/$uid"
# subordinate ids are not needed: mini-sandbox maps only the caller's own id.

hosts_up=0
cleanup() {
	if [ "$hosts_up" = 1 ]; then "$HERE/testhosts.sh" down || true; fi
}
trap cleanup EXIT
if [ -x "$HERE/testhosts.sh" ]; then
	"$HERE/testhosts.sh" up
	hosts_up=1
fi

status=0
echo "== integration tests as unprivileged user $TEST_USER (uid $uid) =="
runuser -u "$TEST_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$TEST_USER" \
	USER="$TEST_USER" LANG=C.UTF-8 CI="${CI:-}" MSBX_BUILD="$BUILD" \
	"$PY" -m pytest "${pytest_args[@]}" -m "not root" || status=$?
echo "== integration tests launched as root =="
env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root USER=root LANG=C.UTF-8 \
	CI="${CI:-}" MSBX_BUILD="$BUILD" \
	"$PY" -m pytest "${pytest_args[@]}" -m root || status=$?
exit $status
