#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/tests/fuzz for SECONDS each,
# starting from the committed seed corpus, JOBS targets at a time (default:
# one per core; each target is single-threaded). Fails when any target
# crashes, after the others finish, printing the crash and where its input is.
set -euo pipefail
build_dir=${1:?usage: fuzz.sh BUILD_DIR SECONDS [JOBS]}
seconds=${2:-30}
jobs=${3:-$(nproc 2>/dev/null || echo 1)}
here=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build_dir"/tests/fuzz/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets in $build_dir/tests/fuzz" >&2; exit 1; }

# One target: its own work directory, its log kept only when it fails.
fuzz_one() {
  local target=$1 name work status=0
  name=$(basename "$target")
  work=$(mktemp -d); mkdir "$work/corpus"
  "$target" -max_total_time="$seconds" -max_len=8192 -artifact_prefix="$work/" \
    "$work/corpus" "$here/tests/fuzz/corpus/${name#fuzz_}" >"$work/log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$work/log" >&2
    echo "$name failed (exit $status); crashing input kept in $work" >&2
    return "$status"
  fi
  echo "== $name ${seconds}s: $(grep -E '^(#[0-9]+\s+DONE|Done)' "$work/log" | tail -n 1 || true)"
  rm -rf "$work"
}

failed=0
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
