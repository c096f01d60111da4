#!/usr/bin/env bash
# Benchmark `lineage files PID` against `lsof -p PID -n -P` with N other
# processes alive.
#
#   bash bench/files.sh                     # SIZES="1000 10000" RUNS=20
#   SIZES="10000" RUNS=10 bash bench/files.sh
#
# Holds N processes (spawner, a tree with fan-out 8) and one holder
# (tests/integration/files_holder.c: files, a deleted file, a pipe and a
# unix socket pair to its child, TCP sockets, an eventfd, a memfd), each
# started with only fds 0-2 open, so nothing else shares their pipes. Then
# times, in one hyperfine run:
#   lsof-leaf           lsof -p LEAF -n -P        LEAF: a spawner leaf (no pipes)
#   files-leaf          $LINEAGE files LEAF       its own fd table only
#   lsof-holder         lsof -p HOLDER -n -P
#   lsof-holder-E       lsof -p HOLDER +E -n -P   + the pipe and unix endpoints
#                                                 (lsof reads every process)
#   files-holder        $LINEAGE files HOLDER     + the peer search: every
#                                                 process's fd links, and the
#                                                 child's why
#   files-holder-nopeer $LINEAGE files HOLDER --no-peers
# Ratios: the files-* rows against the lsof row doing the same work
# (files-holder against lsof +E, the others against lsof -p).
#
# Environment:
#   LINEAGE      lineage binary (default: <repo>/build/lineage)
#   SIZES        process counts to hold while measuring (spawner N)
#   RUNS         hyperfine runs per command (after 3 warmups)
#   RESULTS_DIR  where files-<N>.json / .md go (default: bench/results)
#
# stdout: one markdown table per N.  Progress and hyperfine output: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SIZES=${SIZES:-1000 10000}
RUNS=${RUNS:-20}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "files.sh: $*"; exit 1; }

for tool in hyperfine gcc lsof; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
[[ -x $LINEAGE ]] && "$LINEAGE" files --help >/dev/null 2>&1 || die "lineage files is not there ($LINEAGE)"

build=$(mktemp -d)
spawner_pid="" holder_pid="" hf_pid=""
cleanup() {
    # Only ever signal processes we started, by pid.
    local pid
    for pid in "$hf_pid" "$holder_pid" "$spawner_pid"; do
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
gcc -O2 -Wall -o "$build/lfiles-holder" "$here/../tests/integration/files_holder.c"
mkdir -p "$RESULTS_DIR"

# Runs "$@" with only stdin, stdout and stderr open: an inherited pipe (a
# CI runner's, a terminal multiplexer's) would give every spawned process a
# peer to find.
only_std_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec "$@"
}

hyperfine_bg() {
    hyperfine -N -i "$@" >&2 &
    hf_pid=$!
    local rc=0
    wait "$hf_pid" || rc=$?
    hf_pid=""
    ((rc == 0)) || die "hyperfine failed (exit $rc)"
}

nprocs() { local p=(/proc/[0-9]*); echo "${#p[@]}"; }
nbench() { { grep -lx lineage-bench /proc/[0-9]*/comm 2>/dev/null || true; } | wc -l; }
quote() { local out="" a; for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done; echo "$out"; }

wait_for_line() {
    local t
    for ((t = 0; ; t++)); do
        grep -q "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        ((t < 6000)) || return 1
        sleep 0.05
    done
}

other=$(nbench)
((other == 0)) || log "note: $other lineage-bench processes of someone else are running: they count in N"

(only_std_fds "$build/lfiles-holder" "$build") </dev/null >"$build/holder.out" 2>&1 &
holder_pid=$!
wait_for_line "$build/holder.out" '^[0-9]' "$holder_pid" || die "holder did not start"
read -r _ child _ _ _ <"$build/holder.out"
log "holder pid $holder_pid, child $child"

for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] || die "bad size: $n"
    log "== N=$n (baseline $(nprocs) processes)"
    (only_std_fds "$build/spawner" "$n") </dev/null >"$build/spawner.out" 2>&1 &
    spawner_pid=$!
    wait_for_line "$build/spawner.out" '^ready' "$spawner_pid" || die "spawner $n failed"
    log "spawner pid $spawner_pid: $(nbench) lineage-bench processes, $(nprocs) total"
    leaf=$(pgrep -n -f "^$build/spawner ")  # the newest of ours: a leaf

    # Each tool must really list the holder's pipe, and lineage its other end.
    lsof -p "$holder_pid" -n -P | grep -q FIFO || die "lsof shows no pipe of $holder_pid"
    "$LINEAGE" files "$holder_pid" --type pipe --json | grep -q "\"pid\":$child," ||
        die "lineage files $holder_pid does not name the pipe's other end $child"

    names=(lsof-leaf files-leaf lsof-holder lsof-holder-E files-holder files-holder-nopeer)
    cmds=("$(quote lsof -p "$leaf" -n -P)" "$(quote "$LINEAGE" files "$leaf")"
          "$(quote lsof -p "$holder_pid" -n -P)" "$(quote lsof -p "$holder_pid" +E -n -P)"
          "$(quote "$LINEAGE" files "$holder_pid")"
          "$(quote "$LINEAGE" files "$holder_pid" --no-peers)")
    total=$(nprocs)
    log "load: $(cut -d' ' -f1-3 /proc/loadavg)"
    json=$RESULTS_DIR/files-$n.json
    hf_args=()
    for i in "${!names[@]}"; do hf_args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine_bg --warmup 3 --runs "$RUNS" --export-json "$json" "${hf_args[@]}"

    kill -0 "$spawner_pid" 2>/dev/null || die "spawner exited during the measurements"
    kill -TERM "$spawner_pid"
    wait "$spawner_pid" || die "spawner exited with status $?"
    spawner_pid=""

    md=$RESULTS_DIR/files-$n.md
    python3 - "$json" "$n" "$total" <<'EOF' | tee "$md"
import json, sys
path, n, total = sys.argv[1], sys.argv[2], sys.argv[3]
res = {r["command"]: r for r in json.load(open(path))["results"]}
print(f"### files, spawner N={n} ({total} processes on the machine)\n")
print("| command | median ms | min ms | lsof median / this median |")
print("|---|---:|---:|---:|")
peers = {"files-leaf": "lsof-leaf", "files-holder": "lsof-holder-E", "files-holder-nopeer": "lsof-holder"}
for name, r in res.items():
    ratio = f"{res[peers[name]]['median'] / r['median']:.1f}x vs {peers[name]}" if name in peers else ""
    print(f"| {name} | {r['median'] * 1000:.2f} | {r['min'] * 1000:.2f} | {ratio} |")
print()
EOF
done
