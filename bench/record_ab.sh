#!/usr/bin/env bash
# Recorder CPU per recorded process, two lineage binaries side by side:
# both `record --source bpf` at once, each on its own fresh database, so
# both see the same storm, the same foreign processes and the same load
# (on a shared machine a before/after pair of runs minutes apart does not).
#
#   BASELINE=/path/to/old/lineage LINEAGE=build-h/lineage bash bench/record_ab.sh
#
# Per run: start both recorders, wait for both "writing" lines, then run
# `storm -a 4 RATE SECONDS` (bench/storm.c, built here; RATE 0: as fast as
# possible) and wait 1.5 s (the next commit). CPU: the sum over the
# recorder's threads of /proc/PID/task/TID/schedstat's first field (ns on a
# CPU: exact, not 10 ms ticks), from the storm's start to 1.5 s after its
# end. Processes: rows added to its database in that window (the recorder
# records every process of the machine, not only the storm's).
#
# Environment: BASELINE, LINEAGE (binaries), RATE (default 0), SECONDS_PER_RUN
# (default 10), REPEAT (default 3), READY_TIMEOUT (s, default 120), ARGS
# (more `record` options for both, e.g. --no-audit), WARMUP (s, default 0:
# fresh recorders; else a fork-only storm of that long before the measured
# one, as record_bench.sh's WARMUP, so both are compared at steady state).
# Needs root, gcc, python3 with sqlite3.  stdout: a markdown table.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
BASELINE=${BASELINE:?set BASELINE to the lineage binary to compare with}
RATE=${RATE:-0}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
REPEAT=${REPEAT:-3}
READY_TIMEOUT=${READY_TIMEOUT:-120}
ARGS=${ARGS:-}
WARMUP=${WARMUP:-0}

log() { printf '%s\n' "$*" >&2; }
die() { log "record_ab.sh: $*"; exit 1; }
((EUID == 0)) || die "lineage record needs root"
[[ $WARMUP =~ ^[0-9]+$ ]] && ((10#$WARMUP <= 3600)) || die "WARMUP: seconds, 0..3600"
WARMUP=$((10#$WARMUP))
for b in "$LINEAGE" "$BASELINE"; do [[ -x $b ]] || die "not executable: $b"; done

work=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
gcc -O2 -Wall -o "$work/storm" "$here/storm.c"

cpu_ns() { # on-CPU ns of every thread of a pid
    local sum=0 t v
    for t in /proc/"$1"/task/*/schedstat; do
        read -r v _ <"$t" 2>/dev/null || continue
        sum=$((sum + v))
    done
    echo "$sum"
}
count() {
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT count(*) FROM processes").fetchone()[0])' "$1"
}

log "== record A/B: $BASELINE (A) vs $LINEAGE (B), storm rate ${RATE/#0/max}, ${SECONDS_PER_RUN} s x $REPEAT"
log "   $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
rows=$work/rows
: >"$rows"
for ((r = 1; r <= REPEAT; r++)); do
    pids=()
    i=0
    for bin in "$BASELINE" "$LINEAGE"; do
        rm -f "$work/$i.db"*
        # shellcheck disable=SC2086 # ARGS: extra words for both recorders
        "$bin" record --db "$work/$i.db" --source bpf $ARGS 2>"$work/$i.err" &
        pids+=($!)
        i=$((i + 1))
    done
    for i in 0 1; do
        for ((t = 0; ; t++)); do
            grep -q writing "$work/$i.err" 2>/dev/null && break
            kill -0 "${pids[$i]}" 2>/dev/null || die "recorder exited: $(cat "$work/$i.err")"
            ((t < READY_TIMEOUT * 10)) || die "recorder not ready after $READY_TIMEOUT s"
            sleep 0.1
        done
    done
    if ((WARMUP > 0)); then
        "$work/storm" -f 0 "$WARMUP" >/dev/null 2>"$work/warmup.err" || die "warm-up storm failed: $(cat "$work/warmup.err")"
        # Until both recorders have drained it (their counts stand still).
        prev=""
        for ((t = 0; t < 30; t++)); do
            cur="$(count "$work/0.db") $(count "$work/1.db")"
            [[ $cur == "$prev" ]] && break
            prev=$cur
            sleep 1.2
        done
    fi
    sleep 1.2
    load=$(cut -d' ' -f1 /proc/loadavg)
    n0=($(count "$work/0.db") $(count "$work/1.db"))
    c0=($(cpu_ns "${pids[0]}") $(cpu_ns "${pids[1]}"))
    "$work/storm" -a 4 "$RATE" "$SECONDS_PER_RUN" >/dev/null 2>"$work/storm.err" || true
    sleep 1.5
    c1=($(cpu_ns "${pids[0]}") $(cpu_ns "${pids[1]}"))
    n1=($(count "$work/0.db") $(count "$work/1.db"))
    achieved=$(grep -o 'achieved [0-9.]*' "$work/storm.err" | cut -d' ' -f2)
    for i in 0 1; do kill -TERM "${pids[$i]}"; done
    lost=()
    for i in 0 1; do
        wait "${pids[$i]}" || true
        lost+=($(grep -o '[0-9]* lost' "$work/$i.err" | cut -d' ' -f1))
    done
    pids=()
    echo "$r $achieved $load ${c0[0]} ${c1[0]} ${n0[0]} ${n1[0]} ${lost[0]} ${c0[1]} ${c1[1]} ${n0[1]} ${n1[1]} ${lost[1]}" >>"$rows"
    log "$(tail -n 1 "$rows")"
done

python3 - "$rows" "$SECONDS_PER_RUN" <<'EOF'
import statistics, sys
secs = float(sys.argv[2])
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print("| run | storm/s | load 1m | A CPU % | A processes | A µs/process | A lost | B CPU % | B processes | B µs/process | B lost | B/A |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios, ua, ub = [], [], []
for r in rows:
    run, ach, load = r[0], float(r[1] or 0), float(r[2])
    def side(c0, c1, n0, n1):
        cpu, n = int(c1) - int(c0), int(n1) - int(n0)
        return 100.0 * cpu / 1e9 / secs, n, cpu / 1000.0 / n if n else float("nan")
    a, b = side(*r[3:7]), side(*r[8:12])
    ratios.append(b[2] / a[2]); ua.append(a[2]); ub.append(b[2])
    print(f"| {run} | {ach:.0f} | {load:.1f} | {a[0]:.2f} | {a[1]} | {a[2]:.0f} | {r[7]} | {b[0]:.2f} | {b[1]} | {b[2]:.0f} | {r[12]} | {b[2] / a[2]:.2f} |")
print(f"| median | | | | | {statistics.median(ua):.0f} | | | | {statistics.median(ub):.0f} | | {statistics.median(ratios):.2f} |")
EOF
