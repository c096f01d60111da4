#!/usr/bin/env bash
# Issue 12 item 3: every JSON document lineage prints validates against its
# schema in docs/schema/ (tests/schema/validate.py, Debian's python3-jsonschema).
# Real commands on this machine, on processes the test starts.
#
# Usage: schemas.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases:
#   generated  docs/schema/ is what tests/schema/generate.py writes
#   live       why (a pid, pid 1, --tree --env, --all of a name with 3
#              matches), tree (--threads, --compact), files (a held file, a
#              socket, --maps), who (a file held open, a listening port,
#              --dir), kill --dry-run and a real kill of a tree the test
#              starts, top (and --watch --count 2), zombies (one the test
#              makes), audit
#   record     record --duration 3 --export --storm-rate 10 on a temp
#              database while processes start and fork; record --status,
#              history, history --descendants, tree --at, why --at, audit
#              --since (the stored fork-storm finding)
#   watch      watch --json and watch --audit --json --storm-rate 10 (a
#              fork-storm finding) for 2 s each
#   snapshot   snapshot --json (the written note) and the file, zstd, with
#              the record case's database as history
#   trace      trace --json of a shell that execs, forks, leaves a sleep
#              running and exits 3; and of one killed by TERM (skipped when
#              this lineage has no trace command)
#   broken     a schema can fail: a required field removed, a wrong type, an
#              unknown key in a closed object, an unknown schema name, no
#              schema, a bad line in JSON lines; each is rejected naming the
#              JSON path
# Prints `PASS case`, `FAIL case: why` or `SKIP case: why` for each case.
# Exit 0 when none failed, 1 when one did, 77 when the machine cannot run it.
set -uo pipefail

ALL_CASES=(generated live record watch snapshot trace broken)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VALIDATE=$ROOT/tests/schema/validate.py

[ "$(id -u)" = 0 ] || skip_all "needs root (files, who, audit and record read every process)"
PY=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import jsonschema, sys; sys.exit(int(jsonschema.Draft202012Validator is None))' 2>/dev/null; then
    PY=$p
    break
  fi
done
[ -n "$PY" ] || skip_all "python3-jsonschema (>= 4, draft 2020-12) is not installed"
command -v zstd >/dev/null || skip_all "zstd is not installed"

work=$(mktemp -d /tmp/lineage-schemas.XXXXXX)
chmod 755 "$work"
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

