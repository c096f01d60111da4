#!/usr/bin/env bash
# Benchmark queries over a history of 1,000,000 recorded processes.
#
#   bash bench/history_queries.sh              # PROCESSES=1000000 RUNS=30
#   PROCESSES=100000 RUNS=10 bash bench/history_queries.sh
#
# 1. Starts an orphan (`sleep 100000`, its shell parent gone, so re-parented
#    to init or the nearest subreaper) and writes a fresh database with
#    history_gen (bench/history_gen.cc, built with the project: store::Writer,
#    the recorder's writer) whose orphan is that live process, below 10
#    exited ancestors (timed: the writer's throughput).
# 2. With bench/spawner.c holding 10,000 live processes, one hyperfine run
#    (-N, 2 warm-ups) times `lineage tree` (the live machine at 10,000 extra
#    processes) and `lineage tree --at T --db DB` (T: the moment the database
#    has exactly 10,000 processes alive).
# 3. Spawner gone, one hyperfine run times:
#      why-orphan     lineage why ORPHAN --db DB        (10 exited ancestors)
#      history-common lineage history git --db DB       (a common name)
#      history-rare   lineage history rsync --db DB     (a rare name: ~0.2 %)
#      history-pid    lineage history PID --db DB       (every holder of a pid)
#      why-live-db    lineage why LIVE --db DB          (LIVE: a sleep child
#      why-live-nodb  lineage why LIVE --db /nonexistent   of this script,
#      why-live       lineage why LIVE                      chain alive)
# 4. EXPLAIN QUERY PLAN of the SQL behind them (bench/results/history-plans.txt).
#
# Environment:
#   LINEAGE      lineage binary (default: <repo>/build/lineage)
#   HISTORY_GEN  history_gen binary (default: next to LINEAGE, bench/history_gen)
#   PROCESSES    processes in the database (default: 1000000)
#   RUNS         hyperfine runs per command (default: 30)
#   LIVE_N       live processes for the tree comparison (default: 10000; 0: skip)
#   BASELINE     another lineage binary (a build before a change): its
#                base-tree-at, base-why-orphan, base-history-* run in the
#                same hyperfine runs, on a copy of the database turned back
#                into schema 1 (schema 2's indexes dropped, version 1's made:
#                a binary before schema 2 refuses a newer file). The same
#                commands of LINEAGE on that copy (v1-*) time the plans a
#                reader takes on a file the recorder has not migrated yet.
#   RESULTS_DIR  where history-*.json / history-queries.md go (default: bench/results)
#   KEEP         1: keep the database (its directory is printed on stderr)
#
# Needs hyperfine, gcc, python3, sqlite3 (for the plans).  stdout: markdown.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
HISTORY_GEN=${HISTORY_GEN:-$(dirname "$LINEAGE")/bench/history_gen}
PROCESSES=${PROCESSES:-1000000}
RUNS=${RUNS:-30}
LIVE_N=${LIVE_N:-10000}
RESULTS_DIR=${RESULTS_DIR:-$here/results}
KEEP=${KEEP:-0}
BASELINE=${BASELINE:-}

log() { printf '%s\n' "$*" >&2; }
die() { log "history_queries.sh: $*"; exit 1; }

[[ -x $LINEAGE ]] || die "lineage binary not found: $LINEAGE (build it first, or set LINEAGE=...)"
[[ -x $HISTORY_GEN ]] || die "history_gen not found: $HISTORY_GEN (cmake --build BUILD --target history_gen)"
for tool in hyperfine gcc python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

