#!/usr/bin/env bash
# Benchmark `lineage record`: sustained recording of a process storm into a
# fresh history database: events lost, the recorder's CPU, how long an exec
# takes to be committed (visible to a reader), and bytes per process.
#
#   bash bench/record_bench.sh                 # MODES="500 1000 max fork" REPEAT=3
#   MODES="max" SECONDS_PER_RUN=5 REPEAT=1 bash bench/record_bench.sh
#
# For each mode and repetition, in one run:
#   1. start `$LINEAGE record --db FRESH.db --source SOURCE` and wait for its
#      "writing" line (backfill done), then note its CPU time (/proc/PID/stat
#      utime+stime) and the database's size and process count;
#   2. run `storm -a 4 R SECONDS_PER_RUN` (bench/storm.c, built here; fork +
#      exec of `/bin/true storm-<seq> -x arg3 arg4`: 4 short arguments),
#      R = 500, 1000 or as fast as possible ("max"), or `storm -f 0 SECONDS`
#      ("fork": fork + _exit, no exec, as fast as possible), or `storm -a 4
#      -r 1000 0` ("repeat": as "max", with 1,000 distinct command lines
#      repeated, as a real machine repeats its commands; "max" makes every
#      command line new, the worst case for the interned argv table), and at the same
#      time the latency prober (below);
#   3. 1.5 s after the storm (the next commit), read the recorder's CPU time
#      again, the database's size and count, and `record --status --json`;
#   4. SIGTERM the recorder and read its summary line ("N events, M lost").
#
# Columns (medians over REPEAT runs; latency: all samples pooled):
#   achieved/s     true processes spawned / SECONDS_PER_RUN
#   recorded %     of the storm's true processes, how many the database has
#                  (rows whose ppid is a storm worker forked during the storm)
#                  and how many of those with an exit
#   lost           the recorder's summary ("lost M") and --status's "lost"
#   CPU %          recorder utime+stime from the storm's start to 1.5 s after
#                  its end, over SECONDS_PER_RUN, in % of one core
#   per 1k/s       CPU % / (achieved / 1000)
#   per 1k rec/s   CPU % / (processes recorded in the window / s / 1000):
#                  the recorder records every process of the machine, so on
#                  a shared machine (other builds, other tests' storms) this
#                  is the cost per process that holds whatever the storm
#                  achieved; a recorded process of the storm is a fork, an
#                  exec and an exit
#   commit p50/p99/max  the prober: every 0.1-0.5 s (random) it posix_spawns
#                  `/bin/true lbench-mark-<run>-<k>` and polls the database
#                  read-only every 10 ms (`SELECT 1 FROM argvs WHERE id>? AND
#                  text=?`, the rows added since the spawn; the row is written
#                  in the same transaction as the exec) until
#                  it is there: time from just before the spawn to the first
#                  poll that sees it
#   B/process      (pages in use after - before) * page_size / (processes
#                  after - before): steady state, backfill excluded; read
#                  through a read-only connection, so WAL pages count
#   B/process file the same after the recorder stopped (checkpointed),
#                  over all processes, backfill included
#   load 1m        /proc/loadavg when the storm started
#
# Environment:
#   LINEAGE          lineage binary (default: <repo>/build/lineage)
#   SOURCE           record --source (default: bpf)
#   MODES            rates (500, 1000, ...), "max", "repeat", "fork" (default: 500 1000 max fork)
#   SECONDS_PER_RUN  storm length (default: 10)
#   REPEAT           runs per mode (default: 3)
#   RESULTS_DIR      where record.md / record.jsonl go (default: bench/results)
#   KEEP             1: keep the databases and raw outputs (dir on stderr)
#   WARMUP           seconds of a fork-only storm (`storm -f 0`) between the
#                    recorder's start and the measured storm (default 0: a
#                    fresh recorder). Sustained recording: by then the live
#                    tree's slab (65,536 processes) and SQLite's page cache
#                    have grown to their working size, and first touches of
#                    new memory (a page fault each) are behind. ~70 s here.
#                    "lost" counts the measured storm's only; "B/process
#                    file" includes the warm-up's rows.
#   READY_TIMEOUT    seconds to wait for the recorder's backfill (default: 60;
#                    thousands of processes on a loaded machine take longer)
#
# Needs root, gcc, python3 (with its sqlite3 module).
# stdout: the markdown table.  Progress: stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SOURCE=${SOURCE:-bpf}
MODES=${MODES:-500 1000 max fork}
READY_TIMEOUT=${READY_TIMEOUT:-60}
WARMUP=${WARMUP:-0}
[[ $WARMUP =~ ^[0-9]+$ ]] || { echo "record_bench.sh: WARMUP is whole seconds" >&2; exit 1; }
WARMUP=$((10#$WARMUP))  # 08 is eight seconds, not an octal error
((WARMUP <= 3600)) || { echo "record_bench.sh: WARMUP is at most 3600 s" >&2; exit 1; }
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
REPEAT=${REPEAT:-3}
RESULTS_DIR=${RESULTS_DIR:-$here/results}
KEEP=${KEEP:-0}

log() { printf '%s\n' "$*" >&2; }
die() { log "record_bench.sh: $*"; exit 1; }

[[ -x $LINEAGE ]] || die "lineage binary not found or not executable: $LINEAGE (build it first, or set LINEAGE=...)"
for tool in gcc python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
python3 -c 'import sqlite3' 2>/dev/null || die "python3 lacks its sqlite3 module"
[[ $SECONDS_PER_RUN =~ ^[0-9]+$ && $SECONDS_PER_RUN -ge 2 ]] || die "bad SECONDS_PER_RUN: $SECONDS_PER_RUN"
[[ $REPEAT =~ ^[0-9]+$ && $REPEAT -ge 1 ]] || die "bad REPEAT: $REPEAT"
((EUID == 0)) || die "lineage record needs root"

build=$(mktemp -d)
# pids we started: the recorder, storm, the prober.
rec_pid="" storm_pid="" probe_pid=""
stop_pid() {
    [[ -n $1 ]] && kill -0 "$1" 2>/dev/null && kill -TERM "$1" 2>/dev/null || true
}
cleanup() {
    # Only ever signal processes we started, by pid.  storm's workers die with
    # it (PR_SET_PDEATHSIG); its /bin/true children exit by themselves.
    local pid
    for pid in "$storm_pid" "$probe_pid" "$rec_pid"; do
        stop_pid "$pid"
    done
    for pid in "$storm_pid" "$probe_pid" "$rec_pid"; do
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

cpu_of() { # utime+stime ticks of a pid
    local stat="" rest f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || true
    [[ -n $stat ]] || { echo ""; return; }
    rest=${stat##*) }
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
}
# "pages_in_use page_size processes" through a read-only connection.
db_size() { python3 "$here/db_size.py" "$1"; }

cat >"$build/probe.py" <<'EOF'
# probe.py DB SECONDS TAG OUT: spawn markers during SECONDS, time until each
# is committed; OUT: one latency (ms) per line, "lost" for one never seen.
import os, random, sqlite3, sys, time
db, seconds, tag, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]

conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
rnd = random.Random(tag)
start = time.monotonic()
end = start + seconds
next_spawn = start + rnd.uniform(0.1, 0.5)
pending, lat, k = {}, [], 0
while True:
    now = time.monotonic()
    if now >= end and not pending:
        break
    if now > end + 10:
        break
    if now < end and now >= next_spawn:
        argv = ["/bin/true", f"lbench-mark-{tag}-{k}"]
        k += 1
        # By text among the rows added since (every schema has argvs.id;
        # from schema 5 there is no hash to look it up by).
        last = conn.execute("SELECT coalesce(max(id), 0) FROM argvs").fetchone()[0]
        t0 = time.monotonic()
        pid = os.posix_spawn(argv[0], argv, {})
        os.waitpid(pid, 0)
        text = b"\0".join(a.encode() for a in argv)
        pending[(last, text)] = t0
        next_spawn = t0 + rnd.uniform(0.1, 0.5)
    for key, t0 in list(pending.items()):
        last, text = key
        if conn.execute("SELECT 1 FROM argvs WHERE id>? AND text=?", (last, text)).fetchone():
            lat.append((time.monotonic() - t0) * 1000)
            del pending[key]
    time.sleep(0.01)
with open(out, "w") as f:
    for x in lat:
        f.write(f"{x:.1f}\n")
    for _ in pending:
        f.write("lost\n")
EOF

log "== lineage record: source $SOURCE, modes [$MODES], ${SECONDS_PER_RUN} s storms, $REPEAT run(s) each, ${WARMUP} s warm-up"
log "   $(nproc) cores, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
log "   lineage: $(realpath "$LINEAGE"), modified $(date -u -r "$LINEAGE" '+%Y-%m-%d %H:%M:%S UTC')"
rows=$build/rows.jsonl
: >"$rows"
clk_tck=$(getconf CLK_TCK)
for mode in $MODES; do
    case $mode in
        max) storm_args=(-a 4 0) ;;
        fork) storm_args=(-f 0) ;;
        repeat) storm_args=(-a 4 -r 1000 0) ;;
        *) [[ $mode =~ ^[0-9]+$ ]] || die "bad mode: $mode"; storm_args=(-a 4 "$mode") ;;
    esac
    for ((r = 1; r <= REPEAT; r++)); do
        d=$build/$mode-$r
        mkdir -p "$d"
        db=$d/history.db
        "$LINEAGE" record --db "$db" --source "$SOURCE" 2>"$d/rec.err" &
        rec_pid=$!
        for ((t = 0; ; t++)); do
            grep -q 'writing' "$d/rec.err" 2>/dev/null && break
            kill -0 "$rec_pid" 2>/dev/null || die "recorder exited: $(cat "$d/rec.err")"
            ((t < READY_TIMEOUT * 10)) || die "recorder not ready after $READY_TIMEOUT s"
            sleep 0.1
        done
        if ((WARMUP > 0)); then
            "$build/storm" -f 0 "$WARMUP" >/dev/null 2>"$d/warmup.err" &
            storm_pid=$!
            wait "$storm_pid" || die "warm-up storm failed: $(cat "$d/warmup.err")"
            storm_pid=""
            # Until the recorder has drained the warm-up (its count stands still).
            prev=-1
            for ((t = 0; t < 30; t++)); do
                read -r _ _ cur < <(db_size "$db")
                ((cur == prev)) && break
                prev=$cur
                sleep 1.2
            done
        fi
        sleep 1.2 # the backfill's (and warm-up's) commit is behind us
        # What the warm-up lost is not the measured storm's.
        "$LINEAGE" record --status --json --db "$db" >"$d/status0.json" || true
        read -r pages0 psize n0 < <(db_size "$db")
        load1=$(cut -d' ' -f1 /proc/loadavg)
        cpu0=$(cpu_of "$rec_pid")
        python3 "$build/probe.py" "$db" "$SECONDS_PER_RUN" "$mode-$r-$$" "$d/latency" &
        probe_pid=$!
        "$build/storm" "${storm_args[@]}" "$SECONDS_PER_RUN" >"$d/truth" 2>"$d/storm.err" &
        storm_pid=$!
        rc=0; wait "$storm_pid" || rc=$?
        storm_pid=""
        ((rc == 0)) || log "storm exited $rc: $(cat "$d/storm.err")"
        sleep 1.5
        cpu1=$(cpu_of "$rec_pid")
        read -r pages1 _ n1 < <(db_size "$db")
        "$LINEAGE" record --status --json --db "$db" >"$d/status.json" || true
        wait "$probe_pid" || true
        probe_pid=""
        kill -TERM "$rec_pid"
        wait "$rec_pid" || log "recorder exited $?"
        rec_pid=""
        read -r pagesf _ nf < <(db_size "$db")
        python3 - "$d" "$mode" "$SECONDS_PER_RUN" "$clk_tck" "$cpu0" "$cpu1" "$pages0" "$pages1" "$pagesf" \
            "$psize" "$n0" "$n1" "$nf" "$load1" >>"$rows" <<'EOF'
