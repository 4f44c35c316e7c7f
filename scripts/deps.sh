#!/usr/bin/env bash
# Install the Debian packages mini-sandbox needs to build and test (Debian 12).
# Usage: scripts/deps.sh [build|test]   — "test" adds the test and benchmark peers.
# Installs only what is missing; needs root (or sudo) only when something is.
set -euo pipefail

build_pkgs=(meson ninja-build pkg-config gcc libglib2.0-dev libslirp-dev libnftnl-dev
	    libmnl-dev libseccomp-dev libcmocka-dev)
test_pkgs=(python3 python3-pytest python3-pip clang libclang-rt-14-dev iproute2 nftables util-linux
	   procps psmisc curl bubblewrap slirp4netns passt iperf3 hyperfine dnsmasq-base
	   cppcheck rsync groff-base openssl)
# npm: the machine's Node.js ships it (Debian's npm package conflicts with it).
command -v npm >/dev/null || test_pkgs+=(npm)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

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
