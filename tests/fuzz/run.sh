#!/usr/bin/env bash
# Build and run every libFuzzer harness of tests/fuzz (fuzz-NAME.c with
# seeds in corpus-NAME/).
#   run.sh smoke          each target ~${FUZZ_SMOKE_SECS:-20}s (CI)
#   run.sh long [SECS] [NAME…]   longer runs (default 600 s each)
# New inputs go to a scratch corpus under the build dir, never into the
# source tree; crashes are written there too and fail the run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${MSBX_FUZZ_BUILD:-$SRC/build-fuzz}
mode=${1:-smoke}
shift || true
secs=${FUZZ_SMOKE_SECS:-20}
if [ "$mode" = long ]; then
	secs=${1:-600}
	shift || true
fi

if [ ! -d "$BUILD" ]; then
	CC=clang meson setup "$BUILD" "$SRC" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
meson compile -C "$BUILD" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$HERE"/fuzz-*.c; do
		n=$(basename "$f" .c)
		targets+=("${n#fuzz-}")
	done
fi

status=0
for t in "${targets[@]}"; do
	exe=$BUILD/tests/fuzz/fuzz-$t
	seeds=$HERE/corpus-$t
	work=$BUILD/fuzz-work/$t
	mkdir -p "$work/corpus" "$work/artifacts"
	echo "== fuzz $t: ${secs}s =="
	args=(-max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1
	      -artifact_prefix="$work/artifacts/" "$work/corpus")
	[ -d "$seeds" ] && args+=("$seeds")
	if ! "$exe" "${args[@]}" >"$work/log" 2>&1; then
		echo "fuzz $t FAILED; see $work/log and $work/artifacts/" >&2
		tail -40 "$work/log" >&2
		status=1
	else
		grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work/log" | tail -2
	fi
done
exit $status