# lin OUT ARGS...: `lineage ARGS`, stdout in OUT, stderr in OUT.err; sets rc.
rc=0
lin() {
  local out=$1
  shift
  rc=0
  timeout 60 "$LINEAGE" "$@" >"$out" 2>"$out.err" </dev/null || rc=$?
}
# expect_rc WHAT OKCODES...: the last lin's exit code must be one of OKCODES.
expect_rc() {
  local what=$1 c
  shift
  for c in "$@"; do [ "$rc" = "$c" ] && return 0; done
  bad "$what: exit $rc ($(head -c 200 "$out_last.err" 2>/dev/null))"
  return 1
}
# run WHAT EXPECT OKCODES ARGS...: lin into $work/WHAT.json, check the exit
# code, the kind of document (lineage.EXPECT/v1) and the schema.
out_last=""
run() {
  local what=$1 expect=$2 codes=$3
  shift 3
  out_last=$work/$what.json
  lin "$out_last" "$@"
  # shellcheck disable=SC2086  # codes is a list
  expect_rc "$what" $codes || return 1
  valid "$what" "$expect" "$out_last"
}
# valid WHAT EXPECT FILE: FILE must hold lineage.EXPECT/v1 documents, all
# valid: queued, and checked by one validate.py run when the case ends
# (after_case), since a python start per file is slow on a busy machine.
valid() {
  local what=$1 expect=$2 file=$3
  if [ ! -s "$file" ]; then
    bad "$what: no output"
    return 1
  fi
  queued+=(--pair "$expect" "$file")
  validated=$((validated + 1))
}
queued=()
validated=0
after_case() {
  local msg
  [ ${#queued[@]} -gt 0 ] || return 0
  if ! msg=$("$PY" "$VALIDATE" --quiet "${queued[@]}" 2>&1); then
    bad "$(echo "$msg" | grep -v '^validate.py: ' | head -n 4 | tr '\n' ' ')"
  fi
  queued=()
}

# A copy of sleep under /tmp (exec-from-writable-dir) with a name of its own.
sleeper=$work/lin-schema-sl
cp "$(command -v sleep)" "$sleeper"
spawn() {
  "$@" &
  started+=($!)
}

case_generated() {
  local msg
  msg=$("$PY" "$ROOT/tests/schema/generate.py" --check 2>&1) || bad "$msg"
}

case_live() {
  validated=0
  spawn "$sleeper" 300
  spawn "$sleeper" 301
  spawn "$sleeper" 302
  local held=$work/held.txt
  echo data >"$held"
  spawn bash -c "exec 7<'$held'; exec sleep 300"
  local holder=${started[-1]}
  # A listener on an ephemeral port, its number on a pipe.
  spawn python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(300)' "$work/port"
  local listener=${started[-1]}
  # A parent that never waits: one zombie.
  spawn python3 -c 'import os, time
if os.fork() == 0: os._exit(0)
time.sleep(300)'
  # A tree to kill: bash with two sleeps.
  spawn bash -c 'sleep 300 & sleep 300 & wait'
  local victim=${started[-1]}
  local _
  for _ in $(seq 50); do
    [ -s "$work/port" ] && [ "$(pgrep -c -P "$victim")" = 2 ] && [ -n "$(ls -l /proc/"$holder"/fd/7 2>/dev/null)" ] && break
    sleep 0.1
  done

  run why-self why "0 1" why $$ --json
  run why-init why "0 1" why 1 --json
  run why-tree-env why "0 1" why --tree --env $$ --json
  run why-all why "0 1" why --all lin-schema-sl --json
  if [ "$(jq '.results | length' "$work/why-all.json" 2>/dev/null)" != 3 ]; then
    bad "why --all lin-schema-sl: expected 3 results"
  fi
  run tree tree 0 tree --json
  run tree-target tree 0 tree --json --threads $$
  run tree-compact tree 0 tree --json --compact
  run files files "0 1" files $$ --json
  run files-holder files "0 1" files "$holder" --json
  run files-socket files "0 1" files "$listener" --json --maps
  # 1: a process could not be read (one that exits meanwhile).
  run who-file who "0 1" who "$held" --json
  run who-port who "0 1" who ":$(cat "$work/port")" --json
  run who-dir who "0 1" who --dir "$work" --json
  run kill-dry kill 0 kill --dry-run --json --pid "$victim"
  run kill kill "0 1" kill --yes --json --timeout 2s --pid "$victim"
  run top top 0 top --json --interval 1s
  run top-user top 0 top --json --interval 1s --by user --watch --count 2
  run zombies zombies "0 1" zombies --json
  [ "$(jq '.total' "$work/zombies.json" 2>/dev/null)" -ge 1 ] 2>/dev/null || bad "zombies: none found (groups not checked)"
  # Findings from a scan: none on a quiet machine (findings themselves are
  # checked by the record case's audit --since and by watch --audit).
  run audit audit "0 1" audit --json
  run doctor doctor "0 1" doctor --json
  [ "$validated" = 20 ] || bad "only $validated documents validated"
}

case_record() {
  local db=$work/history.db
  local t0
  t0=$(date -u +%Y-%m-%dT%H:%M:%S)
  # --storm-rate 10: the forks below make a fork-storm finding, stored.
  spawn "$LINEAGE" record --duration 3 --db "$db" --export "$work/export.jsonl" --storm-rate 10 2>"$work/record.err"
  local rec=${started[-1]}
  sleep 1
  local _
  for _ in $(seq 30); do /bin/true; done
  for _ in 1 2 3 4 5; do "$sleeper" 0.05; done
  spawn "$sleeper" 300
  local kept=${started[-1]}
  wait "$rec"
  local rrc=$?
  [ "$rrc" = 0 ] || bad "record exited $rrc: $(tail -n 2 "$work/export.jsonl" 2>/dev/null)"
  valid record-export event "$work/export.jsonl"
  jq -se 'any(.[]; .event == "exec" and .time != null and .boot_id != null)' "$work/export.jsonl" >/dev/null 2>&1 ||
    bad "record --export: no exec event with time and boot_id"
  run record-status record-status "0 1" record --status --json --db "$db"
  run history history 0 history --json --db "$db"
  run history-desc history 0 history --json --db "$db" --descendants "$kept"
  run history-name history 0 history lin-schema-sl --json --db "$db"
  local at
  at=$(jq -r '.newest' "$work/record-status.json" 2>/dev/null)
  [ -n "$at" ] && [ "$at" != null ] || at=$t0
  run tree-at tree "0 1" tree --json --at "$at" --db "$db"
  run why-at why "0 1" why "$kept" --json --at "$at" --db "$db"
  jq -e '.at != null and .target.recorded == true' "$work/why-at.json" >/dev/null 2>&1 ||
    bad "why --at: no \"at\", or a target not from the recording"
  run audit-since audit "0 1" audit --json --since "$t0" --db "$db"
  [ "$(jq '[.findings[] | select(.rule == "fork-storm" and .time != null)] | length' "$work/audit-since.json" 2>/dev/null)" -gt 0 ] 2>/dev/null ||
    bad "audit --since: no stored fork-storm finding (its fields were not checked)"
}

case_watch() {
  local w=$work/watch.jsonl a=$work/watch-audit.jsonl
  # Execs all through the 2 s (watch may take a while to start on a busy machine).
  ( for _ in $(seq 20); do "$sleeper" 0.1; done ) &
  started+=($!)
  lin "$w" watch --json --duration 2
  out_last=$w
  expect_rc "watch --json" 0 && valid watch event "$w"
  jq -se 'any(.[]; .event == "exec" and (.lineage | length) > 0)' "$w" >/dev/null 2>&1 ||
    bad "watch --json: no exec event with its lineage"
  # 30 forks every 0.1 s: over --storm-rate 10, a fork-storm finding.
  ( for _ in $(seq 20); do for _ in $(seq 30); do /bin/true; done; sleep 0.1; done ) &
  started+=($!)
  lin "$a" watch --audit --json --duration 2 --storm-rate 10
  out_last=$a
  expect_rc "watch --audit --json" 0 1 || return
  if [ -s "$a" ]; then
    valid watch-audit finding "$a"
  else
    bad "watch --audit --json: no fork-storm finding"
  fi
}

case_snapshot() {
  local db=$work/history.db args=()
  [ -f "$db" ] && args=(--db "$db")
  run snapshot-written snapshot-written 0 snapshot -o "$work/scene.json.zst" --json "${args[@]}"
  valid snapshot snapshot "$work/scene.json.zst"
  if [ -f "$db" ] && ! zstd -dc "$work/scene.json.zst" | jq -e '.history.events | length > 0' >/dev/null 2>&1; then
    bad "snapshot: no recorded events in its history (run with the record case)"
  fi
  run snapshot-plain snapshot-written 0 snapshot -o "$work/scene.json" --json --history 0
  valid snapshot-plain-file snapshot "$work/scene.json"
}

case_trace() {
  if ! "$LINEAGE" trace --help 2>/dev/null | grep -q "Usage: lineage trace"; then
    skip_case "this lineage has no trace command"
    return
  fi
  run trace trace 3 trace --json -- sh -c "/bin/true; $sleeper 0.1; $sleeper 2 & exit 3"
  [ "$(jq '.left_running | length' "$work/trace.json" 2>/dev/null)" = 1 ] || bad "trace: expected 1 left running"
  run trace-signal trace 143 trace --json -- sh -c 'kill -TERM $$'
  # -e file,net (bpf): files and network on each process. No bpf: exit 3.
  lin "$work/trace-io.json" trace --json -e file,net -- sh -c 'cat /etc/hostname /nonexistent >/dev/null 2>&1; exit 0'
  case $rc in
    0) valid trace-io trace "$work/trace-io.json"
       [ "$(jq '[.processes[].files | length] | add > 1' "$work/trace-io.json" 2>/dev/null)" = true ] \
         || bad "trace -e file: no opens in the document" ;;
    3) ;;
    *) bad "trace -e file,net exited $rc" ;;
  esac
}

