#!/usr/bin/env bash
# `lineage files` against `lsof -p PID -n -P` on a real process, taken at the
# same moment, and the other end of its pipe and unix socket pair.
#
# Usage: files_peers.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases: lsof_match maps_match peers named_fifo filters bad_type vanished not_readable
# Prints `PASS case`, `FAIL case: why` or `SKIP case: why` for each case.
# Exit 0 when none failed, 1 when one did, 77 (with `SKIP: reason`) when the
# machine cannot run the test at all, 2 on a usage error.
#
# The holder (files_holder.c, built here) keeps open: a regular file
# (O_APPEND), a deleted file, the write end of a pipe whose read end its
# child holds, one end of a unix socket pair whose other end its child holds,
# a listening TCP socket on 127.0.0.1 with one connection to it (both ends),
# an eventfd and a memfd.
set -uo pipefail

ALL_CASES=(lsof_match maps_match peers named_fifo filters bad_type vanished not_readable)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

[ "$(id -u)" = 0 ] || skip_all "needs root: lsof must see every fd, and the test creates a user"
for tool in lsof jq cc useradd userdel setpriv; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

work=$(mktemp -d /tmp/lineage-files.XXXXXX)
chmod 755 "$work"
holder_pid="" child_pid="" user="" uid=""

cleanup() {
  trap - EXIT INT TERM
  # Only what this script started, by pid.
  [ -n "$child_pid" ] && kill -KILL "$child_pid" 2>/dev/null
  [ -n "$holder_pid" ] && kill -KILL "$holder_pid" 2>/dev/null && wait "$holder_pid" 2>/dev/null
  if [ -n "$uid" ]; then
    userdel -r "$user" >/dev/null 2>&1 || userdel -r -f "$user" >/dev/null 2>&1
    id "$user" >/dev/null 2>&1 && echo "files_peers.sh: could not remove user $user" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O1 -o "$work/lfiles-holder" "$(dirname "$0")/files_holder.c" || skip_all "cannot build the holder with cc"
"$work/lfiles-holder" "$work" > "$work/holder.out" 2>&1 &
holder_pid=$!
for _ in $(seq 100); do [ -s "$work/holder.out" ] && break; sleep 0.05; done
read -r hpid child_pid port pipe_fd sp_fd < "$work/holder.out" || { echo "FAIL setup: holder did not start"; exit 1; }
[ "$hpid" = "$holder_pid" ] || { echo "FAIL setup: holder says pid $hpid, not $holder_pid"; exit 1; }

# lineage's rows as "label<TAB>type-as-lsof<TAB>inode<TAB>name-as-lsof<TAB>mode"
# (mode as lsof's access letter: r, w, u; "-" for cwd, rtd, txt, mem).
lineage_rows() {
  jq -r '.files[] |
    (.type | if . == "memfd" then "REG"
             elif test("^(eventfd|epoll|signalfd|timerfd|inotify|fanotify|pidfd|bpf-.*|io_uring|userfaultfd|perf_event)$") then "a_inode"
             else . end) as $t |
    (if .socket and (.type == "IPv4" or .type == "IPv6") then
       def star: sub("^(0\\.0\\.0\\.0|\\[::\\])(?<p>:[0-9]+)$"; "*\(.p)");
       .socket.protocol + " " + (.socket.local | star) + (if .socket.remote != "" then "->" + .socket.remote else "" end)
     else .path + (if .deleted then " (deleted)" else "" end) end) as $n |
    (.mode // "-" | if . == "rw" then "u" else . end) as $m |
    [.label, $t, (.inode | tostring), $n, $m] | @tsv' "$1"
}

# lsof -F's records as the same columns (a socket's name after its protocol).
lsof_rows() {
  awk -F '\n' '
    function flush() { if (fd != "") print fd "\t" type "\t" (ino == "" ? "-" : ino) "\t" (proto == "" ? "" : proto " ") name "\t" (mode == "" ? "-" : mode); fd = type = ino = name = proto = mode = "" }
    /^f/ { flush(); fd = substr($0, 2) }
    /^t/ { type = substr($0, 2) }
    /^i/ { ino = substr($0, 2) }
    /^n/ { name = substr($0, 2) }
    /^P/ { proto = substr($0, 2) }
    /^a/ { mode = substr($0, 2) }
    END { flush() }' "$1"
}

# compare LSOF_ROWS LINEAGE_ROWS [mem]: every lsof row (numbered fds, cwd,
# rtd, txt; with mem, the mapped files) has a lineage row of that label with
# the same type and access mode, the same inode where lsof gives one, and the
# same name for files and TCP/UDP sockets.
compare_rows() {
  local lf=$1 lg=$2 with_mem=${3:-} label type ino name mode got gtype gino gname gmode n=0
  while IFS=$'\t' read -r label type ino name mode; do
    case "$label" in
      mem) [ -n "$with_mem" ] || continue ;;
      cwd|rtd|txt|[0-9]*) ;;
      *) continue ;;  # DEL, NOFD, ... are not fds
    esac
    n=$((n + 1))
    if [ "$label" = mem ]; then
      got=$(awk -F '\t' -v n="$name" '$1 == "mem" && $4 == n' "$lg" | head -n 1)
      [ -n "$got" ] || { bad "lsof lists mapped file '$name'; lineage --maps does not"; continue; }
      continue
    fi
    got=$(awk -F '\t' -v l="$label" '$1 == l' "$lg" | head -n 1)
    [ -n "$got" ] || { bad "lsof lists fd $label ($type $name); lineage does not"; continue; }
    IFS=$'\t' read -r _ gtype gino gname gmode <<< "$got"
    [ "$mode" = - ] || [ "$mode" = " " ] || [ "$mode" = "$gmode" ] || bad "fd $label: lsof mode $mode, lineage $gmode"
    [ "$gtype" = "$type" ] || bad "fd $label: lsof type $type, lineage $gtype"
    if [ "$ino" != - ] && [ "$ino" != "$gino" ]; then bad "fd $label: lsof inode $ino, lineage $gino"; fi
    case "$type" in
      REG|DIR|CHR|BLK) [ "$gname" = "$name" ] || bad "fd $label: lsof name '$name', lineage '$gname'" ;;
      IPv4|IPv6) [ "${name%% (*}" = "$gname" ] || bad "fd $label: lsof name '$name', lineage '$gname'" ;;
    esac
  done < "$lf"
  [ "$n" -ge 12 ] || bad "lsof listed only $n rows"
}

