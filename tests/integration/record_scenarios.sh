#!/usr/bin/env bash
# Issue 9: `lineage record` on a temp database while real launchers start,
# leave and re-parent processes; then `why`, `why --at`, `tree --at` and
# `history` must tell what happened (with --json, checked with jq).
#
# Usage: record_scenarios.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases: ssh cron chain reuse kill9 tree_at faults subreaper
#   ssh      a real sshd on loopback: a session runs `nohup sleep &` and logs
#            out; why names the exited ancestors and the ssh client and user
#   cron     a real cron job whose shell double-forks a daemon and exits;
#            why names the crontab file and line (the job runs at the next
#            minute: it is queued first and checked last)
#   chain    three exited intermediate shells, with their exit codes, in
#            why and in history --descendants
#   reuse    one pid held by two processes in the recorded window: history
#            lists both, why --at explains the first
#   kill9    kill -9 of the recorder during an exec storm: integrity_check,
#            at most one batch missing, a restart continues the history and
#            closes what vanished meanwhile as exit unseen
#   tree_at  tree --at before and after a re-parenting; why --at of a
#            process dead now
#   faults   corrupt file, newer schema, read-only directory, full
#            filesystem, second instance, no database, SIGTERM
#   subreaper a real child subreaper (prctl PR_SET_CHILD_SUBREAPER from
#            python3 ctypes) adopts a sleep whose shell exited: why names
#            the exited shell from history, not the subreaper as the parent
#   evidence a shell that lives a few milliseconds (bpf source): its
#            working directory (one with a space, on another mount), cgroup
#            and ids are recorded from the exec itself, /proc being gone by
#            the time the recorder reads
# Prints `PASS case`, `FAIL case: why` or `SKIP case: why` for each case.
# Exit 0 when none failed, 1 when one did, 77 (with `SKIP: reason`) when the
# machine cannot run the test at all, 2 on a usage error.
# KEEP_OUTPUT=DIR keeps the databases and outputs there.
set -uo pipefail

ALL_CASES=(ssh cron chain reuse kill9 tree_at faults subreaper evidence)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

[ "$(id -u)" = 0 ] || skip_all "needs root: lineage record reads every process and its events"
for tool in jq sqlite3 sha256sum pgrep; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

work=$(mktemp -d /tmp/lineage-rec.XXXXXX)
chmod 755 "$work"
started=()       # pids this test started; only these are stopped
mounts=()        # mount points this test made; unmounted on exit
cron_file=/etc/cron.d/lineage-record-it-$$

