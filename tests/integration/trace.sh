#!/usr/bin/env bash
# Issue 11: `lineage trace -- CMD` on real commands: a real C build with make
# and gcc (checked against what strace -f records of the same build), a
# daemon left behind, a command killed by a signal, the Trace Event Format
# output, exit status propagation and the --output file.
#
# Usage: trace.sh LINEAGE_BINARY [CASE...]   (no CASE: all cases)
# Cases:
#   make_bpf      trace -- make -j2 of a 3-file C project (bpf source): every
#                 compiler and linker process with its argv and exit 0, and
#                 the same execs (program paths, with counts) as strace -f
#                 -e trace=process records for the same build
#   make_netlink  the same through the netlink proc connector
#   daemon        sh -c 'sleep 30 & exit 0': trace returns at once, the sleep
#                 is listed as left running with its pid (then killed by pid)
#   signal        sh -c 'kill -TERM $$': exit 143, the report says signal TERM;
#                 yes | head: yes dies of SIGPIPE (lineage ignores it, CMD must not)
#   chrome        --format chrome parses as JSON with one "X" event per
#                 process (5 /bin/true below one sh), ppid in args
#   live          --live prints each exec and exit on stderr as it happens
#                 (the first exit before the second exec), the report on stdout
#   history_chrome  lineage record on a temp database while a small tree runs
#                 (sh > sh > /bin/true x2, sh > /bin/echo); then history
#                 --descendants ROOT --format chrome: one "X" event per process,
#                 named by its argv, each child's track inside its parent's
#                 (time) and args.ppid its parent's pid
#   io_file       -e file: cat /etc/hostname's open with O_RDONLY and its fd;
#                 the open of a missing file with -ENOENT; --json files[]; --live
#                 prints the open on stderr
#   io_net        -e net: a traced server's bind, listen (its port) and accept
#                 (from 127.0.0.1), not the untraced client's connect; a traced
#                 client's connect to 127.0.0.1:PORT, not the untraced listener
#   io_subtree    -e file --format chrome while an unrelated loop opens its own
#                 file: none of its opens appear; the grandchild cat's open is
#                 an instant on its track
#   status        exit 7 comes back as 7; a missing command is 127; not root
#                 is 3 (one line); --output
#                 refuses a symbolic link and creates the file 0600
# Prints PASS, FAIL or SKIP per case. Exit 0 when none failed, 1 when one
# did, 77 (with `SKIP: reason`) when the machine cannot run it at all.
set -uo pipefail

ALL_CASES=(make_bpf make_netlink daemon signal chrome history_chrome io_file io_net io_subtree live status)

# shellcheck source-path=SCRIPTDIR source=cases.sh
. "$(dirname "$0")/cases.sh" "$@"

[ "$(id -u)" = 0 ] || skip_all "needs root: bpf and the proc connector do"
for tool in jq python3 make gcc strace; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

work=$(mktemp -d /tmp/lineage-trace.XXXXXX)
started=()  # pids this test made (the daemon's sleep); only these are stopped
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A tiny C project: two modules and a main, compiled and linked by make.
proj=$work/proj
mkdir -p "$proj"
printf 'int a(void) { return 1; }\n' >"$proj/a.c"
printf 'int b(void) { return 2; }\n' >"$proj/b.c"
printf 'int a(void);\nint b(void);\nint main(void) { return a() + b() - 3; }\n' >"$proj/main.c"
printf 'prog: a.o b.o main.o\n\tcc -o $@ a.o b.o main.o\n%%.o: %%.c\n\tcc -c -o $@ $<\n' >"$proj/Makefile"