import json, os, re, sqlite3, sys
d, mode, secs, tck = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
cpu0, cpu1, p0, p1, pf, psize, n0, n1, nf = map(int, sys.argv[5:14])
load1 = float(sys.argv[14])
read = lambda n: open(os.path.join(d, n)).read()
truth = [tuple(map(int, l.split())) for l in read("truth").split("\n") if l.strip()]
m = re.search(r"achieved ([0-9.]+)/s", read("storm.err"))
achieved = float(m.group(1)) if m else len(truth) / secs
workers = sorted({pp for _, pp in truth if pp > 0})
c = sqlite3.connect(f"file:{os.path.join(d, 'history.db')}?mode=ro", uri=True)
q = ",".join("?" * len(workers)) or "NULL"
# From schema 5 a NULL ppid is the parent row's pid.
rec, ex = c.execute(f"SELECT count(*), count(p.exit_ns) FROM processes p LEFT JOIN processes q ON q.id=p.parent "
                    f"WHERE coalesce(p.ppid, q.pid) IN ({q}) AND p.flags & 1 = 0", workers).fetchone()
m = re.search(r"(\d+) events, (\d+) lost, (\d+) records in (\d+) commits", read("rec.err"))
def status_of(name):
    try:
        return json.loads(read(name))
    except ValueError:
        return {}
