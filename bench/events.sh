#!/usr/bin/env bash
# Benchmark `lineage watch`: how many events of a process storm each source
# sees, and what watching costs in CPU.  forkstat is the peer.
#
#   bash bench/events.sh                    # SOURCES="bpf netlink poll" RATES="500 1000 2000 max"
#   SOURCES="bpf" RATES="max" SECONDS_PER_RUN=3 bash bench/events.sh
#
# For each source S and rate R, in one run:
#   1. start `$LINEAGE watch --source S --json --duration SECONDS_PER_RUN+3`
#      (JSON lines to a temp file) under /usr/bin/time, and forkstat (if
#      installed) for as long, also under /usr/bin/time;
#   2. wait 1.5 s (startup: BPF load, first /proc scan), then read their CPU
#      time so far from /proc/PID/stat;
#   3. run `storm R SECONDS_PER_RUN DEPTH` (bench/storm.c, built here): fork +
#      exec of /bin/true with argv {"/bin/true", "storm-<seq>"}, R per second
#      (max: as fast as possible, one worker per core); its stdout is the
#      ground truth, one "pid ppid" line per true process, line N = storm-N;
#   4. wait for both watchers to finish, then compare against the truth.
#
# Columns:
#   achieved exec/s   true processes spawned / SECONDS_PER_RUN (storm may fall
#                     behind the requested rate: this is what it managed)
#   fork/exec/exit %  of the true processes, how many have a fork event (pid
#                     and fork parent match), an exec event, an exit event.
#                     Matched as multisets per pid (pid, ppid for forks), as
#                     pids can wrap during a long storm (pid_max 32768)
#   argv %            exec event for the pid with argv[1] == "storm-<seq>"
#   lost              the "lost N" of lineage's summary line on stderr
#   watch CPU %       lineage's user+sys CPU from the storm's start until it
#                     exits (it keeps draining after the storm ends), over
#                     SECONDS_PER_RUN, in % of one core
#   CPU %/1k exec/s   watch CPU % / (achieved exec/s / 1000): storm execs only,
#                     though lineage also handles everything else that runs
#   other exec/s seen execs lineage saw that were not the storm's, over the
#                     watch's whole run: other work on the machine (poll:
#                     only what its scans caught)
#   forkstat exec %, argv %, CPU %   the same for forkstat, which ran at the
#                     same time (so both compete for the same cores)
#   load 1m           /proc/loadavg when the storm started (other work on the
#                     machine competes with the storm and the watchers)
#
# Environment:
#   LINEAGE          lineage binary (default: <repo>/build/lineage)
#   SOURCES          lineage watch sources (default: bpf netlink poll)
#   RATES            storm rates per second; "max" = as fast as possible
#                    (default: 500 1000 2000 max)
#   SECONDS_PER_RUN  storm length in seconds (default: 5)
#   DEPTH            storm chain depth (default: 1: the worker forks the true)
#   POLL_INTERVAL    --interval for the poll source, ms (default: lineage's)
#   FORKSTAT         auto (default: run it if installed) or 0 (don't)
#   RESULTS_DIR      where events.md / events.json go (default: bench/results)
#   KEEP             1: keep the raw outputs (temp dir printed on stderr)
#
# Needs root (bpf and netlink sources), gcc, python3, /usr/bin/time.
# stdout: the markdown table.  Progress: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SOURCES=${SOURCES:-bpf netlink poll}
RATES=${RATES:-500 1000 2000 max}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
DEPTH=${DEPTH:-1}
POLL_INTERVAL=${POLL_INTERVAL:-}
FORKSTAT=${FORKSTAT:-auto}
RESULTS_DIR=${RESULTS_DIR:-$here/results}
KEEP=${KEEP:-0}

log() { printf '%s\n' "$*" >&2; }
die() { log "events.sh: $*"; exit 1; }

[[ -x $LINEAGE ]] || die "lineage binary not found or not executable: $LINEAGE (build it first, or set LINEAGE=...)"
for tool in gcc python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (package 'time')"
[[ $SECONDS_PER_RUN =~ ^[0-9]+$ && $SECONDS_PER_RUN -ge 1 ]] || die "bad SECONDS_PER_RUN: $SECONDS_PER_RUN"
[[ $DEPTH =~ ^[0-9]+$ && $DEPTH -ge 1 ]] || die "bad DEPTH: $DEPTH"
[[ -z $POLL_INTERVAL || $POLL_INTERVAL =~ ^[0-9]+$ ]] || die "bad POLL_INTERVAL: $POLL_INTERVAL"
((EUID == 0)) || log "note: not root; the bpf and netlink sources will fail"

