#!/usr/bin/env bash
# Issue 8: an unprivileged local user tries to fool `lineage why`, which runs
# as root to judge other users' processes. The test creates that user (no
# sudo, a home of its own), runs every scenario as it, and removes the user,
# its processes and its files on exit (also after Ctrl-C).
#
# Usage: why_attacks.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases: fake_tmux fake_sshd bind_sshd git_symlink churn deep_chain pty_color
#        codepoints userns_caps redact_at own_wrapper recorded
# Prints `PASS case`, `FAIL case: why` or `SKIP case: why` for each case.
# Exit 0 when none failed, 1 when one did, 77 (with `SKIP: reason`) when the
# machine cannot run the test at all, 2 on a usage error.
# KEEP_OUTPUT=DIR keeps lineage's outputs (and the user's stderr) there.
#
# The contract checked: a launcher (ssh, cron, at, tmux, screen, supervisor,
# container, systemd) counts only when its executable is verified; a source
# that fails verification has "verified": false and an "unverified_reason" in
# JSON, reads "claims to be NAME ... unverified" in text, and raises the
# warning `unverified-launcher`.
set -uo pipefail

ALL_CASES=(fake_tmux fake_sshd bind_sshd git_symlink churn deep_chain pty_color codepoints userns_caps
           redact_at own_wrapper recorded)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

[ "$(id -u)" = 0 ] || skip_all "needs root: lineage is run as root to judge another user's processes"
for tool in useradd userdel setpriv jq; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

user=lbatk$$
uid=""
home=""
secret=/root/lbatk-secret-$$
work=""
lineage_pid=""
recorder_pid=""
SLEEP_EXE=$(readlink -f /bin/sleep)

# Every pid of the test user that is not a zombie (real or effective uid).
user_pids() {
  local d k a b rest state
  for d in /proc/[0-9]*; do
    state=""
    while read -r k a b rest; do
      case "$k" in
        State:) state=$a ;;
        Uid:) [ "$state" != Z ] && { [ "$a" = "$uid" ] || [ "$b" = "$uid" ]; } && echo "${d#/proc/}"; break ;;
      esac
    done 2>/dev/null < "$d/status"
  done
}

