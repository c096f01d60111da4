#!/usr/bin/env bash
# `lineage kill` on real process trees that this script starts and marks:
# every process it starts carries LINEAGE_KILL_MARK=<unique> in its
# environment (inherited by everything they fork), so a scan of /proc finds
# what is left of them, and the clean-up stops only those.
#
# Usage: kill_scenarios.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases:
#   fork_loop   kill --tree --yes on a tree that keeps forking at two levels
#               (a loop that starts children, each a loop that starts
#               grandchildren): nothing of the tree is left afterwards.
#   pid_reuse   a real pid reuse in a new pid namespace (ns_last_pid): the
#               identity of A (pid P) is held, A exits, B takes P; the kill of
#               that identity must skip B (pidfd + start time check) and B
#               must survive, neither stopped nor ended.
#   refusals    pid 1, a kernel thread, this script's shell (lineage's
#               ancestor), no terminal without --yes, unknown signal, a pid
#               that does not exist, --dry-run: nothing is signalled.
#   term_ignored  a child that ignores TERM is KILLed after --timeout 1s and
#               reported so; its siblings end by TERM.
#   confirm     on a terminal (script(1)): "n" ends nothing, "y" ends the tree.
#   cgroup_freezer  a forking tree alone in a cgroup v2 of its own (one of
#               its shells ignores TERM): the kill freezes the cgroup instead
#               of SIGSTOP, ends everything (KILL for the one ignoring TERM,
#               after refreezing), and leaves the cgroup thawed; with a
#               process of someone else in the same cgroup it falls back to
#               SIGSTOP and that process lives; --no-freeze is SIGSTOP too.
# Prints PASS/FAIL/SKIP per case; exit 0 none failed, 1 one did, 77 skipped.
set -uo pipefail

ALL_CASES=(fork_loop pid_reuse refusals term_ignored confirm cgroup_freezer)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

[ "$(id -u)" = 0 ] || skip_all "needs root (a pid namespace, and processes of the test's own)"
command -v jq >/dev/null || skip_all "jq is not installed"

MARK=lineage-kill-test-$$-$RANDOM
work=$(mktemp -d /tmp/lineage-kill.XXXXXX)

