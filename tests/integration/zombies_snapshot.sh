#!/usr/bin/env bash
# Issue 10 items 3 and 6: `lineage zombies` on real zombie factories, and
# `lineage snapshot` read back with --from.
#
# Usage: zombies_snapshot.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases:
#   factory     a python parent forks 50 children and never waits: one group
#               of 50 naming its command, advice to wait(); --min 51 exits 0,
#               --min 50 exits 1
#   threads     a C process whose main thread exited while another runs (its
#               leader is state Z): not a zombie process, not counted
#   subreaper   a PR_SET_CHILD_SUBREAPER parent that never waits; its
#               grandchild exits after the middle parent did, and is adopted:
#               flagged subreaper from recorded history (a real recorder)
#   nsinit      pid 1 of a new pid namespace that never waits: flagged init
# Prints `PASS case`, `FAIL case: why` or `SKIP case: why` for each case.
# Exit 0 when none failed, 1 when one did, 77 when the machine cannot run it.
set -uo pipefail

ALL_CASES=(factory threads subreaper nsinit)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

for tool in jq python3; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

work=$(mktemp -d /tmp/lineage-zs.XXXXXX)
started=()  # pids this test started; only these are stopped

cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

first_line() { head -c 300 "$1" 2>/dev/null | head -n 3 | tr '\n' ' '; }