# Whether pid $1 runs (a zombie child of this script does not).
running() { [ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }

cleanup() {
  trap - EXIT INT TERM
  local pid m
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 30); do
    local alive=0
    for pid in "${started[@]}"; do running "$pid" && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -f "$cron_file"
  for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done
  [ -n "${KEEP_OUTPUT:-}" ] && mkdir -p "$KEEP_OUTPUT" && cp -r "$work/." "$KEEP_OUTPUT/" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# An RFC 3339 time with nanoseconds, for --at.
stamp() { date +%Y-%m-%dT%H:%M:%S.%N%:z; }

first_line() { head -c 300 "$1" 2>/dev/null | head -n 3 | tr '\n' ' '; }

# start_recorder DIR [ARGS...]: `lineage record --db DIR/h.db ARGS` in the
# background (stderr in DIR/record.err), until --status says it runs. Sets
# rec_pid; returns 1 (rec_pid empty) when it did not come up.
rec_pid=""
start_recorder() {
  local dir=$1
  shift
  mkdir -p "$dir"
  "$LINEAGE" record --db "$dir/h.db" "$@" </dev/null >>"$dir/record.out" 2>>"$dir/record.err" &
  rec_pid=$!
  started+=("$rec_pid")
  local deadline=$(( $(now_us) + 10000000 ))
  while [ "$(now_us)" -lt $deadline ]; do
    if ! kill -0 "$rec_pid" 2>/dev/null; then rec_pid=""; return 1; fi
    if [ "$("$LINEAGE" record --status --db "$dir/h.db" --json 2>/dev/null | jq -r '.running and .pid == '"$rec_pid")" = true ]; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# stop_recorder [SIGNAL]: signals rec_pid and waits; sets rec_rc.
rec_rc=""
stop_recorder() {
  kill -"${1:-TERM}" "$rec_pid" 2>/dev/null
  wait "$rec_pid" 2>/dev/null
  rec_rc=$?
}

# The pid of the newest process whose command line is exactly $1.
find_pid() {
  local want=$1 deadline=$((SECONDS + ${2:-10})) pid
  while [ $SECONDS -lt $deadline ]; do
    pid=$(pgrep -nfx -- "$want") && { echo "$pid"; return 0; }
    sleep 0.1
  done
  return 1
}
ppid_of() { awk '{print $4}' "/proc/$1/stat" 2>/dev/null; }

# lin OUT ARGS...: `lineage ARGS` with stdout in OUT, stderr in OUT.err; rc.
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
# until_json SECS FILE FILTER ARGS...: runs `lineage ARGS` into FILE until
# jq -e FILTER holds (the recorder commits once a second).
until_json() {
  local secs=$1 out=$2 filter=$3
  shift 3
  local deadline=$(( $(now_us) + secs * 1000000 ))
  while :; do
    lin "$out" "$@"
    jq -e "$filter" "$out" >/dev/null 2>&1 && return 0
    [ "$(now_us)" -lt $deadline ] || return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------- cases

# 1. A real sshd on loopback (root with a key). The session runs
# `nohup sleep &` and logs out: the sleep is re-parented, and its whole
# launch chain (sshd's session processes, the session shell) has exited.
case_ssh() {
  local d=$work/ssh
  mkdir -p "$d"
  [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || { skip_case "sshd or ssh is not installed"; return; }
  start_recorder "$d" || { bad "the recorder did not start: $(first_line "$d/record.err")"; return; }
  mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
  cp "$d/client_key.pub" "$d/authorized_keys"
  local port=$((20000 + RANDOM % 20000))
  cat > "$d/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
CFG
  /usr/sbin/sshd -D -f "$d/sshd_config" -E "$d/sshd.log" </dev/null >/dev/null 2>&1 &
  local sshd=$!
  started+=("$sshd")
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  local marker=$((3300000 + RANDOM))
  # The session logs out at once: ssh returns when its shell has exited.
  timeout 20 ssh -T -i "$d/client_key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 \
      "nohup sleep $marker >/dev/null 2>&1 &" </dev/null >/dev/null 2>"$d/ssh.err" \
    || { bad "ssh failed: $(first_line "$d/ssh.err") $(first_line "$d/sshd.log")"; return; }
  local pid
  pid=$(find_pid "sleep $marker" 5) || { bad "no sleep $marker after the session"; return; }
  started+=("$pid")
  # The session's processes are gone; wait until the history has all their
  # exits (they may fall into two batches: a loaded machine commits the
  # shell's exit a second after sshd's).
  until_json 5 "$d/why.json" '([.chain[] | select(.recorded == true and .alive == false)] | length >= 1) and
      ([.chain[] | select(.alive == false) | select(.recorded != true or (.exit_time | type) != "string")] | length == 0)' \
      why "$pid" --db "$d/h.db" --json \
    || bad "the exited ancestors' exits were not all recorded within 5 s"
  local j=$d/why.json
  check "$j" '.target.pid' "$pid" "why $pid"
  check "$j" '.target.ppid != ('"$sshd"')' true "the sleep is re-parented"
  # Every exited ancestor is recorded, with its exit time.
  check "$j" '[.chain[] | select(.alive == false) | select(.recorded != true or (.exit_time | type) != "string")] | length' 0 \
    "exited ancestors are recorded with an exit_time"
  check "$j" '[.chain[] | select(.pid == '"$sshd"')] | length' 1 "the listening sshd is on the chain"
  # Between the listening sshd and the sleep: the session's sshd and its
  # shell, all exited.
  check "$j" '[.chain[] | .pid] | index('"$sshd"') as $i | [.[$i+1:-1][]] | length >= 2' true \
    "at least two processes between sshd and the sleep (session sshd, shell)"
  check "$j" '[.chain as $c | ($c | map(.pid) | index('"$sshd"')) as $i | $c[$i+1:-1][] | .alive] | all(. == false)' true \
    "everything between sshd and the sleep has exited"
  check "$j" '[.chain[] | select(.alive == false and .recorded == true and (.comm == "bash" or .comm == "sh" or .comm == "dash"))] | length >= 1' true \
    "the session shell is an exited recorded ancestor"
  check "$j" '[.sources[] | select(.kind == "ssh")] | length' 1 "one ssh source"
  check "$j" '.sources[] | select(.kind == "ssh") | .details.client' 127.0.0.1 "ssh source client"
  check "$j" '.sources[] | select(.kind == "ssh") | .details.user' root "ssh source user"
  check "$j" '.sources[] | select(.kind == "ssh") | .verified' true "ssh source verified (from the recorded sshd)"
  check "$j" '.sources[] | select(.kind == "orphan") | .details.original_parent_command | length > 0' true \
    "the orphan source names its original parent's command"
  check "$j" '(.sources[] | select(.kind == "orphan") | .details.original_parent) == (.chain[-2].pid | tostring)' true \
    "original_parent is the sleep's recorded fork parent (chain[-2])"
  check "$j" '.warnings | map(.id) | index("unverified-launcher")' null "no unverified-launcher warning"
  lin "$d/why.txt" why "$pid" --db "$d/h.db"
  grep -Eq '\(exited [0-9]{2}:[0-9]{2}:[0-9]{2}, code [0-9]+\)' "$d/why.txt" \
    || bad "why text has no '(exited HH:MM:SS, code N)': $(first_line "$d/why.txt")"
  stop_recorder
  [ "$rec_rc" = 0 ] || bad "record exited $rec_rc on SIGTERM"
}

# 2. A real cron job: its shell double-forks a daemon and exits. Queued at
# the start (cron runs it at the next minute), checked at the end.
cron_pending=0
cron_start() {
  local d=$work/cron
  mkdir -p "$d"
  [ -x /usr/sbin/cron ] || { cron_skip="cron is not installed"; return; }
  start_recorder "$d" || { cron_error="the recorder did not start: $(first_line "$d/record.err")"; return; }
  cron_rec=$rec_pid
  cron_marker=$((5500000 + RANDOM))
  printf '# lineage record integration test\nSHELL=/bin/sh\n* * * * * root ( sleep %s >/dev/null 2>&1 & ) ; exit 0\n' \
    "$cron_marker" > "$cron_file"
  chmod 644 "$cron_file"
  # The daemon (argv cron), not a job's CRON child outliving a daemon now gone.
  if ! pgrep -f '^(/usr/sbin/)?cron( |$)' >/dev/null; then
    /usr/sbin/cron -f </dev/null >/dev/null 2>&1 &
    started+=($!)
  fi
  cron_pending=1
}
cron_skip=""
cron_error=""
case_cron() {
  [ -n "$cron_skip" ] && { skip_case "$cron_skip"; return; }
  [ -n "$cron_error" ] && { bad "$cron_error"; return; }
  [ $cron_pending = 1 ] || cron_start
  [ -n "$cron_skip" ] && { skip_case "$cron_skip"; return; }
  [ -n "$cron_error" ] && { bad "$cron_error"; return; }
  local d=$work/cron pid
  rec_pid=$cron_rec
  # cron reads /etc/cron.d each minute: the job starts within about 60 s.
  pid=$(find_pid "sleep $cron_marker" 75) || { bad "cron did not run the job within 75 s"; return; }
  started+=("$pid")
  # why reads the crontab now, as for a live job: the file stays until it
  # has answered (the job just ran: the next run is a minute away).
  until_json 5 "$d/why.json" '[.sources[] | select(.kind == "cron")] | length == 1' \
      why "$pid" --db "$d/h.db" --json \
    || bad "no cron source within 5 s"
  rm -f "$cron_file"  # once is enough
  local j=$d/why.json
  check "$j" '.target.pid' "$pid" "why $pid"
  check "$j" '.sources[] | select(.kind == "cron") | .details.crontab' "$cron_file" "cron source crontab"
  check "$j" '.sources[] | select(.kind == "cron") | .details.line' 3 "cron source line"
  check "$j" '.sources[] | select(.kind == "cron") | .details.user' root "cron source user"
  check "$j" '.sources[] | select(.kind == "cron") | .verified' true "cron source verified"
  check "$j" '[.chain[] | select(.comm == "cron" and .recorded == true and .alive == false and .exit_time != null)] | length' 1 \
    "cron's per-job child (a fork, no exec) is an exited recorded ancestor"
  # That child never exec'd: it runs cron's image, as /proc showed while it lived.
  check "$j" '.chain[] | select(.comm == "cron" and .recorded == true) | "\(.exe) \(.cmdline | tostring)"' \
    '/usr/sbin/cron ["/usr/sbin/cron","-f"]' "the recorded fork of cron has cron's exe and argv"
  check "$j" '[.chain[] | select(.alive == false and .recorded == true and .exit_time != null and (.comm == "sh" or .comm == "dash" or .comm == "bash"))] | length >= 1' true \
    "the job's shell is an exited recorded ancestor with an exit_time"
  check "$j" '.sources[] | select(.kind == "orphan") | .details.original_parent_command | length > 0' true \
    "orphan source names the original parent"
  stop_recorder
  [ "$rec_rc" = 0 ] || bad "record exited $rec_rc on SIGTERM"
}

# 3. Three exited intermediate shells (each exits with its own code).
case_chain() {
  local d=$work/chain
  start_recorder "$d" || { bad "the recorder did not start: $(first_line "$d/record.err")"; return; }
  local marker=$((5600000 + RANDOM))
  bash -c 'bash -c "bash -c \"sleep '"$marker"' >/dev/null 2>&1 & exit 5\"; exit 6"; exit 7' &
  local top=$!
  wait "$top"
  local top_rc=$?
  [ $top_rc = 7 ] || bad "the top shell exited $top_rc, not 7"
  local pid
  pid=$(find_pid "sleep $marker" 5) || { bad "no sleep $marker"; return; }
  started+=("$pid")
  until_json 5 "$d/why.json" '[.chain[] | select(.alive == false)] | length == 3' why "$pid" --db "$d/h.db" --json \
    || bad "why does not show three exited ancestors within 5 s"
  local j=$d/why.json
  check "$j" '[.chain[-4:][] | .comm] | join(",")' bash,bash,bash,sleep "the chain's tail"
  check "$j" '[.chain[-4:-1][] | .exit_code] | map(tostring) | join(",")' 7,6,5 "exit codes along the chain"
  check "$j" '.chain[-4].pid' "$top" "the top shell is on the chain"
  check "$j" '[.chain[-4:-1][] | .recorded == true and .alive == false and (.exit_time | type) == "string"] | all' true \
    "the three shells are recorded, exited, with exit times"
  check "$j" '.chain[-5].pid' $$ "the test script is the top shell's parent"
  check "$j" '.chain[-5].alive != false and .chain[-5].recorded != true' true "the test script is alive (from /proc)"
  lin "$d/why.txt" why "$pid" --db "$d/h.db"
  for code in 5 6 7; do
    grep -Eq "\\(exited [0-9]{2}:[0-9]{2}:[0-9]{2}, code $code\\)" "$d/why.txt" \
      || bad "why text lacks '(exited HH:MM:SS, code $code)'"
  done
  lin "$d/desc.json" history --descendants "$top" --db "$d/h.db" --json
  [ $rc = 0 ] || bad "history --descendants exited $rc: $(first_line "$d/desc.json.err")"
  j=$d/desc.json
  check "$j" '.schema' lineage.history/v1 "history --descendants schema"
  check "$j" '[.processes[] | select(.comm == "bash") | "\(.pid):\(.exit_code):\(.alive)"] | length' 3 "three shells listed"
  check "$j" '[.processes[] | select(.comm == "bash") | .exit_code] | map(tostring) | join(",")' 7,6,5 \
    "history --descendants exit codes, depth first"
  check "$j" '[.processes[] | .depth] | map(tostring) | join(",")' 0,1,2,3 "depths"
  check "$j" '.processes[0].pid' "$top" "the root is the top shell"
  check "$j" '.processes[-1] | "\(.pid) \(.alive) \(.cmdline | join(" "))"' "$pid true sleep $marker" "the sleep, alive"
  lin "$d/desc.txt" history --descendants "$top" --db "$d/h.db"
  grep -q "code 5" "$d/desc.txt" && grep -q "code 7" "$d/desc.txt" || bad "history --descendants text lacks the exit codes"
  stop_recorder
}

# 3b. Evidence of a process too short-lived for /proc: with the bpf source
# the exec event carries what /proc would have shown.
case_evidence() {
  local d=$work/evidence
  command -v setpriv >/dev/null || { skip_case "setpriv is not installed"; return; }
  start_recorder "$d" --source bpf || {
    if grep -q "bpf:" "$d/record.err" 2>/dev/null; then skip_case "no eBPF here: $(first_line "$d/record.err")"; return; fi
    bad "the recorder did not start: $(first_line "$d/record.err")"
    return
  }
  # /dev/shm: a tmpfs, so the kernel's path walk crosses a mount.
  local dir
  dir=$(mktemp -d "/dev/shm/lineage rec.XXXXXX") || { bad "mktemp in /dev/shm"; return; }
  mkdir -p "$dir/a b"
  chmod 755 "$dir" "$dir/a b"
  # As nobody, so the ids recorded are not root's by default.
  local pid
  pid=$(cd "$dir/a b" && exec setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'echo $$; exit 3')
  until_json 5 "$d/hist.json" '.processes[0].exit_code == 3' history "$pid" --db "$d/h.db" --json \
    || bad "history $pid shows no exit code 3 within 5 s"
  check "$d/hist.json" '.processes[0].duration_ns < 1000000000' true "the shell lived under a second"
  # What the record holds (read straight from the database: history does
  # not print the working directory).
  local row
  row=$(sqlite3 -readonly -separator '|' "$d/h.db" "SELECT (SELECT text FROM paths WHERE id=c.cwd), \
    (SELECT text FROM paths WHERE id=c.cgroup), c.uid, c.ruid FROM processes p JOIN execs e ON e.process=p.id \
    JOIN contexts c ON c.id=e.context WHERE p.pid=$pid ORDER BY e.time_ns DESC LIMIT 1" 2>&1)
  local cwd=${row%%|*}
  [ "$cwd" = "$dir/a b" ] || bad "recorded cwd '$cwd', not '$dir/a b' (row: ${row//$'\n'/ })"
  local unified
  unified=$(grep '^0::' /proc/self/cgroup)  # the shell ran in this script's cgroup
  if [ -n "$unified" ]; then
    case "$row" in *"$unified"*) ;; *) bad "recorded cgroup lacks '$unified' (row: ${row//$'\n'/ })" ;; esac
  fi
  case "$row" in *"|65534|65534") ;; *) bad "recorded uid and real uid are not nobody's (row: ${row//$'\n'/ })" ;; esac
  rm -rf "$dir"
  stop_recorder
}

