#!/usr/bin/env bash
# Integration tests of `lineage audit` rules masquerade, privilege-gain,
# ptrace-attached, ld-preload, zombie-accumulation (case `local`) and
# outside-container (case `docker`, with a real Docker daemon) on real
# reproductions, each with a negative case that must not fire.
# Usage: audit_b.sh CASE LINEAGE_BINARY      (needs root)
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
set -euo pipefail
case_name=${1:?case}
LINEAGE=${2:?lineage binary}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
work=$(mktemp -d /tmp/lineage-audit-b.XXXXXX)
chmod 755 "$work"
started=()      # pids this test started; only these are stopped
test_user=""    # created here, removed on exit
cleanup_extra=""

# The pids below the given ones, from one ps.
descendants() {
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = split(roots, todo); for (i = 1; i <= n; i++) { m = split(kids[todo[i]], k)
            for (j = 1; j <= m; j++) { print k[j]; todo[++n] = k[j] } } }'
}
cleanup() {
  local pid
  # With their descendants: a sleep left by a killed strace or su would hold
  # the test's output open for its 30 s.
  # shellcheck disable=SC2046
  [ ${#started[@]} -gt 0 ] && kill -KILL $(descendants "${started[@]}") 2>/dev/null
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$cleanup_extra" ] && eval "$cleanup_extra"
  [ -n "$test_user" ] && userdel -f "$test_user" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$work/out.json" ] && head -c 6000 "$work/out.json" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null || skip "$1 is not installed"; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 is not installed"

# audit RULE: lineage audit --rule RULE --json into $work/out.json (exit 0 or 1).
audit() {
  local rc=0
  "$LINEAGE" audit --rule "$1" --json >"$work/out.json" || rc=$?
  [ $rc -le 1 ] || fail "lineage audit --rule $1 exited $rc"
}

# finding PID FIELD: a field of the finding about PID ("" when none):
# rule, severity, title, related_pid, chain_pids, chain_last, evidence.
finding() {
  "$PY" - "$work/out.json" "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "lineage.audit/v1"
pid, field = int(sys.argv[2]), sys.argv[3]
for f in doc["findings"]:
    if f["pid"] == pid:
        if field == "chain_pids": print(" ".join(str(c["pid"]) for c in f["chain"]))
        elif field == "chain_last": print(f["chain"][-1]["pid"] if f["chain"] else "")
        elif field == "evidence": print("\n".join(f["evidence"]))
        else: print(f[field] if f[field] is not None else "")
        break
PY
}

# expect_finding PID RULE SEVERITY TITLE_PART [CHAIN_PID]: the finding exists,
# its chain ends with PID (the culprit) and passes through CHAIN_PID.
expect_finding() {
  local pid=$1 rule=$2 sev=$3 title=$4 through=${5:-}
  [ "$(finding "$pid" rule)" = "$rule" ] || fail "no $rule finding about pid $pid"
  [ "$(finding "$pid" severity)" = "$sev" ] || fail "$rule about $pid: severity $(finding "$pid" severity), expected $sev"
  case "$(finding "$pid" title)" in *"$title"*) ;; *) fail "$rule about $pid: title '$(finding "$pid" title)' lacks '$title'" ;; esac
  [ "$(finding "$pid" chain_last)" = "$pid" ] || fail "$rule about $pid: the chain does not end with it"
  if [ -n "$through" ]; then
    case " $(finding "$pid" chain_pids) " in *" $through "*) ;; *) fail "$rule about $pid: chain lacks $through" ;; esac
  fi
}
evidence_has() {  # evidence_has PID GREP_OPTION PATTERN (a line of the evidence)
  grep -q ${2:+"$2"} -- "$3" <<<"$(finding "$1" evidence)"
}
expect_none() {  # expect_none PID WHAT
  [ -z "$(finding "$1" rule)" ] || fail "$2 (pid $1): unexpected finding '$(finding "$1" title)'"
}
expect_at_most_info() {  # expect_at_most_info PID WHAT
  case "$(finding "$1" severity)" in ""|info) ;; *) fail "$2 (pid $1): $(finding "$1" severity) '$(finding "$1" title)'" ;; esac
}

# wait_for CMD...: up to 10 s.
wait_for() {
  local deadline=$((SECONDS + 10))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}
