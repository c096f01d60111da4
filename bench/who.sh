#!/usr/bin/env bash
# Benchmark `lineage who` against lsof, fuser and ss with N other processes.
#
#   bash bench/who.sh                  # RUNS=15, 10,000 and 1,000 processes
#   RUNS=5 bash bench/who.sh
#
# Holds, besides the spawner's N processes (bench/spawner.c, fan-out 8):
# one process holding a file open, one holding a file on a tmpfs mounted
# here (unmounted on exit), and a TCP listener on 127.0.0.1. Then, in one
# hyperfine run per size (medians, same run, so ratios are comparable):
#   at 10,000 processes:
#     who-path       $LINEAGE who FILE              (auto: BPF iterators here)
#     who-path-proc  $LINEAGE who FILE --method proc (with WITH_PROC=1)
#     lsof-path      lsof FILE
#     fuser-path     fuser FILE
#     who-mount      $LINEAGE who --mount MNT
#     fuser-mount    fuser -m MNT
#     who-port, why-port, ss-tlnp                   (as below, for the trend)
#   at 1,000 processes:
#     who-port       $LINEAGE who :PORT
#     why-port       $LINEAGE why :PORT --short
#     ss-tlnp        ss -tlnp
#     who-port-bpf   $LINEAGE who :PORT --method bpf (what auto avoids here)
# lineage exits 1 when a process's fds could not be read (here pid 1 even
# for root), so hyperfine runs with -i. Needs root (mount, every fd).
#
# Environment: LINEAGE (default <repo>/build/lineage), RUNS (15),
# SIZES ("10000 1000"; 0: no spawner, measure with what runs now),
# RESULTS_DIR (bench/results), BASELINE (another lineage binary: its
# `who --mount` is timed in the same run as who-mount-baseline).
# stdout: one markdown table per size. Progress and hyperfine output: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
RUNS=${RUNS:-15}
SIZES=${SIZES:-10000 1000}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "who.sh: $*"; exit 1; }
for tool in hyperfine gcc lsof fuser ss python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
[[ $(id -u) = 0 ]] || die "needs root (mounts a tmpfs; reads every process's fds)"
[[ -x $LINEAGE ]] || die "no lineage binary at $LINEAGE"

work=$(mktemp -d)
started=() spawner_pid="" hf_pid="" mounted=""
cleanup() {
    # Only ever signal processes we started, by pid.
    local pid
    for pid in "$hf_pid" "$spawner_pid" "${started[@]}"; do
        [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$hf_pid" "$spawner_pid" "${started[@]}"; do
        [[ -n $pid ]] && wait "$pid" 2>/dev/null || true
    done
    if [[ -n $mounted ]]; then
        umount "$mounted" 2>/dev/null || umount -l "$mounted" 2>/dev/null || true
        mountpoint -q "$mounted" && return
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gcc -O2 -Wall -o "$work/spawner" "$here/spawner.c"
mkdir "$work/mnt"
mount -t tmpfs -o size=8m lineage-bench-who "$work/mnt"
mounted=$work/mnt
printf 'held\n' > "$work/held.txt"
printf 'held\n' > "$work/mnt/held.txt"

wait_ready() {  # wait_ready FILE PID
    local t
    for ((t = 0; t < 600; t++)); do
        [[ -s $1 ]] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
hold='import sys, time
f = open(sys.argv[1])
print("ready", flush=True)
time.sleep(100000)'
listen='import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(100000)'
python3 -c "$hold" "$work/held.txt" > "$work/h1" & started+=($!)
wait_ready "$work/h1" $! || die "file holder did not start"
python3 -c "$hold" "$work/mnt/held.txt" > "$work/h2" & started+=($!)
wait_ready "$work/h2" $! || die "mount holder did not start"
python3 -c "$listen" > "$work/h3" & started+=($!)
wait_ready "$work/h3" $! || die "listener did not start"
port=$(head -n 1 "$work/h3")
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
q() { local out="" a; for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done; echo "$out"; }
# Each tool must name the holder before its time counts.
check() {  # check PID CMD...
    local pid=$1 out
    shift
    out=$("$@" 2>&1) || true
    grep -qw "$pid" <<<"$out" || die "$* does not name pid $pid: $out"
}

for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] || die "bad size: $n"
    if ((n > 0)); then
        "$work/spawner" "$n" > "$work/spawner.out" &
        spawner_pid=$!
        for ((t = 0; t < 6000; t++)); do
            grep -q '^ready' "$work/spawner.out" && break
            kill -0 "$spawner_pid" 2>/dev/null || die "spawner $n failed"
            sleep 0.05
        done
    fi
    total=$(nprocs)
    log "== N=$n: $total processes; load $(cut -d' ' -f1-3 /proc/loadavg)"
    names=() cmds=()
    add() { names+=("$1"); shift; cmds+=("$(q "$@")"); }
    check "${started[0]}" "$LINEAGE" who "$work/held.txt"
    check "${started[1]}" "$LINEAGE" who --mount "$work/mnt"
    check "${started[2]}" "$LINEAGE" who ":$port"
    check "${started[2]}" "$LINEAGE" why ":$port" --short
    check "${started[0]}" lsof "$work/held.txt"
    check "${started[1]}" fuser -m "$work/mnt"
    big=$(((n > 0 ? n : total) >= 5000))
    if ((big)); then
        add who-path "$LINEAGE" who "$work/held.txt"
        [[ -n ${WITH_PROC:-} ]] && add who-path-proc "$LINEAGE" who "$work/held.txt" --method proc
        add lsof-path lsof "$work/held.txt"
        add fuser-path fuser "$work/held.txt"
        add who-mount "$LINEAGE" who --mount "$work/mnt"
        [[ -n ${BASELINE:-} ]] && add who-mount-baseline "$BASELINE" who --mount "$work/mnt"
        add fuser-mount fuser -m "$work/mnt"
    fi
    add who-port "$LINEAGE" who ":$port"
    add why-port "$LINEAGE" why ":$port" --short
    add ss-tlnp ss -tlnp
    ((big)) || add who-port-bpf "$LINEAGE" who ":$port" --method bpf
    json=$RESULTS_DIR/who-$n.json
    hf_args=()
    for i in "${!names[@]}"; do hf_args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine_bg --warmup 2 --runs "$RUNS" --export-json "$json" "${hf_args[@]}"

    if [[ -n $spawner_pid ]]; then
        kill -TERM "$spawner_pid"
        wait "$spawner_pid" || true
        spawner_pid=""
    fi
    python3 - "$json" "$total" <<'PY' | tee "$RESULTS_DIR/who-$n.md"
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print(f"### who, {int(sys.argv[2]):,} processes alive\n")
print("| command | median ms | min ms |")
print("|---|---:|---:|")
for name, r in res.items():
    print(f"| {name} | {r['median'] * 1000:.1f} | {r['min'] * 1000:.1f} |")
print()
def ratio(a, b):
    if a in res and b in res:
        print(f"- {b} / {a}: {res[b]['median'] / res[a]['median']:.1f}x")
for a, b in [("who-path", "lsof-path"), ("who-path", "fuser-path"), ("who-mount", "fuser-mount"),
             ("who-port", "ss-tlnp"), ("why-port", "ss-tlnp")]:
    ratio(a, b)
print()
PY
done