build=$(mktemp -d)
orphan="" live="" spawner_pid="" hf_pid=""
cleanup() {
    # Only ever signal processes we started, by pid.
    local pid
    for pid in "$hf_pid" "$spawner_pid" "$orphan" "$live"; do
        [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$hf_pid" "$spawner_pid" "$live"; do
        [[ -n $pid ]] && wait "$pid" 2>/dev/null || true
    done
    if [[ $KEEP = 1 ]]; then log "database kept in $build"; else rm -rf "$build"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$RESULTS_DIR"
gcc -O2 -Wall -o "$build/spawner" "$here/spawner.c"

quote() { local out="" a; for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done; echo "$out"; }
hf() { # hf JSON NAME CMD... : one hyperfine run, in the background for signals
    local json=$1
    shift
    hyperfine -N -i --warmup 2 --runs "$RUNS" --export-json "$json" "$@" >&2 &
    hf_pid=$!
    local rc=0
    wait "$hf_pid" || rc=$?
    hf_pid=""
    ((rc == 0)) || die "hyperfine failed (exit $rc)"
}

# The orphan: a sleep whose parent shell exits at once.
sh -c 'sleep 100000 </dev/null >/dev/null 2>&1 & echo $!' >"$build/orphan.pid"
orphan=$(cat "$build/orphan.pid")
sleep 0.2
oppid=$(awk '{print $4}' "/proc/$orphan/stat" 2>/dev/null || true)
[[ -n $oppid ]] || die "orphan $orphan not running"
log "orphan: pid $orphan, re-parented to $oppid ($(cat "/proc/$oppid/comm" 2>/dev/null || echo '?'))"
sleep 100000 </dev/null >/dev/null 2>&1 &
live=$!

db=$build/history.db
log "== writing $PROCESSES processes to $db ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
gen_start=$(date +%s.%N)
"$HISTORY_GEN" "$db" "$PROCESSES" "$orphan" >"$build/gen.out"
gen_s=$(echo "$(date +%s.%N) - $gen_start" | bc)
cat "$build/gen.out" >&2
at=$(sed -n 's/^at=//p' "$build/gen.out")
nproc_db=$(sed -n 's/^processes=//p' "$build/gen.out")
db_bytes=$(stat -c %s "$db")
log "written in ${gen_s} s, $db_bytes bytes ($((db_bytes / nproc_db)) B/process)"
db1=""
if [[ -n $BASELINE ]]; then
    db1=$build/history-v1.db
    cp "$db" "$db1"
    python3 - "$db1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)

def hash_v1(text):  # schemas 1-3: 64-bit hashes (schema 4 keeps the low 32 bits)
    h = 1469598103934665603
    for b in bytes(text):
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= 1 << 63 else h

c.create_function("hash_v1", 1, hash_v1, deterministic=True)
version = c.execute("PRAGMA user_version").fetchone()[0]
script = "BEGIN;"
if version >= 5:
    # Back to schema 4's layout: fork and exit times and ppid stored, argvs
    # with a hash column (rewritten to 64 bits below).
    script += """
CREATE TABLE processes_v4(
  id INTEGER PRIMARY KEY, boot INTEGER NOT NULL, pid INTEGER NOT NULL, start_ns INTEGER NOT NULL,
  parent INTEGER, ppid INTEGER NOT NULL DEFAULT 0, fork_ns INTEGER NOT NULL, exit_ns INTEGER,
  status INTEGER, flags INTEGER NOT NULL DEFAULT 0, comm INTEGER, uid INTEGER, gid INTEGER,
  UNIQUE(boot, pid, start_ns));
INSERT INTO processes_v4 SELECT p.id, p.boot, p.pid, p.start_ns, p.parent,
  coalesce(p.ppid, (SELECT q.pid FROM processes q WHERE q.id=p.parent), 0), p.fork_ns, p.exit_ns, p.status,
  p.flags, p.comm, p.uid, p.gid FROM processes p;
DROP TABLE processes; ALTER TABLE processes_v4 RENAME TO processes;
CREATE INDEX processes_parent ON processes(parent);
ALTER TABLE argvs ADD COLUMN hash INTEGER NOT NULL DEFAULT 0;
CREATE INDEX argvs_hash ON argvs(hash);"""
if version >= 4:
    # Back to schema 3's layout: 64-bit hashes, the file identity and the
    # context in execs, an unset login uid as 4294967295.
    script += """
UPDATE paths SET hash=hash_v1(text); UPDATE argvs SET hash=hash_v1(text); UPDATE envs SET hash=hash_v1(text);
CREATE TABLE execs_v3(
  process INTEGER NOT NULL, time_ns INTEGER NOT NULL,
  comm INTEGER, exe INTEGER, argv INTEGER, interpreter INTEGER,
  dev INTEGER, ino INTEGER, ctime_ns INTEGER,
  uid INTEGER, gid INTEGER, ruid INTEGER,
  cwd INTEGER, cgroup INTEGER, env INTEGER,
  sid INTEGER, pgid INTEGER, tty INTEGER, login_uid INTEGER,
  verified INTEGER, unverified INTEGER, exe_deleted INTEGER,
  PRIMARY KEY(process, time_ns)) WITHOUT ROWID;
INSERT INTO execs_v3 SELECT e.process, e.time_ns, e.comm, e.exe, e.argv, e.interpreter, f.dev, f.ino, f.ctime_ns,
  c.uid, c.gid, c.ruid, c.cwd, c.cgroup, c.env, e.sid, e.pgid, c.tty,
  CASE WHEN c.login_uid < 0 THEN c.login_uid + 4294967296 ELSE c.login_uid END, e.verified, e.unverified,
  e.exe_deleted
  FROM execs e LEFT JOIN files f ON f.id=e.file LEFT JOIN contexts c ON c.id=e.context;
DROP TABLE execs; ALTER TABLE execs_v3 RENAME TO execs; DROP TABLE files; DROP TABLE contexts;"""
script += """
DROP INDEX IF EXISTS execs_comm_time; DROP INDEX IF EXISTS processes_forked; DROP INDEX IF EXISTS processes_span;
CREATE INDEX IF NOT EXISTS execs_comm ON execs(comm);
CREATE INDEX IF NOT EXISTS processes_comm ON processes(comm);
UPDATE processes SET flags=flags&~16;
PRAGMA user_version=1;
COMMIT;
VACUUM;"""
c.executescript(script)
EOF
    log "schema-1 copy: $db1 ($(stat -c %s "$db1") bytes)"
fi
hold_pid=$(python3 -c "
import sqlite3; c = sqlite3.connect('file:$db?mode=ro', uri=True)
print(c.execute('SELECT pid FROM processes GROUP BY pid ORDER BY count(*) DESC LIMIT 1').fetchone()[0])")

if ((LIVE_N > 0)); then
    "$build/spawner" "$LIVE_N" >"$build/spawner.out" &
    spawner_pid=$!
    for ((t = 0; ; t++)); do
        grep -q '^ready' "$build/spawner.out" && break
        kill -0 "$spawner_pid" 2>/dev/null || die "spawner failed"
        ((t < 6000)) || die "spawner not ready after 300 s"
        sleep 0.05
    done
    nlive=$(ls -d /proc/[0-9]* | wc -l)
    log "== tree: $nlive live processes (spawner $LIVE_N) vs --at $at"
    base=()
    [[ -z $BASELINE ]] || base=(-n base-tree-at "$(quote "$BASELINE" tree --at "$at" --db "$db1")"
        -n v1-tree-at "$(quote "$LINEAGE" tree --at "$at" --db "$db1")")
    hf "$build/tree.json" \
        -n tree-live "$(quote "$LINEAGE" tree)" \
        -n tree-at "$(quote "$LINEAGE" tree --at "$at" --db "$db")" "${base[@]}"
    "$LINEAGE" tree --at "$at" --db "$db" | wc -l >"$build/tree-at.lines"
    kill -TERM "$spawner_pid"
    wait "$spawner_pid" || true
    spawner_pid=""
    cp "$build/tree.json" "$RESULTS_DIR/history-tree.json"
fi

log "== queries"
"$LINEAGE" why "$orphan" --db "$db" >"$build/why-orphan.txt" || true
cat "$build/why-orphan.txt" >&2
base=()
[[ -z $BASELINE ]] || base=(
    -n base-why-orphan "$(quote "$BASELINE" why "$orphan" --db "$db1")"
    -n base-history-common "$(quote "$BASELINE" history git --db "$db1")"
    -n base-history-rare "$(quote "$BASELINE" history rsync --db "$db1")"
    -n v1-why-orphan "$(quote "$LINEAGE" why "$orphan" --db "$db1")"
    -n v1-history-common "$(quote "$LINEAGE" history git --db "$db1")"
    -n v1-history-rare "$(quote "$LINEAGE" history rsync --db "$db1")")
hf "$build/queries.json" "${base[@]}" \
    -n why-orphan "$(quote "$LINEAGE" why "$orphan" --db "$db")" \
    -n history-common "$(quote "$LINEAGE" history git --db "$db")" \
    -n history-rare "$(quote "$LINEAGE" history rsync --db "$db")" \
    -n history-pid "$(quote "$LINEAGE" history "$hold_pid" --db "$db")" \
    -n why-live-db "$(quote "$LINEAGE" why "$live" --db "$db")" \
    -n why-live-nodb "$(quote "$LINEAGE" why "$live" --db /nonexistent/history.db)" \
    -n why-live "$(quote "$LINEAGE" why "$live")"
cp "$build/queries.json" "$RESULTS_DIR/history-queries.json"

if command -v sqlite3 >/dev/null; then
    {
        echo "# EXPLAIN QUERY PLAN, $PROCESSES processes"
        for q in \
            "SELECT count(*) FROM processes" \
            "SELECT max(coalesce(p.exit_ns, p.fork_ns) + b.realtime_offset_ns) FROM processes p JOIN boots b ON b.id=p.boot" \
            "SELECT p.id FROM processes p JOIN boots b ON b.id=p.boot WHERE (p.id IN (SELECT process FROM execs WHERE comm IN (SELECT id FROM comms WHERE instr(text, 'git') > 0)) OR p.comm IN (SELECT id FROM comms WHERE instr(text, 'git') > 0)) ORDER BY p.start_ns + b.realtime_offset_ns DESC, p.id DESC LIMIT 50" \
            "SELECT p.id FROM processes p JOIN boots b ON b.id=p.boot WHERE p.start_ns + b.realtime_offset_ns <= 1 AND (p.exit_ns IS NULL OR p.exit_ns + b.realtime_offset_ns > 1) ORDER BY p.id" \
            "SELECT time_ns, process FROM execs WHERE comm=1 ORDER BY time_ns DESC" \
            "SELECT start_ns, id FROM processes WHERE comm=1 AND flags&16=0 ORDER BY start_ns DESC" \
            "SELECT p.id FROM processes p JOIN boots b ON b.id=p.boot WHERE p.boot=1 AND length(p.exit_ns - p.start_ns)=9 AND p.start_ns BETWEEN 1 AND 2 AND p.exit_ns > 2" \
            "SELECT p.id FROM processes p JOIN boots b ON b.id=p.boot WHERE p.boot=1 AND length(p.exit_ns - p.start_ns) IS NULL AND p.start_ns <= 2"; do
            echo "## $q"
            sqlite3 -readonly "$db" "EXPLAIN QUERY PLAN $q"
        done
    } >"$RESULTS_DIR/history-plans.txt" 2>&1
fi

python3 - "$build/queries.json" "$build/tree.json" "$PROCESSES" "$gen_s" "$db_bytes" <<'EOF' | tee "$RESULTS_DIR/history-queries.md"
import json, os, sys
rows = []
for path in sys.argv[1:3]:
    if os.path.exists(path):
        rows += json.load(open(path))["results"]
m = {r["command"]: r for r in rows}
n, gen_s, size = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"database: {n} processes, {size / 2**20:.0f} MiB ({size / n:.0f} B/process), written in {gen_s:.0f} s "
      f"({n / gen_s:.0f} processes/s)\n")
print("| command | median ms | min ms | max ms | ratio |")
print("|---|---:|---:|---:|---:|")
base = {"tree-at": "tree-live", "base-tree-at": "tree-live", "why-live-db": "why-live-nodb"}
for name, r in m.items():
    ratio = f"{r['median'] / m[base[name]]['median']:.2f}x {base[name]}" if name in base and base[name] in m else ""
    print(f"| {name} | {r['median'] * 1000:.2f} | {r['min'] * 1000:.2f} | {r['max'] * 1000:.2f} | {ratio} |")
EOF
