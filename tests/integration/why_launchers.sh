#!/usr/bin/env bash
# Integration tests of `lineage why` against real launchers, started here on
# loopback: sshd, tmux, screen, supervisord, a nohup/double-fork orphan (and
# orphans of a live tmux pane and ssh login, named through their session
# leader), a real PID namespace, cron, atd and busybox crond.
# Usage: why_launchers.sh CASE LINEAGE_BINARY
# The cron case also runs the at and busybox-crond cases while it waits for
# cron's minute (each part that the machine lacks is skipped, with a note);
# `at` and `busybox-crond` run them alone.
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
set -euo pipefail
case_name=${1:?case}
LINEAGE=${2:?lineage binary}
work=$(mktemp -d /tmp/lineage-it.XXXXXX)
chmod 755 "$work"
started=()   # pids this test started; only these are stopped

cleanup() {
  local pid
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give daemons (supervisord stops its programs) up to 5 s, then force.
  for _ in $(seq 50); do
    local alive=0
    for pid in "${started[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "${cleanup_extra:-}" ] && eval "$cleanup_extra"
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$work/out.json" ] && cat "$work/out.json" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null || skip "$1 is not installed"; }

# The pid of the newest process whose command line is exactly $1.
find_pid() {
  local want=$1 deadline=$((SECONDS + ${2:-10}))
  while [ $SECONDS -lt $deadline ]; do
    for d in /proc/[0-9]*; do
      { [ "$(tr '\0' ' ' < "$d/cmdline")" = "$want " ]; } 2>/dev/null && { echo "${d#/proc/}"; return 0; }
    done
    sleep 0.1
  done
  return 1
}

why_json() {
  local rc=0
  "$LINEAGE" why "$@" --json > "$work/out.json" || rc=$?
  [ $rc -le 1 ] || fail "lineage why $* exited $rc"
}
expect() {  # expect JQ_FILTER EXPECTED
  local got
  got=$(jq -r "$1" "$work/out.json")
  [ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"
}

# A `nohup sleep MARKER &` that a subshell of the session leader LEADER
# started and left (so it is re-parented): `why` must find the launcher of
# KIND through the leader, marked as found via the session.
orphan_in_session() {
  local leader=$1 marker=$2 kind=$3 pid
  pid=$(find_pid "sleep $marker") || fail "no orphan in the $kind session"
  started+=("$pid")
  [ "$(awk '{print $4}' "/proc/$pid/stat")" = 1 ] || skip "not re-parented to pid 1 here (a subreaper?)"
  [ "$(awk '{print $6}' "/proc/$pid/stat")" = "$leader" ] || fail "sleep $marker is not in the session of pid $leader"
  why_json "$pid"
  expect '.sources[0].kind' orphan
  expect '.sources[0].details.session_leader' "$leader"
  expect '.sources[1].kind' "$kind"
  expect '.sources[1].verified' true
  expect '.sources[1].details.via' session
  expect '.sources[1].details.session_leader' "$leader"
  expect '.sources[1].evidence[0] | startswith("same session as pid '"$leader"' (leader, alive)")' true
  expect '.session_chain | last | .pid' "$leader"
  expect '[.chain[].pid] | index('"$leader"')' null  # not on the orphan's own chain
  expect '.warnings | map(.id) | index("unverified-launcher")' null
}

# Parts of the cron case: *_start queues a job, *_check waits for it and
# checks `why`. A part the machine lacks skips the case when run alone,
# and only itself inside the cron case.
skip_part() {
  [ "$case_name" = cron ] || skip "$1"
  echo "SKIP (part of cron): $1"
  return 1
}

at_start() {
  { [ -x /usr/sbin/atd ] && command -v at >/dev/null; } || { skip_part "at is not installed"; return 1; }
  [ "$(id -u)" = 0 ] || { skip_part "queueing for atd's spool needs root"; return 1; }
  local running
  running=$(cat /run/atd.pid 2>/dev/null || true)
  if [ -z "$running" ] || [ "$(readlink "/proc/$running/exe" 2>/dev/null)" != /usr/sbin/atd ]; then
    /usr/sbin/atd -f </dev/null >/dev/null 2>&1 &
    started+=($!)
  fi
  at_marker=$((6000000 + RANDOM))
  local out
  out=$(echo "sleep $at_marker" | at now 2>&1) || fail "at refused the job: $out"
  at_job=$(printf '%s\n' "$out" | sed -n 's/^job \([0-9][0-9]*\) at .*/\1/p')
  [ -n "$at_job" ] || fail "no job number from at: $out"
}

at_check() {
  local pid shell
  pid=$(find_pid "sleep $at_marker" 20) || fail "atd did not run job $at_job within 20 s"
  shell=$(awk '{print $4}' "/proc/$pid/stat")
  started+=("$pid" "$shell")  # the job's shell and its sleep; atd's child ends with them
  why_json "$pid"
  expect '.sources[0].kind' at
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].name' "job $at_job"
  expect '.sources[0].details.job' "$at_job"
  expect '.sources[0].details.queue' a
  expect '.sources[0].details.user' root
  expect '.sources[0].details.daemon' atd
  # atd runs job N from atjobs/=NNNNN... (renamed from aNNNNN... while it runs).
  local file
  file=$(jq -r '.sources[0].details.spool_file' "$work/out.json")
  case "$file" in
    /var/spool/cron/atjobs/=$(printf '%05x' "$at_job")????????) ;;
    *) fail "spool_file: unexpected $file" ;;
  esac
  [ -f "$file" ] || fail "spool_file $file does not exist"
  expect '.sources[0].evidence | any(startswith("fd 0 of pid '"$shell"' is /var/spool/cron/atjobs/a"))' true
  echo "at: job $at_job ok"
}

