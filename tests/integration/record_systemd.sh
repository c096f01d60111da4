#!/usr/bin/env bash
# The recorder's unit file under a real systemd: pid 1 of a Docker container
# booted from a Debian 12 root with systemd and dbus (scripts/test-root.sh
# systemd, made once and cached). The unit is the one CMake generates
# (dist/lineage-record.service.in, next to the binary in the build
# directory); the binary under test is bound into the container at
# /usr/local/bin/lineage, the path that unit names.
#
# Usage: record_systemd.sh LINEAGE_BINARY [CASE...]
# Cases:
#   unit   The unit as shipped: `systemctl start lineage-record` returns
#          once the recorder sent READY=1 (Type=notify), under every sandbox
#          setting of the unit; it holds the unit's capabilities that the
#          container has (Docker 20.10 knows no CAP_BPF or CAP_PERFMON, so
#          eBPF is refused and --source auto says why; the proc connector
#          serves no pid namespace but the initial one: it polls /proc);
#          `why` of the recorder names lineage-record.service and its unit
#          file, read from systemd over D-Bus; `why` of a process orphaned
#          in a transient unit names that unit and the exited parent from
#          the history; `systemctl stop` ends it with status 0 and --status
#          says it is not running.
#          Then a drop-in adds CAP_SYS_ADMIN (what eBPF accepts in place of
#          CAP_BPF + CAP_PERFMON): started again it records through eBPF
#          with the container's pids, continues the same history, and a
#          parent that exits at once is in it.
# Prints PASS/FAIL/SKIP per case; exit 0 none failed, 1 one did, 77 skipped.
set -uo pipefail

ALL_CASES=(unit)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

[ "$(id -u)" = 0 ] || skip_all "needs root (docker, debootstrap)"
command -v jq >/dev/null || skip_all "jq is not installed"
command -v docker >/dev/null || skip_all "docker is not installed"
# The binary itself, not ctest's JSON-keeping launcher (a script that needs
# the build tree): it runs in the container, where the unit names it.
unit_file=${LINEAGE_UNIT:-$(dirname "$LINEAGE_BIN")/lineage-record.service}
# CMake writes it at configure time: missing is a broken build, not a machine
# that cannot run the test.
[ -f "$unit_file" ] || { echo "FAIL unit: no generated unit file at $unit_file (LINEAGE_UNIT names it)"; exit 1; }
# The container has Debian's libraries, not a sanitizer's runtime.
if ldd "$LINEAGE_BIN" 2>/dev/null | grep -qE 'lib(a|ub|t)san'; then
  skip_all "a sanitizer build cannot run in the container (no sanitizer runtime there)"
fi

