#!/usr/bin/env bash
# Bytes a recorded exec costs: auditd's log against lineage's history, on
# the same storm at the same time.
#
#   bash bench/auditd_size.sh
#
# 1. auditd (Debian's auditd package, installed when missing) runs on a
#    private copy of Debian's auditd.conf whose only change is the log file
#    (a temporary one, no rotation): the default ENRICHED format. One rule,
#    what an operator adds to see every command:
#      -a always,exit -F arch=b64 -S execve -k lbench
# 2. `lineage record --db TMP` records the same machine.
# 3. `storm -a 4 0 SECONDS` (bench/storm.c: fork + exec of `/bin/true
#    storm-<seq> -x arg3 arg4`, 4 short arguments, every command line new).
# 4. auditd: bytes the log grew by during the storm / execve events with
#    our key in it. lineage: database pages in use after - before (through
#    a read-only connection, so WAL pages count) / processes recorded.
# Afterwards the rule is deleted, auditd stopped (by its pid) and the
# kernel's audit "enabled" flag set back to what it was.
#
# Environment: LINEAGE (default <repo>/build/lineage), SECONDS_PER_RUN
# (default 10). Needs root, gcc, python3 (sqlite3 module), apt (for auditd).
# stdout: a markdown table. Progress: stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
log() { printf '%s\n' "$*" >&2; }
die() { log "auditd_size.sh: $*"; exit 1; }
((EUID == 0)) || die "needs root (auditd, lineage record)"
[[ -x $LINEAGE ]] || die "no lineage binary at $LINEAGE"
[[ $SECONDS_PER_RUN =~ ^[0-9]+$ && $SECONDS_PER_RUN -ge 2 ]] || die "bad SECONDS_PER_RUN: $SECONDS_PER_RUN"
if ! command -v auditd >/dev/null || ! command -v auditctl >/dev/null; then
    log "installing auditd"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q auditd >/dev/null
fi
pgrep -x auditd >/dev/null && die "an auditd runs already: this script starts its own"

build=$(mktemp -d)
auditd_pid="" rec_pid="" rule_added=0
was_enabled=$(auditctl -s | awk '$1 == "enabled" {print $2}')
cleanup() {
    ((rule_added)) && auditctl -d always,exit -F arch=b64 -S execve -k lbench >/dev/null 2>&1 || true
    for pid in "$rec_pid" "$auditd_pid"; do
        [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$rec_pid" "$auditd_pid"; do
        [[ -n $pid ]] && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done
    [[ -n $was_enabled ]] && auditctl -e "$was_enabled" >/dev/null 2>&1 || true
    rm -rf "$build"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gcc -O2 -Wall -o "$build/storm" "$here/storm.c"
mkdir -p "$build/conf"
sed -e "s|^log_file *=.*|log_file = $build/audit.log|" \
    -e 's|^max_log_file_action *=.*|max_log_file_action = ignore|' \
    -e 's|^space_left_action *=.*|space_left_action = ignore|' \
    -e 's|^admin_space_left_action *=.*|admin_space_left_action = ignore|' \
    /etc/audit/auditd.conf >"$build/conf/auditd.conf"
chmod 0640 "$build/conf/auditd.conf"
auditd -n -c "$build/conf" 2>"$build/auditd.err" &
auditd_pid=$!
for ((t = 0; t < 100; t++)); do
    [[ -s $build/audit.log ]] && break
    kill -0 "$auditd_pid" 2>/dev/null || die "auditd exited: $(cat "$build/auditd.err")"
    sleep 0.1
done
[[ -s $build/audit.log ]] || die "auditd wrote no log"
log "auditd $auditd_pid, format $(awk -F' *= *' '$1 == "log_format" {print $2}' "$build/conf/auditd.conf")"

"$LINEAGE" record --db "$build/history.db" --no-audit 2>"$build/rec.err" &
rec_pid=$!
for ((t = 0; t < 600; t++)); do
    grep -q '^lineage record: writing' "$build/rec.err" 2>/dev/null && break
    kill -0 "$rec_pid" 2>/dev/null || die "lineage record exited: $(cat "$build/rec.err")"
    sleep 0.1
done
sleep 1.5  # the backfill's commit

pages() { python3 "$here/db_size.py" "$build/history.db"; }
auditctl -a always,exit -F arch=b64 -S execve -k lbench >/dev/null
rule_added=1
read -r p0 psize n0 < <(pages)
a0=$(stat -c %s "$build/audit.log")
"$build/storm" -a 4 0 "$SECONDS_PER_RUN" >"$build/truth" 2>"$build/storm.err"
sleep 2  # lineage's next commit; auditd's flush
auditctl -d always,exit -F arch=b64 -S execve -k lbench >/dev/null
rule_added=0
sleep 0.5
read -r p1 _ n1 < <(pages)
a1=$(stat -c %s "$build/audit.log")
# What the log grew by: one SYSCALL record per execve event, with its key.
tail -c "+$((a0 + 1))" "$build/audit.log" | head -c "$((a1 - a0))" >"$build/storm.log"
events=$(grep -c '^type=SYSCALL .*key="lbench"' "$build/storm.log" || true)
records=$(grep -c '^type=' "$build/storm.log" || true)
log "auditd's records in the storm, by type: $(sed -n 's/^type=\([A-Z_]*\) .*/\1/p' "$build/storm.log" | sort | uniq -c | sort -rn | awk '{printf "%s %s, ", $2, $1}')"
storm_n=$(grep -c . "$build/truth" || true)
lost=$(auditctl -s | awk '$1 == "lost" {print $2}')
((events > 0)) || die "auditd logged no execve event"
python3 - "$a0" "$a1" "$events" "$records" "$p0" "$p1" "$psize" "$n0" "$n1" "$storm_n" "$lost" <<'EOF'
import sys
a0, a1, ev, recs, p0, p1, psize, n0, n1, storm, lost = map(int, sys.argv[1:])
print(f"storm: {storm} processes (fork + exec of 4 short arguments) in the run; auditd lost counter: {lost}")
print()
print("| recorder | what it keeps | bytes | events | B per exec |")
print("|---|---|---:|---:|---:|")
print(f"| auditd (ENRICHED log, -S execve) | {recs} records (SYSCALL, EXECVE, CWD, PATH, PROCTITLE, ...) "
      f"| {a1 - a0} | {ev} execve | {(a1 - a0) / ev:.0f} |")
print(f"| lineage record (history.db) | fork, exec, exit of every process | {(p1 - p0) * psize} | {n1 - n0} processes "
      f"| {(p1 - p0) * psize / max(1, n1 - n0):.0f} |")
EOF
