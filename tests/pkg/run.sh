#!/usr/bin/env bash
# The Debian packages end to end, as root on Debian 12 (CI: a step of
# tests/run-all.sh): build them from a copy of this tree with
# dpkg-buildpackage, lintian (no errors), parse the AppArmor profile, build
# the Python wheel, install the .debs, run tests/pkg/smoke.sh against the
# installed commands, library and Python package (as root and as the test
# user, mini-tapbox against the netns test hosts, the wheel in a virtualenv),
# then purge them and check nothing of them is left.
#
#   tests/pkg/run.sh
#
# Environment: MSBX_TEST_USER (msbx-test); DEB_BUILD_OPTIONS (default
# "nocheck": run-all.sh has already run the unit tests, under sanitizers).
# Leaves the machine as it found it: what it sets up (test user, test hosts,
# /dev/net/tun mode) it removes again, and the four packages, if installed
# (by an interrupted earlier run, or by hand), are purged first, so it can
# run any number of times.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# Debian's tools and python3 (dh_python3, pip, venv), not one earlier in PATH
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck}
TEST_USER=${MSBX_TEST_USER:-msbx-test}
PACKAGES=(mini-sandbox libminisandbox0 libminisandbox-dev python3-pyminisandbox)
TESTHOSTS=$SRC/tests/integration/testhosts.sh

[ "$(id -u)" -eq 0 ] || { echo "tests/pkg/run.sh: run as root (it installs packages)" >&2; exit 2; }
"$SRC/scripts/deps.sh" pkg

step() { echo "== pkg: $* =="; }
fail() { echo "FAIL pkg: $*" >&2; exit 1; }

# --- undo on exit: only what this run set up ---------------------------------
WORK=
made_user=0
hosts_up=0
tun_mode=
debs_in=0
cleanup() {
	# every step runs even when one fails (errexit is on in the trap too)
	if [ "$debs_in" = 1 ]; then purge || true; fi
	if [ -n "$WORK" ]; then rm -rf "$WORK" || true; fi
	if [ "$hosts_up" = 1 ]; then "$TESTHOSTS" down || true; fi
	if [ "$made_user" = 1 ]; then
		rm -rf "/run/user/$(id -u "$TEST_USER")" || true
		userdel -r "$TEST_USER" 2>/dev/null || true
	fi
	if [ -n "$tun_mode" ]; then chmod "$tun_mode" /dev/net/tun || true; fi
}
trap cleanup EXIT

installed() {
	local p
	for p in "${PACKAGES[@]}"; do
		# "un"/"pn": known to dpkg but not installed
		dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$p" 2>/dev/null | grep -v '^.n '
	done
	return 0
}
purge() {
	[ -z "$(installed)" ] || apt-get purge -y -qq "${PACKAGES[@]}" >/dev/null
}

# What the packages own, and must leave no trace of after the purge.  Checked
# absent *before* the install too, so the check after means something (and a
# `meson install --prefix=/usr` is not mistaken for the package).
OWNED=(/usr/bin/mini-sandbox /usr/bin/mini-tapbox /etc/apparmor.d/mini-sandbox
       /etc/apparmor.d/local/mini-sandbox /usr/include/minisandbox.h
       /usr/share/bash-completion/completions/mini-sandbox
       /usr/lib/python3/dist-packages/pyminisandbox)
leftovers() {
	local f
	for f in "${OWNED[@]}" /usr/lib/*/libminisandbox.* /usr/lib/*/pkgconfig/minisandbox.pc \
		/usr/share/man/man[135]/mini-sandbox* /usr/share/man/man3/libminisandbox.3* \
		/usr/share/doc/{mini-sandbox,libminisandbox0,libminisandbox-dev,python3-pyminisandbox}; do
		if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
	done
}

step "purge what an earlier run left installed"
purge
left=$(leftovers)
[ -z "$left" ] || fail "files of the packages exist before their install (remove them first):
$left"