have_forkstat=0
if [[ $FORKSTAT != 0 ]]; then
    if command -v forkstat >/dev/null; then
        have_forkstat=1
    else
        log "note: forkstat not installed (apt-get install -y forkstat); peer columns will be n/a"
    fi
fi

build=$(mktemp -d)
# pids we started: the /usr/bin/time wrappers, what they run, and storm.
watch_tpid="" watch_pid="" fs_tpid="" fs_pid="" storm_pid=""
stop_pid() {
    local pid=$1
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    # Only ever signal processes we started, by pid.  The watchers first (time
    # does not pass signals on), then their time wrappers, then storm, whose
    # workers die with it (PR_SET_PDEATHSIG) and whose /bin/true children
    # exit by themselves.
    local pid
    for pid in "$watch_pid" "$fs_pid" "$storm_pid" "$watch_tpid" "$fs_tpid"; do
        stop_pid "$pid"
    done
    for pid in "$watch_tpid" "$fs_tpid" "$storm_pid"; do
        [[ -n $pid ]] && wait "$pid" 2>/dev/null || true
    done
    if [[ $KEEP = 1 ]]; then
        log "raw outputs kept in $build"
    else
        rm -rf "$build"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gcc -O2 -Wall -o "$build/storm" "$here/storm.c"
mkdir -p "$RESULTS_DIR"

clk_tck=$(getconf CLK_TCK)
# The pid of the only child of PID (the command /usr/bin/time runs).
child_of() {
    local t
    for ((t = 0; t < 200; t++)); do
        local kids=""
        kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null || pgrep -P "$1" || true)
        kids=${kids%% *}
        kids=${kids//[^0-9]/}
        [[ -n $kids ]] && { echo "$kids"; return; }
        kill -0 "$1" 2>/dev/null || break
        sleep 0.01
    done
    echo ""
}
# user+sys CPU of PID so far (all threads), in clock ticks; "" if gone.
cpu_of() {
    local stat="" rest f
    [[ -n $1 ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || true
    [[ -n $stat ]] || { echo ""; return; }
    rest=${stat##*) } # fields from 3 on; utime, stime are fields 14, 15
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
}

cat >"$build/analyze.py" <<'EOF'
# analyze.py RUN_DIR: compare a run's events with storm's ground truth;
# prints one JSON object.
import collections, json, os, re, sys

d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
spr = meta["seconds"]

def read(name):
    try:
        return open(os.path.join(d, name), errors="replace").read()
    except FileNotFoundError:
        return ""

truth = []  # (seq, pid, ppid); seq is the line number
for seq, line in enumerate(read("truth").split("\n"), 1):
    parts = line.split()
    if len(parts) == 2:
        truth.append((seq, int(parts[0]), int(parts[1])))
n = len(truth)
truth_pid = collections.Counter(p for _, p, _ in truth if p > 0)
truth_fork = collections.Counter((p, pp) for _, p, pp in truth if p > 0)
want_argv = {(p, f"storm-{s}") for s, p, _ in truth if p > 0}

m = re.search(r"achieved ([0-9.]+)/s", read("storm.err"))
achieved = float(m.group(1)) if m else n / spr

def multiset_hits(events, truth_counter):
    c = collections.Counter(events)
    return sum(min(k, c[key]) for key, k in truth_counter.items())

def pct(x):
    return round(100.0 * x / n, 2) if n else None

def times(name):  # "%U %S %e %w %c" of /usr/bin/time; last line (earlier: warnings)
    lines = [l for l in read(name).split("\n") if re.match(r"^[0-9.]+( [0-9.]+){4}$", l)]
    return [float(x) for x in lines[-1].split()] if lines else None

def cpu_pct(tfile, start):
    t = times(tfile)
    if t is None or start is None:
        return None
    return round(100.0 * max(0.0, t[0] + t[1] - start) / spr, 1)

out = {"source": meta["source"], "rate": meta["rate"], "spawned": n,
       "achieved_per_s": round(achieved, 1), "load1": meta["load1"],
       "watch_rc": meta["watch_rc"]}

# lineage watch: JSON lines
forks, execs, exits, argvs = [], [], [], set()
bad_lines = lost_events = 0
for line in read("watch.json").split("\n"):
    if not line:
        continue
    try:
        e = json.loads(line)
    except ValueError:
        bad_lines += 1
        continue
    ev, pid = e.get("event"), e.get("pid")
    comm, argv = e.get("comm"), e.get("argv") or []
    if ev == "fork":
        forks.append((pid, e.get("ppid")))
    elif ev == "exec":
        # ours, or not known to be someone else's (netlink may lack argv)
        if (len(argv) > 1 and argv[1].startswith("storm-")) or (not argv and comm in (None, "true")):
            execs.append(pid)
        if len(argv) > 1:
            argvs.add((pid, argv[1]))
    elif ev == "exit":
        if comm in (None, "true"):
            exits.append(pid)
    elif ev == "lost":
        lost_events += int(e.get("lost") or 0)
err = read("watch.err")
m = re.search(r"seen fork (\d+), exec (\d+), exit (\d+); lost (\d+)", err)
storm_execs = multiset_hits(execs, truth_pid)
wt = times("watch.time")
out.update({
    "fork_pct": pct(multiset_hits(forks, truth_fork)),
    "exec_pct": pct(storm_execs),
    "exit_pct": pct(multiset_hits(exits, truth_pid)),
    "argv_pct": pct(len(want_argv & argvs)),
    "lost": int(m.group(4)) if m else None,
    "lost_in_events": lost_events,
    "seen": [int(m.group(i)) for i in (1, 2, 3)] if m else None,
    "bad_json_lines": bad_lines,
    "watch_cpu_pct": cpu_pct("watch.time", meta["watch_cpu0"]),
    "watch_summary": next((l for l in err.split("\n") if "seen fork" in l), None),
    # execs of other processes on the machine, as seen: background noise
    "other_exec_per_s": round((int(m.group(2)) - storm_execs) / meta["watch_seconds"], 1) if m else None,
    "watch_wall_s": wt[2] if wt else None,
    "watch_voluntary_cs": int(wt[3]) if wt else None,
    "watch_involuntary_cs": int(wt[4]) if wt else None,
})
c = out["watch_cpu_pct"]
out["cpu_pct_per_1k"] = round(c / (achieved / 1000.0), 2) if c is not None and achieved > 0 else None

# forkstat: "HH:MM:SS exec  PID            cmdline..."
if meta["forkstat"]:
    fs_execs, fs_argv = [], set()
    for line in read("fs.out").split("\n"):
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "exec" and parts[2].isdigit():
            pid = int(parts[2])
            fs_execs.append(pid)
            if len(parts) >= 5:
                fs_argv.add((pid, parts[4]))
    out.update({
        "fs_exec_pct": pct(multiset_hits(fs_execs, truth_pid)),
        "fs_argv_pct": pct(len(want_argv & fs_argv)),
        "fs_cpu_pct": cpu_pct("fs.time", meta["fs_cpu0"]),
        "fs_rc": meta["fs_rc"],
        "fs_stderr": read("fs.err").strip()[:300] or None,
    })
print(json.dumps(out))
EOF

log "== lineage watch event coverage: sources [$SOURCES], rates [$RATES], ${SECONDS_PER_RUN} s per run, depth $DEPTH"
log "   $(nproc) cores, kernel $(uname -r), pid_max $(cat /proc/sys/kernel/pid_max), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# Which binary was measured (builds on a shared machine may replace it).
lineage_id="$("$LINEAGE" --version 2>/dev/null | head -n 1 || true), $(realpath "$LINEAGE"), modified $(date -u -r "$LINEAGE" '+%Y-%m-%d %H:%M:%S UTC')"
log "   lineage: $lineage_id"
rows=$build/rows.jsonl
: >"$rows"
dur=$((SECONDS_PER_RUN + 3))
for s in $SOURCES; do
    for r in $RATES; do
        case $r in
            max) srate=0 ;;
            *) [[ $r =~ ^[0-9]+$ && $r -gt 0 ]] || die "bad rate: $r (a number > 0, or max)"; srate=$r ;;
        esac
        rd=$build/$s-$r
        mkdir -p "$rd"
        log "-- source $s, rate $r"

        wargs=(watch --source "$s" --json --duration "$dur")
        [[ $s = poll && -n $POLL_INTERVAL ]] && wargs+=(--interval "$POLL_INTERVAL")
        /usr/bin/time -f "%U %S %e %w %c" -o "$rd/watch.time" "$LINEAGE" "${wargs[@]}" \
            >"$rd/watch.json" 2>"$rd/watch.err" &
        watch_tpid=$!
        if [[ $have_forkstat = 1 ]]; then
            /usr/bin/time -f "%U %S %e %w %c" -o "$rd/fs.time" forkstat -e fork,exec,exit -D "$dur" \
                >"$rd/fs.out" 2>"$rd/fs.err" &
            fs_tpid=$!
        fi
        watch_pid=$(child_of "$watch_tpid")
        [[ $have_forkstat = 1 ]] && fs_pid=$(child_of "$fs_tpid")
        sleep 1.5
        watch_cpu0=$(cpu_of "$watch_pid")
        fs_cpu0=""
        [[ $have_forkstat = 1 ]] && fs_cpu0=$(cpu_of "$fs_pid")
        [[ -n $watch_cpu0 ]] || log "warning: lineage watch --source $s is not running after 1.5 s: $(tail -n 2 "$rd/watch.err" | tr '\n' ' ')"
        load1=$(cut -d' ' -f1 /proc/loadavg)

        # In the background so that a signal to this script is handled at once.
        "$build/storm" "$srate" "$SECONDS_PER_RUN" "$DEPTH" >"$rd/truth" 2>"$rd/storm.err" &
        storm_pid=$!
        rc=0; wait "$storm_pid" || rc=$?
        storm_pid=""
        log "   $(tail -n 1 "$rd/storm.err")"
        ((rc == 0)) || log "warning: storm exited with status $rc: $(head -n 3 "$rd/storm.err" | tr '\n' ' ')"

        watch_rc=0; wait "$watch_tpid" || watch_rc=$?
        watch_tpid="" watch_pid=""
        fs_rc=0
        if [[ $have_forkstat = 1 ]]; then
            wait "$fs_tpid" || fs_rc=$?
            fs_tpid="" fs_pid=""
        fi
        # lineage: 0 ok, 1 ok with warnings
        ((watch_rc <= 1)) || log "warning: lineage watch --source $s exited with status $watch_rc: $(grep -v '^Command exited' "$rd/watch.err" | tail -n 2 | tr '\n' ' ')"
        ((fs_rc == 0)) || log "warning: forkstat exited with status $fs_rc"
        log "   $(grep 'seen fork' "$rd/watch.err" || echo 'lineage: no summary line')"

        python3 - "$rd/meta.json" <<EOF
import json, sys
num = lambda v: float(v) if v else None
sec = lambda ticks: float(ticks) / $clk_tck if ticks else None
json.dump({"source": "$s", "rate": "$r", "seconds": $SECONDS_PER_RUN, "watch_seconds": $dur,
           "load1": num("$load1"),
           "watch_cpu0": sec("$watch_cpu0"), "fs_cpu0": sec("$fs_cpu0"),
           "watch_rc": $watch_rc, "fs_rc": $fs_rc, "forkstat": $have_forkstat == 1},
          open(sys.argv[1], "w"))
EOF
        python3 "$build/analyze.py" "$rd" >>"$rows"
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$rows" "$RESULTS_DIR/events.json" "$load_start" "$load_end" "$SECONDS_PER_RUN" \
    "$DEPTH" "$have_forkstat" "$(nproc)" "$(uname -r)" "$lineage_id" <<'EOF' | tee "$RESULTS_DIR/events.md"
import json, sys
rows_path, json_path, load_start, load_end, spr, depth, have_fs, ncpu, kernel, lineage_id = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_path) if l.strip()]
json.dump({"seconds_per_run": int(spr), "depth": int(depth), "cores": int(ncpu), "kernel": kernel,
           "lineage": lineage_id,
           "load_start": load_start, "load_end": load_end, "runs": rows},
          open(json_path, "w"), indent=1)

