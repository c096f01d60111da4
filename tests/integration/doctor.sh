#!/usr/bin/env bash
# Issue 12 item 4: `lineage doctor` tells the truth here and under real
# degradations: as root with everything, as an unprivileged user, as root
# with the eBPF capabilities dropped (setpriv), and with /proc remounted
# hidepid=2 in a mount and pid namespace of its own.
# Usage: doctor.sh LINEAGE_BINARY. Exit 0 pass, 1 fail, 77 cannot run here.
set -uo pipefail
LINEAGE=$(readlink -f "${1:?usage: doctor.sh LINEAGE_BINARY}")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in jq setpriv unshare; do command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 77; }; done
failed=0
fail() { echo "FAIL: $*"; failed=1; }
check() { jq -r --arg id "$2" '.checks[] | select(.id == $id) | .ok' <<<"$1"; }

# Everything, as root here. /sys and a readable binary are needed below.
out=$("$LINEAGE" doctor --json); rc=$?
[ "$(jq -r .schema <<<"$out")" = lineage.doctor/v1 ] || fail "root: not lineage.doctor/v1"
if [ -r /sys/kernel/btf/vmlinux ]; then
  [ "$(check "$out" bpf)" = true ] || fail "root: bpf should load here: $(jq -r '.checks[]|select(.id=="bpf").detail' <<<"$out")"
fi
[ "$(check "$out" netlink)" = true ] || fail "root: the proc connector should work"
[ "$(check "$out" capabilities)" = true ] || fail "root: capabilities missing"
want=$([ "$(jq -r .ok <<<"$out")" = true ] && echo 0 || echo 1)
[ "$rc" = "$want" ] || fail "root: exit $rc with ok=$(jq -r .ok <<<"$out")"

# An unprivileged user (nobody): no eBPF, no netlink, no capabilities; exit 1.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$LINEAGE" doctor --json); rc=$?
[ "$rc" = 1 ] || fail "nobody: exit $rc, not 1"
for id in bpf netlink capabilities; do
  [ "$(check "$out" $id)" = false ] || fail "nobody: $id should be missing"
done
jq -e '.checks[] | select(.id == "bpf") | .effect | test("netlink")' <<<"$out" >/dev/null ||
  fail "nobody: bpf's effect does not say what watch falls back to"
text=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$LINEAGE" doctor --no-color)
grep -q '^MISSING capabilities' <<<"$text" || fail "nobody: text does not mark capabilities MISSING"

# Root with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN dropped: eBPF refused, netlink still there.
out=$(setpriv --inh-caps=-bpf,-perfmon,-sys_admin --bounding-set=-bpf,-perfmon,-sys_admin "$LINEAGE" doctor --json); rc=$?
[ "$rc" = 1 ] || fail "no bpf caps: exit $rc, not 1"
[ "$(check "$out" bpf)" = false ] || fail "no bpf caps: bpf should not load"
jq -e '.checks[] | select(.id == "bpf") | .detail | test("permitted|denied|EPERM"; "i")' <<<"$out" >/dev/null ||
  fail "no bpf caps: the libbpf error is not given: $(jq -r '.checks[]|select(.id=="bpf").detail' <<<"$out" | head -c 200)"
[ "$(check "$out" netlink)" = true ] || fail "no bpf caps: netlink should still work"
jq -e '.checks[] | select(.id == "capabilities") | .detail | test("CAP_BPF")' <<<"$out" >/dev/null ||
  fail "no bpf caps: capabilities does not name CAP_BPF"

# /proc with hidepid=2 (a proc of its own in new pid and mount namespaces), seen by nobody.
out=$(unshare --mount --pid --fork --mount-proc sh -c \
  'mount -o remount,hidepid=2 /proc && setpriv --reuid=65534 --regid=65534 --clear-groups "$0" doctor --json' "$LINEAGE")
if [ -z "$out" ]; then
  echo "note: hidepid case not run (remount refused here)"
else
  [ "$(check "$out" proc-mount)" = false ] || fail "hidepid=2: proc-mount should be missing for nobody"
  jq -e '.checks[] | select(.id == "proc-mount") | .detail | test("hidepid")' <<<"$out" >/dev/null ||
    fail "hidepid=2: the detail does not name hidepid"
fi
[ $failed = 0 ] && echo "PASS doctor"
exit $failed
