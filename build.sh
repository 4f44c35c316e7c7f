#!/usr/bin/env bash
# Build mini-sandbox on a fresh Debian 12 machine (installing what is missing)
# and run it on a small built-in example.  Usage: ./build.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${1:-build}

scripts/deps.sh build
[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null
meson compile -C "$BUILD" >/dev/null
echo "built: $BUILD/src/mini-sandbox, $BUILD/src/mini-tapbox"

exec examples/demo.sh "$BUILD"
