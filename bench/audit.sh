#!/usr/bin/env bash
# Benchmark `lineage audit` and `lineage watch --audit` (issue 11).
#
#   bash bench/audit.sh                  # N=10000 RUNS=10 SECONDS_PER_RUN=5 REPEAT=3
#
# 1. With bench/spawner.c holding N processes, one hyperfine run (-N, 2
#    warm-ups) times `lineage tree` and `lineage audit` (every rule; -i: audit
#    exits 1 when it finds something) and `lineage audit --rule
#    exec-from-writable-dir` (one cheap rule): goal, audit within 2x tree.
# 2. Spawner gone, REPEAT times each, alternating: `lineage watch --json`
#    then `lineage watch --audit --json` (bpf) while bench/storm.c forks and
#    execs /bin/true as fast as it can for SECONDS_PER_RUN: the watcher's
#    user+sys CPU over the storm (in % of one core, from /proc/PID/stat
#    before and after), the storm's exec rate, and the events lost (the
#    summary line). Goal: 0 lost, at most 2 percentage points more CPU with
#    --audit. Medians over REPEAT.
#
# Environment: LINEAGE (default <repo>/build/lineage), N, RUNS,
# SECONDS_PER_RUN, REPEAT, RESULTS_DIR (bench/results). Needs root.
# stdout: markdown tables. Progress and hyperfine output: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
N=${N:-10000}
RUNS=${RUNS:-10}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
REPEAT=${REPEAT:-3}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "audit.sh: $*"; exit 1; }
for tool in hyperfine gcc python3; do command -v "$tool" >/dev/null || die "missing tool: $tool"; done
[[ -x $LINEAGE ]] || die "no lineage at $LINEAGE"
[[ $(id -u) == 0 ]] || die "needs root (watch --source bpf)"

# Not under /tmp: the spawner's 10,000 processes would each be an exec-from-writable-dir
# finding (and each finding is explained), which is not what is measured here.
build=$(mktemp -d -p /run lineage-bench.XXXXXX)
spawner_pid="" watch_pid=""
cleanup() {
    local pid
    for pid in "$watch_pid" "$spawner_pid"; do  # only what this script started
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
gcc -O2 -Wall -o "$build/storm" "$here/storm.c"
mkdir -p "$RESULTS_DIR"
wait_for_line() {
    local t
    for ((t = 0; t < 6000; t++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
nprocs() { local p=(/proc/[0-9]*); echo "${#p[@]}"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# ---- 1. audit vs tree at N processes ----------------------------------------
"$build/spawner" "$N" >"$build/spawner.out" &
spawner_pid=$!
wait_for_line "$build/spawner.out" '^ready' "$spawner_pid" || die "spawner $N failed"
log "== $(nprocs) processes; load $(cut -d' ' -f1-3 /proc/loadavg)"
scan_json=$RESULTS_DIR/audit-scan.json
hyperfine -N -i --warmup 2 --runs "$RUNS" --export-json "$scan_json" \
    -n tree "$LINEAGE tree" -n audit "$LINEAGE audit" \
    -n audit-one-rule "$LINEAGE audit --rule exec-from-writable-dir" >&2
kill -TERM "$spawner_pid"; wait "$spawner_pid" || true; spawner_pid=""

# ---- 2. watch vs watch --audit under a storm ---------------------------------
: >"$build/watch.tsv"
for ((r = 0; r < REPEAT; r++)); do
    for mode in plain audit; do
        args=(watch --source bpf --json --duration $((SECONDS_PER_RUN + 4)))
        [[ $mode == audit ]] && args+=(--audit)
        "$LINEAGE" "${args[@]}" >"$build/w.out" 2>"$build/w.err" &
        watch_pid=$!
        wait_for_line "$build/w.err" 'Ctrl-C' "$watch_pid" || die "watch did not start"
        sleep 1
        before=$(cpu_ticks "$watch_pid")
        load=$(cut -d' ' -f1 /proc/loadavg)
        spawned=$("$build/storm" 0 "$SECONDS_PER_RUN" | wc -l)
        sleep 1.5  # the watcher drains what the storm left
        after=$(cpu_ticks "$watch_pid")
        wait "$watch_pid" || true
        watch_pid=""
        lost=$(grep -o 'lost [0-9]*' "$build/w.err" | tail -1 | cut -d' ' -f2)
        printf '%s\t%s\t%s\t%s\t%s\n' "$mode" "$spawned" "$((after - before))" "${lost:-?}" "$load" >>"$build/watch.tsv"
        log "   $mode: $spawned execs, $((after - before)) ticks, lost ${lost:-?}, load $load"
    done
done

python3 - "$scan_json" "$build/watch.tsv" "$SECONDS_PER_RUN" "$(getconf CLK_TCK)" "$N" <<'PY' | tee "$RESULTS_DIR/audit.md"
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] * 1000 for r in res}
print(f"### audit at {sys.argv[5]} other processes\n")
print("| command | median ms | min ms | vs tree |")
print("|---|---:|---:|---:|")
for r in res:
    print(f"| {r['command']} | {r['median'] * 1000:.1f} | {r['min'] * 1000:.1f} | {r['median'] * 1000 / med['tree']:.2f}x |")
secs, hz = float(sys.argv[3]), float(sys.argv[4])
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
print(f"\n### watch vs watch --audit, storm of /bin/true for {secs:g} s (medians of {len(rows) // 2})\n")
print("| mode | exec/s | CPU % of a core | lost | load 1m |")
print("|---|---:|---:|---:|---:|")
cpu = {}
for mode in ("plain", "audit"):
    mine = [r for r in rows if r[0] == mode]
    rate = statistics.median(int(r[1]) / secs for r in mine)
    c = statistics.median(int(r[2]) / hz / secs * 100 for r in mine)
    cpu[mode] = c
    lost = ", ".join(r[3] for r in mine)
    load = statistics.median(float(r[4]) for r in mine)
    print(f"| {'watch' if mode == 'plain' else 'watch --audit'} | {rate:.0f} | {c:.1f} | {lost} | {load:.1f} |")
print(f"\n--audit costs {cpu['audit'] - cpu['plain']:+.1f} percentage points of a core (goal <= 2)")
PY
