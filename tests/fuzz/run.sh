#!/bin/bash
# Runs the libFuzzer harnesses built by `make fuzz-build` (see the Makefile's fuzz target).
#   run.sh DIR SECONDS PARALLEL NAME...
# For each NAME: replays tests/fuzz/regressions/NAME/* (plain inputs, no fuzzing), then fuzzes
# for SECONDS with tests/fuzz/NAME.dict on DIR/corpus/NAME, a copy of tests/fuzz/corpus/NAME
# that grows from run to run (the checked-in corpus is never written). At most PARALLEL
# harnesses run at once. Prints one line per harness with its executions; crashes, leaks and
# timeouts are kept in DIR/artifacts/NAME/ and fail the run. FUZZ_FLAGS adds libFuzzer options.
set -u
cd "$(dirname "$0")/../.."
DIR=$1 SECONDS_EACH=$2 PARALLEL=$3
shift 3
SRC=tests/fuzz
[ "$PARALLEL" -ge 1 ] 2>/dev/null || PARALLEL=1

# fuzz_one NAME: its summary line on stdout, and "ok" or "failed" in DIR/logs/NAME.status.
fuzz_one() {
	local status=failed
	fuzz_run "$1" && status=ok
	echo "$status" > "$DIR/logs/$1.status"
}

fuzz_run() {
	local name=$1 bin=$DIR/fuzz_$1
	local corpus=$DIR/corpus/$name artifacts=$DIR/artifacts/$name log=$DIR/logs/$name.log
	: > "$log"
	if [ -d "$SRC/regressions/$name" ] && [ -n "$(ls -A "$SRC/regressions/$name")" ]; then
		if ! "$bin" -timeout=25 -rss_limit_mb=2048 "$SRC/regressions/$name"/* >> "$log" 2>&1; then
			echo "fuzz $name: FAILED on a regression input (see $log)"
			return 1
		fi
	fi
	[ -d "$SRC/corpus/$name" ] && cp -n "$SRC/corpus/$name"/* "$corpus"/ 2>/dev/null
	local dict=()
	[ -f "$SRC/$name.dict" ] && dict=(-dict="$SRC/$name.dict")
	local start=$SECONDS rc=0
	# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of options
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_FLAGS:-} "$corpus" >> "$log" 2>&1 || rc=$?
	local runs
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	local files
	files=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -ne 0 ]; then
		echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} executions, $((SECONDS - start)) s;" \
			"inputs in $artifacts/, log $log"
		grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|invariant broken|ALARM|out-of-memory' "$log" |
			sed 's/^/    /'
		return 1
	fi
	echo "fuzz $name: ${runs:-?} executions in $((SECONDS - start)) s, corpus $files inputs"
}

failed=0
for name in "$@"; do
	mkdir -p "$DIR/corpus/$name" "$DIR/artifacts/$name" "$DIR/logs"
	rm -f "$DIR/logs/$name.status"
	[ -x "$DIR/fuzz_$name" ] || { echo "fuzz $name: $DIR/fuzz_$name is not built"; failed=1; continue; }
	while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do
		wait -n
	done
	fuzz_one "$name" &
done
wait
for name in "$@"; do
	[ "$(cat "$DIR/logs/$name.status" 2>/dev/null)" = ok ] || failed=1
done
if [ "$failed" -ne 0 ]; then
	echo "fuzz: FAILED"
	exit 1
fi
echo "fuzz: all $# harnesses clean"
