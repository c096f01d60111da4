#!/usr/bin/env bash
# A real Docker daemon for integration tests, started only when none runs.
#
#   docker_env.sh [start] STATE_DIR   start containerd + dockerd if needed,
#                                     make the image lineage-busybox:test
#   docker_env.sh stop STATE_DIR      stop only the daemons that start ran
#
# start prints "docker-ready" when `docker info` answers, or
# "docker-unavailable: <reason>" (exit 0) when this machine cannot run a
# daemon, so a test can skip with that reason. Nothing is installed: the
# daemons and busybox come from the machine (docker.io, busybox-static).
# The pids of the daemons it started are written to STATE_DIR/*.pid and
# their logs to STATE_DIR/*.log; stop kills exactly those pids.
set -u

readonly IMAGE="lineage-busybox:test"
readonly SOCK="/var/run/docker.sock"
readonly CONTAINERD_SOCK="/run/containerd/containerd.sock"
readonly WAIT_SECONDS=30

unavailable() {
  echo "docker-unavailable: $*"
  exit 0
}

daemon_answers() {
  [ -S "$SOCK" ] && timeout 5 docker info >/dev/null 2>&1
}

# Kills the process recorded in STATE_DIR/NAME.pid if it is still the
# program we started (the pid may have been reused), then waits for it.
stop_recorded() {
  local state=$1 name=$2 pidfile="$1/$2.pid" pid exe
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
  [ "$(basename "$exe")" = "$name" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  return 0
}

# Starts one daemon in the background; its pid goes to STATE_DIR/NAME.pid.
start_daemon() {
  local state=$1 name=$2
  shift 2
  setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

# wait_for WHAT CMD...: runs CMD until it succeeds, at most WAIT_SECONDS.
wait_for() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

still_running() {
  local pid
  pid=$(cat "$1/$2.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

containerd_answers() {
  [ -S "$CONTAINERD_SOCK" ] && timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1
}

# A rootfs holding only busybox-static and its applet links, imported as
# an image: no registry, no network.
make_image() {
  local state=$1 busybox rootfs
  docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
  busybox=$(command -v busybox) || { echo "busybox not installed"; return 1; }
  if ldd "$busybox" >/dev/null 2>&1; then
    echo "$busybox is dynamically linked (need busybox-static)"
    return 1
  fi
  rootfs="$state/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/etc"
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in sh sleep cat ls ps echo true false env id; do
    ln -s busybox "$rootfs/bin/$applet"
  done
  echo "root:x:0:0:root:/:/bin/sh" >"$rootfs/etc/passwd"
  echo "root:x:0:" >"$rootfs/etc/group"
  if ! tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/bin' - "$IMAGE" >"$state/import.log" 2>&1; then
    echo "docker import failed: $(tail -n 1 "$state/import.log")"
    return 1
  fi
  rm -rf "$rootfs"
}

start() {
  local state=$1 why
  mkdir -p "$state" || unavailable "cannot create state dir $state"
  if ! daemon_answers; then
    [ "$(id -u)" -eq 0 ] || unavailable "no daemon on $SOCK and not root"
    for prog in dockerd containerd docker; do
      command -v "$prog" >/dev/null || unavailable "$prog not installed"
    done
    if ! containerd_answers; then
      start_daemon "$state" containerd containerd
      if ! wait_for containerd containerd_answers; then
        why=$(tail -n 1 "$state/containerd.log" 2>/dev/null)
        stop_recorded "$state" containerd
        unavailable "containerd did not answer within ${WAIT_SECONDS}s: ${why:-no log}"
      fi
    fi
    start_daemon "$state" dockerd dockerd --containerd="$CONTAINERD_SOCK" \
      --iptables=false --ip6tables=false --bridge=none
    if ! wait_for dockerd daemon_answers; then
      if still_running "$state" dockerd; then
        why="no answer on $SOCK within ${WAIT_SECONDS}s"
      else
        why="dockerd exited: $(grep -m1 -iE 'level=(fatal|error)|failed' "$state/dockerd.log" || tail -n 1 "$state/dockerd.log")"
      fi
      stop_recorded "$state" dockerd
      stop_recorded "$state" containerd
      unavailable "$why"
    fi
  fi
  if ! why=$(make_image "$state"); then
    unavailable "$why"
  fi
  echo "docker-ready"
}

stop() {
  local state=$1
  stop_recorded "$state" dockerd
  stop_recorded "$state" containerd
}

case "${1:-}" in
  stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop STATE_DIR" >&2; exit 4; }
    stop "$2" ;;
  start)
    [ $# -eq 2 ] || { echo "usage: $0 start STATE_DIR" >&2; exit 4; }
    start "$2" ;;
  "")
    echo "usage: $0 [start|stop] STATE_DIR" >&2; exit 4 ;;
  *)
    [ $# -eq 1 ] || { echo "usage: $0 [start|stop] STATE_DIR" >&2; exit 4; }
    start "$1" ;;
esac