# The programs a build exec'd, one line per successful execve, sorted: from
# strace's output (an execve may be split into "unfinished" and "resumed").
# strace_execs FILE path|argv0: the path given to execve, or argv[0].
strace_execs() {
  python3 - "$1" "$2" <<'EOF'
import re, sys
field = 2 if sys.argv[2] == "path" else 3
pending, out = {}, []
for line in open(sys.argv[1]):
    line = line.rstrip()
    m = re.match(r'^(\d+) +execve\("((?:[^"\\]|\\.)*)", \["((?:[^"\\]|\\.)*)"', line)
    if m:
        if line.endswith('<unfinished ...>'):
            pending[m.group(1)] = m.group(field)
        elif re.search(r'\) = 0$', line):
            out.append(m.group(field))
        continue
    m = re.match(r'^(\d+) +<\.\.\. execve resumed>.*= 0$', line)
    if m and m.group(1) in pending:
        out.append(pending.pop(m.group(1)))
print('\n'.join(sorted(out)))
EOF
}

make_case() {
  local source=$1 out=$work/make-$1.json rc
  make -s -C "$proj" clean_all >/dev/null 2>&1; rm -f "$proj"/*.o "$proj/prog"
  (cd "$proj" && "$LINEAGE" trace --source "$source" --json --output "$out" -- make -j2 >/dev/null 2>"$work/err")
  rc=$?
  [ $rc = 0 ] || { bad "trace -- make exited $rc: $(head -c 300 "$work/err")"; return; }
  [ -x "$proj/prog" ] || bad "the build made no program"
  jq -e '.schema == "lineage.trace/v1" and .exit_status == 0 and (.left_running | length) == 0' "$out" >/dev/null ||
    bad "summary: $(jq -c '{exit_status, left_running, events_lost}' "$out")"
  # Every compile and the link, with its argv and exit code 0.
  local f
  for f in a b main; do
    jq -e --arg f "$f" '[.processes[] | select(.argv == ["cc", "-c", "-o", ($f + ".o"), ($f + ".c")]
                          and .exit_code == 0 and .state == "exited")] | length == 1' "$out" >/dev/null ||
      bad "no 'cc -c -o $f.o $f.c' with exit 0"
    jq -e --arg f "$f" '[.processes[] | select((.exe | tostring | endswith("/cc1")) and (.argv | index($f + ".c")))
                          and .exit_code == 0] | length == 1' "$out" >/dev/null || bad "no cc1 for $f.c with exit 0"
  done
  jq -e '[.processes[] | select(.argv == ["cc", "-o", "prog", "a.o", "b.o", "main.o"] and .exit_code == 0)] | length == 1' \
    "$out" >/dev/null || bad "no link 'cc -o prog' with exit 0"
  jq -e '[.processes[] | select((.exe | tostring | test("/(ld|ld\\.bfd|ld\\.gold|collect2)$")) and .exit_code == 0)] | length >= 1' \
    "$out" >/dev/null || bad "no linker (collect2, ld) with exit 0"
  jq -e '[.processes[] | select(.exe != null and .exit_code != 0)] | length == 0' "$out" >/dev/null ||
    bad "a process exited non-zero: $(jq -c '[.processes[] | select(.exe != null and .exit_code != 0) | .argv]' "$out")"
  jq -e '[.processes[] | select(.exe != null and .cpu_seconds == null)] | length == 0' "$out" >/dev/null ||
    [ "$source" = netlink ] || bad "a process without CPU time"
  # The same execs as strace records of the same build.
  rm -f "$proj"/*.o "$proj/prog"
  (cd "$proj" && strace -f -s 4096 -e trace=process -o "$work/strace.out" make -j2 >/dev/null 2>&1) ||
    { bad "strace make failed"; return; }
  # By argv[0] with either source; by the path given to execve with bpf
  # (netlink reads /proc/PID/exe afterwards: the link's target, cc's gcc-12).
  strace_execs "$work/strace.out" argv0 >"$work/strace.argv0"
  jq -r '.processes[].execs[].argv[0]' "$out" | sort >"$work/lineage.argv0"
  if ! cmp -s "$work/strace.argv0" "$work/lineage.argv0"; then
    bad "argv[0]s differ from strace's: $(diff "$work/strace.argv0" "$work/lineage.argv0" | grep '^[<>]' | head -5 | tr '\n' ' ')"
  fi
  strace_execs "$work/strace.out" path >"$work/strace.execs"
  jq -r '.processes[].execs[].exe' "$out" | sort >"$work/lineage.execs"
  if [ "$source" = bpf ] && ! cmp -s "$work/strace.execs" "$work/lineage.execs"; then
    bad "execs differ from strace's: $(diff "$work/strace.execs" "$work/lineage.execs" | grep '^[<>]' | head -5 | tr '\n' ' ')"
  fi
  [ "$(wc -l <"$work/lineage.execs")" -ge 10 ] || bad "only $(wc -l <"$work/lineage.execs") execs"
}
case_make_bpf() { make_case bpf; }
case_make_netlink() { make_case netlink; }

case_daemon() {
  local t0 took rc pid
  t0=$(now_us)
  "$LINEAGE" trace --json --output "$work/daemon.json" -- sh -c 'sleep 30 & exit 0' 2>"$work/err"
  rc=$?
  took=$(( ($(now_us) - t0) / 1000 ))
  pid=$(jq -r '.left_running[0] // empty' "$work/daemon.json" 2>/dev/null)
  if [ -n "$pid" ] && [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "sleep 30 " ]; then
    started+=("$pid")
  else
    bad "left_running names no live 'sleep 30': $(jq -c '.left_running' "$work/daemon.json" 2>/dev/null)"
  fi
  [ $rc = 0 ] || bad "exit $rc: $(head -c 200 "$work/err")"
  [ "$took" -lt 5000 ] || bad "took ${took} ms: it waited for the daemon"
  jq -e --argjson pid "${pid:-0}" '[.processes[] | select(.pid == $pid and .state == "running" and .argv == ["sleep", "30"]
                                     and .duration_seconds == null)] | length == 1' "$work/daemon.json" >/dev/null ||
    bad "the sleep is not reported as running"
  # The text report lists it too.
  "$LINEAGE" trace -- sh -c 'sleep 30 & exit 0' >"$work/daemon.txt" 2>&1
  pid=$(sed -n 's/^  pid \([0-9]*\) *sleep 30$/\1/p' "$work/daemon.txt")
  if [ -n "$pid" ]; then started+=("$pid"); else bad "text: no 'pid N sleep 30' line: $(head -c 300 "$work/daemon.txt")"; fi
  grep -q '^Left running (not waited for): 1 process$' "$work/daemon.txt" || bad "text: no 'Left running' header"
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  started=()
}

case_signal() {
  local rc
  "$LINEAGE" trace -- sh -c 'kill -TERM $$' >"$work/signal.txt" 2>&1
  rc=$?
  [ $rc = 143 ] || bad "exit $rc, not 143"
  grep -q '^signal TERM after ' "$work/signal.txt" || bad "summary does not say signal TERM: $(head -c 200 "$work/signal.txt")"
  grep -Eq 'signal TERM +[0-9]+  sh -c kill -TERM \$\$$' "$work/signal.txt" || bad "the sh line does not say signal TERM"
  # The command gets SIGPIPE's default action (lineage itself ignores it):
  # yes dies of it once head has its line.
  "$LINEAGE" trace --json --output "$work/pipe.json" -- sh -c 'yes | head -n 1 >/dev/null' >/dev/null 2>&1
  jq -e '[.processes[] | select(.argv == ["yes"] and .signal == "PIPE")] | length == 1' "$work/pipe.json" >/dev/null ||
    bad "yes did not die of SIGPIPE: $(jq -c '[.processes[] | {argv, status}]' "$work/pipe.json" 2>/dev/null)"
  "$LINEAGE" trace --json -- sh -c 'kill -TERM $$' >"$work/signal.json" 2>/dev/null
  jq -e '.status == "signal TERM" and .exit_status == 143 and .processes[0].signal == "TERM"' "$work/signal.json" \
    >/dev/null || bad "json: $(jq -c '{status, exit_status}' "$work/signal.json" 2>/dev/null)"
}

case_chrome() {
  "$LINEAGE" trace --format chrome --output "$work/chrome.json" -- \
    sh -c 'for i in 1 2 3 4 5; do /bin/true; done; exit 0' || { bad "trace exited $?"; return; }
  local verdict
  verdict=$(python3 - "$work/chrome.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
xs = [e for e in doc["traceEvents"] if e.get("ph") == "X"]
problems = []
if len(xs) != 6:
    problems.append(f"{len(xs)} X events, not 6")
if len({e["pid"] for e in xs}) != len(xs):
    problems.append("pids are not unique")
root = [e for e in xs if e["name"].startswith("sh -c")]
trues = [e for e in xs if e["name"] == "/bin/true"]
if len(root) != 1 or len(trues) != 5:
    problems.append(f"names: {[e['name'] for e in xs]}")
elif any(e["args"]["ppid"] != root[0]["pid"] for e in trues):
    problems.append("a /bin/true is not under the sh")
for e in xs:
    if e["tid"] != e["pid"] or e["ts"] < 0 or e["dur"] < 0:
        problems.append(f"bad event {e}")
print("; ".join(problems) or "ok")
EOF
)
  [ "$verdict" = ok ] || bad "$verdict"
}

case_history_chrome() {
  local db=$work/hist/h.db rec root
  mkdir -p "$work/hist"
  "$LINEAGE" record --db "$db" </dev/null >"$work/hist/record.out" 2>"$work/hist/record.err" &
  rec=$!
  started+=("$rec")
  local tries=0
  until [ "$("$LINEAGE" record --status --db "$db" --json 2>/dev/null | jq -r ".running and .pid == $rec")" = true ]; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] && kill -0 "$rec" 2>/dev/null || { bad "record did not start: $(head -c 300 "$work/hist/record.err")"; return; }
    sleep 0.1
  done
  sh -c 'sh -c "/bin/true first; /bin/true second"; /bin/echo third >/dev/null; exit 3' &
  root=$!
  wait "$root"
  sleep 0.3  # the recorder writes its batch
  kill -TERM "$rec"
  wait "$rec"
  "$LINEAGE" history --db "$db" --descendants "$root" --format chrome >"$work/hist/chrome.json" 2>"$work/hist/err" ||
    { bad "history --format chrome exited $?: $(head -c 300 "$work/hist/err")"; return; }
  "$LINEAGE" history --db "$db" --format chrome >/dev/null 2>&1
  [ $? = 4 ] || bad "--format chrome without --descendants is not a usage error (4)"
  local verdict
  verdict=$(python3 - "$work/hist/chrome.json" "$root" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
root = int(sys.argv[2])
xs = {e["pid"]: e for e in doc["traceEvents"] if e.get("ph") == "X"}
names = {e["name"]: e for e in xs.values()}
problems = []
want = ["/bin/true first", "/bin/true second", "/bin/echo third"]
if len(xs) != 5 or any(w not in names for w in want):
    problems.append(f"tracks: {sorted(names)}")
else:
    top = xs.get(root)
    inner = [e for e in xs.values() if e["name"].startswith("sh -c /bin/true")]
    if top is None or not top["name"].startswith("sh -c sh -c"):
        problems.append(f"root track: {top and top['name']}")
    elif len(inner) != 1:
        problems.append("no inner sh")
    else:
        parent_of = {want[0]: inner[0], want[1]: inner[0], want[2]: top, inner[0]["name"]: top}
        for name, parent in parent_of.items():
            e = names[name]
            if e["args"]["ppid"] != parent["pid"]:
                problems.append(f"{name}: ppid {e['args']['ppid']}, not {parent['pid']}")
            if e["ts"] < parent["ts"] or e["ts"] + e["dur"] > parent["ts"] + parent["dur"] + 1:
                problems.append(f"{name} is not inside {parent['name']} in time")
        if top["args"]["status"] != "exit 3":
            problems.append(f"root status {top['args']['status']}")
        if names[want[0]]["args"]["argv"] != ["/bin/true", "first"]:
            problems.append(f"argv {names[want[0]]['args']['argv']}")
print("; ".join(problems) or "ok")
EOF
)
  [ "$verdict" = ok ] || bad "$verdict"
}

# io_ready: -e needs bpf; skips the case (and says why) when it cannot load.
io_ready() {
  "$LINEAGE" trace -e file -- true >/dev/null 2>"$work/io-probe.err" && return 0
  skip_case "trace -e does not load here: $(head -c 200 "$work/io-probe.err")"
  return 1
}

case_io_file() {
  io_ready || return
  local missing=$work/no-such-file
  "$LINEAGE" trace -e file -w -- sh -c "cat /etc/hostname >/dev/null; cat $missing 2>/dev/null; exit 0" \
    >"$work/io.txt" 2>"$work/io.err" || { bad "trace -e file exited $?: $(head -c 300 "$work/io.err")"; return; }
  grep -Eq '^ *\+[0-9.]+s .*open "/etc/hostname" O_RDONLY(\|O_[A-Z]+)* = [0-9]+$' "$work/io.txt" ||
    bad "no open of /etc/hostname with O_RDONLY and an fd: $(grep hostname "$work/io.txt" | head -3)"
  grep -Eq "open \"$missing\" O_RDONLY(\\|O_[A-Z]+)* = -ENOENT\$" "$work/io.txt" ||
    bad "no failing open with -ENOENT: $(grep no-such "$work/io.txt" | head -3)"
  # creat(2) (the syscall, not openat: glibc calls it where the kernel has
  # it) is an open with O_WRONLY|O_CREAT|O_TRUNC.
  if grep -q '^#define __NR_creat ' /usr/include/x86_64-linux-gnu/asm/unistd_64.h 2>/dev/null; then
    "$LINEAGE" trace -e file -w -- python3 -c "import ctypes; ctypes.CDLL(None).creat(b'$work/created', 0o640)" \
      >"$work/io-creat.txt" 2>&1 || bad "trace -e file of creat exited $?"
    grep -Eq "open \"$work/created\" O_WRONLY\\|O_CREAT\\|O_TRUNC 0640 = [0-9]+\$" "$work/io-creat.txt" ||
      bad "no open line for creat(2): $(grep -c . "$work/io-creat.txt") lines: $(grep created "$work/io-creat.txt" | head -2)"
  fi
  # --live: each call on stderr as it happens, with its pid.
  "$LINEAGE" trace --live -e file -- cat /etc/hostname >/dev/null 2>"$work/io-live.err" || bad "trace --live -e file failed"
  grep -Eq '^ *\+[0-9.]+s file +[0-9]+ open "/etc/hostname" O_RDONLY(\|O_[A-Z]+)* = [0-9]+$' "$work/io-live.err" ||
    bad "--live: no line for the open of /etc/hostname: $(grep -c . "$work/io-live.err") lines"
  # Under its own process: the line before the opens of cat is a cat.
  # The document to a file: cat's own output is on stdout.
  "$LINEAGE" trace -e file --json --output "$work/io.json" -- cat /etc/hostname >/dev/null 2>&1 ||
    { bad "trace -e file --json failed"; return; }
  local verdict
  verdict=$(python3 - "$work/io.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
p = doc["processes"][0]
opens = [f for f in p["files"] if f["path"] == "/etc/hostname"]
problems = []
if doc.get("events") != ["file"]:
    problems.append(f"events {doc.get('events')}")
if len(opens) != 1 or not opens[0]["flags"].startswith("O_RDONLY") or opens[0]["result"] < 0 or opens[0]["error"]:
    problems.append(f"opens of /etc/hostname: {opens}")
if "network" in p:
    problems.append("network present without -e net")
print("; ".join(problems) or "ok")
EOF
)
  [ "$verdict" = ok ] || bad "json: $verdict"
}

case_io_net() {
  io_ready || return
  command -v python3 >/dev/null || { skip_case "no python3"; return; }
  # The server is traced: bind, listen, accept. The client runs outside
  # the trace (and must not appear); then a traced client connects to a
  # listener outside the trace.
  rm -f "$work/port"
  "$LINEAGE" trace -e net -w -- python3 -c "
import socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
open('$work/port.tmp', 'w').write(str(s.getsockname()[1]))
import os; os.rename('$work/port.tmp', '$work/port')
c, _ = s.accept()
c.close()
" >"$work/srv.txt" 2>"$work/srv.err" &
  local tracer=$! port="" i
  started+=("$tracer")
  for i in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  port=$(cat "$work/port" 2>/dev/null)
  [ -n "$port" ] || { bad "the traced server did not listen: $(head -c 300 "$work/srv.err")"; return; }
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" ||
    bad "cannot connect to the traced server"
  wait "$tracer" || bad "trace of the server exited $?"
  grep -Eq "bind fd [0-9]+ to 127\.0\.0\.1:0 = 0\$" "$work/srv.txt" || bad "no bind: $(grep -c . "$work/srv.txt") lines"
  grep -Eq "listen fd [0-9]+ on 127\.0\.0\.1:$port = 0\$" "$work/srv.txt" || bad "no listen on :$port"
  grep -Eq "accept fd [0-9]+ from 127\.0\.0\.1:[0-9]+ = [0-9]+\$" "$work/srv.txt" || bad "no accept"
  # Only the client's own connect is out of place: the traced subtree may
  # connect elsewhere itself (nscd, the user database over a unix socket).
  grep -Eq "connect fd [0-9]+ to 127\.0\.0\.1:$port " "$work/srv.txt" &&
    bad "the untraced client's connect shows in the server's trace: $(grep connect "$work/srv.txt" | head -3)"

  python3 -c "
import socket, os
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
open('$work/lport.tmp', 'w').write(str(s.getsockname()[1])); os.rename('$work/lport.tmp', '$work/lport')
s.settimeout(20); c, _ = s.accept(); c.close()
" &
  local listener=$!
  started+=("$listener")
  for i in $(seq 100); do [ -s "$work/lport" ] && break; sleep 0.05; done
  port=$(cat "$work/lport" 2>/dev/null)
  "$LINEAGE" trace -e net -w -- python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" \
    >"$work/cli.txt" 2>"$work/cli.err" || bad "trace of the client exited $?: $(head -c 300 "$work/cli.err")"
  wait "$listener"
  grep -Eq "connect fd [0-9]+ to 127\.0\.0\.1:$port = 0\$" "$work/cli.txt" ||
    bad "no connect to 127.0.0.1:$port: $(grep connect "$work/cli.txt" | head -3)"
  grep -Eq "(listen|accept) fd" "$work/cli.txt" && bad "the untraced listener shows in the client's trace"
}

case_io_subtree() {
  io_ready || return
  # An unrelated process opens its own file in a loop while the trace runs:
  # the kernel side must keep it out. The traced cat is a grandchild.
  echo x >"$work/outsider"
  (while :; do cat "$work/outsider" >/dev/null; done) &
  local outsider=$!
  started+=("$outsider")
  "$LINEAGE" trace -e file --format chrome -o "$work/sub.json" -- \
    sh -c 'sleep 0.3; sh -c "cat /etc/hostname >/dev/null"; exit 0' 2>"$work/sub.err" ||
    bad "trace exited $?: $(head -c 300 "$work/sub.err")"
  kill "$outsider" 2>/dev/null
  wait "$outsider" 2>/dev/null
  local verdict
  verdict=$(python3 - "$work/sub.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
xs = {e["pid"]: e for e in doc["traceEvents"] if e.get("ph") == "X"}
inst = [e for e in doc["traceEvents"] if e.get("ph") == "i"]
problems = []
if any("outsider" in e["name"] for e in inst):
    problems.append("the outsider's opens are in the trace")
# Filtered in the kernel: no call of another process even reached lineage.
if doc["otherData"].get("io_lost") != 0:
    problems.append(f"io_lost {doc['otherData'].get('io_lost')}: calls of untraced processes were sent")
if any(e["pid"] not in xs for e in inst):
    problems.append("an instant on a pid that is not a traced process")
cats = [e for e in xs.values() if e["name"] == "cat /etc/hostname"]
mine = [e for e in inst if cats and e["pid"] == cats[0]["pid"] and '"/etc/hostname"' in e["name"]]
if len(cats) != 1 or len(mine) != 1:
    problems.append(f"the traced cat's open: {len(cats)} cats, {len(mine)} opens")
elif mine[0]["cat"] != "file" or mine[0]["args"]["result"] < 0:
    problems.append(f"bad instant {mine[0]}")
print("; ".join(problems) or "ok")
EOF
)
  [ "$verdict" = ok ] || bad "$verdict"
}

case_live() {
  "$LINEAGE" trace --live -- sh -c '/bin/true; ls -d / >/dev/null; exit 0' >"$work/live.out" 2>"$work/live.err" ||
    { bad "trace exited $?"; return; }
  local order
  order=$(sed -n 's/^ *+[0-9.]*s \(exec\|exit\) *[0-9]* \(.*\)$/\1 \2/p' "$work/live.err" | cut -c1-16 | tr '\n' '|')
  case $order in
    "exec sh -c /bin/|exec /bin/true|exit exit 0 afte|exec ls -d /|exit exit 0 afte|exit exit 0 afte|") ;;
    *) bad "live lines: $order" ;;
  esac
  grep -q '^exit 0 after' "$work/live.out" || bad "no report on stdout"
  grep -q 'exec' "$work/live.out" && bad "live lines on stdout"
}

case_status() {
  local rc
  "$LINEAGE" trace -- sh -c 'exit 7' >/dev/null 2>&1
  rc=$?
  [ $rc = 7 ] || bad "sh -c 'exit 7' gave $rc"
  "$LINEAGE" trace -- "$work/no-such-command" >/dev/null 2>"$work/err"
  rc=$?
  [ $rc = 127 ] || bad "a missing command gave $rc, not 127"
  grep -q "cannot run" "$work/err" || bad "no 'cannot run' message"
  "$LINEAGE" trace >/dev/null 2>&1
  rc=$?
  [ $rc = 4 ] || bad "no command gave $rc, not 4"
  # Without root no source starts: exit 3 and one line saying so.
  if command -v setpriv >/dev/null; then
    cp "$LINEAGE" "$work/lineage" && chmod 755 "$work" "$work/lineage"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$work/lineage" trace -- true >/dev/null 2>"$work/err"
    rc=$?
    [ $rc = 3 ] || bad "as nobody: exit $rc, not 3"
    [ "$(wc -l <"$work/err")" = 1 ] && grep -q "need root" "$work/err" || bad "as nobody: $(head -c 300 "$work/err")"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$work/lineage" trace -e file -- true >/dev/null 2>"$work/err"
    rc=$?
    [ $rc = 3 ] || bad "-e as nobody: exit $rc, not 3"
    [ "$(wc -l <"$work/err")" = 1 ] && grep -q -- "-e file/net" "$work/err" || bad "-e as nobody: $(head -c 300 "$work/err")"
  fi
  # `--` right after -e's value belongs to CMD (CLI11 would end -e's list with it).
  "$LINEAGE" trace -e file -- sh -c 'exit 5' >/dev/null 2>"$work/err"
  rc=$?
  [ $rc = 5 ] || bad "trace -e file -- sh -c 'exit 5' gave $rc: $(head -c 200 "$work/err")"
  "$LINEAGE" trace --source netlink -e net -- true >/dev/null 2>&1
  rc=$?
  [ $rc = 4 ] || bad "-e with --source netlink gave $rc, not 4"
  echo keep >"$work/victim"
  ln -s "$work/victim" "$work/link"
  "$LINEAGE" trace --output "$work/link" -- true >/dev/null 2>"$work/err"
  rc=$?
  [ $rc = 4 ] || bad "--output to a symlink gave $rc, not 4"
  [ "$(cat "$work/victim")" = keep ] || bad "the symlink's target was written"
  "$LINEAGE" trace --output "$work/report.txt" -- true >/dev/null 2>&1 || bad "--output to a new file failed"
  [ "$(stat -c %a "$work/report.txt" 2>/dev/null)" = 600 ] || bad "the report is not mode 0600"
  grep -q '^exit 0 after' "$work/report.txt" || bad "the report file has no summary"
}

for c in "${cases[@]}"; do run_case "$c"; done
exit $failed
