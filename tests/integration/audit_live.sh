#!/usr/bin/env bash
# Issue 11: audit as it happens and from history, and the audit command's
# contract.
#   live      `watch --audit --json` sees the shell a CGI script under
#             python's http.server runs for a few ms (`/bin/sh -c true`):
#             a web-server-spawned-shell finding whose chain names the
#             server, though the shell is gone before anyone could scan.
#   preload   (bpf) `watch --audit` flags a program that runs a millisecond
#             with LD_PRELOAD, from the environment its exec event carries.
#   history   `record` stores that finding; `audit --since` reads it back
#             with its chain and time.
#   cli       a scan with a program run from /dev/shm: --allow suppresses it
#             and says how many; --fail-on decides the exit code; an unknown
#             rule or severity and a malformed allow-list are usage errors
#             (exit 4) naming the problem; a missing allow-list is exit 2.
# Usage: audit_live.sh LINEAGE_BINARY. Exit 0 pass, 1 fail, 77 cannot run.
set -uo pipefail
LINEAGE=$(readlink -f "${1:?usage: audit_live.sh LINEAGE_BINARY}")
PY=/usr/bin/python3
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in jq "$PY"; do command -v "$tool" >/dev/null || { echo "SKIP: no $tool"; exit 77; }; done
work=$(mktemp -d /tmp/lineage-al.XXXXXX)
chmod 755 "$work"  # http.server runs CGI scripts as nobody
started=()
failed=0
fail() { echo "FAIL: $*"; failed=1; }
cleanup() {
  local p
  for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for FILE PATTERN SECONDS
  local i
  for ((i = 0; i < $3 * 20; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

# ---- the web server whose CGI script runs a 5 ms shell
mkdir -p "$work/web/cgi-bin"
cat > "$work/web/cgi-bin/run.py" <<'PYEOF'
#!/usr/bin/python3
import subprocess, sys
sys.stdout.write("Content-Type: text/plain\r\n\r\n")
sys.stdout.flush()
subprocess.run(["/bin/sh", "-c", "true"])
PYEOF
chmod 755 "$work/web/cgi-bin/run.py"
port=$(free_port)
(cd "$work/web" && exec "$PY" -m http.server --cgi --bind 127.0.0.1 "$port" </dev/null >"$work/web.log" 2>&1) &
server=$!
started+=("$server")
for ((i = 0; i < 100; i++)); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done
request() { "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20).read()' "http://127.0.0.1:$port/cgi-bin/run.py"; }

# ---- live: watch --audit, and record at the same time (history)
"$LINEAGE" watch --audit --json --rule web-server-spawned-shell --duration 25 >"$work/live.jsonl" 2>"$work/live.err" &
watcher=$!
started+=("$watcher")
"$LINEAGE" record --db "$work/h.db" --duration 25 2>"$work/rec.err" &
recorder=$!
started+=("$recorder")
wait_for "$work/live.err" 'Ctrl-C' 20 || fail "watch --audit did not start: $(cat "$work/live.err")"
wait_for "$work/rec.err" 'Ctrl-C' 20 || fail "record did not start: $(cat "$work/rec.err")"
t0=$(date -u +%Y-%m-%dT%H:%M:%S)
sleep 1.5  # the recorder's backfill
request || fail "the CGI request failed: $(tail -3 "$work/web.log")"
if wait_for "$work/live.jsonl" 'web-server-spawned-shell' 10; then
  line=$(grep -m1 web-server-spawned-shell "$work/live.jsonl")
  jq -e '.schema == "lineage.finding/v1" and .severity == "high"' <<<"$line" >/dev/null || fail "live: not a high lineage.finding/v1: $line"
  jq -e --argjson s "$server" '.related_pid == $s and (.chain | map(.pid) | index($s) != null)' <<<"$line" >/dev/null ||
    fail "live: the chain or related_pid does not name the server $server: $line"
  jq -e '.chain[-1].comm == "sh" and (.seen.cmdline // .process.cmdline | join(" ")) == "/bin/sh -c true"' <<<"$line" >/dev/null ||
    fail "live: the finding is not about the shell: $line"
  echo "live: ok ($(jq -r '.chain | map(.comm) | join(" > ")' <<<"$line"))"
else
  fail "watch --audit saw no web-server-spawned-shell finding: $(cat "$work/live.err"; head -c 600 "$work/live.jsonl"; tail -5 "$work/web.log")"
fi
kill -TERM "$watcher" "$recorder"; wait "$watcher" "$recorder" 2>/dev/null
grep -q 'findings' "$work/rec.err" || fail "record's summary has no findings count: $(tail -1 "$work/rec.err")"

# ---- live, bpf: a program that runs a millisecond with LD_PRELOAD is judged
# on the environment its exec event carries (gone before /proc is read)
if "$LINEAGE" watch --source bpf --duration 0.1 >/dev/null 2>&1; then
  "$LINEAGE" watch --audit --json --rule ld-preload --source bpf --duration 20 >"$work/pre.jsonl" 2>"$work/pre.err" &
  watcher=$!
  started+=("$watcher")
  if wait_for "$work/pre.err" 'Ctrl-C' 20; then
    lib=/dev/shm/lineage-al.$$.inject.so
    sh -c 'echo $$ > "$1"; exec env LD_PRELOAD="$2" /bin/true' sh "$work/pre.pid" "$lib" 2>/dev/null
    pre=$(cat "$work/pre.pid")
    if wait_for "$work/pre.jsonl" '"ld-preload"' 10; then
      line=$(grep -m1 '"ld-preload"' "$work/pre.jsonl")
      jq -e --argjson p "$pre" --arg e "LD_PRELOAD=$lib" '.pid == $p and (.evidence | index($e) != null)' <<<"$line" >/dev/null ||
        fail "preload: the finding is not about pid $pre with its LD_PRELOAD: $line"
      jq -e '.severity == "high"' <<<"$line" >/dev/null || fail "preload: a library in /dev/shm is not high: $line"
      echo "preload: ok"
    else
      fail "watch --audit saw no ld-preload finding for pid $pre: $(cat "$work/pre.err"; head -c 600 "$work/pre.jsonl")"
    fi
  else
    fail "watch --audit --source bpf did not start: $(cat "$work/pre.err")"
  fi
  kill -TERM "$watcher"; wait "$watcher" 2>/dev/null
else
  echo "preload: skipped (no eBPF source here)"
fi

# ---- history: audit --since reads the recorded finding
out=$("$LINEAGE" audit --json --since "$t0" --db "$work/h.db" --rule web-server-spawned-shell); rc=$?
[ $rc = 1 ] || fail "history: audit --since exited $rc, not 1 (a high finding)"
jq -e --argjson s "$server" '.findings | any(.rule == "web-server-spawned-shell" and .related_pid == $s and .time != null)' <<<"$out" >/dev/null ||
  fail "history: the recorded finding is not there: $(jq -c .findings <<<"$out" | head -c 400)"
text=$("$LINEAGE" audit --since "$t0" --db "$work/h.db" --rule web-server-spawned-shell)
grep -q 'recorded since' <<<"$text" ||
  fail "history: text output does not say where the findings come from"
[ $failed = 0 ] && echo "history: ok"

# ---- cli: a program run from /dev/shm, the allow-list and exit codes
mkdir -p /dev/shm/lineage-al.$$
cp /bin/sleep /dev/shm/lineage-al.$$/payload
/dev/shm/lineage-al.$$/payload 600 &  # killed below, or by the trap
payload=$!
started+=("$payload")
sleep 0.3
out=$("$LINEAGE" audit --json --rule exec-from-writable-dir); rc=$?
jq -e --argjson p "$payload" '.findings | any(.pid == $p and .rule == "exec-from-writable-dir")' <<<"$out" >/dev/null ||
  fail "cli: no exec-from-writable-dir finding for $payload"
sev=$(jq -r --argjson p "$payload" '.findings[] | select(.pid == $p) | .severity' <<<"$out")
"$LINEAGE" audit --rule exec-from-writable-dir --fail-on "$sev" >/dev/null; [ $? = 1 ] || fail "cli: --fail-on $sev did not exit 1"
"$LINEAGE" audit --rule exec-from-writable-dir --fail-on critical --min-severity critical >/dev/null; rc=$?
[ $rc = 0 ] || fail "cli: nothing critical, yet exit $rc"
printf '# test\nexec-from-writable-dir exe="/dev/shm/lineage-al.*/payload"   # the payload\n' >"$work/allow"
out=$("$LINEAGE" audit --json --rule exec-from-writable-dir --allow "$work/allow")
jq -e --argjson p "$payload" '(.findings | any(.pid == $p) | not) and .suppressed >= 1' <<<"$out" >/dev/null ||
  fail "cli: the allow-list did not suppress the payload: $(jq -c '{suppressed, n: (.findings|length)}' <<<"$out")"
text=$("$LINEAGE" audit --rule exec-from-writable-dir --allow "$work/allow")
grep -q 'suppressed by' <<<"$text" || fail "cli: text does not say how many were suppressed"
err=$("$LINEAGE" audit --rule no-such-rule 2>&1); [ $? = 4 ] && grep -q "no-such-rule" <<<"$err" || fail "cli: unknown rule: $err"
err=$("$LINEAGE" audit --min-severity severe 2>&1); [ $? = 4 ] || fail "cli: unknown severity was not exit 4: $err"
printf 'reverse-shell chain="unclosed\n' >"$work/bad"
err=$("$LINEAGE" audit --allow "$work/bad" 2>&1); [ $? = 4 ] && grep -q 'line 1' <<<"$err" || fail "cli: malformed allow-list: $err"
"$LINEAGE" audit --allow "$work/missing" >/dev/null 2>&1; [ $? = 2 ] || fail "cli: a missing allow-list is not exit 2"
ln -s "$work/allow" "$work/link"
"$LINEAGE" audit --allow "$work/link" >/dev/null 2>&1; [ $? != 0 ] || fail "cli: an allow-list symlink was followed"
kill "$payload"; rm -rf "/dev/shm/lineage-al.$$"
[ $failed = 0 ] && echo "PASS audit_live"
exit $failed