# The user exists only for this test: every process it runs was started here.
kill_user_processes() {
  local pids
  for _ in $(seq 50); do
    pids=$(user_pids)
    [ -z "$pids" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.1
  done
  echo "why_attacks.sh: processes of $user survived: $(user_pids | tr '\n' ' ')" >&2
}

cleanup() {
  trap - EXIT INT TERM
  [ -n "$lineage_pid" ] && kill -KILL "$lineage_pid" 2>/dev/null
  [ -n "$recorder_pid" ] && kill -TERM "$recorder_pid" 2>/dev/null && wait "$recorder_pid" 2>/dev/null
  if [ -n "$uid" ]; then
    kill_user_processes
    userdel -r "$user" >/dev/null 2>&1 || { kill_user_processes; userdel -r -f "$user" >/dev/null 2>&1; }
    id "$user" >/dev/null 2>&1 && echo "why_attacks.sh: could not remove user $user" >&2
  fi
  rm -rf "$secret" "$secret.d"
  if [ -n "$work" ]; then
    [ -n "${KEEP_OUTPUT:-}" ] && mkdir -p "$KEEP_OUTPUT" && cp -r "$work/." "$KEEP_OUTPUT/"
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work=$(mktemp -d /tmp/lineage-atk.XXXXXX)
useradd -m -s /bin/bash -c "lineage why_attacks test" "$user" >/dev/null 2>&1 || skip_all "useradd $user failed"
uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
[ -n "$uid" ] && [ -d "$home" ] || { echo "why_attacks.sh: no home for $user" >&2; exit 1; }

# as_user CMD...: runs CMD as the test user in its home, with a clean
# environment. as_user_bg [-C DIR] CMD...: the same in the background (DIR as
# cwd); bg_pid is the pid of CMD itself (each step execs the next).
USER_ENV=(env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8)
as_user() {
  (cd "$home" && exec setpriv --reuid="$uid" --regid="$gid" --init-groups -- "${USER_ENV[@]}" "$@")
}
bg_pid=""
as_user_bg() {
  local dir=$home
  if [ "$1" = -C ]; then dir=$2; shift 2; fi
  (cd "$dir" && exec setpriv --reuid="$uid" --regid="$gid" --init-groups -- "${USER_ENV[@]}" "$@") \
    </dev/null >>"$work/user.log" 2>&1 &
  bg_pid=$!
  disown "$bg_pid"  # its end is not reported; the cleanup kills it
}

# put_user_file DST: stdin becomes DST, a file of the test user.
put_user_file() {
  cat > "$1" && chown "$uid:$gid" "$1" && chmod 755 "$1"
}

# wait_exe PID PATH [SECS]: until PID runs PATH (it execs there).
wait_exe() {
  local deadline=$(( $(now_us) + ${3:-5} * 1000000 ))
  while [ "$(now_us)" -lt $deadline ]; do
    [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# wait_child PID [SECS]: prints PID's first child once it runs sleep.
wait_child() {
  local deadline=$(( $(now_us) + ${2:-5} * 1000000 )) c
  while [ "$(now_us)" -lt $deadline ]; do
    for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
      [ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$SLEEP_EXE" ] && { echo "$c"; return 0; }
    done
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# run_lineage SECS OUT ARGS...: runs `lineage ARGS` as root with stdout in
# OUT, stderr in OUT.err, no wrapper process in its ancestry (a name target
# would match a wrapper) and a deadline of SECS. Sets rc (124 when it was
# killed at the deadline) and ms (wall time). With watch_ino set (DEV:INODE of
# a file), every process running that file that is not in watch_known is
# added to watch_hits while lineage runs.
watch_ino=""
watch_known=""
watch_hits=""
run_lineage() {
  local secs=$1 out=$2 t0 deadline timed_out=0 p
  shift 2
  t0=$(now_us)
  deadline=$(( t0 + secs * 1000000 ))
  watch_hits=""
  "$LINEAGE" "$@" >"$out" 2>"$out.err" </dev/null &
  lineage_pid=$!
  while kill -0 "$lineage_pid" 2>/dev/null; do
    if [ -n "$watch_ino" ]; then
      for p in $(stat -L -c '%d:%i %n' /proc/[0-9]*/exe 2>/dev/null | awk -v w="$watch_ino" '$1 == w { split($2, a, "/"); print a[3] }'); do
        case " $watch_known $watch_hits " in *" $p "*) ;; *) watch_hits="$watch_hits $p" ;; esac
      done
    fi
    if [ "$(now_us)" -ge $deadline ]; then
      timed_out=1
      kill -KILL "$lineage_pid" 2>/dev/null
      break
    fi
    sleep 0.02
  done
  wait "$lineage_pid"
  rc=$?
  lineage_pid=""
  [ $timed_out = 1 ] && rc=124
  ms=$(( ($(now_us) - t0) / 1000 ))
}

stderr_of() { head -c 300 "$1.err" 2>/dev/null | tr '\n' ' '; }

# JSON of one process in either format (single document or {"results": [...]}).
JQ_DEFS='def docs: if type == "object" and has("results") then .results[] else . end;
def doc($p): first(docs | select(.target.pid == $p)) // null;'
# jq_doc FILE PID FILTER: FILTER applied to the document of PID as $d.
jq_doc() { jq -c --argjson p "$2" "$JQ_DEFS doc(\$p) as \$d | $3" "$1" 2>/dev/null; }
# json_ok FILE PID WHAT: the output is JSON with a document for PID.
json_ok() {
  if ! jq -e . "$1" >/dev/null 2>&1; then
    bad "$3: output is not JSON (exit $rc; stderr: $(stderr_of "$1"))"; return 1
  fi
  if [ "$(jq_doc "$1" "$2" '$d != null')" != true ]; then
    bad "$3: no document for pid $2 (exit $rc; targets: $(jq -c "$JQ_DEFS [docs | .target.pid]" "$1"))"; return 1
  fi
}

# The one case where the user fools lineage with a launcher of kind KIND:
# expect_unverified JSON TEXT PID KIND NAME WHAT [FACT_REGEX]
# FACT_REGEX: what the summary must not state unless it also says the
# launcher is unverified (claims, unverified).
expect_unverified() {
  local json=$1 text=$2 pid=$3 kind=$4 name=$5 what=$6 fact=${7:-}
  json_ok "$json" "$pid" "$what" || return 0
  local got
  got=$(jq_doc "$json" "$pid" '[$d.sources[] | {kind, pid, verified}]')
  if [ "$(jq_doc "$json" "$pid" '[$d.sources[] | select(.kind == "'"$kind"'")] | length')" = 0 ]; then
    bad "$what: no $kind source at all (an unverified launcher must still be reported; sources: $got)"
  elif [ "$(jq_doc "$json" "$pid" '[$d.sources[] | select(.kind == "'"$kind"'") | .verified == false] | all')" != true ]; then
    bad "$what: the $kind source is not \"verified\": false (sources: $got)"
  elif [ "$(jq_doc "$json" "$pid" '[$d.sources[] | select(.kind == "'"$kind"'") | .unverified_reason | type == "string" and length > 0] | all')" != true ]; then
    bad "$what: the unverified $kind source has no unverified_reason"
  fi
  if [ "$(jq_doc "$json" "$pid" '[$d.warnings[]?.id] | index("unverified-launcher") != null')" != true ]; then
    bad "$what: no unverified-launcher warning (warnings: $(jq_doc "$json" "$pid" '[$d.warnings[]?.id]'))"
  fi
  if [ -n "$fact" ]; then
    local summary
    summary=$(jq_doc "$json" "$pid" '$d.summary' | jq -r .)
    if printf '%s' "$summary" | grep -qiE "$fact" && ! printf '%s' "$summary" | grep -qiE 'claim|unverified'; then
      bad "$what: the summary states the forged launcher as fact: $summary"
    fi
  fi
  if ! grep -q "claims to be $name" "$text"; then
    bad "$what: text does not say 'claims to be $name'"
  elif ! grep -q "unverified" "$text"; then
    bad "$what: text does not say 'unverified'"
  fi
}

SSH_CMD='SSH_CONNECTION="10.0.0.9 5555 10.0.0.1 22" /bin/sleep 300; exit'

# Files of the user: copies of bash named like launchers, perl named tmux.
setup_user_files() {
  as_user mkdir -p "$home/bin"
  as_user cp /bin/bash "$home/sshd"
  as_user cp /bin/bash "$home/cron"
  as_user cp /bin/bash "$home/supervisord"
}

# ---------------------------------------------------------------- cases

# A program of the user named tmux, started as a "server" whose child carries
# TMUX and TMUX_PANE. The fake is a copy of perl: run by lineage as
# `tmux -S SOCKET display-message ...` it runs the script named by SOCKET
# (from TMUX, chosen by the user), which writes a marker. Every process that
# runs the fake's file during the lineage run is also caught by a scan of
# /proc. Eight fake panes that never answer bound the time of one `why --all`.
case_fake_tmux() {
  [ -x /usr/bin/perl ] || { skip_case "perl is not installed (the fake tmux is a copy of it)"; return; }
  local fake=$home/bin/tmux marker=$home/tmux-ran pane
  as_user cp /usr/bin/perl "$fake"
  put_user_file "$home/srv.pl" <<'PL'
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
  $ENV{TMUX} = "$ENV{ATK_SOCK},$$,0";
  $ENV{TMUX_PANE} = "%1";
  exec { "/bin/sleep" } $ENV{ATK_ARGV0}, "300";
  exit 127;
}
waitpid($pid, 0);
PL
  put_user_file "$home/evil.pl" <<PL
open(my \$f, ">>", "$marker") or exit 1;
print \$f "fake tmux ran as uid \$< from ppid " . getppid() . " with \@ARGV\n";
close \$f;
\$| = 1;
print "pwned\n";
sleep 1;
PL
  put_user_file "$home/hang.pl" <<PL
open(my \$f, ">>", "$marker") or exit 1;
print \$f "fake tmux ran as uid \$< from ppid " . getppid() . " with \@ARGV (hang)\n";
close \$f;
sleep 30;
PL

  local name1=lbtmux1-$$ name8=lbtmux8-$$ servers="" srv i
  as_user_bg env ATK_SOCK="$home/evil.pl" ATK_ARGV0="$name1" "$fake" "$home/srv.pl"
  srv=$bg_pid
  servers="$srv"
  pane=$(wait_child "$srv") || { bad "setup: the fake tmux server $srv started no pane"; return; }
  for i in 1 2 3 4 5 6 7 8; do
    as_user_bg env ATK_SOCK="$home/hang.pl" ATK_ARGV0="$name8" "$fake" "$home/srv.pl"
    servers="$servers $bg_pid"
  done
  local panes8=() p8
  for i in $servers; do
    [ "$i" = "$srv" ] && continue
    p8=$(wait_child "$i") || { bad "setup: fake server $i started no pane"; return; }
    panes8+=("$p8")
  done

  watch_ino=$(stat -c '%d:%i' "$fake")
  watch_known=$servers
  run_lineage 20 "$work/tmux1.json" why "$pane" --json
  local hits1=$watch_hits
  run_lineage 20 "$work/tmux1.txt" why "$pane" --no-color
  hits1="$hits1$watch_hits"
  if [ -e "$marker" ]; then
    bad "lineage ran the user's fake tmux: $(head -n 1 "$marker")"
  elif [ -n "$hits1" ]; then
    bad "lineage ran the user's fake tmux (pids$hits1 ran $fake)"
  fi
  [ $rc -le 1 ] || bad "lineage why $pane exited $rc"
  expect_unverified "$work/tmux1.json" "$work/tmux1.txt" "$pane" tmux tmux "fake tmux" 'tmux session|pwned'
  if grep -q pwned "$work/tmux1.json" "$work/tmux1.txt"; then
    bad "the fake tmux's answer ('pwned') is reported as the session name"
  fi

  rm -f "$marker"
  run_lineage 20 "$work/tmux8.json" why --all "$name8" --json
  local hits8=$watch_hits
  watch_ino=""
  watch_known=""
  if [ $rc = 124 ]; then
    bad "why --all over 8 fake panes did not finish within 20 s"
  elif [ $ms -ge 3000 ]; then
    bad "why --all over 8 fake panes took $ms ms (limit 3000)"
  fi
  [ $rc -le 1 ] || [ $rc = 124 ] || bad "why --all $name8 exited $rc (stderr: $(stderr_of "$work/tmux8.json"))"
  if [ -e "$marker" ] || [ -n "$hits8" ]; then
    bad "why --all ran the fake tmux ($(head -n 1 "$marker" 2>/dev/null)${hits8:+ pids$hits8})"
  fi
  if [ $rc != 124 ]; then
    for p8 in "${panes8[@]}"; do
      json_ok "$work/tmux8.json" "$p8" "why --all (8 panes)" || break
    done
  fi
}

# Copies of bash named sshd, cron and supervisord, each with a sleep child:
# the launchers are the user's own files.
case_fake_sshd() {
  local kind name cmd fact child
  for kind in ssh cron supervisor; do
    case $kind in
      ssh) name=sshd; cmd=$SSH_CMD; fact='ssh session|from 10\.0\.0\.9' ;;
      cron) name=cron; cmd='/bin/sleep 300; exit'; fact='cron job' ;;
      supervisor) name=supervisord; cmd='SUPERVISOR_PROCESS_NAME=nginx /bin/sleep 300; exit'; fact='supervisord program|program nginx' ;;
    esac
    as_user_bg "$home/$name" -c "$cmd"
    child=$(wait_child "$bg_pid") || { bad "setup: home/$name started no child"; continue; }
    run_lineage 20 "$work/$name.json" why "$child" --json
    [ $rc -le 1 ] || bad "home/$name: lineage why $child --json exited $rc"
    run_lineage 20 "$work/$name.txt" why "$child" --no-color
    expect_unverified "$work/$name.json" "$work/$name.txt" "$child" "$kind" "$name" "home/$name" "$fact"
  done
}