# Where the unit expects the binary (the install prefix CMake was given).
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit_file" | head -n 1)
case "$exec_path" in /*) ;; *) echo "FAIL unit: no ExecStart path in $unit_file"; exit 1 ;; esac

work=$(mktemp -d /tmp/lineage-systemd.XXXXXX)
name=lineage-it-systemd-$$
image=lineage-systemd:test
db=/var/lib/lineage/history.db
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1
  bash "$(dirname "$0")/docker_env.sh" stop "$work/docker" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

status=$(bash "$(dirname "$0")/docker_env.sh" "$work/docker" | tail -n 1)
case "$status" in docker-unavailable*) skip_all "$status" ;; esac
if ! docker image inspect "$image" >/dev/null 2>&1; then
  tarball=$(bash "$(dirname "$0")/../../scripts/test-root.sh" systemd 2>"$work/root.err"); rc=$?
  [ "$rc" = 77 ] && skip_all "no systemd root: $(tail -n 1 "$work/root.err")"
  [ "$rc" = 0 ] || { echo "FAIL unit: scripts/test-root.sh systemd: $(tail -n 3 "$work/root.err")"; exit 1; }
  docker import -c 'CMD ["/sbin/init"]' "$tarball" "$image" >/dev/null ||
    { echo "FAIL unit: docker import of $tarball failed"; exit 1; }
fi

inside() { docker exec -i "$name" "$@"; }
# lineage in the container, where the unit names it.
lineage_in() { inside "$exec_path" "$@"; }
# The unit's state and journal, for a failure's message.
unit_report() {
  inside systemctl status --no-pager lineage-record 2>&1 | head -15
  inside journalctl --no-pager -u lineage-record -n 15 2>&1
}
# until_in SECONDS COMMAND...: runs the command in the container until it
# succeeds; false when time is up.
until_in() {
  local deadline=$((SECONDS + $1))
  shift
  until inside "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
check() {  # check FILE JQ EXPECTED WHAT
  local got
  got=$(jq -r "$2" "$1" 2>/dev/null)
  [ "$got" = "$3" ] || bad "$4: got '$got', expected '$3'"
}

# probe UNIT SECONDS: a transient unit whose shell starts a sleep in the
# background and exits after SECONDS: the sleep is orphaned to pid 1 while
# the unit goes on. Sets y (the shell) and z (the sleep), container pids.
probe() {
  # A script file: systemd would expand the $ of a command line itself.
  inside sh -c 'cat > /run/probe.sh' <<'SCRIPT'
sh -c 'sleep 1001 & echo $! > "/run/$1.z"; echo $$ > "/run/$1.y"; sleep "$2"' sh "$1" "$2"
exec sleep 1002
SCRIPT
  inside systemd-run --unit "$1" --description "lineage probe $1" --quiet /bin/sh /run/probe.sh "$1" "$2" ||
    { bad "systemd-run $1 failed"; return 1; }
  until_in 10 test -s "/run/$1.z" || { bad "the unit $1 did not run"; return 1; }
  until_in 10 test -s "/run/$1.y" || { bad "the unit $1 did not run"; return 1; }
  y=$(inside cat "/run/$1.y")
  z=$(inside cat "/run/$1.z")
}

# why_orphan UNIT: why of the probe's sleep names UNIT and its exited shell
# from the history, with its exit time (the recorder commits within about a
# second; polling, it notices the exit within another).
why_orphan() {
  local out=$work/why-$1.json ok=""
  for _ in $(seq 40); do
    lineage_in why "$z" --db "$db" --json > "$out" 2>"$work/why.err"
    # (Gone from /proc before its exit is committed: alive false at once.)
    if [ "$(jq -r '[.chain[] | select(.alive == false and .exit_time != null)] | length' "$out" 2>/dev/null)" = 1 ]; then
      ok=1
      break
    fi
    sleep 0.5
  done
  [ -n "$ok" ] || { bad "$1: why $z never showed its exited parent: $(head -c 300 "$out") $(head -c 200 "$work/why.err")"; return; }
  check "$out" '.chain[-1] | "\(.pid) \(.ppid)"' "$z 1" "$1: the sleep, adopted by pid 1 (container pids)"
  check "$out" '[.chain[] | select(.alive == false)][0] | "\(.pid) \(.recorded) \(.exit_time | type)"' \
    "$y true string" "$1: the exited shell, from the history"
  check "$out" '.sources[] | select(.kind == "systemd") | "\(.details.unit) \(.details.description)"' \
    "$1.service lineage probe $1" "$1: the unit, with its description from systemd over D-Bus"
  check "$out" '.sources[] | select(.kind == "systemd") | .verified' true \
    "$1: the unit's cgroup verified (made by root on a cgroup mount)"
  check "$out" '.sources[] | select(.kind == "orphan") | .details.original_parent' "$y" "$1: original_parent"
  if [ "$1" = probe-poll ]; then
    # A poll does not see how it ended (only its parent's wait() does).
    check "$out" '[.chain[] | select(.alive == false)][0] | "\(.exit_signal) \(.exit_code)"' "null null" \
      "$1: no invented exit status"
  else
    check "$out" '[.chain[] | select(.alive == false)][0] | .exit_code' 0 "$1: the shell's exit code, from the kernel"
  fi
}

# start_recorder: systemctl start (Type=notify: it returns once READY=1
# came), then the main pid in $main and --status in $work/status-$1.json.
start_recorder() {
  if ! timeout 90 docker exec "$name" systemctl start lineage-record > "$work/start.out" 2>&1; then
    bad "systemctl start lineage-record ($1) failed: $(cat "$work/start.out") $(unit_report)"
    return 1
  fi
  inside systemctl show lineage-record -p ActiveState -p MainPID > "$work/show"
  grep -qx "ActiveState=active" "$work/show" || { bad "$1: not active after start: $(tr '\n' ' ' < "$work/show")"; return 1; }
  main=$(sed -n 's/^MainPID=//p' "$work/show")
  lineage_in record --status --json --db "$db" > "$work/status-$1.json" 2>&1
  check "$work/status-$1.json" '"\(.running) \(.pid)"' "true $main" "$1: record --status names the unit's main pid"
}

# capabilities PID: the effective set, as /proc shows it.
capabilities() { inside sh -c "sed -n 's/^CapEff:[[:space:]]*//p' /proc/$1/status"; }

