#!/usr/bin/env bash
# `why ORPHAN --db DB` against a history of 1,000,000 processes, a baseline
# binary and this one in the same hyperfine run, with user+system CPU.
#
#   BASELINE=/work/main/build/lineage bash bench/why_orphan_db.sh
#
# DB and ORPHAN default to /var/tmp/hq/h.db and /var/tmp/hq/orphan.pid (made
# as bench/history_queries.sh does, kept between runs: writing 1,000,000
# processes takes minutes):
#   mkdir -p /var/tmp/hq
#   setsid sh -c 'sleep 100000 </dev/null >/dev/null 2>&1 & echo $! > /var/tmp/hq/orphan.pid'
#   BUILD/bench/history_gen /var/tmp/hq/h.db 1000000 $(cat /var/tmp/hq/orphan.pid)
# The -wal/-shm files a reader left are removed before each command (an
# idle database, no recorder), as after `lineage record` stopped.
#
# Environment: LINEAGE (default <repo>/build/lineage), BASELINE (optional),
# DB, ORPHAN, RUNS (default 50), OUT (hyperfine JSON, default
# /tmp/why_orphan_db.json). Needs hyperfine, python3. stdout: markdown.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
BASELINE=${BASELINE:-}
DB=${DB:-/var/tmp/hq/h.db}
ORPHAN=${ORPHAN:-$(cat /var/tmp/hq/orphan.pid 2>/dev/null || true)}
RUNS=${RUNS:-50}
OUT=${OUT:-/tmp/why_orphan_db.json}
[[ -f $DB ]] || { echo "no database $DB (see the header)" >&2; exit 1; }
[[ -n $ORPHAN && -d /proc/$ORPHAN ]] || { echo "orphan ${ORPHAN:-?} is not running (see the header)" >&2; exit 1; }
sleep 100000 >/dev/null 2>&1 &
live=$!
trap 'kill $live 2>/dev/null || true' EXIT
prep="rm -f $DB-wal $DB-shm"
# /bin/true: what starting and ending any dynamically linked process costs
# here, the floor under every figure above it.
cmds=(-n why-orphan-db "$LINEAGE why $ORPHAN --db $DB" -n why-orphan "$LINEAGE why $ORPHAN"
      -n why-live-db "$LINEAGE why $live --db $DB" -n why-live "$LINEAGE why $live" -n true /bin/true)
[[ -z $BASELINE ]] || cmds=(-n base-why-orphan-db "$BASELINE why $ORPHAN --db $DB" -n base-why-orphan "$BASELINE why $ORPHAN"
      -n base-why-live-db "$BASELINE why $live --db $DB" "${cmds[@]}")
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
hyperfine -N -i --warmup 5 --runs "$RUNS" --prepare "$prep" --export-json "$OUT" "${cmds[@]}" >&2
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$OUT" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print("| command | median ms | user+sys ms (mean) |")
print("|---|---:|---:|")
for n, x in r.items():
    print(f"| {n} | {x['median']*1000:.2f} | {(x['user']+x['system'])*1000:.2f} |")
EOF
