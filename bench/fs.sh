#!/usr/bin/env bash
# bench/fs.sh BUILD_DIR [PAIRS] — a file-heavy job on the host and inside
# `mini-sandbox -x`, side by side (issue 3 target: ≤ 1.10× the host time).
#
# The job is a clean configure + build of this project's own source tree,
# copied into a scratch directory under $HOME (or $BENCH_DIR): thousands of
# header lookups in /usr through the read-only binds, compiler temporaries in
# the private /tmp, objects written through the CWD bind to the host disk.
# Run it as an unprivileged user.
#
# hyperfine measures each PAIR (host run, then sandbox run, back to back),
# so a busy machine slows both sides of a pair alike; the summary gives the
# median of the per-pair wall-time ratios and the ratio of CPU time
# (user+system of the whole process tree), which load barely moves.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/fs.sh BUILD_DIR [PAIRS]}" && pwd)
PAIRS=${2:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
SBX=$BUILD/src/mini-sandbox
[ -x "$SBX" ] || { echo "no $SBX: build first" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }

WORK=$(mktemp -d "${BENCH_DIR:-$HOME}/msbx-bench-fs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/src" "$WORK/results"
# The source tree without build directories or git metadata.
tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$WORK/src" -xf -
cd "$WORK/src"

JOB='rm -rf _b && meson setup _b -Dtests=false >/dev/null && ninja -C _b >/dev/null'
sh -c "$JOB"     # warm the page cache once for both sides
for i in $(seq "$PAIRS"); do
	hyperfine --runs 1 --style basic --export-json "$WORK/results/$i.json" \
		-n host "sh -c '$JOB'" \
		-n 'mini-sandbox -x' "$SBX -x -- sh -c '$JOB'" >/dev/null
done

/usr/bin/python3 - "$WORK/results" <<'PY'
import json, os, statistics, sys
pairs = []
for f in sorted(os.listdir(sys.argv[1])):
    r = json.load(open(os.path.join(sys.argv[1], f)))["results"]
    pairs.append({x["command"]: x for x in r})
def col(name, key):
    return [p[name][key][0] if key == "times" else p[name][key] for p in pairs]
hw, sw = col("host", "times"), col("mini-sandbox -x", "times")
hc = [p["host"]["user"] + p["host"]["system"] for p in pairs]
sc = [p["mini-sandbox -x"]["user"] + p["mini-sandbox -x"]["system"] for p in pairs]
print("| side | median wall s | min wall s | mean CPU s (user+sys) |")
print("|---|---:|---:|---:|")
print(f"| host | {statistics.median(hw):.2f} | {min(hw):.2f} | {statistics.mean(hc):.2f} |")
print(f"| mini-sandbox -x | {statistics.median(sw):.2f} | {min(sw):.2f} | {statistics.mean(sc):.2f} |")
ratios = [s / h for s, h in zip(sw, hw)]
print()
print(f"pairs: {len(pairs)}; per-pair wall ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
print(f"median wall ratio {statistics.median(ratios):.3f}x; min/min {min(sw)/min(hw):.3f}x; "
      f"CPU ratio {statistics.mean(sc)/statistics.mean(hc):.3f}x")
PY
