#!/usr/bin/env bash
# Benchmark what `lineage trace` costs a real build, against strace -f.
#
#   bash bench/trace.sh                 # FILES=200 RUNS=5
#   FILES=400 RUNS=10 bash bench/trace.sh
#
# Generates a C project of FILES small files (a function each, and a main
# that calls them all) with a pattern-rule Makefile, then times a clean
# rebuild (`make clean` as hyperfine's --prepare, outside the measurement)
# in one hyperfine run of three commands:
#   untraced   make -s -j2
#   trace      $LINEAGE trace -- make -s -j2          (report to stdout, discarded)
#   strace     strace -f -e trace=process -o /dev/null make -s -j2
# Then RUNS more pairs measure CPU, not wall time (perf stat): the tracer's
# own CPU (lineage alone, --no-inherit) against the untraced build's; the
# wall times' spread is wider than the few percent the tracer costs.
# Needs root (lineage trace's event sources), gcc, make, strace, hyperfine
# (and perf for the CPU part).
#
#   MODE=io bash bench/trace.sh         # OPENS=20000 RUNS=10
# instead times `lineage trace -e file` against `strace -f -e trace=file` on a
# file-heavy loop (a shell opening /etc/hostname OPENS times, `: </etc/hostname`:
# opens, no forks), with the untraced loop and a plain `lineage trace` in the
# same hyperfine run; first checks that trace -e file saw every open.
#
# Environment: LINEAGE (default <repo>/build/lineage), FILES, RUNS, JOBS
# (make -j, default 2), RESULTS_DIR (default bench/results).
# stdout: a markdown table with medians and ratios, and the load average
# before and after (the machine may be shared). Progress: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
FILES=${FILES:-200}
RUNS=${RUNS:-5}
JOBS=${JOBS:-2}
RESULTS_DIR=${RESULTS_DIR:-$here/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "trace.sh: $*"; exit 1; }
for tool in hyperfine gcc make strace python3; do command -v "$tool" >/dev/null || die "missing tool: $tool"; done
[[ -x $LINEAGE ]] || die "no lineage at $LINEAGE"
[[ $(id -u) == 0 ]] || die "needs root (lineage trace opens bpf or the proc connector)"
[[ $FILES =~ ^[0-9]+$ ]] && ((FILES > 0)) || die "bad FILES: $FILES"

MODE=${MODE:-build}
OPENS=${OPENS:-20000}
[[ $MODE == build || $MODE == io ]] || die "MODE is build or io, not $MODE"
[[ $OPENS =~ ^[0-9]+$ ]] && ((OPENS > 0)) || die "bad OPENS: $OPENS"

proj=$(mktemp -d /tmp/lineage-trace-bench.XXXXXX)
hf_pid=""
cleanup() {
    if [[ -n $hf_pid ]] && kill -0 "$hf_pid" 2>/dev/null; then  # only what this script started
        kill -TERM "$hf_pid" 2>/dev/null || true
        wait "$hf_pid" 2>/dev/null || true
    fi
    rm -rf "$proj"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ $MODE == io ]]; then
    RUNS=${RUNS_IO:-10}
    loop="sh -c 'i=0; while [ \$i -lt $OPENS ]; do : </etc/hostname; i=\$((i + 1)); done'"
    mkdir -p "$RESULTS_DIR"
    "$LINEAGE" trace -e file --json --output "$proj/check.json" -- sh -c "i=0; while [ \$i -lt $OPENS ]; do : </etc/hostname; i=\$((i + 1)); done"
    python3 - "$proj/check.json" "$OPENS" <<'PY' || die "trace -e file missed opens"
import json, sys
doc = json.load(open(sys.argv[1]))
n = sum(1 for p in doc["processes"] for f in p["files"] if f["path"] == "/etc/hostname" and f["result"] >= 0)
print(f"check: {n} opens of /etc/hostname seen, io_lost {doc['io_lost']}", file=sys.stderr)
assert n == int(sys.argv[2]), n
PY
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    log "== $OPENS opens in one shell, $RUNS runs each; load $load_before"
    json=$RESULTS_DIR/trace-io-$OPENS.json
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$json" \
        -n untraced "$loop" \
        -n trace "$LINEAGE trace -- $loop" \
        -n "trace -e file" "$LINEAGE trace -e file -- $loop" \
        -n "strace -f -e trace=file" "strace -f -e trace=file -o /dev/null $loop" >&2 &
    hf_pid=$!
    wait "$hf_pid" || die "hyperfine failed"
    hf_pid=""
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    python3 - "$json" "$OPENS" "$load_before" "$load_after" <<'PY' | tee "$RESULTS_DIR/trace-io-$OPENS.md"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] for r in res}
print(f"### trace -e file: {sys.argv[2]} opens in one shell loop\n")
print("| command | median ms | min ms | max ms | / untraced | / strace |")
print("|---|---:|---:|---:|---:|---:|")
for r in res:
    print(f"| {r['command']} | {r['median'] * 1e3:.1f} | {r['min'] * 1e3:.1f} | {r['max'] * 1e3:.1f} | "
          f"{r['median'] / med['untraced']:.2f}x | {r['median'] / med['strace -f -e trace=file']:.2f}x |")