bbcron_start() {
  command -v busybox >/dev/null || { skip_part "busybox is not installed"; return 1; }
  busybox --list 2>/dev/null | grep -qx crond || { skip_part "busybox has no crond applet"; return 1; }
  [ "$(id -u)" = 0 ] || { skip_part "busybox crond reads only root-owned crontabs"; return 1; }
  bb_marker=$((7000000 + RANDOM))
  mkdir "$work/bbcron"
  printf '# lineage integration test\n* * * * * sleep %s   # every minute\n' "$bb_marker" > "$work/bbcron/root"
  busybox crond -f -c "$work/bbcron" -L "$work/bbcron.log" </dev/null >/dev/null 2>&1 &
  bb_crond=$!
  started+=("$bb_crond")
}

bbcron_check() {
  local pid
  # busybox crond wakes each minute too: about 60 s, in parallel with cron's.
  pid=$(find_pid "sleep $bb_marker" 75) || { cat "$work/bbcron.log" >&2; fail "busybox crond did not run the job within 75 s"; }
  started+=("$pid")
  why_json "$pid"
  expect '.sources[0].kind' cron
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].pid' "$bb_crond"
  expect '.sources[0].details.daemon' "busybox crond"
  expect '.sources[0].details.crontab' "$work/bbcron/root"
  expect '.sources[0].details.line' 2
  expect '.sources[0].details.user' root
  expect '.sources[0].details.command' "sleep $bb_marker"
  expect '.sources[0].evidence[0] | endswith("as its crond applet (argv: busybox crond -f -c '"$work"'/bbcron -L '"$work"'/bbcron.log)")' true
  echo "busybox crond: ok"
}

cron_start() {
  [ -x /usr/sbin/cron ] || skip "cron is not installed"
  cron_marker=$((5000000 + RANDOM))
  entry="* * * * * root sleep $cron_marker"
  printf '# lineage integration test\nSHELL=/bin/sh\n%s\n' "$entry" > /etc/cron.d/lineage-it
  chmod 644 /etc/cron.d/lineage-it
  cleanup_extra="rm -f /etc/cron.d/lineage-it"
  # The daemon (argv cron), not a job's CRON child outliving a daemon now gone.
  if ! pgrep -f '^(/usr/sbin/)?cron( |$)' >/dev/null; then
    /usr/sbin/cron -f </dev/null >/dev/null 2>&1 &
    started+=($!)
  fi
}

cron_check() {
  local pid
  # cron reads /etc/cron.d each minute: the job starts within about 60 s.
  pid=$(find_pid "sleep $cron_marker" 75) || fail "cron did not run the job within 75 s"
  started+=("$pid")
  why_json "$pid"
  expect '.sources[0].kind' cron
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].details.crontab' /etc/cron.d/lineage-it
  expect '.sources[0].details.line' 3
  expect '.sources[0].details.user' root
  expect '.sources[0].details.daemon' cron
}

