#!/usr/bin/env bash
# Install the Debian packages mini-sandbox needs to build and test (Debian 12).
# Usage: scripts/deps.sh [build|test|pkg] — "test" adds the test and benchmark peers,
# "pkg" the Debian packaging tools (tests/pkg/run.sh: dpkg-buildpackage, lintian,
# apparmor_parser, the wheel's venv).
# Installs only what is missing; needs root (or sudo) only when something is.
set -euo pipefail

build_pkgs=(meson ninja-build pkg-config gcc libglib2.0-dev libslirp-dev libnftnl-dev
	    libmnl-dev libseccomp-dev libcmocka-dev)
test_pkgs=(python3 python3-pytest python3-pip clang libclang-rt-14-dev iproute2 nftables util-linux
	   procps psmisc curl bubblewrap slirp4netns passt iperf3 hyperfine dnsmasq-base
	   cppcheck rsync groff-base openssl)
# npm: the machine's Node.js ships it (Debian's npm package conflicts with it).
command -v npm >/dev/null || test_pkgs+=(npm)
pkg_pkgs=(build-essential dpkg-dev debhelper dh-python dh-apparmor apparmor lintian python3-pip python3-venv
	  rsync iproute2 curl)

want=("${build_pkgs[@]}")
case ${1:-build} in
build) ;;
test) want+=("${test_pkgs[@]}") ;;
pkg) want+=("${pkg_pkgs[@]}") ;;
*) echo "usage: scripts/deps.sh [build|test|pkg]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