exe_is() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]; }
tracer_of() { awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
traced() { [ "$(tracer_of "$1")" != "" ] && [ "$(tracer_of "$1")" != 0 ]; }
zombies_of() { local n=0 d; for d in /proc/[0-9]*; do
  { read -r _ _ st pp _ <"$d/stat"; } 2>/dev/null || continue
  [ "$st" = Z ] && [ "$pp" = "$1" ] && n=$((n + 1)); done; echo $n; }
have_zombies() { [ "$(zombies_of "$1")" -ge "$2" ]; }

make_user() {
  need useradd
  need setpriv
  test_user="lbaud$$"
  useradd -M -d /nonexistent -s /bin/sh "$test_user" || { test_user=""; skip "useradd failed"; }
  uid=$(id -u "$test_user")
  gid=$(id -g "$test_user")
  as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)  # execs: $! is the user's process
}

case_masquerade() {
  mkdir -p "$work/.hidden" "$work/x"
  cp /bin/sleep "$work/.hidden/sleep"
  cp /bin/sleep "$work/x/sleep"
  cp /bin/sleep "$work/x/bash"
  local claim=sshd
  [ -e /usr/sbin/sshd ] || [ -e /usr/bin/sshd ] || claim=sh  # argv[0] must name an installed program
  (exec -a '[kworker/0:1]' "$work/.hidden/sleep" 30) & local kworker=$!; started+=("$kworker")
  (exec -a "$claim" "$work/x/sleep" 30) & local fake=$!; started+=("$fake")
  (exec -a -bash "$work/x/bash" 30) & local login=$!; started+=("$login")
  (exec -a 'sshd: alice@pts/0' "$work/x/sleep" 30) & local title=$!; started+=("$title")
  wait_for exe_is "$kworker" "$work/.hidden/sleep" || fail "the kworker sleep did not start"
  wait_for exe_is "$fake" "$work/x/sleep" || fail "the $claim sleep did not start"
  wait_for exe_is "$login" "$work/x/bash" || fail "the -bash sleep did not start"
  wait_for exe_is "$title" "$work/x/sleep" || fail "the titled sleep did not start"
  audit masquerade
  expect_finding "$kworker" masquerade high "named like a kernel thread ([kworker/0:1])" $$
  expect_finding "$fake" masquerade high "argv[0] says $claim but it runs $work/x/sleep" $$
  evidence_has "$fake" -x "exe $work/x/sleep" || fail "masquerade: no exe evidence"
  expect_none "$login" "a login shell -bash"
  expect_none "$title" "a process title 'sshd: alice@pts/0'"
  expect_none $$ "the test's own shell"
  echo "ok masquerade"
}

case_privilege_gain() {
  need gcc
  mkdir -p "$work/suid"
  chmod 755 "$work/suid"
  printf '#include <unistd.h>\nint main(void) { sleep(30); return 0; }\n' >"$work/helper.c"
  gcc -O1 -o "$work/suid/helper" "$work/helper.c" || skip "gcc cannot build a test program"
  chown root:root "$work/suid/helper"
  chmod 4755 "$work/suid/helper"
  "${as_user[@]}" sh -c "'$work/suid/helper' & wait" & local shell=$!
  started+=("$shell")
  local helper; helper=$(child_named "$shell" helper) || fail "the setuid helper did not start"
  started+=("$helper")
  wait_for exe_is "$helper" "$work/suid/helper" || fail "the setuid helper did not exec"
  [ "$(awk '/^Uid:/ {print $3}' "/proc/$helper/status")" = 0 ] || skip "setuid does not take effect here (nosuid mount?)"
  # The negative: a real setuid helper, su, waiting for a password on a pty.
  local su_pid=""
  if command -v script >/dev/null && [ -u "$(command -v su)" ]; then
    "${as_user[@]}" script -qc "su -c true root" /dev/null </dev/null >/dev/null 2>&1 &
    local script_pid=$!
    started+=("$script_pid")
    su_pid=$(child_named "$script_pid" su) || su_pid=""
    [ -n "$su_pid" ] && started+=("$su_pid")
  fi
  # Root running a program (as sudo would) below root: nothing.
  sleep 30 & local rootchild=$!; started+=("$rootchild")
  audit privilege-gain
  expect_finding "$helper" privilege-gain critical "runs as root below a non-root parent: $work/suid/helper" "$shell"
  [ "$(finding "$helper" related_pid)" = "$shell" ] || fail "privilege-gain: related_pid is not the user's shell"
  evidence_has "$helper" "" "parent pid $shell (sh) uid $uid euid $uid" || fail "privilege-gain: no parent uid evidence"
  evidence_has "$helper" "" "^process uid $uid euid 0" || fail "privilege-gain: no euid evidence"
  expect_none "$rootchild" "root's own child"
  expect_none "$shell" "the user's shell"
  if [ -n "$su_pid" ]; then
    expect_at_most_info "$su_pid" "su waiting for a password"
    [ "$(finding "$su_pid" severity)" = info ] && echo "ok su reported as info: $(finding "$su_pid" title)"
  else
    echo "note: no setuid su waiting on a pty here; the helper negative is skipped"
  fi
  echo "ok privilege-gain"
}

