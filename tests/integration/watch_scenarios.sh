#!/usr/bin/env bash
# `lineage watch` against real workloads, started here:
#
#   watch_scenarios.sh CASE LINEAGE
#
#   build      compiles a small C project with `make -j2` while watching:
#              every compiler run (cc1 per source file, as, the link) must be
#              seen exec'ing, with `make` in its lineage.
#   container  a real Docker container (docker_env.sh): `watch --container`
#              shows the container's own processes (its init's children and
#              a `docker exec`) and nothing from the host.
#
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
set -euo pipefail

case_name=${1:?usage: watch_scenarios.sh CASE LINEAGE}
lineage=${2:?usage: watch_scenarios.sh CASE LINEAGE}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
watch_pid=""
cleanup_extra=":"
cleanup() {
  # Only processes this script started, by pid.
  if [[ -n $watch_pid ]] && kill -0 "$watch_pid" 2>/dev/null; then
    kill -TERM "$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
  fi
  eval "$cleanup_extra" || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null || skip "$1 is not installed"; }

need jq
# jq 1.6's -e looks at the last input even when it gave no output: test
# slurped arrays instead, one boolean out.
check() { jq -e -s "$@" >/dev/null; }
[ "$(id -u)" = 0 ] || skip "needs root (bpf or netlink source)"

# Starts `lineage watch ARGS...` in the background, JSON lines to
# $work/events.json, and waits until it has bootstrapped (its "source" line).
start_watch() {
  "$lineage" watch --json "$@" >"$work/events.json" 2>"$work/watch.err" &
  watch_pid=$!
  for _ in $(seq 1 100); do
    grep -q "lineage watch: source" "$work/watch.err" 2>/dev/null && return 0
    kill -0 "$watch_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/watch.err" >&2
  fail "watch did not start"
}

stop_watch() {
  kill -TERM "$watch_pid" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true
  watch_pid=""
  cat "$work/watch.err" >&2
}

case "$case_name" in
build)
  need make
  need gcc
  mkdir -p "$work/proj"
  files=""
  for i in 1 2 3 4 5 6; do
    printf 'int f%d(int x) { return x * %d; }\n' "$i" "$i" >"$work/proj/f$i.c"
    files="$files f$i.o"
  done
  printf 'int main(void) { return 0; }\n' >"$work/proj/main.c"
  printf 'prog: main.o%s\n\tgcc -o prog main.o%s\n%%.o: %%.c\n\tgcc -c -o $@ $<\n' "$files" "$files" \
    >"$work/proj/Makefile"
  start_watch --event exec
  make -s -j2 -C "$work/proj" >/dev/null
  sleep 1
  stop_watch
  # The ground truth: 7 compiles (cc1 each) and one link (collect2 or ld).
  for src in main f1 f2 f3 f4 f5 f6; do
    n=$(jq -c --arg f "$src.c" 'select(.event == "exec" and .comm == "cc1" and (.argv | index($f)))' \
          "$work/events.json" | wc -l)
    [ "$n" = 1 ] || fail "cc1 for $src.c seen $n times"
    check --arg f "$src.c" 'map(select(.event == "exec" and .comm == "cc1" and (.argv | index($f))))
        | all(.lineage | index("make") != null and index("gcc") != null and .[-1] == "cc1")' \
        "$work/events.json" || fail "cc1 for $src.c lacks make > gcc in its lineage"
  done
  n=$(jq -c 'select(.event == "exec" and (.comm == "as") and (.lineage | index("make")))' "$work/events.json" | wc -l)
  [ "$n" -ge 7 ] || fail "assembler runs under make: $n, want 7"
  check 'any(.event == "exec" and (.comm == "ld" or .comm == "collect2") and (.lineage | index("make") != null))' \
    "$work/events.json" || fail "no link step under make"
  echo "PASS: build: every compiler, assembler and link run seen with make in its lineage"
  ;;
container)
  need docker
  state="$work/docker-state"
  mkdir -p "$state"
  status=$(bash "$here/docker_env.sh" start "$state" | tail -n 1)
  case "$status" in docker-unavailable*) skip "$status" ;; esac
  name="lineage-watch-$$"
  cleanup_extra="docker rm -f $name >/dev/null 2>&1; bash '$here/docker_env.sh' stop '$state' >/dev/null 2>&1"
  docker run -d --name "$name" lineage-busybox:test sh -c 'while true; do sleep 1; done' >/dev/null
  start_watch --container "$name" --event exec
  docker exec "$name" /bin/busybox ls / >/dev/null
  /bin/true lineage-host-marker
  sleep 2.5
  stop_watch
  check 'any(.event == "exec" and .argv == ["sleep", "1"])' "$work/events.json" ||
    fail "the container init's children were not shown"
  check 'any(.event == "exec" and .argv == ["/bin/busybox", "ls", "/"])' "$work/events.json" ||
    fail "the docker exec was not shown"
  if check 'any(.argv | index("lineage-host-marker") != null)' "$work/events.json"; then
    fail "a host process was shown"
  fi
  if check 'any(.event == "exec" and .comm != "exe" and .comm != "sleep" and .comm != "busybox" and .comm != "ls")' \
       "$work/events.json"; then
    fail "an unexpected process was shown: $(jq -c 'select(.event == "exec") | .argv' "$work/events.json" | sort -u | head -5)"
  fi
  echo "PASS: container: its processes and its docker exec, nothing from the host"
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