# In its own user and mount namespace, the user bind-mounts its copy of bash
# over /usr/sbin/sshd and runs it: /proc/PID/exe reads /usr/sbin/sshd.
case_bind_sshd() {
  [ -e /usr/sbin/sshd ] || { skip_case "/usr/sbin/sshd does not exist (openssh-server is not installed)"; return; }
  command -v unshare >/dev/null || { skip_case "unshare is not installed"; return; }
  if ! as_user unshare -Urm true >/dev/null 2>&1; then
    skip_case "unprivileged user and mount namespaces are off (user.max_user_namespaces=$(sysctl -n user.max_user_namespaces 2>/dev/null))"
    return
  fi
  as_user_bg unshare -Urm /bin/sh -c 'mount --bind "$HOME/sshd" /usr/sbin/sshd && exec /usr/sbin/sshd -c "$1"' sh "$SSH_CMD"
  local srv=$bg_pid child
  wait_exe "$srv" /usr/sbin/sshd || { bad "setup: the bind-mounted sshd did not start ($(tail -n 2 "$work/user.log" | tr '\n' ' '))"; return; }
  [ "$(stat -L -c '%d:%i' "/proc/$srv/exe")" != "$(stat -c '%d:%i' /usr/sbin/sshd)" ] \
    || { bad "setup: pid $srv runs the real /usr/sbin/sshd"; return; }
  child=$(wait_child "$srv") || { bad "setup: the bind-mounted sshd started no child"; return; }
  run_lineage 20 "$work/bind.json" why "$child" --json
  [ $rc -le 1 ] || bad "lineage why $child --json exited $rc"
  run_lineage 20 "$work/bind.txt" why "$child" --no-color
  expect_unverified "$work/bind.json" "$work/bind.txt" "$child" ssh sshd "bind-mounted /usr/sbin/sshd" 'ssh session|from 10\.0\.0\.9'
}