# child_named PARENT NAME: the pid of PARENT's child named NAME, waited for.
child_named() {
  local deadline=$((SECONDS + 10)) pid
  while [ $SECONDS -lt $deadline ]; do
    pid=$(pgrep -P "$1" -x "$2" | head -n 1) && [ -n "$pid" ] && { echo "$pid"; return 0; }
    sleep 0.1
  done
  return 1
}

case_ptrace() {
  need strace
  "${as_user[@]}" sleep 30 & local victim=$!; started+=("$victim")
  wait_for exe_is "$victim" "$(readlink -f "$(command -v sleep)")" || true
  strace -q -p "$victim" -o /dev/null & local tracer=$!; started+=("$tracer")
  wait_for traced "$victim" || skip "strace could not attach here (ptrace forbidden?)"
  [ "$(tracer_of "$victim")" = "$tracer" ] || fail "TracerPid of $victim is $(tracer_of "$victim"), not strace $tracer"
  # The user's own strace of its own child: same user, no finding.
  "${as_user[@]}" strace -f -o /dev/null sleep 30 & local own=$!; started+=("$own")
  local own_child
  own_child=$(child_named "$own" sleep) && wait_for traced "$own_child" || own_child=""
  audit ptrace-attached
  expect_finding "$victim" ptrace-attached medium "root traces it: strace (pid $tracer)" $$
  [ "$(finding "$victim" related_pid)" = "$tracer" ] || fail "ptrace-attached: related_pid is not strace"
  evidence_has "$victim" -x "TracerPid $tracer" || fail "ptrace-attached: no TracerPid evidence"
  if [ -n "$own_child" ]; then
    expect_none "$own_child" "a user's own strace -f"
  else
    echo "note: the user's own strace could not attach (ptrace_scope?); that negative is skipped"
  fi
  echo "ok ptrace-attached"
}

case_ld_preload() {
  need gcc
  mkdir -p "$work/lib"
  printf 'int lineage_fake_symbol(void) { return 42; }\n' >"$work/fake.c"
  gcc -shared -fPIC -o "$work/lib/libfake.so" "$work/fake.c" || skip "gcc cannot build a shared library"
  LINEAGE_AUDIT_SECRET=s3cr3t-do-not-print LD_PRELOAD="$work/lib/libfake.so" sleep 30 & local injected=$!
  started+=("$injected")
  LINEAGE_AUDIT_SECRET=s3cr3t-do-not-print sleep 30 & local clean=$!; started+=("$clean")
  wait_for grep -q libfake.so "/proc/$injected/maps" || fail "libfake.so is not loaded in $injected"
  audit ld-preload
  expect_finding "$injected" ld-preload high "LD_PRELOAD injects $work/lib/libfake.so" $$
  evidence_has "$injected" -x "LD_PRELOAD=$work/lib/libfake.so" || fail "ld-preload: no LD_PRELOAD evidence"
  expect_none "$clean" "a process without LD_PRELOAD"
  ! grep -q s3cr3t "$work/out.json" || fail "ld-preload printed another environment variable"
  # /etc/ld.so.preload, in a private mount namespace only (an overlay on
  # /etc seen by nothing else on the machine).
  if command -v unshare >/dev/null && mkdir -p "$work/up" "$work/wk" "$work/etc" &&
      echo "$work/lib/libfake.so" >"$work/up/ld.so.preload" &&
      unshare -m sh -c "mount --make-rprivate / && mount -t overlay overlay -o lowerdir=/etc,upperdir='$work/up',workdir='$work/wk' /etc &&
        '$LINEAGE' audit --rule ld-preload --json > '$work/out.json'; test \$? -le 1" 2>"$work/unshare.err"; then
    "$PY" - "$work/out.json" "$work/lib/libfake.so" <<'PY' || fail "no system finding for /etc/ld.so.preload"
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [f for f in doc["findings"] if f["pid"] is None and f["rule"] == "ld-preload"]
assert hits and hits[0]["severity"] == "high", hits
assert sys.argv[2] in hits[0]["title"], hits[0]["title"]
PY
    audit ld-preload
    "$PY" -c 'import json,sys; sys.exit(any(f["pid"] is None for f in json.load(open(sys.argv[1]))["findings"]))' \
      "$work/out.json" || fail "a system ld-preload finding outside the overlay"
    echo "ok /etc/ld.so.preload (in a private mount namespace)"
  else
    echo "note: no overlay mount in a private namespace here ($(tail -n 1 "$work/unshare.err" 2>/dev/null)); /etc/ld.so.preload left to the unit tests"
  fi
  echo "ok ld-preload"
}

