#!/usr/bin/env bash
# Benchmark `lineage zombies` and `lineage snapshot` with N other processes.
#
#   bash bench/zombies.sh                 # SIZES="10000" RUNS=10
#   SIZES="1000 10000" RUNS=5 bash bench/zombies.sh
#
# Holds N processes (bench/spawner.c) and a parent with 50 zombies (so that
# `zombies` has a factory to explain), then times in one hyperfine run:
#   floor-stat   bench/floor stat: every pid's stat, read and thrown away
#   zombies      $LINEAGE zombies          (exits 1: there are zombies; -i)
#   ps-zombies   ps -eo pid,ppid,stat,comm  what an operator runs today
# and in a second one (fewer runs: it reads everything):
#   snapshot     $LINEAGE snapshot -o FILE --force --history 0
#
# Environment: LINEAGE (default <repo>/build/lineage), SIZES, RUNS,
# SNAP_RUNS (default 5), RESULTS_DIR (default bench/results), BASELINE (another
# lineage binary, e.g. main's before a change: its snapshot is timed in the
# same hyperfine run as snapshot-baseline).
# stdout: one markdown table per N. Progress and hyperfine output: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SIZES=${SIZES:-10000}
RUNS=${RUNS:-10}
SNAP_RUNS=${SNAP_RUNS:-5}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "zombies.sh: $*"; exit 1; }
for tool in hyperfine gcc python3; do command -v "$tool" >/dev/null || die "missing tool: $tool"; done
[[ -x $LINEAGE ]] || die "no lineage at $LINEAGE"

build=$(mktemp -d)
spawner_pid="" factory_pid="" hf_pid=""
cleanup() {
    local pid
    for pid in "$hf_pid" "$factory_pid" "$spawner_pid"; do  # only what this script started
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$build"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gcc -O2 -Wall -o "$build/spawner" "$here/spawner.c"
gcc -O2 -Wall -o "$build/floor" "$here/floor.c"
mkdir -p "$RESULTS_DIR"

hyperfine_bg() {
    hyperfine -N -i "$@" >&2 &
    hf_pid=$!
    local rc=0
    wait "$hf_pid" || rc=$?
    hf_pid=""
    ((rc == 0)) || die "hyperfine failed (exit $rc)"
}
nprocs() { local p=(/proc/[0-9]*); echo "${#p[@]}"; }
wait_for_line() {
    local t
    for ((t = 0; t < 6000; t++)); do
        grep -q "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

python3 -c '
import os, sys, time
for _ in range(50):
    if os.fork() == 0:
        os._exit(0)
print("ready", flush=True)
time.sleep(3600)' >"$build/factory.out" &
factory_pid=$!
wait_for_line "$build/factory.out" '^ready' "$factory_pid" || die "zombie factory did not start"

for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] || die "bad size: $n"
    "$build/spawner" "$n" >"$build/spawner.out" &
    spawner_pid=$!
    wait_for_line "$build/spawner.out" '^ready' "$spawner_pid" || die "spawner $n failed"
    log "== N=$n: $(nprocs) processes in total; load $(cut -d' ' -f1-3 /proc/loadavg)"
    "$LINEAGE" zombies --json >"$build/z.json" || true  # exit 1: zombies found
    grep -q "\"parent_pid\":$factory_pid" "$build/z.json" || die "zombies does not show the factory"
    json=$RESULTS_DIR/zombies-$n.json
    hyperfine_bg --warmup 2 --runs "$RUNS" --export-json "$json" \
        -n floor-stat "$build/floor stat" -n zombies "$LINEAGE zombies" -n ps-zombies "ps -eo pid,ppid,stat,comm"
    snap_json=$RESULTS_DIR/snapshot-$n.json
    base=()
    [[ -n ${BASELINE:-} ]] && base=(-n snapshot-baseline "$BASELINE snapshot -o $build/base.json --force --history 0")
    hyperfine_bg --warmup 1 --runs "$SNAP_RUNS" --export-json "$snap_json" \
        -n snapshot "$LINEAGE snapshot -o $build/scene.json --force --history 0" "${base[@]}"
    size=$(stat -c %s "$build/scene.json")
    kill -TERM "$spawner_pid"
    wait "$spawner_pid" || true
    spawner_pid=""
    python3 - "$json" "$snap_json" "$n" "$size" <<'PY' | tee "$RESULTS_DIR/zombies-$n.md"
import json, sys
res = json.load(open(sys.argv[1]))["results"] + json.load(open(sys.argv[2]))["results"]
med = {r["command"]: r["median"] * 1000 for r in res}
print(f"### zombies and snapshot, {sys.argv[3]} other processes\n")
print("| command | median ms | min ms |")
print("|---|---:|---:|")
for r in res:
    print(f"| {r['command']} | {r['median'] * 1000:.1f} | {r['min'] * 1000:.1f} |")
print(f"\nzombies / floor-stat: {med['zombies'] / med['floor-stat']:.2f}x; "
      f"snapshot file: {int(sys.argv[4]) / 1e6:.1f} MB")
PY
done