snap() {  # snap NAME [lineage args...]: lineage and lsof at the same moment
  local name=$1
  shift
  "$LINEAGE" files "$holder_pid" --json "$@" > "$work/$name.json" 2> "$work/$name.err"
  lsof -p "$holder_pid" -n -P -F ftinPa > "$work/$name.lsof" 2>/dev/null
  lineage_rows "$work/$name.json" > "$work/$name.lg"
  lsof_rows "$work/$name.lsof" > "$work/$name.lf"
}

case_lsof_match() {
  snap plain
  compare_rows "$work/plain.lf" "$work/plain.lg"
  # The kinds the holder made are all there, typed.
  local want
  for want in "REG.*$work/regular\$" "REG.*$work/deleted (deleted)\$" "memfd.*lfilesmem" "eventfd" "unix" \
              "IPv4.*TCP 127.0.0.1:$port\$" "IPv4.*->127.0.0.1:$port" "FIFO"; do
    jq -r '.files[] | [.type, .path + (if .deleted then " (deleted)" else "" end),
           (if .socket.local then .socket.protocol + " " + .socket.local + (if .socket.remote != "" then "->" + .socket.remote else "" end) else empty end)] | join(" ")' \
      "$work/plain.json" | grep -q -- "$want" || bad "no row matching '$want'"
  done
  local reg_mode
  reg_mode=$(jq -r --arg p "$work/regular" '.files[] | select(.path == $p) | .mode + " " + (.flags | join(","))' "$work/plain.json")
  [ "$reg_mode" = "rw append" ] || bad "regular file mode/flags '$reg_mode', want 'rw append'"
  jq -e --arg p "$work/regular" '.files[] | select(.path == $p) | .size == 6 and .offset == 6' "$work/plain.json" >/dev/null ||
    bad "regular file: size and offset are not 6"
  local state
  state=$(jq -r --argjson p "$port" '.files[] | select(.socket.local == "127.0.0.1:\($p)" and .socket.remote == "") | .socket.state' "$work/plain.json")
  [ "$state" = LISTEN ] || bad "listening socket state '$state'"
}

case_maps_match() {
  snap maps --maps
  compare_rows "$work/maps.lf" "$work/maps.lg" mem
  grep -q $'^mem\t' "$work/maps.lf" || bad "lsof listed no mapped file"
}

