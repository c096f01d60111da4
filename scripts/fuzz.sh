#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/tests/fuzz for SECONDS each,
# starting from the committed seed corpus. Fails on the first crash.
set -euo pipefail
build_dir=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build_dir"/tests/fuzz/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets in $build_dir/tests/fuzz" >&2; exit 1; }
for target in "${targets[@]}"; do
  name=$(basename "$target")
  seeds="$here/tests/fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d); mkdir "$work/corpus"
  echo "== $name for ${seconds}s (seeds: $seeds)"
  status=0
  "$target" -max_total_time="$seconds" -max_len=8192 -artifact_prefix="$work/" \
    "$work/corpus" "$seeds" >"$work/log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$work/log" >&2
    echo "$name failed (exit $status); crashing input kept in $work" >&2
    exit "$status"
  fi
  grep -E '^(#[0-9]+\s+DONE|Done)' "$work/log" | tail -n 1 || true
  rm -rf "$work"
done