# 4. One pid, two holders inside the recorded window.
# spawn_at_pid P CMD...: runs CMD in the background as pid P, by writing
# P-1 into ns_last_pid just before the fork (retries: other processes fork
# too). Sets bg_pid (empty when it did not get P).
bg_pid=""
spawn_at_pid() {
  local want=$1
  shift
  bg_pid=""
  for _ in $(seq 20); do
    echo $((want - 1)) > /proc/sys/kernel/ns_last_pid 2>/dev/null || return 1
    "$@" </dev/null >/dev/null 2>&1 &
    if [ $! = "$want" ]; then bg_pid=$!; return 0; fi
    kill -KILL $! 2>/dev/null; wait $! 2>/dev/null
  done
  return 1
}
case_reuse() {
  local d=$work/reuse
  start_recorder "$d" || { bad "the recorder did not start: $(first_line "$d/record.err")"; return; }
  local m1=$((5700000 + RANDOM)) m2=$((5800000 + RANDOM))
  sleep "$m1" &
  local first=$!
  started+=("$first")
  sleep 0.6
  local t_first
  t_first=$(stamp)
  sleep 0.6
  kill -KILL "$first"; wait "$first" 2>/dev/null
  local second=""
  if [ -w /proc/sys/kernel/ns_last_pid ] && spawn_at_pid "$first" sleep "$m2"; then
    second=$bg_pid
  else
    # Cycle the pid space with a fork loop until pid $first comes back.
    command -v cc >/dev/null || { skip_case "ns_last_pid is not writable and there is no C compiler for a fork loop"; stop_recorder; return; }
    cat > "$d/cycle.c" <<'C'
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char** argv) {
  pid_t want = atoi(argv[1]);
  for (long i = 0; i < 4L * 4194304; ++i) {
    pid_t p = fork();
    if (p < 0) return 1;
    if (p == 0) {
      if (getpid() == want) { execvp(argv[2], argv + 2); _exit(127); }
      _exit(0);
    }
    if (p == want) return 0;  /* left running: the second holder */
    waitpid(p, NULL, 0);
  }
  return 1;
}
C
    cc -O2 -o "$d/cycle" "$d/cycle.c" || { bad "cannot build the fork loop"; stop_recorder; return; }
    timeout 60 "$d/cycle" "$first" sleep "$m2" || { bad "the fork loop did not get pid $first back"; stop_recorder; return; }
    second=$first
  fi
  started+=("$second")
  until_json 5 "$d/hist.json" "[.processes[] | select(.cmdline == [\"sleep\",\"$m1\"] or .cmdline == [\"sleep\",\"$m2\"])] | length == 2" \
      history "$first" --db "$d/h.db" --json \
    || bad "history $first does not list both holders within 5 s"
  local j=$d/hist.json
  check "$j" '.processes | map(.pid) | unique | map(tostring) | join(",")' "$first" "history $first lists only pid $first"
  # Newest first: the second holder, alive, then the first, killed.
  check "$j" '[.processes[] | select(.cmdline[1] == "'"$m2"'" or .cmdline[1] == "'"$m1"'") | .cmdline[1]] | join(",")' "$m2,$m1" \
    "both holders, newest first"
  check "$j" '.processes[] | select(.cmdline[1] == "'"$m1"'") | "\(.alive) \(.exit_signal) \(.exit_time | type)"' "false 9 string" \
    "the first holder: killed (signal 9), with its end"
  check "$j" '.processes[] | select(.cmdline[1] == "'"$m2"'") | "\(.alive) \(.exit_time)"' "true null" \
    "the second holder: alive, no end"
  check "$j" '(.processes[] | select(.cmdline[1] == "'"$m1"'")) as $a | (.processes[] | select(.cmdline[1] == "'"$m2"'")) as $b | $a.start_time < $a.exit_time and $a.exit_time <= $b.start_time' true \
    "each holder has its own time span, the first ending before the second starts"
  lin "$d/hist.txt" history "$first" --db "$d/h.db"
  [ "$(grep -cE "sleep ($m1|$m2)\$" "$d/hist.txt")" = 2 ] || bad "history $first text does not show both holders"
  lin "$d/at.json" why "$first" --at "$t_first" --db "$d/h.db" --json
  [ $rc -le 1 ] || bad "why $first --at $t_first exited $rc: $(first_line "$d/at.json.err")"
  j=$d/at.json
  check "$j" '.target.pid' "$first" "why --at target"
  check "$j" '.target.cmdline | join(" ")' "sleep $m1" "why --at explains the first holder"
  check "$j" '.chain[-2].pid' $$ "the first holder's parent (the test script)"
  # And now, without --at: the second.
  lin "$d/now.json" why "$first" --db "$d/h.db" --json
  check "$d/now.json" '.target.cmdline | join(" ")' "sleep $m2" "why without --at explains the current holder"
  # history --descendants of the reused pid: the newest holder's tree, and
  # a note that says so.
  lin "$d/desc.txt" history --descendants "$first" --db "$d/h.db"
  { grep -qE "sleep $m2\$" "$d/desc.txt" && ! grep -qE "sleep $m1\$" "$d/desc.txt"; } ||
    bad "history --descendants $first does not draw the newest holder alone: $(cat "$d/desc.txt")"
  grep -q "pid $first was held by 2 processes in the recorded history; showing the newest" "$d/desc.txt.err" ||
    bad "history --descendants $first does not say which holder it drew: $(first_line "$d/desc.txt.err")"
  stop_recorder
}