case_peers() {
  local j=$work/peers.json
  "$LINEAGE" files "$holder_pid" --json > "$j" 2> "$work/peers.err"
  jq -e --argjson fd "$pipe_fd" --argjson c "$child_pid" \
    '.files[] | select(.fd == $fd) | .peers | any(.pid == $c and .mode == "r" and (.why | length > 0))' "$j" >/dev/null ||
    bad "pipe fd $pipe_fd: the read end in child $child_pid is not named (with its why)"
  jq -e --argjson fd "$sp_fd" --argjson c "$child_pid" \
    '.files[] | select(.fd == $fd) | .peers | any(.pid == $c)' "$j" >/dev/null ||
    bad "socketpair fd $sp_fd: the other end in child $child_pid is not named"
  # The child's own view: its pipe's other end is the holder.
  "$LINEAGE" files "$child_pid" --type pipe --json > "$work/child.json" 2>/dev/null
  jq -e --argjson h "$holder_pid" '[.files[].peers[]? | select(.pid == $h and .mode == "w")] | length > 0' \
    "$work/child.json" >/dev/null || bad "child $child_pid: the holder's write end is not named"
  # lsof +E (endpoints) at the same moment: every pipe or unix endpoint it
  # names for the holder's fds, lineage names too (pid and fd).
  lsof -p "$holder_pid" +E -n -P > "$work/peers.lsofE" 2>/dev/null
  "$LINEAGE" files "$holder_pid" --json > "$j" 2>/dev/null
  local fd ep epid efd n=0
  while read -r fd ep; do
    epid=${ep%%,*}
    efd=${ep##*,}
    efd=${efd%[rwu]}
    n=$((n + 1))
    jq -e --argjson fd "$fd" --argjson p "$epid" --argjson e "$efd" \
      '.files[] | select(.fd == $fd) | .peers | any(.pid == $p and .fd == $e)' "$j" >/dev/null ||
      bad "lsof +E: fd $fd has its other end at pid $epid fd $efd; lineage does not say so"
  done < <(awk -v h="$holder_pid" '$2 == h && ($5 == "FIFO" || $5 == "unix") {
             fd = $4; sub(/[rwu]$/, "", fd)
             for (i = 9; i <= NF; i++) if ($i ~ /^[0-9]+,[^,]+,[0-9]+[rwu]$/) print fd, $i }' "$work/peers.lsofE")
  [ "$n" -ge 2 ] || bad "lsof +E named only $n endpoints"
  # The kernel's file iterator (what auto uses at 3,000 processes and more)
  # finds the same other ends as the /proc scan, with the same fds and ends.
  local m
  for m in proc bpf; do
    "$LINEAGE" files "$holder_pid" --method "$m" --json > "$work/peers-$m.json" 2>/dev/null
    jq -c --argjson a "$pipe_fd" --argjson b "$sp_fd" \
      '[.files[] | select(.fd == $a or .fd == $b) | {fd, peers: [.peers[] | {pid, fd, mode}] | sort}]' \
      "$work/peers-$m.json" > "$work/peers-$m.cmp"
  done
  if [ "$(jq -r .peer_scan.method "$work/peers-bpf.json")" = bpf ]; then
    cmp -s "$work/peers-proc.cmp" "$work/peers-bpf.cmp" ||
      bad "the BPF peer search differs from /proc's: $(cat "$work/peers-bpf.cmp") vs $(cat "$work/peers-proc.cmp")"
    grep -q "\"pid\":$child_pid" "$work/peers-bpf.cmp" || bad "the BPF peer search does not name child $child_pid"
  else
    echo "  note: BPF peer search unavailable here: /proc only ($(jq -r .peer_scan.method "$work/peers-bpf.json"))"
  fi
  # Text: the peer line names the child.
  "$LINEAGE" files "$holder_pid" --type unix,pipe --no-color > "$work/peers.txt" 2>&1
  grep -q -- "-> lfiles-holder (pid $child_pid) fd" "$work/peers.txt" || bad "text output has no peer line for $child_pid"
}

case_named_fifo() {
  # A FIFO made by mkfifo: a reader and a writer that opened it by its path.
  # Each one's fd names the other as its peer (pid, fd, mode), by the file's
  # (device, inode): a second FIFO with no one at the other end has none.
  mkfifo "$work/fifo" "$work/lonely" || { bad "mkfifo failed"; return; }
  local reader writer lonely
  # The reader's open blocks until a writer opens: both run when both are in.
  bash -c 'exec 4< "$1"; exec sleep 300' _ "$work/fifo" & reader=$!
  bash -c 'exec 5> "$1"; exec sleep 301' _ "$work/fifo" & writer=$!
  # Opening read-write never blocks: the one holder of this FIFO.
  bash -c 'exec 6<> "$1"; exec sleep 302' _ "$work/lonely" & lonely=$!
  local deadline=$((SECONDS + 5))
  until [ -e "/proc/$reader/fd/4" ] && [ -e "/proc/$writer/fd/5" ] && [ -e "/proc/$lonely/fd/6" ]; do
    [ $SECONDS -lt $deadline ] || { bad "the FIFO's ends did not open"; kill -KILL $reader $writer $lonely 2>/dev/null; return; }
    sleep 0.05
  done
  "$LINEAGE" files "$writer" --type fifo --json > "$work/fifo-w.json" 2>/dev/null
  jq -e --argjson r "$reader" '.files[] | select(.fd == 5) | .type == "FIFO" and (.peers | any(.pid == $r and .fd == 4 and .mode == "r"))' \
    "$work/fifo-w.json" >/dev/null || bad "writer $writer fd 5: the reader $reader fd 4 is not its peer: $(jq -c '.files[] | select(.fd == 5)' "$work/fifo-w.json")"
  "$LINEAGE" files "$reader" --type fifo --json > "$work/fifo-r.json" 2>/dev/null
  jq -e --argjson w "$writer" '.files[] | select(.fd == 4) | .peers | any(.pid == $w and .fd == 5 and .mode == "w")' \
    "$work/fifo-r.json" >/dev/null || bad "reader $reader fd 4: the writer $writer fd 5 is not its peer"
  "$LINEAGE" files "$lonely" --type fifo --json > "$work/fifo-l.json" 2>/dev/null
  jq -e '.files[] | select(.fd == 6) | .peers == []' "$work/fifo-l.json" >/dev/null ||
    bad "a FIFO nobody else holds has peers: $(jq -c '.files[] | select(.fd == 6) | .peers' "$work/fifo-l.json")"
  "$LINEAGE" files "$writer" --type fifo --no-color > "$work/fifo.txt" 2>&1
  grep -q -- "-> sleep (pid $reader) fd 4" "$work/fifo.txt" || bad "text: no peer line for the reader: $(cat "$work/fifo.txt")"
  kill -KILL "$reader" "$writer" "$lonely" 2>/dev/null
  wait "$reader" "$writer" "$lonely" 2>/dev/null
}

case_filters() {
  "$LINEAGE" files "$holder_pid" --net --json > "$work/net.json"
  jq -e '.files | length >= 4 and all(.link | startswith("socket:"))' "$work/net.json" >/dev/null ||
    bad "--net: not only (and not all) sockets"
  "$LINEAGE" files "$holder_pid" --deleted --json > "$work/del.json"
  jq -e '.files | length >= 2 and all(.deleted)' "$work/del.json" >/dev/null || bad "--deleted: not only deleted files"
  "$LINEAGE" files "$holder_pid" --type tcp --json > "$work/tcp.json"
  jq -e '.files | length == 3 and all(.socket.protocol == "TCP")' "$work/tcp.json" >/dev/null ||
    bad "--type tcp: want the 3 TCP sockets"
  "$LINEAGE" files lfiles-holder --exact --type eventfd --json > "$work/name.json" 2>&1
  # Two processes are named lfiles-holder: the name is ambiguous (usage error).
  local rc=$?
  [ "$rc" = 4 ] || bad "an ambiguous name exits $rc, want 4"
}

case_bad_type() {
  local out rc
  out=$("$LINEAGE" files "$holder_pid" --type reg,sockets 2>&1)
  rc=$?
  [ "$rc" = 4 ] || bad "unknown --type exits $rc, want 4"
  grep -q "unknown file type 'sockets'" <<< "$out" || bad "no message naming the bad type: $out"
  grep -q "valid types: .*eventfd" <<< "$out" || bad "the valid types are not listed: $out"
}

case_vanished() {
  local gone out rc
  sleep 30 &
  gone=$!
  kill -KILL "$gone"
  wait "$gone" 2>/dev/null
  out=$("$LINEAGE" files "$gone" 2>&1)
  rc=$?
  [ "$rc" = 2 ] || bad "an exited pid exits $rc, want 2"
  grep -q "no process with pid $gone" <<< "$out" || bad "no clear line for the exited pid: $out"
}

case_not_readable() {
  user=lfiles$$
  useradd -M -s /bin/sh -c "lineage files test" "$user" >/dev/null 2>&1 || { skip_case "useradd failed"; return; }
  uid=$(id -u "$user")
  cp "$LINEAGE" "$work/lineage" && chmod 755 "$work/lineage"
  local out rc
  out=$(setpriv --reuid="$uid" --regid="$(id -g "$user")" --init-groups -- env -i PATH=/usr/bin:/bin \
        "$work/lineage" files "$holder_pid" 2>&1)
  rc=$?
  [ "$rc" = 3 ] || bad "another user's process exits $rc, want 3"
  grep -q "open files not readable: .*fd table" <<< "$out" || bad "no 'not readable' line naming the fd table: $out"
  grep -q "$work/regular" <<< "$out" && bad "a path of the unreadable process was printed: $out"
  # Its own process: readable, with the peer search unable to read root's.
  out=$(setpriv --reuid="$uid" --regid="$(id -g "$user")" --init-groups -- env -i PATH=/usr/bin:/bin \
        sh -c 'exec "$0" files $$ --json' "$work/lineage" 2>&1)
  rc=$?
  [ "$rc" = 0 ] || bad "the user's own process exits $rc, want 0: $out"
}

for c in "${cases[@]}"; do run_case "$c"; done
exit "$failed"