def f(v, suffix=""):
    return "n/a" if v is None else f"{v:g}{suffix}" if isinstance(v, int) else f"{v:.1f}{suffix}"

print(f"### `lineage watch` event coverage, {spr} s storms of fork+exec /bin/true "
      f"(depth {depth})\n")
print(f"lineage {lineage_id}; {ncpu} cores, kernel {kernel}; "
      f"load average {load_start} at start, {load_end} at end.\n")
fs = have_fs == "1"
head = ["source", "requested/s", "achieved exec/s", "fork %", "exec %", "exit %", "argv %", "lost",
        "watch CPU % of a core", "CPU % per 1k exec/s", "other exec/s seen"]
if fs:
    head += ["forkstat exec %", "forkstat argv %", "forkstat CPU %"]
head += ["load 1m"]
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
for r in rows:
    cells = [r["source"], r["rate"], f(r["achieved_per_s"]), f(r["fork_pct"]), f(r["exec_pct"]),
             f(r["exit_pct"]), f(r["argv_pct"]), f(r["lost"]), f(r["watch_cpu_pct"]),
             "n/a" if r["cpu_pct_per_1k"] is None else f"{r['cpu_pct_per_1k']:.2f}",
             f(r["other_exec_per_s"])]
    if fs:
        cells += [f(r.get("fs_exec_pct")), f(r.get("fs_argv_pct")), f(r.get("fs_cpu_pct"))]
    cells += [f(r["load1"])]
    if r["watch_rc"] > 1:
        cells[0] += f" (exit {r['watch_rc']})"
    print("| " + " | ".join(cells) + " |")
print()
EOF