# 5. kill -9 during an exec storm; a restart continues the same history.
case_kill9() {
  local d=$work/kill9
  mkdir -p "$d"
  start_recorder "$d" || { bad "the recorder did not start: $(first_line "$d/record.err")"; return; }
  local first_rec=$rec_pid
  "$LINEAGE" record --status --db "$d/h.db" --json > "$d/status1.json" 2>/dev/null
  local victim_marker=$((5900000 + RANDOM))
  sleep "$victim_marker" &
  local victim=$!
  started+=("$victim")
  # The storm: a shell loop of /bin/true as fast as it goes, each with a
  # marker of this test and its start time logged (the ground truth: other
  # processes on the machine may run storms of their own).
  local loop_pid t_kill tag=k9-$$
  (
    end=$(( $(now_us) + 4000000 ))
    for ((i = 1; ; i++)); do
      t=$(now_us)
      [ "$t" -lt $end ] || break
      echo "$i $t"
      /bin/true "$tag-$i"
    done > "$d/loop.log"
  ) &
  loop_pid=$!
  started+=("$loop_pid")
  sleep 2.5
  t_kill=$(now_us)
  kill -KILL "$first_rec"
  wait "$first_rec" 2>/dev/null
  # While no recorder runs: the victim dies unseen.
  kill -KILL "$victim"; wait "$victim" 2>/dev/null
  wait "$loop_pid"
  local ic
  ic=$(sqlite3 "$d/h.db" 'PRAGMA integrity_check' 2>&1)
  [ "$ic" = ok ] || bad "integrity_check after kill -9: $ic"
  # At most one batch (a second of records) is missing: every process of
  # the loop started more than 1.5 s before the kill is there.
  local due
  due=$(awk -v k=$((t_kill - 1500000)) '$2 < k { n = $1 } END { print n + 0 }' "$d/loop.log")
  [ "$due" -ge 10 ] || bad "the exec loop was too slow: $due spawns in its first second"
  lin "$d/storm.json" history true --db "$d/h.db" --limit 1000000 --json
  local have
  have=$(jq -r --arg p "$tag-" '[.processes[] | .cmdline[1] // "" | select(startswith($p)) | ltrimstr($p) | tonumber | select(. <= '"$due"')] | unique | length' "$d/storm.json" 2>/dev/null)
  [ "$have" = "$due" ] || bad "of the loop's /bin/true 1..$due (started over 1.5 s before kill -9), $have are recorded"
  local total
  total=$(jq -r --arg p "$tag-" '[.processes[] | .cmdline[1] // "" | select(startswith($p))] | length' "$d/storm.json" 2>/dev/null)
  echo "  (kill9: $(wc -l < "$d/loop.log") execs in the loop, $due due before the last batch, $total recorded before kill -9)"
  start_recorder "$d" || { bad "the restarted recorder did not start: $(first_line "$d/record.err")"; return; }
  "$LINEAGE" record --status --db "$d/h.db" --json > "$d/status2.json" 2>/dev/null
  [ "$(jq -r .oldest "$d/status1.json")" = "$(jq -r .oldest "$d/status2.json")" ] \
    || bad "the restarted recorder does not continue the history: oldest $(jq -r .oldest "$d/status1.json") became $(jq -r .oldest "$d/status2.json")"
  check "$d/status2.json" ".processes >= $(jq -r .processes "$d/status1.json")" true "the restart keeps the first run's processes"
  until_json 5 "$d/victim.json" ".processes[] | select(.cmdline == [\"sleep\",\"$victim_marker\"]) | .exit_unseen == true" \
      history "$victim" --db "$d/h.db" --json \
    || bad "the victim killed while no recorder ran is not closed as exit_unseen"
  check "$d/victim.json" "[.processes[] | select(.cmdline == [\"sleep\",\"$victim_marker\"])] | length" 1 \
    "the victim is recorded once (not again as a new process)"
  check "$d/victim.json" ".processes[] | select(.cmdline == [\"sleep\",\"$victim_marker\"]) | \"\(.alive) \(.exit_time | type) \(.exit_code) \(.exit_signal)\"" \
    "false string null null" "exit unseen: an end time, no exit code or signal"
  # The restarted recorder writes: a new process appears.
  bash -c "exit 4" &
  local after=$!
  wait $after
  until_json 5 "$d/after.json" '.processes[] | select(.exit_code == 4)' history "$after" --db "$d/h.db" --json \
    || bad "the restarted recorder did not record pid $after"
  stop_recorder
  [ "$rec_rc" = 0 ] || bad "the restarted record exited $rec_rc on SIGTERM"
  ic=$(sqlite3 "$d/h.db" 'PRAGMA integrity_check' 2>&1)
  [ "$ic" = ok ] || bad "integrity_check after the restart: $ic"
}

