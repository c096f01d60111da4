#!/usr/bin/env bash
# Benchmark the CPU that `lineage top --watch` costs while it watches, at the
# machine's own process count and with N more processes held by spawner.
#
#   bash bench/top.sh                      # SIZES="0 10000" REFRESHES=20 RUNS=3
#   SIZES="0" RUNS=1 bash bench/top.sh
#
# In one hyperfine run per N (RUNS runs each), every command refreshes
# REFRESHES times, one second apart, output to /dev/null:
#   lineage-top   $LINEAGE top --interval 1s --watch --count REFRESHES
#                 (as root: each refresh is one read of a BPF task iterator)
#   lineage-top-proc  the same with --sampler proc (one /proc/PID/stat per process)
#   top           top -b -d 1 -n REFRESHES         (procps)
#   ps-forest     REFRESHES x (ps -e --forest --sort=-%cpu -o pid,ppid,%cpu,rss,args; sleep 1)
#   lineage-once  $LINEAGE top --interval 1s (one refresh: start-up, the launch
#                 context of every process, two samples)
# The figure of merit is CPU time (user + system, as hyperfine reports them)
# per refresh: at one refresh a second, the share of one core the watcher
# takes (wall time is not: on a loaded machine a refresh's own work makes
# the 1 s interval longer). lineage's first refresh resolves the launch
# context of every process (later ones only of new ones); the "steady"
# rows take it out: (CPU of REFRESHES refreshes - CPU of lineage-once) /
# (REFRESHES - 1).
#
# Environment:
#   LINEAGE      lineage binary (default: <repo>/build/lineage)
#   SIZES        extra processes to hold (spawner N; 0: none, the machine as it is)
#   REFRESHES    refreshes per run (default 20: 20 s a run)
#   RUNS         hyperfine runs per command (default 3)
#   RESULTS_DIR  where top-<N>.json / .md go (default: bench/results)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SIZES=${SIZES:-0 10000}
REFRESHES=${REFRESHES:-20}
RUNS=${RUNS:-3}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "top.sh: $*"; exit 1; }

[[ -x $LINEAGE ]] || die "lineage binary not found: $LINEAGE (build it first, or set LINEAGE=...)"
for tool in hyperfine gcc ps top jq; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

build=$(mktemp -d)
spawner_pid="" hf_pid=""
cleanup() {
    # Only ever signal processes we started, by pid.
    local pid
    for pid in "$hf_pid" "$spawner_pid"; do
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
mkdir -p "$RESULTS_DIR"
nprocs() { local p=(/proc/[0-9]*); echo "${#p[@]}"; }

for n in $SIZES; do
    if ((n > 0)); then
        "$build/spawner" "$n" >"$build/spawner.out" &
        spawner_pid=$!
        for ((t = 0; ; t++)); do
            grep -q '^ready' "$build/spawner.out" && break
            kill -0 "$spawner_pid" 2>/dev/null || die "spawner $n failed"
            ((t < 6000)) || die "spawner $n not ready after 300 s"
            sleep 0.05
        done
    fi
    total=$(nprocs)
    log "N=$n: $total processes"
    json=$RESULTS_DIR/top-$n.json
    hyperfine -N --runs "$RUNS" --export-json "$json" \
        -n lineage-top "$LINEAGE top --interval 1s --watch --count $REFRESHES --no-color" \
        -n lineage-top-proc "$LINEAGE top --interval 1s --watch --count $REFRESHES --no-color --sampler proc" \
        -n lineage-once "$LINEAGE top --interval 1s --no-color" \
        -n top "top -b -d 1 -n $REFRESHES" \
        -n ps-forest "bash -c 'for i in \$(seq $REFRESHES); do ps -e --forest --sort=-%cpu -o pid,ppid,%cpu,rss,args; sleep 1; done'" \
        --output=null >&2 &
    hf_pid=$!
    rc=0; wait "$hf_pid" || rc=$?
    hf_pid=""
    ((rc == 0)) || die "hyperfine failed ($rc)"
    if ((n > 0)); then
        kill -TERM "$spawner_pid"
        wait "$spawner_pid" || true
        spawner_pid=""
    fi
    md=$RESULTS_DIR/top-$n.md
    {
        echo "### top --watch at $total processes (spawner N=$n), $REFRESHES refreshes of 1 s, $RUNS runs"
        echo
        echo "| command | wall median (s) | CPU user+sys mean (s) | ms CPU per refresh (= % of a core at 1/s) | vs lineage-top |"
        echo "|---|---|---|---|---|"
        jq -r --argjson r "$REFRESHES" '
            def cpu: .user + .system;
            (.results[] | select(.command == "lineage-top") | cpu) as $base
            | (.results[] | select(.command == "lineage-once") | cpu) as $once
            | (.results[] | select(.command != "lineage-once")
               | "| \(.command) | \(.median * 100 | round / 100) | \(cpu * 1000 | round / 1000) | \(cpu / $r * 100000 | round / 100) | \(cpu / $base * 100 | round / 100)x |"),
              (.results[] | select(.command == "lineage-once")
               | "| lineage-once (1 refresh) | \(.median * 100 | round / 100) | \(cpu * 1000 | round / 1000) | \(cpu * 100000 | round / 100) | |"),
              (.results[] | select(.command | startswith("lineage-top"))
               | "| \(.command), steady | | | \(((cpu - $once) / ($r - 1)) * 100000 | round / 100) | |")' "$json"
        echo
    } | tee "$md"
done
