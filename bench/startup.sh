#!/usr/bin/env bash
# Start-up cost of mini-sandbox next to its peers, side by side in one
# hyperfine run:
#   mini-sandbox -- true            read-only mode (no new root)
#   mini-sandbox -x -- true         default isolation mode
#   bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true
#   unshare -Urmnpi --fork true     the bare namespaces, nothing else
# Prints hyperfine's table, then each command's median wall time and CPU
# time (user+sys) as ratios to the bwrap line (the issue's targets:
# read-only ≤ 1.0×, -x ≤ 1.5×).
#
# usage: bench/startup.sh [BUILD_DIR] [extra hyperfine args…]
# Run it as an unprivileged user from a directory of your own (mini-sandbox
# shares the working directory; the results land in $OUT, default
# ./startup.json).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../build}" && pwd)
shift || true
SBX=$BUILD/src/mini-sandbox
OUT=${OUT:-$PWD/startup.json}

for tool in hyperfine bwrap unshare python3; do
	command -v "$tool" >/dev/null || { echo "startup.sh: $tool is missing" >&2; exit 1; }
done
[ -x "$SBX" ] || { echo "startup.sh: no $SBX (build first)" >&2; exit 1; }

hyperfine --shell=none --warmup 10 --min-runs 100 --export-json "$OUT" \
	-n "mini-sandbox -- true" "$SBX -- true" \
	-n "mini-sandbox -x -- true" "$SBX -x -- true" \
	-n "bwrap (unshare-all, ro /)" "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true" \
	-n "unshare -Urmnpi --fork" "unshare -Urmnpi --fork true" \
	"$@"

python3 - "$OUT" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
ref = next(r for r in results if r["command"].startswith("bwrap"))
def cpu(r):
    return r["user"] + r["system"]
# Wall time is what the issue's targets are about; median is less bent by
# a busy machine than the mean.  CPU (user+sys) is the load-proof view.
print("\n%-28s %9s %9s %9s %9s %8s" % ("command", "mean ms", "median ms", "cpu ms",
                                        "x bwrap", "cpu x"))
for r in results:
    print("%-28s %9.2f %9.2f %9.2f %9.2f %8.2f" % (
        r["command"], r["mean"] * 1e3, r["median"] * 1e3, cpu(r) * 1e3,
        r["median"] / ref["median"], cpu(r) / cpu(ref)))
PY