state_of() { awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null; }
# Pids of live (not zombie) processes carrying the mark: one grep over every
# environ (NUL-separated lines), so the scan stays cheap on a busy machine.
marked() {
  local f pid stat
  for f in $(grep -l -a -z -x "LINEAGE_KILL_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}
    pid=${pid%/environ}
    # The state without a process per pid (the tree has a thousand).
    { stat=$(<"/proc/$pid/stat"); } 2>/dev/null || continue
    stat=${stat##*) }
    [ "${stat%% *}" = Z ] || echo "$pid"
  done
}
# Stops, then kills, what carries the mark, until nothing does (a fork loop
# keeps forking between a scan and a kill).
stop_marked() {
  local pids
  for _ in 1 2 3 4 5; do
    pids=$(marked)
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086
    kill -STOP $pids 2>/dev/null
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
  done
  wait 2>/dev/null
}
test_cgroup=""  # cgroup_freezer's cgroup: thawed, emptied and removed after it
remove_test_cgroup() {
  [ -n "$test_cgroup" ] && [ -d "$test_cgroup" ] || return 0
  echo 0 > "$test_cgroup/cgroup.freeze" 2>/dev/null
  stop_marked
  for _ in $(seq 20); do rmdir "$test_cgroup" 2>/dev/null && break; sleep 0.1; done
}
after_case() { stop_marked; remove_test_cgroup; }
cleanup() { stop_marked; remove_test_cgroup; rm -rf "$work"; }
trap cleanup EXIT

# Waits until at least $1 marked processes live, up to 5 s.
wait_marked() {
  local want=$1 deadline=$((SECONDS + 5))
  while [ "$(marked | wc -l)" -lt "$want" ] && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
}

case_fork_loop() {
  # Two levels of fork loops: the root starts a child every 20 ms, and each
  # child starts a grandchild (sleep) every 20 ms. Both loops are bounded
  # (40 rounds, sleeps of 30 s), so a broken kill cannot flood the machine.
  LINEAGE_KILL_MARK=$MARK bash -c '
    for _ in $(seq 40); do
      ( for _ in $(seq 40); do sleep 30 & sleep 0.02; done; wait ) &
      sleep 0.02
    done
    wait' &
  local root=$! rc=0 t0 left
  wait_marked 100
  t0=$(now_us)
  "$LINEAGE" kill --tree --yes --json "$root" > "$work/fork.json" 2> "$work/fork.err" || rc=$?
  local took=$(( ($(now_us) - t0) / 1000 ))
  [ "$rc" = 0 ] || bad "kill exited $rc: $(cat "$work/fork.err")"
  # Zombies of the killed tree are reaped by init (or this shell) shortly.
  for _ in $(seq 20); do left=$(marked); [ -z "$left" ] && break; sleep 0.1; done
  [ -z "$left" ] && wait "$root" 2>/dev/null
  left=$(marked)
  [ -z "$left" ] || bad "left alive: $(echo "$left" | wc -l) marked processes ($(echo $left | head -c 200))"
  local n ended
  n=$(jq '.processes | length' "$work/fork.json")
  ended=$(jq '[.processes[] | select(.outcome == "signal" or .outcome == "killed" or .outcome == "gone")] | length' "$work/fork.json")
  [ "$n" -ge 100 ] || bad "only $n processes in the report"
  [ "$n" = "$ended" ] || bad "$ended of $n reported ended"
  [ "$(jq -r '.processes[0].pid' "$work/fork.json")" = "$root" ] || bad "the root is not first (top-down)"
  echo "  fork_loop: $n processes ($(jq '.summary.joined' "$work/fork.json") forked during the kill), $(jq '.rescans' "$work/fork.json") rescans, ${took} ms"
}

case_pid_reuse() {
  command -v unshare >/dev/null || { skip_case "unshare is not installed"; return; }
  # Inside a new pid namespace (pids start at 1 there, nobody else forks):
  # A takes pid P; its start is noted; A is killed and reaped; ns_last_pid =
  # P-1 makes B take P. Then lineage kills "pid P that started with A".
  LINEAGE_KILL_MARK=$MARK unshare --pid --fork --mount-proc bash -c '
    LINEAGE=$1 out=$2
    start() { awk "{ sub(/.*\\) /, \"\"); print \$20 }" /proc/$1/stat; }
    sleep 1000 & a=$!
    a_start=$(start $a)
    kill -KILL $a; wait $a 2>/dev/null
    echo $((a - 1)) > /proc/sys/kernel/ns_last_pid || exit 3
    sleep 1000 & b=$!
    [ "$b" = "$a" ] || { echo "reuse not arranged: A was $a, B is $b"; exit 3; }
    [ "$(start $b)" != "$a_start" ] || { echo "B started in the same tick as A"; exit 3; }
    rc=0
    "$LINEAGE" kill --pid "$a" --expect-start "$a_start" --yes --json > "$out/stale.json" 2>&1 || rc=$?
    echo "$rc" > "$out/stale.rc"
    sleep 0.2
    awk "{ sub(/.*\\) /, \"\"); print \$1 }" /proc/$b/stat > "$out/b.state" 2>/dev/null || echo gone > "$out/b.state"
    # The same kill with B'"'"'s own identity does end it: the skip above was the check.
    rc=0
    "$LINEAGE" kill --pid "$b" --yes --json > "$out/fresh.json" 2>&1 || rc=$?
    echo "$rc" > "$out/fresh.rc"
    kill -KILL $b 2>/dev/null
    exit 0' reuse "$LINEAGE" "$work" > "$work/reuse.log" 2>&1
  local rc=$?
  if [ "$rc" = 3 ]; then skip_case "$(cat "$work/reuse.log")"; return; fi
  [ "$rc" = 0 ] || { bad "namespace script exited $rc: $(head -c 300 "$work/reuse.log")"; return; }
  [ "$(cat "$work/stale.rc")" = 1 ] || bad "kill of the stale identity exited $(cat "$work/stale.rc"), expected 1: $(head -c 300 "$work/stale.json")"
  [ "$(jq -r '.processes[0].outcome' "$work/stale.json" 2>/dev/null)" = skipped ] || bad "B not reported skipped: $(head -c 300 "$work/stale.json")"
  [ "$(jq -r '.processes[0].reason' "$work/stale.json" 2>/dev/null)" = "pid reused by another process" ] || bad "reason: $(jq -r '.processes[0].reason' "$work/stale.json" 2>/dev/null)"
  [ "$(cat "$work/b.state")" = S ] || bad "B was signalled: its state after the kill is $(cat "$work/b.state") (S expected)"
  [ "$(cat "$work/fresh.rc")" = 0 ] || bad "kill of B's own identity exited $(cat "$work/fresh.rc")"
  [ "$(jq -r '.processes[0].outcome' "$work/fresh.json" 2>/dev/null)" = signal ] || bad "B with its own identity not ended by TERM"
}

# expect_refusal CODE TEXT ARGS...: lineage kill ARGS exits CODE, saying TEXT.
expect_refusal() {
  local want=$1 text=$2 rc=0
  shift 2
  "$LINEAGE" kill "$@" > "$work/ref.out" 2> "$work/ref.err" < /dev/null || rc=$?
  [ "$rc" = "$want" ] || bad "kill $* exited $rc, expected $want ($(cat "$work/ref.err"))"
  grep -q -- "$text" "$work/ref.err" || bad "kill $*: no '$text' in: $(cat "$work/ref.err")"
  [ "$(wc -l < "$work/ref.err")" = 1 ] || bad "kill $*: more than one line on stderr"
}

case_refusals() {
  LINEAGE_KILL_MARK=$MARK sleep 300 &
  local victim=$! kthread
  sleep 0.1
  expect_refusal 4 "it is init (pid 1)" 1 --yes
  kthread=$(awk '$4 == 2 { print $1; exit }' /proc/[0-9]*/stat 2>/dev/null)
  [ -n "$kthread" ] && expect_refusal 4 "it is a kernel thread" "$kthread" --yes
  expect_refusal 4 "it is an ancestor of lineage" $$ --yes
  expect_refusal 4 "standard input is not a terminal; pass --yes" "$victim"
  expect_refusal 4 "unknown signal 'BOGUS'" "$victim" --yes --signal BOGUS
  expect_refusal 4 "unknown signal '0'" "$victim" --yes --signal 0
  expect_refusal 2 "" 4194304 --yes
  expect_refusal 4 "give one of --tree" "$victim" --group --session --yes
  local rc=0
  "$LINEAGE" kill "$victim" --dry-run > "$work/dry.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || bad "--dry-run exited $rc"
  grep -q "would end 1 process" "$work/dry.out" || bad "--dry-run: $(head -c 200 "$work/dry.out")"
  [ "$(state_of "$victim")" = S ] || bad "the victim was signalled by a refused kill or --dry-run (state $(state_of "$victim"))"
  # --force lets the refusal of an ancestor through: not run (it would end
  # this script); the flag is covered by the unit tests of the plan.
}

case_term_ignored() {
  # The root and one sleep end by TERM; the inner shell ignores TERM (and so
  # does its sleep, which inherits SIG_IGN): both get KILL after 1 s.
  LINEAGE_KILL_MARK=$MARK bash -c '
    sleep 60 &
    bash -c "trap \"\" TERM; sleep 61; :" &
    wait' &
  local root=$! rc=0 t0 took
  wait_marked 4
  t0=$(now_us)
  "$LINEAGE" kill "$root" --yes --timeout 1s --json > "$work/term.json" 2> "$work/term.err" || rc=$?
  took=$(( ($(now_us) - t0) / 1000 ))
  [ "$rc" = 0 ] || bad "kill exited $rc: $(cat "$work/term.err")"
  outcome() { jq -r --arg c "$1" '[.processes[] | select(.cmdline | join(" ") | startswith($c)) | .outcome] | join(",")' "$work/term.json"; }
  [ "$(outcome "sleep 60")" = signal ] || bad "sleep 60: $(outcome "sleep 60"), expected signal"
  [ "$(outcome "sleep 61")" = killed ] || bad "sleep 61 (TERM ignored): $(outcome "sleep 61"), expected killed"
  [ "$(outcome "bash -c trap")" = killed ] || bad "the shell ignoring TERM: $(outcome "bash -c trap"), expected killed"
  [ "$(jq -r '.processes[0].outcome' "$work/term.json")" = signal ] || bad "the root: $(jq -r '.processes[0].outcome' "$work/term.json")"
  # At least the 1 s timeout (a busy machine makes each scan slow: no tight bound above).
  [ "$took" -ge 1000 ] && [ "$took" -lt 30000 ] || bad "took ${took} ms, expected the 1 s timeout then KILL"
  "$LINEAGE" kill --pid 1 --dry-run >/dev/null 2>&1  # (refused: exit 4; keeps the text path warm)
  # The text report says what ended how.
  LINEAGE_KILL_MARK=$MARK bash -c 'trap "" TERM; sleep 62; :' &
  root=$!
  wait_marked 2
  "$LINEAGE" kill "$root" --yes --timeout 1s > "$work/term.txt" 2>&1
  grep -q "KILL after 1s" "$work/term.txt" || bad "text report: $(cat "$work/term.txt")"
  wait 2>/dev/null
}

case_confirm() {
  command -v script >/dev/null || { skip_case "script(1) is not installed"; return; }
  LINEAGE_KILL_MARK=$MARK sleep 300 &
  local victim=$! rc=0
  sleep 0.1
  echo n | script -qec "$LINEAGE kill $victim" /dev/null > "$work/no.out" 2>&1 || rc=$?
  [ "$rc" = 1 ] || bad "answer n: exit $rc, expected 1"
  grep -q "End these 1 processes? \[y/N\]" "$work/no.out" || bad "no question asked: $(head -c 300 "$work/no.out")"
  [ "$(state_of "$victim")" = S ] || bad "answer n: the victim was signalled"
  rc=0
  echo y | script -qec "$LINEAGE kill $victim" /dev/null > "$work/yes.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || bad "answer y: exit $rc, expected 0: $(head -c 300 "$work/yes.out")"
  wait "$victim" 2>/dev/null
  [ -z "$(state_of "$victim")" ] || bad "answer y: the victim is still there"
}

case_cgroup_freezer() {
  local mnt cg rc=0 root other
  mnt=$(awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
  [ -n "$mnt" ] || { skip_case "no cgroup v2 hierarchy is mounted"; return; }
  cg=$mnt/lineage-kill-test-$$
  mkdir "$cg" 2>/dev/null || { skip_case "cannot make a cgroup under $mnt"; return; }
  test_cgroup=$cg
  [ -w "$cg/cgroup.freeze" ] || { rmdir "$cg"; skip_case "no cgroup.freeze (kernel before 5.2)"; return; }
  # The tree moves itself into the cgroup before it forks: every descendant
  # is born there. A loop keeps forking; one shell ignores TERM.
  LINEAGE_KILL_MARK=$MARK CG=$cg bash -c '
    echo $$ > "$CG/cgroup.procs"
    bash -c "trap \"\" TERM; sleep 61; :" &
    for _ in $(seq 40); do ( for _ in $(seq 10); do sleep 30 & sleep 0.02; done; wait ) & sleep 0.02; done
    wait' &
  root=$!
  wait_marked 30
  "$LINEAGE" kill "$root" --dry-run --json > "$work/cg-dry.json" || bad "dry run exited $?"
  [ "$(jq -r .stop.method "$work/cg-dry.json")" = freezer ] ||
    bad "dry run: not the freezer: $(jq -c .stop "$work/cg-dry.json")"
  "$LINEAGE" kill "$root" --yes --timeout 1s --json > "$work/cg.json" 2> "$work/cg.err" || rc=$?
  [ "$rc" = 0 ] || bad "kill exited $rc: $(cat "$work/cg.err")"
  [ "$(jq -r .stop.method "$work/cg.json")" = freezer ] || bad "stopped by $(jq -c .stop "$work/cg.json"), not the freezer"
  [ "$(jq -r .stop.cgroup "$work/cg.json")" = "/lineage-kill-test-$$" ] || bad "cgroup: $(jq -r .stop.cgroup "$work/cg.json")"
  local outcome
  outcome=$(jq -r '[.processes[] | select((.cmdline // []) | join(" ") | startswith("sleep 61")) | .outcome] | join(",")' "$work/cg.json")
  [ "$outcome" = killed ] || bad "sleep 61 under a shell ignoring TERM: '$outcome', expected killed"
  for _ in $(seq 20); do [ -z "$(marked)" ] && break; sleep 0.1; done
  [ -z "$(marked)" ] || bad "left alive: $(marked | wc -l) marked processes"
  grep -q "frozen 0" "$cg/cgroup.events" || bad "the cgroup was left frozen: $(cat "$cg/cgroup.events")"
  [ -z "$(cat "$cg/cgroup.procs")" ] || bad "the cgroup still has processes: $(cat "$cg/cgroup.procs" | head -5)"
  echo "  cgroup_freezer: $(jq '.processes | length' "$work/cg.json") processes ended, $(jq .summary.joined "$work/cg.json") forked during the kill"
  wait "$root" 2>/dev/null

  # Someone else's process in the same cgroup: never frozen with the tree,
  # never signalled; the kill says why it used SIGSTOP.
  LINEAGE_KILL_MARK=$MARK CG=$cg bash -c 'echo $$ > "$CG/cgroup.procs"; exec sleep 300' &
  other=$!
  LINEAGE_KILL_MARK=$MARK CG=$cg bash -c 'echo $$ > "$CG/cgroup.procs"; sleep 301 & wait' &
  root=$!
  wait_marked 3
  rc=0
  "$LINEAGE" kill "$root" --yes --json > "$work/cg2.json" 2> "$work/cg2.err" || rc=$?
  [ "$rc" = 0 ] || bad "kill (shared cgroup) exited $rc: $(cat "$work/cg2.err")"
  [ "$(jq -r .stop.method "$work/cg2.json")" = sigstop ] || bad "shared cgroup: $(jq -c .stop "$work/cg2.json")"
  jq -r .stop.why_not_freezer "$work/cg2.json" | grep -q "not to be ended" ||
    bad "shared cgroup: why not the freezer: $(jq -r .stop.why_not_freezer "$work/cg2.json")"
  [ "$(state_of "$other")" = S ] || bad "the other process in the cgroup was touched: state $(state_of "$other")"
  # lineage inside the cgroup, below the shell it ends (--force: its own
  # ancestor): never frozen with them (it could not thaw them again). Its
  # document is complete within 60 s, or it froze itself (or hung). The
  # binary itself: ctest's JSON-keeping launcher would be a process between
  # them, ended with the shell, and lineage's document with it.
  LINEAGE_KILL_MARK=$MARK CG=$cg L=$LINEAGE_BIN OUT=$work/cg-self.json ERR=$work/cg-self.err PIDF=$work/cg-self.pid bash -c '
    echo $$ > "$CG/cgroup.procs"
    sleep 303 &
    "$L" kill $$ --force --yes --json > "$OUT" 2> "$ERR" &
    echo $! > "$PIDF"
    wait $!
    sleep 1' &
  local shell=$! done_in_time="" lpid
  for _ in $(seq 300); do
    # (jq -e succeeds on an empty file: the shell creates it before lineage writes)
    [ -n "$(jq -r '.stop.method // empty' "$work/cg-self.json" 2>/dev/null)" ] && { done_in_time=1; break; }
    sleep 0.2
  done
  if [ -z "$done_in_time" ]; then
    lpid=$(cat "$work/cg-self.pid" 2>/dev/null)
    bad "lineage (pid ${lpid:-?}) inside the cgroup of the shell it ends wrote no document in 60 s: stderr '$(head -c 500 "$work/cg-self.err" 2>/dev/null)'"
    # What it is doing, for the log: state, where it sleeps, pending signals.
    if [ -n "$lpid" ] && [ -d "/proc/$lpid" ]; then
      echo "  lineage: $(cat "/proc/$lpid/stat" 2>/dev/null)"
      echo "  wchan: $(cat "/proc/$lpid/wchan" 2>/dev/null)"
      grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn)' "/proc/$lpid/status" 2>/dev/null | sed 's/^/  /'
      sed 's/^/  stack: /' "/proc/$lpid/stack" 2>/dev/null | head -20
    else
      echo "  lineage has exited"
    fi
    echo "  cgroup.events: $(tr '\n' ' ' < "$cg/cgroup.events")"
    echo "  shell $shell: state '$(state_of "$shell")'"
    echo 0 > "$cg/cgroup.freeze" 2>/dev/null
    # A hung lineage keeps its shell waiting: end both, or the wait below hangs.
    [ -n "$lpid" ] && kill -KILL "$lpid" 2>/dev/null
    kill -KILL "$shell" 2>/dev/null
  else
    [ "$(jq -r .stop.method "$work/cg-self.json")" = sigstop ] ||
      bad "lineage inside the cgroup: $(jq -c .stop "$work/cg-self.json")"
  fi
  wait "$shell" 2>/dev/null
  # --no-freeze on a tree alone in its cgroup: SIGSTOP.
  "$LINEAGE" kill "$other" --dry-run --no-freeze --json > "$work/cg3.json"
  [ "$(jq -r .stop.method "$work/cg3.json")" = sigstop ] || bad "--no-freeze: $(jq -c .stop "$work/cg3.json")"
  kill -KILL "$other" 2>/dev/null
  wait 2>/dev/null
}

for c in "${cases[@]}"; do run_case "$c"; done
exit $failed