status, status0 = status_of("status.json"), status_of("status0.json")
lost_before = status0.get("lost") or 0  # the warm-up's
lat = [l.strip() for l in read("latency").split("\n") if l.strip()]
cpu = 100.0 * (cpu1 - cpu0) / tck / secs
print(json.dumps({
    "mode": mode, "spawned": len(truth), "achieved": achieved, "load1": load1,
    "recorded_pct": 100.0 * rec / len(truth) if truth else None,
    "exited_pct": 100.0 * ex / len(truth) if truth else None,
    "events": int(m.group(1)) if m else None, "lost": int(m.group(2)) - lost_before if m else None,
    "commits": int(m.group(4)) if m else None,
    "status_events": status.get("events"),
    "status_lost": status["lost"] - lost_before if status.get("lost") is not None else None,
    "cpu_pct": cpu, "cpu_per_1k": cpu / (achieved / 1000.0) if achieved else None,
    "recorded_per_s": (n1 - n0) / secs,
    "cpu_per_1k_recorded": cpu / ((n1 - n0) / secs / 1000.0) if n1 > n0 else None,
    "latency_ms": [float(x) for x in lat if x != "lost"], "latency_lost": lat.count("lost"),
    "bytes_per_process": (p1 - p0) * psize / (n1 - n0) if n1 > n0 else None,
    "bytes_per_process_file": pf * psize / nf if nf else None, "processes": nf,
}))
EOF
        log "$(tail -n 1 "$rows" | python3 -c 'import json,sys; r=json.load(sys.stdin); r["latency_ms"]=len(r["latency_ms"]); print(r)')"
    done
