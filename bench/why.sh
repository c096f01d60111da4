#!/usr/bin/env bash
# Benchmark `lineage why` with N other processes alive.
#
#   bash bench/why.sh                       # SIZES="1000 10000" RUNS=15
#   SIZES="1000" RUNS=5 bash bench/why.sh
#
# Holds N processes (spawner, a tree with fan-out 8) and one TCP listener on
# 127.0.0.1 (a tiny C program built here), then times, in one hyperfine run
# of PID_RUNS runs (these take a millisecond or two: many runs for a stable
# median):
#   why-pid      $LINEAGE why PID --short   PID: a spawner leaf, 6+ levels deep
#   floor-chain  reads /proc/P/stat of PID and each ancestor up to pid 1
#   version      $LINEAGE --version         lineage's own start-up and exit
# and in a second one of RUNS runs:
#   why-name     $LINEAGE why NAME --short  NAME: the listener's unique name
#   floor-names  floor stat cmdline          every pid's stat + cmdline
#   why-port     $LINEAGE why :PORT --short
#   ss-all       ss -tlnp                    the whole table, every process's fds
#   ss-port      ss -tlnp sport = :PORT      the kernel filters the port; ss
#                                            still reads every process's fds
#   witr-*       witr --pid/--name/--port    when witr is on PATH
# lineage exits 1 when it finds warnings (running as root): hyperfine -i.
#
# Environment:
#   LINEAGE      lineage binary (default: <repo>/build/lineage)
#   SIZES        process counts to hold while measuring (spawner N)
#   RUNS         hyperfine runs per command (after 2 warmups)
#   PID_RUNS     hyperfine runs of why-pid, floor-chain, version (after 20 warmups)
#   BASELINE     another lineage binary (say, a build of an older commit): its
#                version and why-pid join the same run as base-version and
#                base-why-pid, for a before/after under the same conditions
#   RESULTS_DIR  where why-<N>.json / .md go (default: bench/results)
#
# stdout: one markdown table per N.  Progress and hyperfine output: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SIZES=${SIZES:-1000 10000}
RUNS=${RUNS:-15}
PID_RUNS=${PID_RUNS:-300}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "why.sh: $*"; exit 1; }

for tool in hyperfine gcc ss; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

build=$(mktemp -d)
spawner_pid="" listener_pid="" hf_pid=""
cleanup() {
    # Only ever signal processes we started, by pid.
    local pid
    for pid in "$hf_pid" "$listener_pid" "$spawner_pid"; do
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
gcc -O2 -Wall -o "$build/floor_chain" "$here/floor_chain.c"
# listener: listens on 127.0.0.1 (port 0: any), prints the port, waits for
# SIGTERM.
cat >"$build/listener.c" <<'EOF'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        perror("listener");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, NULL);
    while (sigwaitinfo(&term, NULL) < 0)
        ;
    return 0;
}
EOF
gcc -O2 -Wall -o "$build/listener" "$build/listener.c"
mkdir -p "$RESULTS_DIR"

# hyperfine in the background, so that a signal to this script is handled at once.
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
# hyperfine -N splits its command string shell-style: %q-quote each argument.
quote() { local out="" a; for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done; echo "$out"; }

have_lineage=0
if [[ -x $LINEAGE ]] && "$LINEAGE" why --help >/dev/null 2>&1; then
    have_lineage=1
else
    log "note: lineage why is not there ($LINEAGE why --help fails); not timed"
fi
have_witr=0
if command -v witr >/dev/null; then
    have_witr=1
else
    log "note: witr is not on PATH; not timed"
fi

[[ $(nbench) = 0 ]] || die "lineage-bench processes already running; stop them first"

# Waits until file $1 has a line matching $2, while pid $3 lives.
wait_for_line() {
    local t
    for ((t = 0; ; t++)); do
        grep -q "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        ((t < 6000)) || return 1
        sleep 0.05
    done
}

cp "$build/listener" "$build/lbench-listener"
"$build/lbench-listener" >"$build/listener.out" &
listener_pid=$!
wait_for_line "$build/listener.out" '^[0-9]' "$listener_pid" || die "listener did not start"
port=$(head -n 1 "$build/listener.out")
log "listener pid $listener_pid on 127.0.0.1:$port"