# 6. tree --at before and after a re-parenting; why --at of the dead parent.
case_tree_at() {
  local d=$work/tree_at
  start_recorder "$d" || { bad "the recorder did not start: $(first_line "$d/record.err")"; return; }
  local m=$((6100000 + RANDOM))
  bash -c "sleep $m >/dev/null 2>&1 & sleep 1.2; exit 9" &
  local parent=$!
  local child
  child=$(find_pid "sleep $m" 5) || { bad "no sleep $m"; return; }
  started+=("$child")
  sleep 0.3
  local t_before t_after
  t_before=$(stamp)
  wait "$parent"
  local prc=$?
  [ $prc = 9 ] || bad "the parent shell exited $prc, not 9"
  local now_parent
  now_parent=$(ppid_of "$child")
  [ "$now_parent" != "$parent" ] || { bad "the sleep was not re-parented"; return; }
  sleep 0.3
  t_after=$(stamp)
  sleep 1.1  # a commit after t_after
  local parent_of='[.. | objects | select(has("children")) | select(any(.children[]; .pid == '"$child"')) | .pid] | map(tostring) | join(",")'
  lin "$d/before.json" tree --at "$t_before" --db "$d/h.db" --json
  [ $rc = 0 ] || bad "tree --at $t_before exited $rc: $(first_line "$d/before.json.err")"
  check "$d/before.json" "$parent_of" "$parent" "tree --at before: the sleep under the shell"
  check "$d/before.json" '[.. | objects | select(.pid? == '"$child"') | .ppid] | map(tostring) | join(",")' "$parent" "tree --at before: ppid"
  check "$d/before.json" '[.. | objects | select(.pid? == '"$parent"')] | length' 1 "tree --at before: the shell is there"
  lin "$d/after.json" tree --at "$t_after" --db "$d/h.db" --json
  [ $rc = 0 ] || bad "tree --at $t_after exited $rc: $(first_line "$d/after.json.err")"
  check "$d/after.json" "$parent_of" "$now_parent" "tree --at after: the sleep under its new parent"
  check "$d/after.json" '[.. | objects | select(.pid? == '"$child"') | .ppid] | map(tostring) | join(",")' "$now_parent" "tree --at after: ppid"
  check "$d/after.json" '[.. | objects | select(.pid? == '"$parent"' and .cmdline[0]? == "bash")] | length' 0 "tree --at after: the shell is gone"
  # Text: the same two parents.
  lin "$d/before.txt" tree --at "$t_before" --db "$d/h.db" -o pid,ppid,cmd -w
  grep -Eq "^[^0-9]*$child +$parent +.*sleep $m" "$d/before.txt" || bad "tree --at text before: no '$child $parent sleep $m'"
  # why --at of the parent, dead now.
  kill -0 "$parent" 2>/dev/null && [ "$(tr '\0' ' ' < /proc/$parent/cmdline 2>/dev/null)" = "bash -c sleep $m >/dev/null 2>&1 & sleep 1.2; exit 9 " ] \
    && bad "the parent shell still runs"
  lin "$d/why_at.json" why "$parent" --at "$t_before" --db "$d/h.db" --json
  [ $rc -le 1 ] || bad "why $parent --at $t_before exited $rc: $(first_line "$d/why_at.json.err")"
  check "$d/why_at.json" '.target.pid' "$parent" "why --at of the dead shell"
  check "$d/why_at.json" '.target.cmdline[0:2] | join(" ")' "bash -c" "why --at: the shell's command"
  check "$d/why_at.json" '.chain[-2].pid' $$ "why --at: the shell's parent"
  lin "$d/why_child.json" why "$child" --at "$t_before" --db "$d/h.db" --json
  check "$d/why_child.json" '.chain[-2].pid' "$parent" "why --at of the sleep: its parent then"
  # Relative time: 1 s after t_after is still after the re-parenting.
  lin "$d/rel.json" tree --at -1s --db "$d/h.db" --json
  check "$d/rel.json" "$parent_of" "$now_parent" "tree --at -1s"
  lin "$d/ago.json" tree --at "1s ago" --db "$d/h.db" --json
  check "$d/ago.json" "$parent_of" "$now_parent" "tree --at '1s ago'"
  # Before the history: one line, exit 2.
  lin "$d/early.txt" tree --at "2000-01-01T00:00:00Z" --db "$d/h.db"
  [ $rc = 2 ] && [ "$(wc -l < "$d/early.txt.err")" = 1 ] || bad "tree --at 2000-01-01: exit $rc, '$(first_line "$d/early.txt.err")' (want exit 2, one line)"
  # After now, as for --at: a usage error (exit 4).
  lin "$d/future.txt" history --since "2099-01-01T00:00:00Z" --db "$d/h.db"
  [ $rc = 4 ] && grep -q "in the future" "$d/future.txt.err" ||
    bad "history --since 2099: exit $rc, '$(first_line "$d/future.txt.err")' (want exit 4, in the future)"
  # --exe with a bare name: a usage error that names the way to ask.
  lin "$d/exe_name.txt" history --exe sleep --db "$d/h.db"
  [ $rc = 4 ] && grep -qF "lineage history sleep" "$d/exe_name.txt.err" ||
    bad "history --exe sleep: exit $rc, '$(first_line "$d/exe_name.txt.err")' (want exit 4 and the hint)"
  stop_recorder
}

