#!/usr/bin/env bash
# Benchmark `lineage tree` against ps/pstree and the raw /proc read floor.
#
#   bash bench/run.sh                       # SIZES="1000 5000 10000" RUNS=15
#   SIZES="1000" RUNS=3 bash bench/run.sh
#
# Environment:
#   LINEAGE      lineage binary (default: <repo>/build/lineage)
#   SIZES        process counts to hold while measuring (spawner N)
#   RUNS         hyperfine runs per command (after 2 warmups)
#   RSS_RUNS     /usr/bin/time runs per command for peak RSS (median; default 5)
#   RESULTS_DIR  where tree-<N>.json / tree-<N>.md go (default: bench/results)
#
# stdout: one markdown table per N.  Progress and hyperfine output: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SIZES=${SIZES:-1000 5000 10000}
RUNS=${RUNS:-15}
RSS_RUNS=${RSS_RUNS:-5}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

[[ -x $LINEAGE ]] || die "lineage binary not found or not executable: $LINEAGE (build it first, or set LINEAGE=...)"
for tool in hyperfine gcc ps pstree; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
have_time=0; [[ -x /usr/bin/time ]] && have_time=1
[[ $have_time = 1 ]] || log "note: /usr/bin/time missing (package 'time'); peak RSS will be n/a"

build=$(mktemp -d)
spawner_pid="" hf_pid=""
cleanup() {
    # Only ever signal processes we started, by pid: hyperfine (if a run was
    # interrupted) and the spawner, which tears down its own tree.
    if [[ -n $hf_pid ]]; then
        kill -TERM "$hf_pid" 2>/dev/null || true
        wait "$hf_pid" 2>/dev/null || true
    fi
    if [[ -n $spawner_pid ]] && kill -0 "$spawner_pid" 2>/dev/null; then
        kill -TERM "$spawner_pid" 2>/dev/null || true
        wait "$spawner_pid" 2>/dev/null || true
    fi
    rm -rf "$build"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gcc -O2 -Wall -o "$build/spawner" "$here/spawner.c"
gcc -O2 -Wall -o "$build/floor" "$here/floor.c"
mkdir -p "$RESULTS_DIR"

nprocs() { local p=(/proc/[0-9]*); echo "${#p[@]}"; }
nbench() { { grep -lx lineage-bench /proc/[0-9]*/comm 2>/dev/null || true; } | wc -l; }

# Median peak RSS (KiB) of a command over RSS_RUNS runs; output discarded.
peak_rss() {
    [[ $have_time = 1 ]] || { echo ""; return; }
    local i
    for ((i = 0; i < RSS_RUNS; i++)); do
        /usr/bin/time -f %M -o "$build/rss" "$@" >/dev/null 2>&1
        tail -n 1 "$build/rss"
    done | sort -n | sed -n "$(((RSS_RUNS + 1) / 2))p"
}

# The tools compared; tool_argv I sets the array `argv` for tool I.
names=(lineage ps pstree floor-full floor-min)
tool_argv() {
    case $1 in
        0) argv=("$LINEAGE" tree) ;;
        1) argv=(ps -e --forest -o "pid,ppid,user,stat,etime,args") ;;
        2) argv=(pstree -p) ;;
        3) argv=("$build/floor" stat status cmdline) ;;
        4) argv=("$build/floor" stat cmdline) ;;
    esac
}
# hyperfine -N splits its command string shell-style: %q-quote each argument.
quote() { local out="" a; for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done; echo "$out"; }

[[ $(nbench) = 0 ]] || die "lineage-bench processes already running; stop them first"

for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] || die "bad size: $n"
    base=$(nprocs)
    log "== N=$n (baseline $base processes)"

    "$build/spawner" "$n" >"$build/spawner.out" &
    spawner_pid=$!
    for ((t = 0; ; t++)); do
        grep -q '^ready' "$build/spawner.out" && break
        if ! kill -0 "$spawner_pid" 2>/dev/null; then
            rc=0; wait "$spawner_pid" || rc=$?
            spawner_pid=""
            die "spawner $n failed (exit $rc)"
        fi
        ((t < 6000)) || die "spawner $n not ready after 300 s"
        sleep 0.05
    done
    log "spawner pid $spawner_pid: $(nbench) lineage-bench processes, $(nprocs) total"

    json=$RESULTS_DIR/tree-$n.json
    hf_args=()
    for i in "${!names[@]}"; do
        tool_argv "$i"
        hf_args+=(-n "${names[$i]}" "$(quote "${argv[@]}")")
    done
    # In the background so that a signal to this script is handled at once
    # (bash defers traps until a foreground child exits).
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$json" "${hf_args[@]}" >&2 &
    hf_pid=$!
    rc=0; wait "$hf_pid" || rc=$?
    hf_pid=""
    ((rc == 0)) || die "hyperfine failed (exit $rc)"

    rss=()
    for i in "${!names[@]}"; do
        tool_argv "$i"
        rss+=("${names[$i]}=$(peak_rss "${argv[@]}")")
    done

    kill -0 "$spawner_pid" 2>/dev/null ||
        die "spawner exited during the measurements; results for N=$n are invalid"
    kill -TERM "$spawner_pid"
    wait "$spawner_pid" || die "spawner exited with status $?"
    spawner_pid=""
    left=$(nbench); after=$(nprocs)
    log "after teardown: $left lineage-bench processes, $after total (baseline $base)"
    [[ $left = 0 ]] || die "$left lineage-bench processes left behind"
    ((after <= base + 20)) || log "warning: process count $after is above baseline $base (other activity on the machine?)"

    md=$RESULTS_DIR/tree-$n.md
    if python3 -c 'import json' 2>/dev/null; then
        python3 - "$json" "$n" "${rss[@]}" <<'EOF' | tee "$md"
import json, sys
path, n, rss = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
res = json.load(open(path))["results"]
base = next((r["median"] for r in res if r["command"] == "lineage"), None)
print(f"### {n} processes\n")
print("| tool | median ms | ratio vs lineage | peak RSS MiB |")
print("|---|---:|---:|---:|")
for r in res:
    ratio = f"{r['median'] / base:.2f}x" if base else "n/a"
    kib = rss.get(r["command"], "")
    mib = f"{int(kib) / 1024:.1f}" if kib.isdigit() else "n/a"
    print(f"| {r['command']} | {r['median'] * 1000:.2f} | {ratio} | {mib} |")
print()
EOF
    elif command -v jq >/dev/null; then
        {
            printf '### %s processes\n\n| tool | median ms | ratio vs lineage | peak RSS MiB |\n|---|---:|---:|---:|\n' "$n"
            jq -r --arg rss "${rss[*]}" '
                ($rss | split(" ") | map(split("=") | {(.[0]): .[1]}) | add) as $m
                | (.results[] | select(.command == "lineage") | .median) as $b
                | .results[]
                | "| \(.command) | \(.median * 1000 * 100 | round / 100) | \(.median / $b * 100 | round / 100)x | \(($m[.command] // "") as $k | if $k == "" then "n/a" else ($k | tonumber / 1024 * 10 | round / 10) end) |"' "$json"
            echo
        } | tee "$md"
    else
        log "python3 and jq unavailable: raw hyperfine export follows"
        cat "$json"
        printf 'peak RSS KiB: %s\n' "${rss[*]}"
    fi
done