# ~/repo/.git/HEAD is a symlink to a root-only file, ~/repo2/.git a symlink
# to a root-only directory holding HEAD, ~/fifo/.git/HEAD a FIFO.
case_git_symlink() {
  local token=SECRET-$$-lbatk token2=SECRET2-$$-lbatk
  (umask 077; printf 'ref: %s\n' "$token" > "$secret"; mkdir "$secret.d"; printf 'ref: %s\n' "$token2" > "$secret.d/HEAD")
  chmod 600 "$secret"
  as_user mkdir -p "$home/repo/.git" "$home/repo2" "$home/fifo/.git"
  as_user ln -s "$secret" "$home/repo/.git/HEAD"
  as_user ln -s "$secret.d" "$home/repo2/.git"
  as_user mkfifo "$home/fifo/.git/HEAD"
  local p1 p2 p3
  as_user_bg -C "$home/repo" /bin/sleep 300
  p1=$bg_pid
  as_user_bg -C "$home/repo2" /bin/sleep 300
  p2=$bg_pid
  as_user_bg -C "$home/fifo" /bin/sleep 300
  p3=$bg_pid
  wait_exe "$p1" "$SLEEP_EXE" && wait_exe "$p2" "$SLEEP_EXE" && wait_exe "$p3" "$SLEEP_EXE" \
    || { bad "setup: the sleeps did not start"; return; }

  local pid tok what
  for pid in "$p1" "$p2"; do
    if [ "$pid" = "$p1" ]; then tok=$token; what="HEAD a symlink to a root-only file"; else tok=$token2; what=".git a symlink to a root-only directory"; fi
    run_lineage 20 "$work/git.txt" why "$pid" --no-color
    [ $rc -le 1 ] || bad "$what: lineage why $pid exited $rc"
    grep -q "$tok" "$work/git.txt" "$work/git.txt.err" \
      && bad "$what: text output shows the root-only file ($(grep -ho "[A-Za-z0-9-]*${tok}[A-Za-z0-9-]*" "$work/git.txt" | head -n 1))"
    run_lineage 20 "$work/git.json" why "$pid" --json
    [ $rc -le 1 ] || bad "$what: lineage why $pid --json exited $rc"
    grep -q "$tok" "$work/git.json" "$work/git.json.err" \
      && bad "$what: JSON output shows the root-only file (git: $(jq -c "$JQ_DEFS [docs | .git]" "$work/git.json" 2>/dev/null))"
  done

  run_lineage 10 "$work/fifo.txt" why "$p3" --no-color
  if [ $rc = 124 ]; then
    bad "lineage why (cwd with .git/HEAD a FIFO) did not return within 10 s"
  else
    [ $rc -le 1 ] || bad "lineage why (cwd with .git/HEAD a FIFO) exited $rc"
    run_lineage 10 "$work/fifo.json" why "$p3" --json
    [ $rc = 124 ] && bad "lineage why --json (cwd with .git/HEAD a FIFO) did not return within 10 s"
  fi
}