print(f"\nload average before: {sys.argv[3]}; after: {sys.argv[4]}")
PY
    exit 0
fi

# The project: f0.c .. fN-1.c, main.c calling each, a pattern-rule Makefile.
{
    for ((i = 0; i < FILES; i++)); do echo "int f$i(int x);"; done
    echo 'int main(void) { int s = 0;'
    for ((i = 0; i < FILES; i++)); do echo "  s += f$i($i);"; done
    echo '  return s == 0 ? 1 : 0; }'
} >"$proj/main.c"
for ((i = 0; i < FILES; i++)); do
    printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s + 1; }\n' "$i" "$i" >"$proj/f$i.c"
done
printf 'SRCS := $(wildcard *.c)\nOBJS := $(SRCS:.c=.o)\nprog: $(OBJS)\n\tcc -o $@ $(OBJS)\n%%.o: %%.c\n\tcc -O1 -c -o $@ $<\nclean:\n\trm -f *.o prog\n' \
    >"$proj/Makefile"

mkdir -p "$RESULTS_DIR"
# A check first: the traced build works and sees every compile.
make -s -C "$proj" clean
"$LINEAGE" trace --json --output "$proj/check.json" -- make -s -C "$proj" -j"$JOBS" >/dev/null
python3 - "$proj/check.json" "$FILES" <<'PY' || die "the traced build is incomplete"
import json, sys
doc = json.load(open(sys.argv[1]))
n = sum(1 for p in doc["processes"] for e in p["execs"] if e["argv"][:2] == ["cc", "-O1"])
assert doc["exit_status"] == 0 and n == int(sys.argv[2]) + 1, (doc["exit_status"], n)
print(f"check: {len(doc['processes'])} processes traced, {n} compiles", file=sys.stderr)
PY
rm -f "$proj/check.json"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "== $FILES files, make -j$JOBS, $RUNS runs each; load $load_before"
json=$RESULTS_DIR/trace-$FILES.json
hyperfine -N --warmup 1 --runs "$RUNS" --prepare "make -s -C $proj clean" --export-json "$json" \
    -n untraced "make -s -C $proj -j$JOBS" \
    -n trace "$LINEAGE trace -- make -s -C $proj -j$JOBS" \
    -n strace "strace -f -e trace=process -o /dev/null make -s -C $proj -j$JOBS" >&2 &
hf_pid=$!
wait "$hf_pid" || die "hyperfine failed"
hf_pid=""
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$json" "$FILES" "$JOBS" "$load_before" "$load_after" <<'PY' | tee "$RESULTS_DIR/trace-$FILES.md"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] for r in res}
print(f"### trace: clean `make -j{sys.argv[3]}` of {sys.argv[2]} C files\n")
print("| command | median s | min s | max s | / untraced |")
print("|---|---:|---:|---:|---:|")
for r in res:
    print(f"| {r['command']} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
          f"{r['median'] / med['untraced']:.3f}x |")
print(f"\nload average before: {sys.argv[4]}; after: {sys.argv[5]}")
PY

# What the wall times above cannot resolve (a few percent inside their
# spread): the tracer's own CPU, against the CPU of the build it traces.
# perf stat --no-inherit counts the lineage process alone (its threads, not
# make and the compilers); the untraced build's task-clock counts everything
# it ran. On a machine the build keeps busy, the tracer's share of the CPU
# is what it adds to the wall time. RUNS pairs, medians. Needs perf.
if command -v perf >/dev/null; then
    cpu_ms() { perf stat -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ { print $1 }'; }
    tracer=() build=()
    for ((r = 0; r < RUNS; r++)); do
        make -s -C "$proj" clean
        build+=("$(cpu_ms -- make -s -C "$proj" -j"$JOBS")")
        make -s -C "$proj" clean
        tracer+=("$(cpu_ms --no-inherit -- "$LINEAGE" trace -- make -s -C "$proj" -j"$JOBS")")
    done
    python3 - "${build[*]}" "${tracer[*]}" <<'PY' | tee -a "$RESULTS_DIR/trace-$FILES.md"
import statistics, sys
build = [float(x) for x in sys.argv[1].split()]
tracer = [float(x) for x in sys.argv[2].split()]
b, t = statistics.median(build), statistics.median(tracer)
print(f"\ntracer CPU (lineage itself, perf stat --no-inherit): median {t:.0f} ms; "
      f"the untraced build's CPU: median {b:.0f} ms; tracer / build: {100 * t / b:.2f} %")
PY
else
    log "perf not installed: the tracer's CPU share is not measured"
fi