# 7. Faults.
case_faults() {
  local d=$work/faults
  mkdir -p "$d"
  # A valid database to copy: a short recording.
  start_recorder "$d/ok" || { bad "the recorder did not start: $(first_line "$d/ok/record.err")"; return; }
  # Second instance: exit 4, naming the first's pid.
  lin "$d/second.txt" record --db "$d/ok/h.db"
  [ $rc = 4 ] || bad "a second recorder on the same db exited $rc, not 4"
  grep -q "pid $rec_pid" "$d/second.txt.err" || bad "the second recorder does not name pid $rec_pid: $(first_line "$d/second.txt.err")"
  # SIGTERM flushes: a process seen just before it is in the database.
  local m=$((6200000 + RANDOM))
  sleep "$m" &
  local s=$!
  started+=("$s")
  sleep 0.3
  stop_recorder TERM
  [ "$rec_rc" = 0 ] || bad "record exited $rec_rc on SIGTERM, not 0"
  grep -q "events, .* lost" "$d/ok/record.err" || bad "record printed no summary on SIGTERM"
  lin "$d/flushed.json" history "$s" --db "$d/ok/h.db" --json
  check "$d/flushed.json" "[.processes[] | select(.cmdline == [\"sleep\",\"$m\"])] | length" 1 "flushed on SIGTERM"
  lin "$d/status.json" record --status --db "$d/ok/h.db" --json
  check "$d/status.json" '.running' false "status after SIGTERM"
  [ $rc = 1 ] || bad "record --status of a stopped recorder exited $rc (help: 1 when not running?)"

  # A corrupt file: one line, non-zero, unchanged.
  head -c 200000 /dev/urandom > "$d/corrupt.db"
  local before after
  before=$(sha256sum < "$d/corrupt.db")
  lin "$d/corrupt.txt" history --db "$d/corrupt.db"
  [ $rc != 0 ] || bad "history on a corrupt file exited 0"
  [ "$(wc -l < "$d/corrupt.txt.err")" = 1 ] || bad "history on a corrupt file: not one line: $(first_line "$d/corrupt.txt.err")"
  grep -q "$d/corrupt.db" "$d/corrupt.txt.err" || bad "history on a corrupt file does not name it: $(first_line "$d/corrupt.txt.err")"
  lin "$d/corrupt_why.json" why $$ --db "$d/corrupt.db" --json
  lin "$d/corrupt_tree.txt" tree --at -1s --db "$d/corrupt.db"
  [ $rc != 0 ] && [ "$(wc -l < "$d/corrupt_tree.txt.err")" = 1 ] || bad "tree --at on a corrupt file: exit $rc, $(first_line "$d/corrupt_tree.txt.err")"
  after=$(sha256sum < "$d/corrupt.db")
  [ "$before" = "$after" ] || bad "the corrupt file was modified"
  [ -e "$d/corrupt.db-wal" ] || [ -e "$d/corrupt.db-journal" ] && bad "a journal was created next to the corrupt file"
  # Recording onto a corrupt file refuses too, and leaves it.
  lin "$d/corrupt_rec.txt" record --db "$d/corrupt.db" --duration 1
  [ $rc != 0 ] || bad "record on a corrupt file exited 0"
  [ "$(sha256sum < "$d/corrupt.db")" = "$before" ] || bad "record modified the corrupt file"

  # A newer schema version: refused, unchanged.
  cp "$d/ok/h.db" "$d/newer.db"
  sqlite3 "$d/newer.db" 'PRAGMA user_version=99' || bad "sqlite3 cannot set user_version"
  before=$(sha256sum < "$d/newer.db")
  lin "$d/newer.txt" history --db "$d/newer.db"
  [ $rc != 0 ] || bad "history on schema version 99 exited 0"
  [ "$(wc -l < "$d/newer.txt.err")" = 1 ] || bad "history on schema version 99: not one line: $(first_line "$d/newer.txt.err")"
  grep -q "99" "$d/newer.txt.err" || bad "history on schema version 99 does not say the version: $(first_line "$d/newer.txt.err")"
  lin "$d/newer_rec.txt" record --db "$d/newer.db" --duration 1
  [ $rc != 0 ] || bad "record on schema version 99 exited 0"
  [ "$(sha256sum < "$d/newer.db")" = "$before" ] || bad "the newer-schema file was modified"

  # --db naming a symlink (planted where root records): refused, and the
  # link's target keeps its mode and bytes.
  printf 'not yours\n' > "$d/target"
  chmod 0644 "$d/target"
  ln -s "$d/target" "$d/link.db"
  lin "$d/link.txt" record --db "$d/link.db" --duration 1
  [ $rc != 0 ] || bad "record on a symlinked --db exited 0"
  [ "$(stat -c %a "$d/target")" = 644 ] || bad "record changed the mode of a symlink's target to $(stat -c %a "$d/target")"
  [ "$(cat "$d/target")" = "not yours" ] || bad "record wrote through a symlinked --db"

  # Modes: under a permissive umask a new database and its lock are 0600,
  # and an existing world-readable database is made 0600 (it holds every
  # command line run here).
  mkdir -p "$d/mode"
  (umask 022 && exec "$LINEAGE" record --db "$d/mode/h.db" --duration 1 </dev/null >/dev/null 2>"$d/mode.err")
  for f in h.db h.db.lock; do
    [ "$(stat -c %a "$d/mode/$f" 2>&1)" = 600 ] || bad "a new $f under umask 022 is $(stat -c %a "$d/mode/$f" 2>&1), not 600"
  done
  chmod 0644 "$d/mode/h.db"
  (umask 022 && exec "$LINEAGE" record --db "$d/mode/h.db" --duration 1 </dev/null >/dev/null 2>>"$d/mode.err")
  [ "$(stat -c %a "$d/mode/h.db")" = 600 ] || bad "an existing 0644 database stayed $(stat -c %a "$d/mode/h.db")"
  # A default ACL of the directory overrides the umask (SQLite makes its
  # files 0644 less the umask): while the recorder runs, the database, its
  # WAL and shared memory (which hold every command line) and the lock are
  # still 0600 (an ACL's mask is the group bits), the directory 0700.
  if command -v setfacl >/dev/null && mkdir -p "$d/acl" && setfacl -d -m o::r,u:65534:rw "$d/acl" 2>/dev/null; then
    "$LINEAGE" record --db "$d/acl/sub/h.db" --duration 20 </dev/null >/dev/null 2>>"$d/mode.err" &
    local acl_rec=$!
    started+=("$acl_rec")
    for _ in $(seq 100); do  # running: its writer is open, the modes set
      [ "$("$LINEAGE" record --status --db "$d/acl/sub/h.db" --json 2>/dev/null | jq -r .running)" = true ] && break
      sleep 0.1
    done
    for f in sub sub/h.db sub/h.db-wal sub/h.db-shm sub/h.db.lock; do
      want=600; [ $f = sub ] && want=700
      [ "$(stat -c %a "$d/acl/$f" 2>&1)" = $want ] ||
        bad "under a default ACL (other: r, nobody: rw) $f is $(stat -c %a "$d/acl/$f" 2>&1), not $want"
    done
    # Setting the modes must not drop SQLite's POSIX locks (closing any
    # descriptor of a file drops all of a process's locks on it): the
    # recorder still holds its read lock on the -shm's DMS byte (128), or a
    # reader would take the -shm for unused, truncate it under the
    # recorder's mapping, and the recorder die of SIGBUS.
    holder=$(python3 - "$d/acl/sub/h.db-shm" <<'PY'
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
# struct flock: short type, short whence, off_t start, off_t len, pid_t pid
got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 128, 1, 0))
kind, _, _, _, pid = struct.unpack("hhqqi4x", got)
print(pid if kind == fcntl.F_RDLCK else "none")
PY
)
    [ "$holder" = "$acl_rec" ] || bad "the recorder (pid $acl_rec) does not hold its -shm lock after setting the modes (holder: $holder)"
    kill -TERM "$acl_rec" 2>/dev/null
    wait "$acl_rec" 2>/dev/null
  else
    bad "setfacl is not installed or the file system has no ACLs (bash scripts/deps.sh test installs acl)"
  fi

  # A database another user may not read (0600, in a directory they may
  # enter): exit 3, naming the file and why, for history and record --status.
  chmod 755 "$d" "$d/mode"
  for args in history "record --status"; do
    # shellcheck disable=SC2086  # two words for record --status
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$LINEAGE" $args --db "$d/mode/h.db" 2>&1); rc=$?
    [ $rc = 3 ] && grep -qF "$d/mode/h.db: Permission denied" <<<"$out" ||
      bad "$args of an unreadable database as nobody: exit $rc, '$out' (want exit 3, the path, Permission denied)"
  done

  # No database: history says how to start recording, exit 2.
  lin "$d/none.txt" history --db "$d/none/h.db"
  [ $rc = 2 ] || bad "history without a database exited $rc, not 2"
  grep -q "lineage record" "$d/none.txt.err" || bad "history without a database does not say how to start: $(first_line "$d/none.txt.err")"
  [ -e "$d/none" ] && bad "history without a database created $d/none"
  # why without a database works as today.
  lin "$d/none_why.json" why $$ --db "$d/none/h.db" --json
  check "$d/none_why.json" '.target.pid' $$ "why with a missing --db"

  # A read-only directory (a read-only tmpfs: root ignores mode bits).
  mkdir -p "$d/ro"
  if mount -t tmpfs -o ro,size=1m lineage-it-ro "$d/ro" 2>"$d/mount.err"; then
    mounts+=("$d/ro")
    lin "$d/ro.txt" record --db "$d/ro/h.db" --duration 1
    [ $rc = 3 ] || bad "record in a read-only directory exited $rc, not 3: $(first_line "$d/ro.txt.err")"
    grep -q "$d/ro/h.db" "$d/ro.txt.err" || bad "record in a read-only directory does not name the path: $(first_line "$d/ro.txt.err")"
    lin "$d/ro2.txt" record --db "$d/ro/sub/h.db" --duration 1
    [ $rc = 3 ] || bad "record in a missing directory of a read-only fs exited $rc, not 3"
    grep -q "$d/ro/sub" "$d/ro2.txt.err" || bad "record does not name $d/ro/sub: $(first_line "$d/ro2.txt.err")"
    umount "$d/ro" && mounts=("${mounts[@]/$d\/ro/}")
  else
    echo "  (faults: read-only part skipped: cannot mount a tmpfs: $(first_line "$d/mount.err"))"
  fi

  # A full filesystem: the recorder keeps records in memory, says so once,
  # and writes again when space returns.
  mkdir -p "$d/full"
  if mount -t tmpfs -o size=2m lineage-it-full "$d/full" 2>"$d/mount.err"; then
    mounts+=("$d/full")
    if start_recorder "$d/full"; then
      # Fill what is left (the database and its WAL are open already).
      dd if=/dev/zero of="$d/full/fill" bs=16k 2>/dev/null
      local i
      for i in $(seq 100); do /bin/true "full-$i"; done
      sleep 2.5
      kill -0 "$rec_pid" 2>/dev/null || bad "record died on a full filesystem: $(first_line "$d/full/record.err")"
      local said
      said=$(grep -c "in memory" "$d/full/record.err")
      [ "$said" = 1 ] || bad "record said $said times that it keeps records in memory (want once): $(first_line "$d/full/record.err")"
      for i in $(seq 30); do /bin/true "full2-$i"; done
      sleep 1.5
      said=$(grep -c "in memory" "$d/full/record.err")
      [ "$said" = 1 ] || bad "record said $said times (after more events) that it keeps records in memory"
      rm -f "$d/full/fill"
      local m2=$((6300000 + RANDOM))
      sleep "$m2" &
      local s2=$!
      started+=("$s2")
      until_json 6 "$d/full.json" "[.processes[] | select(.cmdline == [\"sleep\",\"$m2\"])] | length == 1" \
          history "$s2" --db "$d/full/h.db" --json \
        || bad "record did not write again after space returned: $(tail -n 2 "$d/full/record.err" | tr '\n' ' ')"
      lin "$d/full_true.json" history true --db "$d/full/h.db" --limit 100000 --json
      check "$d/full_true.json" '[.processes[] | .cmdline[1] // "" | select(startswith("full-"))] | length' 100 \
        "the processes recorded while the disk was full are written after"
      grep -q "writable again" "$d/full/record.err" || bad "record did not say it writes again"
      stop_recorder
      [ "$rec_rc" = 0 ] || bad "record exited $rec_rc on SIGTERM after the full filesystem"
      local ic
      ic=$(sqlite3 "$d/full/h.db" 'PRAGMA integrity_check' 2>&1)
      [ "$ic" = ok ] || bad "integrity_check after the full filesystem: $ic"
    else
      bad "the recorder did not start on the small tmpfs: $(first_line "$d/full/record.err")"
    fi
    cp "$d/full/record.err" "$d/full.record.err" 2>/dev/null
    umount "$d/full" && mounts=("${mounts[@]/$d\/full/}")
  else
    echo "  (faults: full-filesystem part skipped: cannot mount a tmpfs: $(first_line "$d/mount.err"))"
  fi
}

