#!/usr/bin/env bash
# Integration test of `lineage who` against its peers on real processes, each
# comparison made at the same moment: lsof FILE, lsof +D DIR, fuser -m MOUNT
# (on a tmpfs mounted here) and ss -tanp (a listener and a connected client
# in another process). Holders are reached through an fd, a mapping (its fd
# closed), both at once, a cwd and an exe; every holder a peer lists must be listed by
# lineage with the same pid, and lineage must name how each holds it. Both
# ways of finding holders are checked: the BPF iterators and the /proc scan.
# Also: a unix socket path, a missing path and a file nobody holds (exit 2),
# and an unprivileged run that must say how many processes it could not read.
# Usage: who_peers.sh LINEAGE_BINARY
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
set -euo pipefail
LINEAGE=${1:?lineage binary}
skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null || skip "$1 is not installed"; }
for tool in lsof fuser ss jq python3 setpriv; do need "$tool"; done
[ "$(id -u)" = 0 ] || skip "needs root (mounts a tmpfs, reads every process's fds)"

work=$(mktemp -d /tmp/lineage-who.XXXXXX)
chmod 755 "$work"
started=()  # pids this test started; only these are stopped
mounted=""
cleanup() {
  local pid
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$mounted" ]; then
    umount "$mounted" 2>/dev/null || umount -l "$mounted" 2>/dev/null || true
    mountpoint -q "$mounted" && return  # never delete what is still mounted
  fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
bad() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

mkdir "$work/mnt"
mount -t tmpfs -o size=16m lineage-who "$work/mnt" || skip "cannot mount a tmpfs here"
mounted=$work/mnt
mkdir "$work/mnt/d"
printf 'data\n' > "$work/mnt/d/f"
printf 'mapped\n' > "$work/mnt/d/m"
cp "$(command -v sleep)" "$work/mnt/lwho-sleep"
printf 'plain\n' > "$work/plain.txt"
printf 'nobody\n' > "$work/unheld.txt"
printf 'both\n' > "$work/fdmap.bin"
chmod 644 "$work"/*.txt

# Each holder writes its ready line to its own file once it holds what it holds.
start() {  # start NAME CMD...: runs CMD in the background, waits for NAME.ready
  local name=$1
  shift
  "$@" > "$work/$name.ready" 2> "$work/$name.err" &
  started+=($!)
  eval "pid_$name=$!"
  local t
  for t in $(seq 600); do [ -s "$work/$name.ready" ] && return 0; sleep 0.05; done
  echo "holder $name did not start: $(cat "$work/$name.err")" >&2
  exit 1
}
hold_fd='import sys, time
f = open(sys.argv[1], sys.argv[2])
print("ready", flush=True)
time.sleep(3600)'
# A mapping whose fd is closed: mmap(2) through ctypes (CPython's mmap
# module keeps a duplicate of the fd).
hold_map='import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDWR)
if libc.mmap(None, 4096, 3, 1, fd, 0) in (None, ctypes.c_void_p(-1).value):
    sys.exit("mmap failed")
os.close(fd)
print("ready", flush=True)
time.sleep(3600)'
hold_fd_map='import mmap, sys, time
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0)
print("ready", flush=True)
time.sleep(3600)'
listen='import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
time.sleep(3600)'
connect='import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
time.sleep(3600)'
unix_listen='import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", flush=True)
time.sleep(3600)'

start fd python3 -c "$hold_fd" "$work/mnt/d/f" "r+"
start map python3 -c "$hold_map" "$work/mnt/d/m"
start fdmap python3 -c "$hold_fd_map" "$work/fdmap.bin"
start cwd sh -c 'cd "$1" && echo ready && exec sleep 3600' sh "$work/mnt/d"
start plain python3 -c "$hold_fd" "$work/plain.txt" "r"
start server python3 -c "$listen"
port=$(head -n 1 "$work/server.ready")
start client python3 -c "$connect" "$port"
start unix python3 -c "$unix_listen" "$work/u.sock"
# exe: a copy of sleep run from the tmpfs (ready once /proc says it runs it).
"$work/mnt/lwho-sleep" 3600 &
started+=($!)
pid_exe=$!
for t in $(seq 600); do [ "$(readlink "/proc/$pid_exe/exe" 2>/dev/null)" = "$work/mnt/lwho-sleep" ] && break; sleep 0.05; done

# who_pids METHOD ARGS...: the holders' pids, one a line, sorted (exit 0 or 1).
who() {
  local method=$1 rc=0
  shift
  "$LINEAGE" who "$@" --method "$method" --json > "$work/who.json" 2> "$work/who.err" || rc=$?
  if [ $rc -gt 1 ]; then
    bad "lineage who $* --method $method exited $rc: $(cat "$work/who.err")"
    echo '{"holders":[]}' > "$work/who.json"
  fi
  jq -r '.schema' "$work/who.json" | grep -qx 'lineage.who/v1' || bad "who $*: schema is not lineage.who/v1"
  jq -r '.holders[].pid' "$work/who.json" | sort -n
}
# how PID: the holds of that holder in the last answer, "fd:r cwd ...".
how() {
  jq -r --argjson p "$1" '.holders[] | select(.pid == $p) | .holds[] | .how + (if .mode then ":" + .mode else "" end)' \
    "$work/who.json" | sort | tr '\n' ' '
}
# compare LABEL PEER_PIDS LINEAGE_PIDS EXPECTED_PIDS...
compare() {
  local label=$1 peer=$2 ours=$3 p
  shift 3
  for p in $peer; do
    grep -qx "$p" <<< "$ours" || bad "$label: the peer lists pid $p, lineage does not (lineage: $(echo $ours))"
  done
  for p in "$@"; do
    grep -qx "$p" <<< "$peer" || bad "$label: the peer does not list pid $p (peer: $(echo $peer))"
    grep -qx "$p" <<< "$ours" || bad "$label: lineage does not list pid $p (lineage: $(echo $ours))"
  done
}
expect_how() {  # expect_how LABEL PID WORD
  local got
  got=$(how "$2")
  grep -qw -- "$3" <<< "$got" || bad "$1: pid $2 should hold it as $3, lineage says: $got"
}

for method in proc bpf; do
  if [ $method = bpf ]; then
    "$LINEAGE" who "$work/plain.txt" --method bpf --json > /dev/null 2>&1 || true
    if ! "$LINEAGE" who "$work/plain.txt" --method bpf --json 2>/dev/null | jq -e '.method == "bpf"' > /dev/null; then
      echo "note: the BPF iterators are not available here; /proc only"
      continue
    fi
  fi
  m="[$method]"

  peer=$(lsof -t "$work/plain.txt" 2>/dev/null | sort -n || true)
  ours=$(who $method "$work/plain.txt")
  compare "$m lsof FILE" "$peer" "$ours" "$pid_plain"
  expect_how "$m who FILE" "$pid_plain" "fd:r"

  peer=$(lsof -t "$work/mnt/d/m" 2>/dev/null | sort -n || true)
  ours=$(who $method "$work/mnt/d/m")
  compare "$m lsof FILE (mapped)" "$peer" "$ours" "$pid_map"
  expect_how "$m who FILE (mapped)" "$pid_map" "mmap"
  case " $(how "$pid_map")" in *" fd"*) bad "$m who FILE (mapped): pid $pid_map holds no fd on it, lineage says: $(how "$pid_map")" ;; esac

  # An fd open for reading and writing on a file the same process maps:
  # both holds, the fd with its mode.
  peer=$(lsof -t "$work/fdmap.bin" 2>/dev/null | sort -n || true)
  ours=$(who $method "$work/fdmap.bin")
  compare "$m lsof FILE (fd and mapping)" "$peer" "$ours" "$pid_fdmap"
  expect_how "$m who FILE (fd and mapping)" "$pid_fdmap" "fd:rw"
  expect_how "$m who FILE (fd and mapping)" "$pid_fdmap" "mmap"

  peer=$(lsof -t "$work/mnt/lwho-sleep" 2>/dev/null | sort -n || true)
  ours=$(who $method "$work/mnt/lwho-sleep")
  compare "$m lsof FILE (exe)" "$peer" "$ours" "$pid_exe"
  expect_how "$m who FILE (exe)" "$pid_exe" "exe"

  peer=$(lsof -t +D "$work/mnt/d" 2>/dev/null | sort -n || true)
  ours=$(who $method --dir "$work/mnt/d")
  compare "$m lsof +D DIR" "$peer" "$ours" "$pid_fd" "$pid_map" "$pid_cwd"
  expect_how "$m who --dir" "$pid_fd" "fd:rw"
  expect_how "$m who --dir" "$pid_cwd" "cwd"

  peer=$(fuser -m "$work/mnt" 2>/dev/null | tr -s ' ' '\n' | grep -E '^[0-9]+$' | sort -n || true)
  ours=$(who $method --mount "$work/mnt")
  compare "$m fuser -m MOUNT" "$peer" "$ours" "$pid_fd" "$pid_map" "$pid_cwd" "$pid_exe"
  expect_how "$m who --mount" "$pid_map" "mmap"
  expect_how "$m who --mount" "$pid_cwd" "cwd"
  expect_how "$m who --mount" "$pid_exe" "exe"
  jq -e --arg p "$work/mnt" '.resource.path == $p and .resource.fstype == "tmpfs"' "$work/who.json" > /dev/null ||
    bad "$m who --mount: resource is not the tmpfs at $work/mnt: $(jq -c .resource "$work/who.json")"

  peer=$(ss -tanp "( sport = :$port or dport = :$port )" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -nu)
  ours=$(who $method ":$port")
  compare "$m ss -tanp PORT" "$peer" "$ours" "$pid_server" "$pid_client"
  jq -e '[.resource.sockets[].state] | index("LISTEN") != null and index("ESTAB") != null' "$work/who.json" > /dev/null ||
    bad "$m who :PORT: the listener and the connection should both be listed: $(jq -c .resource "$work/who.json")"
  ours=$(who $method "tcp/$port")
  compare "$m who tcp/PORT" "$peer" "$ours" "$pid_server" "$pid_client"

  peer=$(ss -xlp "src $work/u.sock" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -nu || true)
  ours=$(who $method "$work/u.sock")
  compare "$m ss -xlp UNIX-SOCKET" "$peer" "$ours" "$pid_unix"
done

# Nothing holds it, or it is not there: exit 2 and one line.
rc=0
"$LINEAGE" who "$work/unheld.txt" > "$work/out" 2> "$work/err" || rc=$?
# Exit 3 instead when some processes' fds could not be read (on some hosts
# even root is denied pid 1's): then it must say how many, never guess.
if [ $rc = 3 ]; then
  grep -q "no visible process holds .* could not be read" "$work/err" ||
    bad "who of a file nobody holds: exit 3 without the unreadable count: $(cat "$work/err")"
else
  [ $rc = 2 ] || bad "who of a file nobody holds: exit $rc, expected 2"
  grep -q "no process holds" "$work/err" || bad "who of a file nobody holds: message: $(cat "$work/err")"
fi
rc=0
"$LINEAGE" who "$work/missing" > "$work/out" 2> "$work/err" || rc=$?
[ $rc = 2 ] || bad "who of a missing path: exit $rc, expected 2"
[ "$(wc -l < "$work/err")" = 1 ] && grep -q "No such file" "$work/err" || bad "who of a missing path: $(cat "$work/err")"
rc=0
"$LINEAGE" who :0 > /dev/null 2>&1 || rc=$?
[ $rc = 4 ] || bad "who :0: exit $rc, expected 4"

# Not root: root's processes cannot be read; never guess, say how many.
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$LINEAGE" who "$work/plain.txt" > "$work/out" 2> "$work/err" || rc=$?
[ $rc = 3 ] || bad "unprivileged who: exit $rc, expected 3 (nobody visible holds it): $(cat "$work/err")"
grep -Eq "[0-9]+ process(es)? could not be read" "$work/err" || bad "unprivileged who: no count of unreadable processes: $(cat "$work/err")"

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "PASS: lineage who agrees with lsof, lsof +D, fuser -m and ss (proc and bpf)"
