#!/usr/bin/env bash
# Integration tests of `lineage why` against real launchers, started here on
# loopback: sshd, tmux, screen, supervisord, a nohup/double-fork orphan and a
# real PID namespace. Usage: why_launchers.sh CASE LINEAGE_BINARY
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
  expect '.sources[0].details.client' 127.0.0.1
  expect '.sources[0].details.user' root
  expect '.target.pid' "$pid"
  expect '[.chain[] | select(.exe == "/usr/sbin/sshd")] | length > 0' true
  expect '.summary | startswith("ssh session of root from 127.0.0.1 started")' true
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
  expect '.sources[0].name' lineage-tmux-it
  expect '.sources[0].pid' "$server"
  pid2=$(find_pid "sleep 4000002") || fail "no second pane"
  started+=("$pid2")
  why_json "$pid2"
  expect '.sources[0].name' other-session
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
  [ -x /usr/sbin/cron ] || skip "cron is not installed"
  marker=$((5000000 + RANDOM))
  entry="* * * * * root sleep $marker"
  printf '# lineage integration test\nSHELL=/bin/sh\n%s\n' "$entry" > /etc/cron.d/lineage-it
  chmod 644 /etc/cron.d/lineage-it
  cleanup_extra="rm -f /etc/cron.d/lineage-it"
  if ! pgrep -x cron >/dev/null; then
    /usr/sbin/cron -f </dev/null >/dev/null 2>&1 &
    started+=($!)
  fi
  # cron reads /etc/cron.d each minute: the job starts within about 60 s.
  pid=$(find_pid "sleep $marker" 75) || fail "cron did not run the job within 75 s"
  started+=("$pid")
  why_json "$pid"
  expect '.sources[0].kind' cron
  expect '.sources[0].details.crontab' /etc/cron.d/lineage-it
  expect '.sources[0].details.line' 3
  expect '.sources[0].details.user' root
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