# 8. Adoption by a child subreaper (not init): the detectors see no orphan,
# yet the parent did not fork the target. python3 makes itself a subreaper
# with prctl(PR_SET_CHILD_SUBREAPER), then runs a shell, leading its own
# session as a login shell does, that starts a sleep in the background and
# exits 4: the sleep is re-parented to python3, in a session that is not
# its parent's (the /proc hint that makes why ask the history).
case_subreaper() {
  local d=$work/subreaper
  command -v python3 >/dev/null || { skip_case "python3 is not installed"; return; }
  start_recorder "$d" || { bad "the recorder did not start: $(first_line "$d/record.err")"; return; }
  local marker=$((7700000 + RANDOM))
  python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit(3)
child = os.fork()
if child == 0:
    os.setsid()  # a login shell leads its session; the sleep inherits it
    os.execvp("sh", ["sh", "-c", "sleep " + sys.argv[1] + " >/dev/null 2>&1 & exit 4"])
os.waitpid(child, 0)
time.sleep(600)
' "$marker" </dev/null >/dev/null 2>"$d/reaper.err" &
  local reaper=$!
  started+=("$reaper")
  local pid
  pid=$(find_pid "sleep $marker" 5) || { bad "no sleep $marker: $(first_line "$d/reaper.err")"; return; }
  started+=("$pid")
  for _ in $(seq 50); do [ "$(ppid_of "$pid")" = "$reaper" ] && break; sleep 0.1; done
  [ "$(ppid_of "$pid")" = "$reaper" ] || { bad "sleep $pid was not adopted by the subreaper $reaper (ppid $(ppid_of "$pid"))"; return; }
  until_json 5 "$d/why.json" '[.chain[] | select(.alive == false)] | length == 1' why "$pid" --db "$d/h.db" --json \
    || bad "why does not show the exited shell between the subreaper and the sleep within 5 s"
  local j=$d/why.json
  check "$j" '.target.ppid' "$reaper" "the sleep's current parent is the subreaper"
  check "$j" '.chain[-2] | "\(.comm) \(.alive) \(.recorded) \(.exit_code)"' "sh false true 4" \
    "the exited shell is the recorded parent"
  check "$j" '.chain[-3].pid' "$reaper" "the subreaper, alive, above the shell"
  check "$j" '.chain[-3].alive != false' true "the subreaper is alive"
  check "$j" '[.sources[] | select(.kind == "orphan") | .details.current_parent] | join(",")' "$reaper" \
    "an orphan source names the subreaper as the current parent"
  lin "$d/why.txt" why "$pid" --db "$d/h.db"
  grep -Eq "\\(exited [0-9]{2}:[0-9]{2}:[0-9]{2}, code 4\\)" "$d/why.txt" || bad "why text lacks '(exited HH:MM:SS, code 4)'"
  # A process its parent did forked is left as it is: the subreaper's own chain.
  lin "$d/why_reaper.json" why "$reaper" --db "$d/h.db" --json
  check "$d/why_reaper.json" '[.chain[] | select(.alive == false)] | length' 0 "the subreaper's chain has nothing exited"
  check "$d/why_reaper.json" '[.sources[] | select(.kind == "orphan")] | length' 0 "no orphan source for the subreaper"
  stop_recorder
}

# ---------------------------------------------------------------- main

ordered=()
# The cron job runs at the next minute: queue it first, check it last.
run_cron=0
for c in "${cases[@]}"; do [ "$c" = cron ] && run_cron=1; done
[ $run_cron = 1 ] && cron_start
for c in "${cases[@]}" ; do
  [ "$c" = cron ] && continue
  ordered+=("$c")
done
[ $run_cron = 1 ] && ordered+=(cron)
# A case that returned early leaves its recorder: stop it.
after_case() {
  if [ -n "$rec_pid" ] && kill -0 "$rec_pid" 2>/dev/null; then kill -TERM "$rec_pid"; wait "$rec_pid" 2>/dev/null; fi
}
for c in "${ordered[@]}"; do
  rec_pid=""
  run_case "$c"
done
exit $failed