# lin OUT ARGS...: `lineage ARGS`, stdout in OUT, stderr in OUT.err; sets rc.
rc=0
lin() {
  local out=$1
  shift
  rc=0
  timeout 30 "$LINEAGE" "$@" >"$out" 2>"$out.err" </dev/null || rc=$?
}
# check FILE FILTER EXPECTED WHAT: jq -r FILTER of FILE must print EXPECTED.
check() {
  local got
  got=$(jq -r "$2" "$1" 2>/dev/null | head -c 400) || got="(not JSON: $(first_line "$1") $(first_line "$1.err"))"
  [ "$got" = "$3" ] || bad "$4: $2 expected '$3', got '${got//$'\n'/ }'"
}
# Zombie children of pid $1, as ps counts them.
zombies_of() { ps -o stat= --ppid "$1" | grep -c '^Z'; }
# wait_zombies PID N: until PID has N zombie children (10 s).
wait_zombies() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(zombies_of "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# The python parent that forks $1 children which exit at once, and never
# waits for them. Its command line carries a marker the test looks for.
start_factory() {
  python3 - "$1" zombie-factory-marker <<'PY' &
import os, sys, time
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        os._exit(0)
time.sleep(120)
PY
  factory=$!
  started+=("$factory")
}

case_factory() {
  start_factory 50
  wait_zombies "$factory" 50 || { bad "50 zombies of pid $factory did not appear"; return; }
  lin "$work/z.json" zombies --json
  [ "$rc" = 1 ] || bad "zombies exited $rc (expected 1: a parent has >= 1)"
  local g=".groups[] | select(.parent_pid == $factory)"
  check "$work/z.json" "[$g] | length" 1 "one group for the factory"
  check "$work/z.json" "$g | .count" 50 "count"
  check "$work/z.json" "$g | .zombies | length" 50 "zombies listed"
  check "$work/z.json" "$g | .reaper" parent "reaper"
  check "$work/z.json" "$g | .parent.cmdline | index(\"zombie-factory-marker\") != null" true "parent command"
  check "$work/z.json" "$g | .advice | test(\"pid $factory \\\\(python3\\\\) must wait\\\\(\\\\)\")" true "advice"
  check "$work/z.json" "$g | .summary | length > 0" true "why summary"
  check "$work/z.json" "$g | .oldest_age_seconds >= .newest_age_seconds" true "ages"
  check "$work/z.json" ".schema" lineage.zombies/v1 "schema"
  lin "$work/z.txt" zombies --no-color
  grep -q "^50 zombies of pid $factory (python3)" "$work/z.txt" || bad "text: no '50 zombies of pid $factory' line: $(first_line "$work/z.txt")"
  grep -q "advice   pid $factory (python3) must wait()" "$work/z.txt" || bad "text: no advice line"
  lin "$work/z51" zombies --min 51
  [ "$rc" = 0 ] || bad "--min 51 exited $rc (expected 0)"
  lin "$work/z50" zombies --min 50
  [ "$rc" = 1 ] || bad "--min 50 exited $rc (expected 1)"
  lin "$work/z0" zombies --min 0
  [ "$rc" = 4 ] || bad "--min 0 exited $rc (expected 4)"
}

case_threads() {
  command -v cc >/dev/null || { skip_case "no C compiler for the threaded process"; return; }
  cat >"$work/leader.c" <<'C'
#include <pthread.h>
#include <unistd.h>
static void* run(void* arg) { (void)arg; sleep(120); return 0; }
int main(void) {
  pthread_t t;
  pthread_create(&t, 0, run, 0);
  pthread_exit(0); /* the leader exits; the process lives on in t */
}
C
  cc -pthread -o "$work/leader" "$work/leader.c" || { bad "cc failed"; return; }
  "$work/leader" &
  local leader=$!
  started+=("$leader")
  local deadline=$((SECONDS + 5)) state=""
  while [ $SECONDS -lt $deadline ]; do
    state=$(sed 's/.*) //' "/proc/$leader/stat" | cut -d' ' -f1)
    [ "$state" = Z ] && break
    sleep 0.1
  done
  [ "$state" = Z ] || { bad "the leader of $leader never showed state Z ($state)"; return; }
  lin "$work/t.json" zombies --json
  check "$work/t.json" "[.groups[].zombies[].pid | select(. == $leader)] | length" 0 "live process $leader counted as a zombie"
}

# start_recorder DIR: `lineage record` on DIR/h.db until --status says it runs.
rec_pid=""
start_recorder() {
  "$LINEAGE" record --db "$1/h.db" </dev/null >"$1/record.out" 2>"$1/record.err" &
  rec_pid=$!
  started+=("$rec_pid")
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$rec_pid" 2>/dev/null || return 1
    [ "$("$LINEAGE" record --status --db "$1/h.db" --json 2>/dev/null | jq -r '.running')" = true ] && return 0
    sleep 0.1
  done
  return 1
}

case_subreaper() {
  [ "$(id -u)" = 0 ] || { skip_case "lineage record needs root"; return; }
  mkdir -p "$work/rec"
  start_recorder "$work/rec" || { bad "recorder did not start: $(first_line "$work/rec/record.err")"; return; }
  # S: subreaper, never waits. M: forks G, exits at once. G: exits after M.
  python3 - subreaper-marker <<'PY' &
import ctypes, os, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(0.5)
        os._exit(0)
    os._exit(0)
time.sleep(120)
PY
  local sub=$!
  started+=("$sub")
  wait_zombies "$sub" 2 || { bad "pid $sub did not get its 2 zombies"; return; }
  sleep 1.2  # the recorder commits once a second
  lin "$work/s.json" zombies --json --db "$work/rec/h.db"
  local g=".groups[] | select(.parent_pid == $sub)"
  check "$work/s.json" "$g | .count" 2 "count (middle parent and adopted grandchild)"
  check "$work/s.json" "$g | .reaper" subreaper "reaper"
  check "$work/s.json" "$g | .reaper_evidence | test(\"recorded history\")" true "evidence"
  check "$work/s.json" "$g | .advice | test(\"subreaper\")" true "advice"
  lin "$work/s.txt" zombies --no-color --db "$work/rec/h.db"
  grep -q "flag     parent is a subreaper" "$work/s.txt" || bad "text: no subreaper flag"
  # Without history nothing says it adopted them: not guessed.
  lin "$work/s2.json" zombies --json --db "$work/none.db"
  check "$work/s2.json" "$g | .reaper" parent "reaper without history"
  kill -TERM "$rec_pid" 2>/dev/null
  wait "$rec_pid" 2>/dev/null
}

case_nsinit() {
  [ "$(id -u)" = 0 ] || { skip_case "unshare of a pid namespace needs root"; return; }
  command -v unshare >/dev/null || { skip_case "no unshare"; return; }
  unshare --fork --pid python3 - nsinit-marker <<'PY' &
import os, time
for _ in range(3):
    if os.fork() == 0:
        os._exit(0)
time.sleep(120)
PY
  local wrapper=$!
  started+=("$wrapper")
  local deadline=$((SECONDS + 10)) init=""
  while [ $SECONDS -lt $deadline ] && [ -z "$init" ]; do
    init=$(pgrep -P "$wrapper" -f nsinit-marker | head -1)
    sleep 0.1
  done
  [ -n "$init" ] || { bad "no pid namespace init under $wrapper"; return; }
  started+=("$init")
  wait_zombies "$init" 3 || { bad "pid $init did not get 3 zombies"; return; }
  lin "$work/n.json" zombies --json
  local g=".groups[] | select(.parent_pid == $init)"
  check "$work/n.json" "$g | .count" 3 "count"
  check "$work/n.json" "$g | .reaper" init "reaper"
  check "$work/n.json" "$g | .advice | test(\"init of its pid namespace\")" true "advice"
}

for c in "${cases[@]}"; do run_case "$c"; done
exit $failed