done

cp "$rows" "$RESULTS_DIR/record.jsonl"
WARMUP=$WARMUP python3 - "$rows" <<'EOF' | tee "$RESULTS_DIR/record.md"
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda xs: statistics.median(xs) if xs else float("nan")
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")
print("| mode | runs | achieved/s | recorded % (exit %) | lost (summary / status) | CPU % of a core | per 1k/s | "
      "all recorded/s | per 1k rec/s | commit p50 / p99 / max ms (n) | B/process | B/process file | load 1m |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for mode in dict.fromkeys(r["mode"] for r in rows):
    rs = [r for r in rows if r["mode"] == mode]
    lat = [x for r in rs for x in r["latency_ms"]]
    lost_lat = sum(r["latency_lost"] for r in rs)
    name = {"max": "max exec", "repeat": "max exec, 1,000 command lines", "fork": "max fork only"}.get(mode, f"{mode} exec/s")
    if os.environ.get("WARMUP", "0") != "0":
        name += f" (after {os.environ['WARMUP']} s of forks)"
    g = lambda k: [r[k] for r in rs if r[k] is not None]
    print(f"| {name} | {len(rs)} | {med(g('achieved')):.0f} | {med(g('recorded_pct')):.1f} ({med(g('exited_pct')):.1f}) | "
          f"{max(g('lost') or [-1])} / {max(g('status_lost') or [-1])} | {med(g('cpu_pct')):.1f} | {med(g('cpu_per_1k')):.1f} | "
          f"{med(g('recorded_per_s')):.0f} | {med(g('cpu_per_1k_recorded')):.1f} | "
          f"{pct(lat, 50):.0f} / {pct(lat, 99):.0f} / {max(lat or [float('nan')]):.0f} ({len(lat)}"
          f"{', %d never seen' % lost_lat if lost_lat else ''}) | "
          f"{med(g('bytes_per_process')):.0f} | {med(g('bytes_per_process_file')):.0f} | {med(g('load1')):.1f} |")
EOF
