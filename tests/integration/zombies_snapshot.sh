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
#   roundtrip   a snapshot (zstd) with a zombie factory and a stable chain
#               running: tree --from equals the tree embedded, why PID --from
#               equals why PID --json taken right after (stable fields),
#               zombies --from equals the zombies embedded; mode 0600; an
#               existing file is not replaced without --force, nor a symlink
#   badinput    truncated, foreign JSON, newer schema, a directory, a FIFO,
#               not zstd: exit 4 with one line
# Prints `PASS case`, `FAIL case: why` or `SKIP case: why` for each case.
# Exit 0 when none failed, 1 when one did, 77 when the machine cannot run it.
set -uo pipefail

ALL_CASES=(factory threads subreaper nsinit roundtrip badinput)

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
  # --min 51: the factory's 50 are below it. The machine may be shared: a
  # parent elsewhere with 51 or more (init reaping a killed tree) makes the
  # exit 1 rightly, so the expected code follows the groups of that run.
  lin "$work/z51.json" zombies --min 51 --json
  local over
  over=$(jq '[.groups[] | select(.count >= 51)] | length' "$work/z51.json")
  [ "$(jq "[.groups[] | select(.parent_pid == $factory) | .count] | .[0]" "$work/z51.json")" = 50 ] ||
    bad "--min 51: the factory's group is not 50"
  if [ "$over" = 0 ]; then
    [ "$rc" = 0 ] || bad "--min 51 exited $rc (expected 0: no parent has 51)"
  else
    [ "$rc" = 1 ] || bad "--min 51 exited $rc (expected 1: $over parents elsewhere have 51 or more)"
    echo "  note: $over parents elsewhere had 51 or more zombies: $(jq -c '[.groups[] | select(.count >= 51) | [.parent_pid, .count]]' "$work/z51.json")"
  fi
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

# The fields of a process that do not change while it sleeps.
stable='{pid, ppid, start_time_ns, comm, exe, cmdline, user, uid, sid, pgid, tty, kernel_thread}'

case_roundtrip() {
  command -v zstd >/dev/null || { skip_case "the zstd tool is not installed"; return; }
  start_factory 5
  wait_zombies "$factory" 5 || { bad "5 zombies of pid $factory did not appear"; return; }
  # A stable chain: setsid sh -> sleep, both started by this test.
  setsid sh -c 'sleep 300; :' </dev/null >/dev/null 2>&1 &
  local sh_pid=$! sleep_pid=""
  started+=("$sh_pid")
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ] && [ -z "$sleep_pid" ]; do
    sleep_pid=$(pgrep -P "$sh_pid" -x sleep)
    sleep 0.1
  done
  [ -n "$sleep_pid" ] || { bad "no sleep under $sh_pid"; return; }
  started+=("$sleep_pid")
  local snap=$work/scene.json.zst
  lin "$work/snap.out" snapshot -o "$snap" --db "$work/none.db"
  [ "$rc" = 0 ] || { bad "snapshot exited $rc: $(first_line "$work/snap.out.err")"; return; }
  lin "$work/why_live.json" why "$sleep_pid" --json --db "$work/none.db"
  [ "$(stat -c %a "$snap")" = 600 ] || bad "mode $(stat -c %a "$snap"), expected 600"
  zstd -t -q "$snap" || bad "$snap is not a zstd file"

  # tree --from equals the forest the snapshot embeds, byte for byte.
  lin "$work/tree_from.json" tree --from "$snap" --json --kernel
  [ "$rc" = 0 ] || bad "tree --from exited $rc: $(first_line "$work/tree_from.json.err")"
  python3 - "$snap" "$work/tree_from.json" >"$work/tree_cmp" 2>&1 <<'PY' || bad "tree --from differs from the embedded tree: $(head -c 300 "$work/tree_cmp")"
import json, subprocess, sys
doc = json.loads(subprocess.run(["zstd", "-dc", sys.argv[1]], capture_output=True, check=True).stdout)
got = json.load(open(sys.argv[2]))
if doc["tree"] != got:
    print("differ"); sys.exit(1)