for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] || die "bad size: $n"
    base=$(nprocs)
    log "== N=$n (baseline $base processes)"
    "$build/spawner" "$n" >"$build/spawner.out" &
    spawner_pid=$!
    wait_for_line "$build/spawner.out" '^ready' "$spawner_pid" || die "spawner $n failed"
    log "spawner pid $spawner_pid: $(nbench) lineage-bench processes, $(nprocs) total"

    # Each tool must really name the listener before its time counts.
    ss -tlnp "sport = :$port" | grep -q "pid=$listener_pid," ||
        die "ss does not show pid $listener_pid on port $port (not root?)"
    # The deepest spawner process: the newest one is a leaf.
    leaf=$(pgrep -n -x lineage-bench)
    depth=0; p=$leaf
    while [[ $p -gt 0 ]]; do depth=$((depth + 1)); p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || echo 0); done
    log "why PID target: $leaf, $depth levels from pid 1"
    pid_names=(floor-chain) pid_cmds=("$(quote "$build/floor_chain" "$leaf")")
    names=(floor-names ss-all ss-port)
    cmds=("$(quote "$build/floor" stat cmdline)" "$(quote ss -tlnp)" "$(quote ss -tlnp "sport = :$port")")
    if ((have_lineage)); then
        out=$("$LINEAGE" why ":$port" --short 2>&1) || true
        grep -q "($listener_pid)" <<<"$out" || die "lineage why :$port does not name pid $listener_pid: $out"
        out=$("$LINEAGE" why lbench-listener --short 2>&1) || true
        grep -q "($listener_pid)" <<<"$out" || die "lineage why lbench-listener does not name pid $listener_pid: $out"
        pid_names+=(version why-pid)
        pid_cmds+=("$(quote "$LINEAGE" --version)" "$(quote "$LINEAGE" why "$leaf" --short)")
        if [[ -n ${BASELINE:-} ]]; then
            pid_names+=(base-version base-why-pid)
            pid_cmds+=("$(quote "$BASELINE" --version)" "$(quote "$BASELINE" why "$leaf" --short)")
        fi
        names+=(why-name why-port)
        cmds+=("$(quote "$LINEAGE" why lbench-listener --short)" "$(quote "$LINEAGE" why ":$port" --short)")
    fi
    if ((have_witr)); then
        names+=(witr-pid witr-name witr-port)
        cmds+=("$(quote witr --pid "$leaf")" "$(quote witr lbench-listener)" "$(quote witr --port "$port")")
    fi
    log "load: $(cut -d' ' -f1-3 /proc/loadavg)"
    pid_json=$RESULTS_DIR/why-pid-$n.json
    hf_args=()
    for i in "${!pid_names[@]}"; do hf_args+=(-n "${pid_names[$i]}" "${pid_cmds[$i]}"); done
    hyperfine_bg --warmup 20 --runs "$PID_RUNS" --export-json "$pid_json" "${hf_args[@]}"
    json=$RESULTS_DIR/why-$n.json
    hf_args=()
    for i in "${!names[@]}"; do hf_args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine_bg --warmup 2 --runs "$RUNS" --export-json "$json" "${hf_args[@]}"

    kill -0 "$spawner_pid" 2>/dev/null || die "spawner exited during the measurements"
    kill -TERM "$spawner_pid"
    wait "$spawner_pid" || die "spawner exited with status $?"
    spawner_pid=""
    left=$(nbench)
    [[ $left = 0 ]] || die "$left lineage-bench processes left behind"

    md=$RESULTS_DIR/why-$n.md
    if python3 -c 'import json' 2>/dev/null; then
        python3 - "$pid_json" "$json" "$n" <<'EOF' | tee "$md"
import json, sys
pid_path, path, n = sys.argv[1], sys.argv[2], sys.argv[3]
res = json.load(open(pid_path))["results"] + json.load(open(path))["results"]
print(f"### why, {n} other processes\n")
print("| command | median ms | min ms |")
print("|---|---:|---:|")
for r in res:
    print(f"| {r['command']} | {r['median'] * 1000:.2f} | {r['min'] * 1000:.2f} |")
print()
EOF
    elif command -v jq >/dev/null; then
        {
            printf '### port owner, %s other processes\n\n| tool | median ms | min ms | ratio vs ss -tlnp |\n|---|---:|---:|---:|\n' "$n"
            jq -r '.results[] | "| \(.command) | \(.median * 100000 | round / 100) | \(.min * 100000 | round / 100) | |"' "$pid_json"
            jq -r '(.results[] | select(.command == "ss-all") | .median) as $b | .results[]
                | "| \(.command) | \(.median * 100000 | round / 100) | \(.min * 100000 | round / 100) | \(.median / $b * 100 | round / 100)x |"' "$json"
            echo
        } | tee "$md"
    else
        cat "$pid_json" "$json"
    fi
done