case "$case_name" in
ssh)
  need /usr/sbin/sshd; need ssh; need ssh-keygen
  mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
  cp "$work/client_key.pub" "$work/authorized_keys"
  port=$((20000 + RANDOM % 20000))
  cat > "$work/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PidFile $work/sshd.pid
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
CFG
  /usr/sbin/sshd -D -f "$work/sshd_config" -E "$work/sshd.log" </dev/null >/dev/null 2>&1 &
  started+=($!)
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  marker=$((3000000 + RANDOM))
  ssh -T -i "$work/client_key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@127.0.0.1" "sleep $marker" </dev/null >/dev/null 2>&1 &
  started+=($!)
  pid=$(find_pid "sleep $marker" 15) || { cat "$work/sshd.log" >&2; fail "the ssh session did not start"; }
  started+=("$pid")
  why_json "$pid"
  expect '.sources[0].kind' ssh
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].details.client' 127.0.0.1
  # The client from the connection a root sshd holds, not only the environment.
  expect '.sources[0].evidence | any(contains("(root) holds the TCP connection from 127.0.0.1 port"))' true
  expect '.sources[0].details.user' root
  expect '.target.pid' "$pid"
  expect '[.chain[] | select(.exe == "/usr/sbin/sshd")] | length > 0' true
  expect '.summary | startswith("ssh session of root from 127.0.0.1 started")' true
  # An orphan of an ssh login that is still open: named through its leader.
  omarker=$((3100000 + RANDOM)); lmarker=$((3200000 + RANDOM))
  ssh -T -i "$work/client_key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@127.0.0.1" \
      "(nohup sleep $omarker >/dev/null 2>&1 &); exec sleep $lmarker" </dev/null >/dev/null 2>&1 &
  started+=($!)
  leader=$(find_pid "sleep $lmarker" 15) || { cat "$work/sshd.log" >&2; fail "the second ssh session did not start"; }
  started+=("$leader")
  orphan_in_session "$leader" "$omarker" ssh
  expect '.sources[1].details.client' 127.0.0.1
  expect '.sources[1].details.user' root
  expect '.summary | contains("from the session of sleep '"$lmarker"' (pid '"$leader"'): ssh session of root from 127.0.0.1 started sleep")' true
  ;;
tmux)
  need tmux
  sock="$work/tmux.sock"
  tmux -S "$sock" new-session -d -s lineage-tmux-it "sleep 4000001"
  tmux -S "$sock" new-session -d -s other-session "sleep 4000002"
  server=$(tmux -S "$sock" display-message -p '#{pid}')
  started+=("$server")
  pid=$(find_pid "sleep 4000001") || fail "no tmux pane process"
  started+=("$pid")
  why_json "$pid"
  expect '.sources[0].kind' tmux
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].name' lineage-tmux-it
  expect '.sources[0].pid' "$server"
  pid2=$(find_pid "sleep 4000002") || fail "no second pane"
  started+=("$pid2")
  why_json "$pid2"
  expect '.sources[0].name' other-session
  # `nohup sleep &` from a subshell of a pane's shell, which stays open.
  tmux -S "$sock" new-session -d -s lineage-orphan-it \
      "(nohup sleep 4000011 >/dev/null 2>&1 &); exec sleep 4000012"
  leader=$(find_pid "sleep 4000012") || fail "no pane process in lineage-orphan-it"
  started+=("$leader")
  orphan_in_session "$leader" 4000011 tmux
  expect '.sources[1].name' lineage-orphan-it
  expect '.sources[1].pid' "$server"
  expect '.summary | contains("from the session of sleep 4000012 (pid '"$leader"'): tmux session '"'"'lineage-orphan-it'"'"' started sleep")' true
  ;;
screen)
  need screen
  screen -dmS lineage-screen-it sleep 4000003 </dev/null >/dev/null 2>&1
  pid=$(find_pid "sleep 4000003") || fail "no screen window process"
  started+=("$pid")
  server=$(awk '{print $4}' "/proc/$pid/stat")
  started+=("$server")
  why_json "$pid"
  expect '.sources[0].kind' screen
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].name' lineage-screen-it
  ;;
supervisord)
  need supervisord
  cat > "$work/supervisord.conf" <<CFG