case_unit() {
  # systemd needs its own /run and /tmp and the cgroup tree (read-only:
  # Docker gives the container its own cgroup below it). Not --privileged:
  # this machine's bounding set lacks CAP_SYS_RESOURCE, which it would add.
  # CAP_SYS_ADMIN: the unit's sandbox makes mount namespaces.
  if ! docker run -d --name "$name" --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE \
      --cap-add DAC_READ_SEARCH --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
      -v "$LINEAGE_BIN:$exec_path:ro" \
      -v "$unit_file:/etc/systemd/system/lineage-record.service:ro" \
      "$image" /sbin/init > "$work/run.out" 2>&1; then
    bad "the systemd container did not start: $(tail -n 2 "$work/run.out")"
    return
  fi
  # The binary links the host's libc and libraries: a host newer than the
  # container's Debian cannot run it there.
  if ! lineage_in --version > "$work/version" 2>&1; then
    skip_case "this build does not run in the Debian 12 container: $(head -c 200 "$work/version")"
    return
  fi
  # Booted: running, or degraded (units a container cannot run).
  local state main y z
  for _ in $(seq 120); do
    state=$(inside systemctl is-system-running 2>/dev/null)
    case "$state" in running|degraded) break ;; esac
    sleep 0.5
  done
  case "$state" in running|degraded) ;; *) bad "systemd did not boot: '$state'"; return ;; esac

  # 1. The unit as shipped.
  start_recorder shipped || return
  # CAP_DAC_READ_SEARCH(2) CAP_NET_ADMIN(12) CAP_SYS_PTRACE(19): the unit's
  # set without CAP_BPF and CAP_PERFMON, which the container lacks.
  local caps
  caps=$(capabilities "$main")
  [ "$caps" = 0000000000081004 ] || bad "shipped: the recorder's capabilities: CapEff $caps, expected 0000000000081004"
  check "$work/status-shipped.json" .source poll "shipped: the source without eBPF in a pid namespace"
  inside journalctl --no-pager -u lineage-record > "$work/journal" 2>&1
  grep -q "netlink: the proc connector reports nothing to a process outside the initial pid namespace" "$work/journal" ||
    bad "shipped: the journal does not say why not netlink: $(grep -m1 'source' "$work/journal")"
  inside stat -c '%a %U' /var/lib/lineage > "$work/dir" 2>&1
  [ "$(cat "$work/dir")" = "700 root" ] || bad "/var/lib/lineage: $(cat "$work/dir"), expected 700 root"
  # The recorder itself: its unit and unit file, from systemd.
  lineage_in why "$main" --json > "$work/why-rec.json" 2>&1
  check "$work/why-rec.json" '.sources[] | select(.kind == "systemd") | "\(.details.unit) \(.details.fragment_path)"' \
    "lineage-record.service /etc/systemd/system/lineage-record.service" "why of the recorder"
  # Polling every second: the shell lives 2 s, long enough to be seen.
  probe probe-poll 2 && { sleep 2; why_orphan probe-poll; }
  # systemctl stop: TERM, the last batch committed, exit 0.
  inside systemctl stop lineage-record
  inside systemctl show lineage-record -p Result -p ExecMainStatus > "$work/show-stop"
  grep -qx "Result=success" "$work/show-stop" && grep -qx "ExecMainStatus=0" "$work/show-stop" ||
    bad "stop did not end it cleanly: $(tr '\n' ' ' < "$work/show-stop")"
  lineage_in record --status --json --db "$db" > "$work/status-stopped.json" 2>&1
  check "$work/status-stopped.json" '.running' false "record --status after stop"
  lineage_in history "$z" --db "$db" --json > "$work/history.json" 2>&1
  check "$work/history.json" '[.processes[] | select(.cmdline == ["sleep", "1001"])] | length' 1 \
    "history lists the orphaned sleep"

  # 2. With eBPF: CAP_SYS_ADMIN added by a drop-in.
  inside sh -c 'mkdir -p /run/systemd/system/lineage-record.service.d &&
    printf "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN\nAmbientCapabilities=CAP_SYS_ADMIN\n" \
      > /run/systemd/system/lineage-record.service.d/bpf.conf && systemctl daemon-reload'
  start_recorder bpf || return
  caps=$(capabilities "$main")
  [ "$caps" = 0000000000281004 ] || bad "bpf: the recorder's capabilities: CapEff $caps, expected 0000000000281004"
  check "$work/status-bpf.json" .source bpf "bpf: the source with CAP_SYS_ADMIN"
  [ "$(jq -r '.oldest // "none"' "$work/status-shipped.json")" != none ] &&
    [ "$(jq -r .oldest "$work/status-shipped.json")" = "$(jq -r .oldest "$work/status-bpf.json")" ] ||
    bad "the restarted recorder does not continue the history: oldest $(jq -r .oldest "$work/status-shipped.json") became $(jq -r .oldest "$work/status-bpf.json")"
  # The shell exits at once: only the kernel's events can have seen it.
  probe probe-bpf 0 && why_orphan probe-bpf
  inside systemctl stop lineage-record
}

for c in "${cases[@]}"; do run_case "$c"; done
exit $failed