# --- build --------------------------------------------------------------------
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
WORK=$(mktemp -d /var/tmp/msbx-pkg.XXXXXX)
chmod 0755 "$WORK"
TREE=$WORK/mini-sandbox-$VERSION
step "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS) in $TREE"
rsync -a --exclude '/build*' --exclude '.git' --exclude '/obj-*' "$SRC/" "$TREE/"
(cd "$TREE" && dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1) || {
	tail -n 60 "$WORK/build.log" >&2
	fail "dpkg-buildpackage (log above)"
}
arch=$(dpkg --print-architecture)
debs=()
for p in "${PACKAGES[@]}"; do
	f=$WORK/${p}_${VERSION}_$arch.deb
	[ -e "$f" ] || f=$WORK/${p}_${VERSION}_all.deb
	[ -e "$f" ] || fail "dpkg-buildpackage made no .deb for $p"
	debs+=("$f")
done

step "lintian (errors fail; warnings are listed in debian/README.source)"
lintian --fail-on error "$WORK/mini-sandbox_${VERSION}_$arch.changes"

step "AppArmor profile: apparmor_parser -Q -K"
"$SRC/contrib/apparmor/for-parser.sh" "$SRC/contrib/apparmor/mini-sandbox" >"$WORK/profile"
apparmor_parser -Q -K "$WORK/profile"
dpkg-deb --fsys-tarfile "$WORK/mini-sandbox_${VERSION}_$arch.deb" |
	tar -xOf - ./etc/apparmor.d/mini-sandbox | cmp - "$WORK/profile" ||
	fail "the packaged profile is not contrib/apparmor/mini-sandbox for this parser"
# It grants the userns permission and nothing else (where the parser has it).
rules=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$WORK/profile" |
	sed -n '/^profile /,/^}/p' | sed -e '1d' -e '$d' -e 's/^[[:space:]]*//' |
	grep -v '^include if exists <local/mini-sandbox>$' || true)
if [ -e /etc/apparmor.d/abi/4.0 ]; then want=userns,; else want=; fi
[ "$rules" = "$want" ] || fail "the profile's rules are '$rules', want '$want'"

step "Python wheel (pip wheel --no-build-isolation, offline)"
mkdir "$WORK/wheel"
python3 -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$WORK/wheel" "$TREE/python"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python3" -m pip install -q --no-index "$WORK"/wheel/pyminisandbox-*.whl

# --- install and smoke-test -------------------------------------------------------
step "apt-get install ${debs[*]##*/}"
debs_in=1
apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
[ -z "$(installed | grep -v '^ii ')" ] || fail "not all installed: $(installed)"
[ -e /etc/apparmor.d/mini-sandbox ] || fail "/etc/apparmor.d/mini-sandbox not installed"

# the machine the way a distro user has it, as tests/integration/run.sh does
if ! id "$TEST_USER" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash "$TEST_USER"
	made_user=1
fi
mode=$(stat -c %a /dev/net/tun)
if [ "$mode" != 666 ]; then
	tun_mode=$mode
	chmod 0666 /dev/net/tun
fi
if ! "$TESTHOSTS" status 2>/dev/null; then
	"$TESTHOSTS" up
	hosts_up=1
fi
uid=$(id -u "$TEST_USER")
install -d -m 0700 -o "$TEST_USER" -g "$TEST_USER" "/run/user/$uid"

# the smoke test runs from a copy the test user can read; never from $TREE
install -d -m 0755 "$WORK/smoke"
install -m 0755 "$SRC/tests/pkg/smoke.sh" "$WORK/smoke/"
install -m 0644 "$SRC/tests/pkg/client.c" "$WORK/smoke/"
chmod -R a+rX "$WORK/venv"
step "smoke as root"
(cd / && "$WORK/smoke/smoke.sh" --testhosts --venv "$WORK/venv")
step "smoke as $TEST_USER"
(cd / && runuser -u "$TEST_USER" -- env -i PATH=/usr/bin:/bin HOME="/home/$TEST_USER" \
	USER="$TEST_USER" LANG=C.UTF-8 "$WORK/smoke/smoke.sh" --testhosts --venv "$WORK/venv")

# --- purge: nothing left ------------------------------------------------------------
step "apt-get purge ${PACKAGES[*]}"
apt-get purge -y -qq "${PACKAGES[@]}" >/dev/null
debs_in=0
[ -z "$(installed)" ] || fail "still known to dpkg after the purge: $(installed)"
for p in "${PACKAGES[@]}"; do
	if dpkg -L "$p" >/dev/null 2>&1; then fail "dpkg -L $p still lists files"; fi
done
left=$(leftovers)
[ -z "$left" ] || fail "left after the purge:
$left"
step "ok: built, lintian-clean, installed, smoke-tested, purged without a trace"