PY
  check "$work/tree_from.json" "[.. | objects | select(.pid? == $sleep_pid)] | length" 1 "sleep in tree --from"
  lin "$work/tree_text" tree --from "$snap" --no-color "$sh_pid"
  grep -q "sleep 300" "$work/tree_text" || bad "tree --from TARGET text has no 'sleep 300': $(first_line "$work/tree_text")"

  # why --from equals the live why taken right after, on the stable fields.
  lin "$work/why_from.json" why "$sleep_pid" --from "$snap" --json
  [ "$rc" -le 1 ] || bad "why --from exited $rc: $(first_line "$work/why_from.json.err")"
  local f
  for f in ".target | $stable" "[.chain[] | {pid, comm, cmdline}]" ".sources" ".summary" "[.warnings[].id]" ".listening" ".git"; do
    local a b
    a=$(jq -cS "$f" "$work/why_from.json" 2>&1)
    b=$(jq -cS "$f" "$work/why_live.json" 2>&1)
    [ "$a" = "$b" ] || bad "why --from $f: '${a:0:200}' != live '${b:0:200}'"
  done
  lin "$work/why_from.txt" why "$sleep_pid" --from "$snap" --no-color
  grep -q "^Why: " "$work/why_from.txt" || bad "why --from text has no Why line"

  # zombies --from equals the zombies the snapshot embeds.
  lin "$work/z_from.json" zombies --from "$snap" --json
  [ "$rc" = 1 ] || bad "zombies --from exited $rc (expected 1)"
  local emb
  emb=$(zstd -dc "$snap" | jq -cS .zombies)
  [ "$(jq -cS . "$work/z_from.json")" = "$emb" ] || bad "zombies --from differs from the embedded zombies"
  check "$work/z_from.json" ".groups[] | select(.parent_pid == $factory) | .count" 5 "factory in zombies --from"

  # Never replaced without --force, never through a symlink.
  lin "$work/again" snapshot -o "$snap"
  [ "$rc" = 4 ] || bad "a second snapshot onto the file exited $rc (expected 4)"
  grep -q "exists" "$work/again.err" || bad "no 'exists' message: $(first_line "$work/again.err")"
  ln -s "$work/target" "$work/link.json"
  lin "$work/link" snapshot -o "$work/link.json" --force
  [ "$rc" = 4 ] || bad "a snapshot through a symlink exited $rc (expected 4)"
  [ -e "$work/target" ] && bad "the symlink's target was created"
  chmod 644 "$snap"
  lin "$work/forced" snapshot -o "$snap" --force --history 0
  [ "$rc" = 0 ] || bad "--force exited $rc"
  [ "$(stat -c %a "$snap")" = 600 ] || bad "--force left mode $(stat -c %a "$snap")"
}

# expect_bad NAME FILE: tree/why/zombies --from FILE exit 4 with one line.
expect_bad() {
  local cmd
  for cmd in "tree" "why 1" "zombies"; do
    # shellcheck disable=SC2086
    lin "$work/bad.out" $cmd --from "$2"
    [ "$rc" = 4 ] || bad "$1: $cmd --from exited $rc (expected 4): $(first_line "$work/bad.out.err")"
    [ "$(wc -l <"$work/bad.out.err")" = 1 ] || bad "$1: $cmd --from printed $(wc -l <"$work/bad.out.err") lines on stderr"
  done
}

case_badinput() {
  lin "$work/good.out" snapshot -o "$work/good.json" --history 0 --db "$work/none.db"
  [ "$rc" = 0 ] || { bad "snapshot exited $rc"; return; }
  local size
  size=$(stat -c %s "$work/good.json")
  head -c $((size / 2)) "$work/good.json" >"$work/truncated.json"
  expect_bad truncated "$work/truncated.json"
  echo '{"schema": "lineage.tree/v1", "processes": []}' >"$work/foreign.json"
  expect_bad foreign "$work/foreign.json"
  echo '{"hello": "world"}' >"$work/noschema.json"
  expect_bad noschema "$work/noschema.json"
  jq -c '.schema = "lineage.snapshot/v2"' "$work/good.json" >"$work/newer.json"
  expect_bad newer "$work/newer.json"
  grep -q "newer" "$work/bad.out.err" || bad "newer: message does not say newer: $(first_line "$work/bad.out.err")"
  expect_bad directory "$work"
  mkfifo "$work/fifo"
  expect_bad fifo "$work/fifo"
  if command -v zstd >/dev/null; then  # a frame cut short
    zstd -q -c "$work/good.json" | head -c 2000 >"$work/cut.json.zst"
    expect_bad truncated-zstd "$work/cut.json.zst"
  fi
  python3 -c 'print("[" * 30000 + "]" * 30000)' >"$work/deep.json"
  expect_bad deep "$work/deep.json"
  lin "$work/missing" tree --from "$work/missing.json"
  [ "$rc" = 2 ] || bad "a missing file exited $rc (expected 2)"
  lin "$work/nopid" why 999999999 --from "$work/good.json"
  [ "$rc" = 4 ] || [ "$rc" = 2 ] || bad "an absent pid exited $rc (expected 2)"
  # A name that leads to a device is looked at, never opened.
  ln -s /dev/null "$work/device.json"
  expect_bad device-symlink "$work/device.json"
  # --force replaces only a single-link file of ours.
  touch "$work/mine.json"; ln "$work/mine.json" "$work/other-name.json"
  lin "$work/hard" snapshot -o "$work/other-name.json" --force --history 0 --db "$work/none.db"
  [ "$rc" = 4 ] || bad "--force over a hard link exited $rc (expected 4)"
  [ ! -s "$work/mine.json" ] || bad "--force over a hard link wrote through it"
  # Words of a crafted file reach the screen without terminal escapes.
  local pid esc
  pid=$(jq '.why[0].pid' "$work/good.json")
  esc=$(printf '\033[31mEVIL')
  jq --arg e "$esc" '.why[0].sources[0].kind = $e | .why[0].warnings = [{"id": $e, "message": "m"}]' \
    "$work/good.json" >"$work/evil.json"
  lin "$work/evil.out" why "$pid" --from "$work/evil.json"
  grep -q EVIL "$work/evil.out" || bad "crafted kind not shown at all: $(first_line "$work/evil.out")"
  ! grep -q $'\033' "$work/evil.out" || bad "a crafted snapshot put an escape on the screen"
}

for c in "${cases[@]}"; do run_case "$c"; done
exit $failed