# A name that one long-lived process and a process restarting every 20 ms
# share: `why --all NAME` must explain the long-lived one every time.
case_churn() {
  local name=lbchurn$$ long i exit2=0 missing=0
  as_user ln -s "$SLEEP_EXE" "$home/bin/$name"
  printf 'while :; do "$CHURN" 0.02; done\n' | put_user_file "$home/loop.sh"
  as_user_bg "$home/bin/$name" 300
  long=$bg_pid
  for i in 1 2; do as_user_bg env CHURN="$home/bin/$name" /bin/bash "$home/loop.sh"; done
  wait_exe "$long" "$SLEEP_EXE" || { bad "setup: the long-lived $name did not start"; return; }
  sleep 0.2
  local ok_files=() explained
  for i in $(seq 30); do
    run_lineage 20 "$work/churn.$i.json" why --all "$name" --json
    if [ $rc -gt 1 ]; then
      exit2=$((exit2 + 1))
      [ $exit2 = 1 ] && bad "run $i: why --all $name exited $rc (stderr: $(stderr_of "$work/churn.$i.json"))"
    else
      ok_files+=("$work/churn.$i.json")
    fi
  done
  if [ ${#ok_files[@]} -gt 0 ]; then
    explained=$(jq -c "$JQ_DEFS [docs | .target.pid] | index($long) != null" "${ok_files[@]}" 2>/dev/null | grep -c true)
    missing=$(( ${#ok_files[@]} - explained ))
    [ $missing = 0 ] || bad "$missing of the ${#ok_files[@]} runs that exited 0 or 1 did not explain the long-lived $name (pid $long)"
  fi
  [ $exit2 -gt 1 ] && bad "$exit2 of 30 runs exited with an error"
  return 0
}

# A sleep 300 shells deep below the fake sshd.
case_deep_chain() {
  local depth=300 secs=$((2000000 + $$)) target len
  printf 'if [ "$1" -gt 0 ]; then /bin/sh "$0" $(($1 - 1)); exit; fi\nexec /bin/sleep "$ATK_SECS"\n' | put_user_file "$home/nest.sh"
  as_user_bg env ATK_SECS=$secs "$home/sshd" -c 'SSH_CONNECTION="10.0.0.9 5555 10.0.0.1 22" /bin/sh "$HOME/nest.sh" '$depth'; exit'
  local sshd=$bg_pid
  # Down the first children from the fake sshd to the sleep at the bottom.
  local deadline=$(( $(now_us) + 20000000 )) p c level
  target=""
  while [ -z "$target" ] && [ "$(now_us)" -lt $deadline ]; do
    p=$sshd
    level=0
    while c=""; read -r c _ 2>/dev/null < "/proc/$p/task/$p/children"; [ -n "$c" ]; do p=$c; level=$((level + 1)); done
    if [ $level -gt $depth ] && [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$SLEEP_EXE" ]; then target=$p; else sleep 0.1; fi
  done
  [ -n "$target" ] || { bad "setup: the sleep $depth shells deep did not start (reached depth $level)"; return; }
  run_lineage 20 "$work/deep.json" why "$target" --json
  [ $rc -le 1 ] || { bad "lineage why $target --json exited $rc (stderr: $(stderr_of "$work/deep.json"))"; return; }
  json_ok "$work/deep.json" "$target" "deep chain" || return
  len=$(jq_doc "$work/deep.json" "$target" '$d.chain | length')
  [ "$len" -gt $depth ] || bad "the chain has $len processes, the process is more than $depth deep"
  [ "$(jq_doc "$work/deep.json" "$target" "[\$d.chain[].pid] | index($sshd) != null")" = true ] \
    || bad "the chain does not reach the fake sshd (pid $sshd)"
  [ "$(jq_doc "$work/deep.json" "$target" '$d.truncated // false')" = false ] \
    || bad "the chain is marked truncated"
  local summary
  summary=$(jq_doc "$work/deep.json" "$target" '$d.summary' | jq -r .)
  case "$summary" in *"no launch context was found"*) bad "the summary says '$summary' above an sshd" ;; esac
  if [ "$(jq_doc "$work/deep.json" "$target" '[$d.sources[] | select(.kind == "ssh")] | length')" = 0 ]; then
    bad "no ssh source (sources: $(jq_doc "$work/deep.json" "$target" '[$d.sources[].kind]'))"
  elif [ "$(jq_doc "$work/deep.json" "$target" '[$d.sources[] | select(.kind == "ssh") | .verified == false] | all')" != true ]; then
    bad "the ssh source of the fake sshd is not \"verified\": false"
  fi
}

# `why` under a real pty 40 columns wide, on a process with a long command
# line and a long warning: no line may end with colours or dim still on.
case_pty_color() {
  local py
  py=$(command -v python3) || { skip_case "python3 is not installed (it provides the pty)"; return; }
  local name
  name=lbcolor$$-$(printf 'x%.0s' $(seq 80))
  as_user_bg -C /tmp bash -c 'exec -a "$0" /bin/sleep 300' "$name"
  local pid=$bg_pid
  wait_exe "$pid" "$SLEEP_EXE" || { bad "setup: the target did not start"; return; }
  cat > "$work/ptyrun.py" <<'PY'
import fcntl, os, pty, re, struct, sys, termios
out_path, cols = sys.argv[1], int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS=str(cols))
    os.execve(sys.argv[3], sys.argv[3:], env)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
open(out_path, "wb").write(data)
text = data.decode("utf-8", "replace").replace("\r\n", "\n")
sgr = re.compile(r"\x1b\[([0-9;]*)m")
problems = []
colored = 0
for n, line in enumerate(text.split("\n"), 1):
    codes = sgr.findall(line)
    visible = sgr.sub("", line)
    if codes:
        colored += 1
        if codes[-1] not in ("0", ""):
            problems.append("line %d ends with ESC[%sm still on: %r" % (n, codes[-1], line))
    if "\x1b" in visible:
        problems.append("line %d has a cut escape sequence: %r" % (n, line))
    if len(visible) > cols:
        problems.append("line %d is %d columns wide (terminal: %d)" % (n, len(visible), cols))
if colored == 0:
    problems.append("no coloured line under a pty (is colour off?)")
print("; ".join(problems[:3]))
PY
  local result
  result=$("$py" "$work/ptyrun.py" "$work/pty.out" 40 "$LINEAGE" why "$pid" 2>&1)
  [ -s "$work/pty.out" ] || { bad "no output under the pty: $result"; return; }
  [ -z "$result" ] || bad "$result"
}

# Invisible, bidirectional and private-use code points in argv[0].
case_codepoints() {
  # code point and its UTF-8 bytes
  local cps=(061C:$'\xd8\x9c' 00AD:$'\xc2\xad' 3164:$'\xe3\x85\xa4' 115F:$'\xe1\x85\x9f'
             E0041:$'\xf3\xa0\x81\x81' 202E:$'\xe2\x80\xae' 2066:$'\xe2\x81\xa6' 200B:$'\xe2\x80\x8b'
             FEFF:$'\xef\xbb\xbf' F0000:$'\xf3\xb0\x80\x80')
  local name=lbcp$$ cp
  for cp in "${cps[@]}"; do name+="-${cp%%:*}=${cp#*:}"; done
  as_user_bg bash -c 'exec -a "$0" /bin/sleep 300' "$name"
  local pid=$bg_pid
  wait_exe "$pid" "$SLEEP_EXE" || { bad "setup: the target did not start"; return; }
  run_lineage 20 "$work/cp.txt" why "$pid" --no-color
  [ $rc -le 1 ] || bad "lineage why $pid exited $rc"
  local raw=() unescaped=()
  for cp in "${cps[@]}"; do
    LC_ALL=C grep -qF "${cp#*:}" "$work/cp.txt" && raw+=("U+${cp%%:*}")
    grep -qiE "\\\\u\\{0*${cp%%:*}\\}" "$work/cp.txt" || unescaped+=("U+${cp%%:*}")
  done
  [ ${#raw[@]} = 0 ] || bad "text shows raw: ${raw[*]}"
  [ ${#unescaped[@]} = 0 ] || bad "text has no \\u{...} escape for: ${unescaped[*]}"
  run_lineage 20 "$work/cp.json" why "$pid" --json
  json_ok "$work/cp.json" "$pid" "codepoints" || return
  [ "$(jq -c --argjson p "$pid" --arg n "$name" "$JQ_DEFS doc(\$p).target.cmdline[0] == \$n" "$work/cp.json")" = true ] \
    || bad "JSON does not keep argv[0] exactly"
}

# Capabilities held only inside the process's own user namespace.
case_userns_caps() {
  command -v unshare >/dev/null || { skip_case "unshare is not installed"; return; }
  as_user unshare -Ur true >/dev/null 2>&1 || { skip_case "unprivileged user namespaces are off"; return; }
  as_user_bg unshare -Ur /bin/sleep 300
  local pid=$bg_pid
  wait_exe "$pid" "$SLEEP_EXE" || { bad "setup: unshare -Ur sleep did not start"; return; }
  local capeff
  capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
  [ -n "$capeff" ] && [ "$((16#$capeff))" != 0 ] || { bad "setup: pid $pid has no effective capabilities in its namespace"; return; }
  run_lineage 20 "$work/caps.json" why "$pid" --json
  [ $rc -le 1 ] || bad "lineage why $pid --json exited $rc"
  json_ok "$work/caps.json" "$pid" "userns caps" || return
  [ "$(jq_doc "$work/caps.json" "$pid" '[$d.warnings[]?.id] | index("dangerous-capabilities") == null')" = true ] \
    || bad "dangerous-capabilities raised for capabilities held only in its own user namespace (CapEff $capeff)"
}

# A URL whose password has an @.
case_redact_at() {
  as_user_bg env DATABASE_URL='postgres://u:p@ss@h/db' /bin/sleep 300
  local pid=$bg_pid got
  wait_exe "$pid" "$SLEEP_EXE" || { bad "setup: the target did not start"; return; }
  run_lineage 20 "$work/env.json" why "$pid" --env --json
  json_ok "$work/env.json" "$pid" "redact" || return
  got=$(jq_doc "$work/env.json" "$pid" '$d.environment.DATABASE_URL' | jq -r .)
  [ "$got" = 'postgres://u:<redacted>@h/db' ] || bad "DATABASE_URL is '$got', expected 'postgres://u:<redacted>@h/db'"
  grep -qE 'p@ss|ss@h' "$work/env.json" && bad "JSON shows part of the password"
  run_lineage 20 "$work/env.txt" why "$pid" --env --no-color
  grep -qE 'p@ss|ss@h' "$work/env.txt" && bad "text shows part of the password ($(grep -m1 DATABASE_URL "$work/env.txt" | sed 's/^ *//'))"
  return 0
}

# `timeout 10 lineage why NAME`: the wrapper carries NAME in its argv.
case_own_wrapper() {
  local name=lbown$$
  as_user_bg bash -c 'exec -a "$0" /bin/sleep 300' "$name"
  local pid=$bg_pid
  wait_exe "$pid" "$SLEEP_EXE" || { bad "setup: the target did not start"; return; }
  rc=0
  timeout 10 "$LINEAGE" why --json "$name" > "$work/own.json" 2> "$work/own.json.err" </dev/null || rc=$?
  if [ $rc -gt 1 ]; then
    bad "timeout 10 lineage why --json $name exited $rc: $(stderr_of "$work/own.json")"
    return
  fi
  json_ok "$work/own.json" "$pid" "own wrapper" || return
  local targets
  targets=$(jq -c "$JQ_DEFS [docs | {pid: .target.pid, comm: .target.comm}]" "$work/own.json")
  [ "$(jq -c 'length' <<<"$targets")" = 1 ] || bad "explains more than the sleep: $targets"
}

# The same launchers, gone: each fake starts `sleep &` and exits while
# `lineage record` runs, so `why --db` of the orphan has only what the
# recorder kept of the launcher (its verification at exec included), and
# must not take the recorded name for the real thing: a copy of bash named
# sshd, cron, supervisord, and the copy bind-mounted over /usr/sbin/sshd in
# the user's own namespaces. Each fake waits until its exec is in the
# history before it exits, so the recorder checked its executable (not
# only "gone before it could be checked").
case_recorded() {
  local db=$work/rec/h.db kind name cmd fact fake child j reason
  mkdir -p "$work/rec"
  "$LINEAGE_BIN" record --db "$db" </dev/null >"$work/rec/record.out" 2>"$work/rec/record.err" &
  recorder_pid=$!
  local deadline=$(( $(now_us) + 10000000 ))
  until [ "$("$LINEAGE_BIN" record --status --db "$db" --json 2>/dev/null | jq -r .running)" = true ]; do
    if [ "$(now_us)" -ge $deadline ] || ! kill -0 "$recorder_pid" 2>/dev/null; then
      bad "setup: lineage record did not start: $(head -c 300 "$work/rec/record.err")"
      kill -TERM "$recorder_pid" 2>/dev/null
      wait "$recorder_pid" 2>/dev/null
      recorder_pid=""
      return
    fi
    sleep 0.1
  done
  local bind=0
  if [ -e /usr/sbin/sshd ] && command -v unshare >/dev/null && as_user unshare -Urm true >/dev/null 2>&1; then
    bind=1
  else
    echo "note: recorded: no bind-mounted sshd (no /usr/sbin/sshd, unshare, or unprivileged namespaces)" >&2
  fi
  for kind in ssh cron supervisor bind; do
    [ $kind = bind ] && [ $bind = 0 ] && continue
    rm -f "$home/child.pid" "$home/go"
    case $kind in
      ssh | bind) name=sshd; cmd='SSH_CONNECTION="10.0.0.9 5555 10.0.0.1 22"'; fact='ssh session|from 10\.0\.0\.9' ;;
      cron) name=cron; cmd=''; fact='cron job' ;;
      supervisor) name=supervisord; cmd='SUPERVISOR_PROCESS_NAME=nginx'; fact='supervisord program|program nginx' ;;
    esac
    # The fake starts the sleep, then waits (at most 20 s) for ~/go.
    cmd="$cmd /bin/sleep 300 </dev/null >/dev/null 2>&1 & echo \$! > \"\$HOME/child.pid\"
         for i in \$(seq 400); do [ -e \"\$HOME/go\" ] && break; /bin/sleep 0.05; done; exit 0"
    if [ $kind = bind ]; then
      as_user_bg unshare -Urm /bin/sh -c 'mount --bind "$HOME/sshd" /usr/sbin/sshd && exec /usr/sbin/sshd -c "$1"' sh "$cmd"
      wait_exe "$bg_pid" /usr/sbin/sshd || { bad "setup: the bind-mounted sshd did not start"; continue; }
    else
      as_user_bg "$home/$name" -c "$cmd"
    fi
    fake=$bg_pid
    local fake_exe=$home/$name
    [ $kind = bind ] && fake_exe=/usr/sbin/sshd
    # Its exec is in the history (checked while it ran); then it may exit,
    # and the recorder commits its exit.
    deadline=$(( $(now_us) + 10000000 ))
    until [ "$("$LINEAGE_BIN" history "$fake" --db "$db" --json 2>/dev/null | jq -r '.processes[0].exe')" = "$fake_exe" ]; do
      [ "$(now_us)" -ge $deadline ] && break
      sleep 0.1
    done
    touch "$home/go"
    deadline=$(( $(now_us) + 10000000 ))
    until [ "$("$LINEAGE_BIN" history "$fake" --db "$db" --json 2>/dev/null | jq -r '.processes[0].exit_code')" = 0 ]; do
      [ "$(now_us)" -ge $deadline ] && break
      sleep 0.1
    done
    if [ "$(now_us)" -ge $deadline ]; then
      bad "$kind: setup: no exit of the fake $name (pid $fake) recorded in 10 s"
      kill_user_processes
      continue
    fi
    child=$(cat "$home/child.pid" 2>/dev/null)
    if [ -z "$child" ] || [ "$(readlink "/proc/$child/exe" 2>/dev/null)" != "$SLEEP_EXE" ]; then
      bad "$kind: setup: the fake $name started no sleep that still runs"
      continue
    fi
    run_lineage 20 "$work/rec-$kind.json" why "$child" --db "$db" --json
    [ $rc -le 1 ] || bad "$kind: lineage why $child --db --json exited $rc: $(stderr_of "$work/rec-$kind.json")"
    run_lineage 20 "$work/rec-$kind.txt" why "$child" --db "$db" --no-color
    j=$work/rec-$kind.json
    # Through the history, or the test proves nothing.
    [ "$(jq_doc "$j" "$child" '[$d.chain[] | select(.pid == '"$fake"' and .recorded == true and .alive == false)] | length')" = 1 ] ||
      bad "$kind: the exited fake $name (pid $fake) is not in the chain as a recorded process: $(jq_doc "$j" "$child" '[$d.chain[] | {pid, recorded, alive}]')"
    expect_unverified "$j" "$work/rec-$kind.txt" "$child" "${kind/bind/ssh}" "$name" "recorded $kind ($name)" "$fact"
    reason=$(jq_doc "$j" "$child" '[$d.sources[] | select(.kind == "'"${kind/bind/ssh}"'") | .unverified_reason] | first' | jq -r .)
    case "$reason" in *"gone before"*) bad "$kind: the recorder did not check the fake's executable: $reason" ;; esac
    kill_user_processes
  done
  kill -TERM "$recorder_pid" 2>/dev/null
  wait "$recorder_pid" 2>/dev/null
  recorder_pid=""
}

# ---------------------------------------------------------------- main

# What a case's user started ends with the case.
after_case() { kill_user_processes; }

setup_user_files
for c in "${cases[@]}"; do run_case "$c"; done
exit $failed