case_zombies() {
  local spawner='
import os, sys, time
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        os._exit(0)
time.sleep(30)
'
  "$PY" -c "$spawner" 200 & local many=$!; started+=("$many")
  "$PY" -c "$spawner" 5 & local few=$!; started+=("$few")
  wait_for have_zombies "$many" 200 || fail "200 zombies did not appear under $many"
  wait_for have_zombies "$few" 5 || fail "5 zombies did not appear under $few"
  audit zombie-accumulation
  expect_finding "$many" zombie-accumulation medium "200 zombie children" $$
  evidence_has "$many" "" "^oldest zombie started" || fail "zombie-accumulation: no age evidence"
  evidence_has "$many" "" "^parent command .*python" || fail "zombie-accumulation: no parent command"
  expect_none "$few" "a parent with 5 zombies"
  echo "ok zombie-accumulation"
}

case_docker() {
  local state="$work/docker-state" status name="lineage-audit-b-$$" shim init escaped execd
  status=$(bash "$(dirname "$0")/docker_env.sh" "$state" | tail -n 1)
  case "$status" in docker-unavailable*) skip "$status" ;; esac
  cleanup_extra="docker rm -f $name >/dev/null 2>&1; bash '$(dirname "$0")/docker_env.sh' stop '$state' >/dev/null 2>&1"
  # The escape: a container sharing the host's pid namespace, with
  # CAP_SYS_ADMIN and CAP_SYS_PTRACE, enters the mount namespace of a host
  # process (the runtime's containerd; pid 1's links may be denied) with
  # nsenter: its sleep then runs in the host's pid and mount namespaces
  # while its chain is the container's shim.
  local host_pid
  host_pid=$(pgrep -xo containerd) || skip "no containerd process to take the host's namespaces from"
  docker run -d --name "$name" --pid=host --cap-add SYS_ADMIN --cap-add SYS_PTRACE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined lineage-busybox:test \
    sh -c "busybox nsenter -t $host_pid -m sh -c 'exec sleep 3000001' & exec sleep 3000002" >/dev/null ||
    skip "docker cannot run a container with CAP_SYS_ADMIN here"
  init=$(docker inspect -f '{{.State.Pid}}' "$name")
  docker exec -d "$name" sleep 3000003
  wait_for pgrep -xf "sleep 3000003" >/dev/null || fail "docker exec did not start"
  execd=$(pgrep -xf "sleep 3000003")
  wait_for pgrep -xf "sleep 3000001" >/dev/null || { docker logs "$name" >&2; skip "nsenter into the host's mount namespace failed in the container"; }
  escaped=$(pgrep -xf "sleep 3000001")
  shim=$(awk '{print $4}' "/proc/$init/stat")
  [ "$(readlink /proc/$escaped/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] || fail "the escaped sleep is not in the host's mount namespace"
  audit outside-container
  expect_finding "$escaped" outside-container critical "in the host's pid and mount namespaces below the container runtime" "$shim"
  [ "$(finding "$escaped" related_pid)" = "$shim" ] || fail "outside-container: related_pid is not the shim $shim"
  evidence_has "$escaped" "" "^the container's init pid $init " || fail "outside-container: no init evidence"
  evidence_has "$escaped" "" "^cgroup .*$(docker inspect -f '{{.Id}}' "$name")" || fail "outside-container: no cgroup evidence"
  expect_none "$init" "the container's init"
  expect_none "$execd" "a docker exec'd process"
  expect_none "$shim" "the shim"
  # A plain container (own pid and mount namespaces): nothing at all.
  docker rm -f "$name" >/dev/null
  docker run -d --name "$name" lineage-busybox:test sleep 3000004 >/dev/null
  audit outside-container
  [ "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$work/out.json")" = 0 ] ||
    fail "outside-container fires with an ordinary container"
  echo "ok outside-container"
}

case "$case_name" in
  local)
    make_user
    case_masquerade
    case_privilege_gain
    case_ptrace
    case_ld_preload
    case_zombies
    ;;
  masquerade) case_masquerade ;;
  privilege-gain) make_user; case_privilege_gain ;;
  ptrace) make_user; case_ptrace ;;
  ld-preload) case_ld_preload ;;
  zombies) case_zombies ;;
  docker) case_docker ;;
  *) echo "unknown case $case_name" >&2; exit 4 ;;
esac
echo PASS