[supervisord]
nodaemon=true
logfile=$work/supervisord.log
pidfile=$work/supervisord.pid
[unix_http_server]
file=$work/supervisor.sock
[program:lineage-worker]
command=sleep 4000004
autorestart=true
CFG
  supervisord -c "$work/supervisord.conf" </dev/null >/dev/null 2>&1 &
  started+=($!)
  pid=$(find_pid "sleep 4000004" 15) || fail "supervisord did not start the program"
  started+=("$pid")
  why_json "$pid"
  expect '.sources[0].kind' supervisor
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].details.manager' supervisord
  expect '.sources[0].details.program' lineage-worker
  expect '.warnings | map(.id) | index("no-supervisor")' null
  ;;
orphan)
  # A double fork from a session: the intermediate parent exits at once.
  setsid bash -c 'nohup sleep 4000005 >/dev/null 2>&1 & exit 0' </dev/null >/dev/null 2>&1 &
  wait $!
  pid=$(find_pid "sleep 4000005") || fail "no orphan"
  started+=("$pid")
  [ "$(awk '{print $4}' "/proc/$pid/stat")" = 1 ] || skip "not re-parented to pid 1 here (a subreaper?)"
  why_json "$pid"
  expect '.sources[0].kind' orphan
  expect '.warnings | map(.id) | index("no-supervisor") != null' true
  expect '.chain[0].pid' 1
  # setsid made bash the session's leader, and bash has exited: no session chain.
  expect '.sources[0].details.session_leader_exited' true
  expect '.sources[0].details.session_leader' null
  expect '.session_chain' null
  expect '.summary | endswith("whose leader has exited")' true
  ;;
pidns)
  need unshare
  unshare --pid --fork --mount-proc sleep 4000006 </dev/null >/dev/null 2>&1 &
  unshare_pid=$!
  started+=("$unshare_pid")
  pid=""
  for _ in $(seq 100); do  # the namespace's pid 1 is unshare's child
    pid=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')
    [ -n "$pid" ] && [ "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" = "sleep 4000006 " ] && break
    sleep 0.05
  done
  [ -n "$pid" ] || fail "no process in the new pid namespace"
  started+=("$pid")
  why_json "$pid"
  expect '.target.nspid | last' 1
  expect '.target.pidns != .chain[0].pidns' true
  expect '[.chain[].pid] | index('"$unshare_pid"') != null' true
  "$LINEAGE" why "$pid" > "$work/out.txt" || true
  grep -q "(ns pid 1)" "$work/out.txt" || fail "text output does not show the in-namespace pid"
  ;;
cron)
  # cron, busybox crond and atd at once: the minute's wait is paid once.
  cron_start
  bb=0; bbcron_start && bb=1
  at=0; at_start && at=1
  if [ $at = 1 ]; then at_check; fi
  cron_check
  if [ $bb = 1 ]; then bbcron_check; fi
  ;;
at)
  at_start
  at_check
  ;;
busybox-crond)
  bbcron_start
  bbcron_check
  ;;
docker)
  state="$work/docker-state"
  mkdir -p "$state"
  status=$(bash "$(dirname "$0")/docker_env.sh" "$state" | tail -n 1)
  case "$status" in docker-unavailable*) skip "$status" ;; esac
  cleanup_extra="docker rm -f lineage-it-web >/dev/null 2>&1; bash '$(dirname "$0")/docker_env.sh' stop '$state' >/dev/null 2>&1"
  docker rm -f lineage-it-web >/dev/null 2>&1 || true
  docker run -d --name lineage-it-web lineage-busybox:test sleep 4000008 >/dev/null
  pid=$(find_pid "sleep 4000008" 20) || fail "the container did not start"
  why_json "$pid"
  expect '.sources[0].kind' container
  expect '.sources[0].verified' true  # the real launcher passes verification
  expect '.warnings | map(.id) | index("unverified-launcher")' null
  expect '.sources[0].details.runtime' docker
  expect '.sources[0].details.name' lineage-it-web
  expect '.sources[0].details.image' lineage-busybox:test
  expect '.target.nspid | last' 1
  why_json --container lineage-it-web
  expect '.target.pid' "$pid"
  ;;
*)
  echo "unknown case $case_name" >&2; exit 2 ;;
esac
echo "PASS: $case_name"