# must_fail WHAT FILE PATTERN: validate.py must reject FILE, saying PATTERN
# on a line naming FILE (checked for all at once by check_failures).
failures=()
must_fail() { failures+=("$1" "$2" "$3"); }
check_failures() {
  local msg rc=0 i what file pattern files=()
  for ((i = 1; i < ${#failures[@]}; i += 3)); do files+=("${failures[i]}"); done
  msg=$("$PY" "$VALIDATE" "${files[@]}" 2>&1) || rc=$?
  [ "$rc" = 1 ] || bad "validate.py exited $rc on broken documents, not 1"
  for ((i = 0; i < ${#failures[@]}; i += 3)); do
    what=${failures[i]} file=${failures[i + 1]} pattern=${failures[i + 2]}
    if ! grep -F -- "$file" <<<"$msg" | grep -qF -- "$pattern"; then
      bad "$what: not rejected naming '$pattern': $(grep -F -- "$file" <<<"$msg" | head -n 2 | tr '\n' ' ')"
    fi
  done
  failures=()
}

case_broken() {
  local good=$work/good.json
  "$LINEAGE" why $$ --json >"$good" 2>/dev/null
  "$PY" "$VALIDATE" --quiet --expect why "$good" || { bad "the unbroken document is not valid"; return; }
  jq -c 'del(.target.pid)' "$good" >"$work/b1.json"
  must_fail "required field removed" "$work/b1.json" "'pid' is a required property"
  jq -c '.chain[0].start_time_ns = "12"' "$good" >"$work/b2.json"
  must_fail "wrong type" "$work/b2.json" '$.chain[0].start_time_ns'
  jq -c '.sources = [{"kind": "systemd", "name": "x", "pid": 1, "verified": true, "details": {}, "evidence": [], "color": "red"}]' \
    "$good" >"$work/b3.json"
  must_fail "unknown key in a closed object" "$work/b3.json" "'color' was unexpected"
  jq -c '.sources = [{"kind": "teleport", "name": "x", "pid": 1, "verified": true, "details": {}, "evidence": []}]' \
    "$good" >"$work/b4.json"
  must_fail "kind outside the enum" "$work/b4.json" '$.sources[0].kind'
  jq -c '.target.start_time = "yesterday"' "$good" >"$work/b5.json"
  must_fail "a time not RFC 3339" "$work/b5.json" '$.target.start_time'
  jq -c '.schema = "lineage.nope/v1"' "$good" >"$work/b6.json"
  must_fail "unknown schema" "$work/b6.json" "unknown schema lineage.nope/v1"
  jq -c 'del(.schema)' "$good" >"$work/b7.json"
  must_fail "no schema" "$work/b7.json" 'no "schema" key'
  printf '%s\n' '{"schema":"lineage.event/v1","event":"fork","time_ns":1,"pid":2,"uid":0,"gid":0}' \
    '{"schema":"lineage.event/v1","event":"exec","time_ns":1,"pid":2,"uid":0,"gid":0}' >"$work/b8.jsonl"
  must_fail "an exec line without exe and argv" "$work/b8.jsonl" "b8.jsonl:2"
  check_failures
}

for c in "${cases[@]}"; do run_case "$c"; done
exit "$failed"
