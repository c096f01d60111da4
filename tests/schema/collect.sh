# shellcheck shell=bash
# Runs lineage for the integration tests and keeps a copy of every JSON
# document it prints, for one validation after all tests (the json_outputs
# test: tests/schema/validate.py --collected DIR).
#
# Sourced by the launcher CMake writes (build/tests/lineage-json), which sets
#   LINEAGE_REAL  the lineage binary
#   LINEAGE_JSON  the collection directory (made by the json_outputs_setup test)
# and passes lineage's arguments. Without the directory (the script run by
# hand, or a user who cannot write there) it only execs lineage.
#
# What the caller sees is lineage's: stdout, stderr, stdin, exit status.
# - A finite command with --json (or trace --format json, snapshot -o -)
#   runs as a child with stdout to a file in the collection directory, which
#   is then copied to the real stdout; TERM, INT, HUP, QUIT, USR1 and USR2
#   are passed on to it; the exit status is its. Its -o/--output file
#   (snapshot; trace with JSON) is copied too.
# - Anything else is exec'd (same pid, same stdout): text output, and the
#   long-running streams (watch, record, top --watch) whose pid tests signal
#   and whose output they read while it runs. A JSON stream whose stdout is a
#   regular file is kept by a hard link to that file (same inode: no copy, no
#   delay), with its size when lineage started, so only what lineage wrote is
#   read.
# Each document is N.out with N.meta: exit status, working directory, the
# caller's command line and lineage's arguments, NUL-separated.

lj_exec() { exec "$LINEAGE_REAL" "$@"; }

if [ -z "${LINEAGE_JSON:-}" ] || [ ! -d "$LINEAGE_JSON" ] || [ ! -w "$LINEAGE_JSON" ]; then
  lj_exec "$@"
fi

lj_json=0 lj_cmd="" lj_watch=0 lj_status=0 lj_output="" lj_export="" lj_format="" lj_prev="" lj_a=""
for lj_a in "$@"; do
  case $lj_prev in
    -o | --output) [ "$lj_cmd" = tree ] || lj_output=$lj_a ;;  # tree -o: columns
    --format) lj_format=$lj_a ;;
    --export) lj_export=$lj_a ;;
  esac
  lj_prev=$lj_a
  case $lj_a in
    --) break ;;  # trace -- CMD ARGS: not lineage's
    --json) lj_json=1 ;;
    --format=*) lj_format=${lj_a#--format=} ;;
    --output=*) lj_output=${lj_a#--output=} ;;
    --export=*) lj_export=${lj_a#--export=} ;;
    --watch) lj_watch=1 ;;
    --status) lj_status=1 ;;
    -h | --help | --help-all | --version) lj_exec "$@" ;;
    -*) ;;
    *)
      if [ -z "$lj_cmd" ]; then
        case $lj_a in
          why | tree | files | who | zombies | top | kill | snapshot | audit | watch | record | history | trace | doctor) lj_cmd=$lj_a ;;
          *) lj_cmd=why ;;
        esac
      fi
      ;;
  esac
done
[ "$lj_format" = json ] && lj_json=1

lj_base=$LINEAGE_JSON/$BASHPID.${EPOCHREALTIME/./}

# lj_meta STATUS OFFSET ARGS...: the N.meta of the document N.out (OFFSET:
# where lineage's output begins in it).
lj_meta() {
  local caller=()
  mapfile -d '' caller <"/proc/$PPID/cmdline" 2>/dev/null
  {
    printf '%s\0%s\0%s\0%s\0' "$1" "$2" "$PWD" "${caller[*]}"
    shift 2
    printf '%s\0' "$@"
  } >"$lj_base.meta" 2>/dev/null
}

# A stream: exec'd. Kept when it is JSON on a regular file.
if [ "$lj_cmd" = watch ] || { [ "$lj_cmd" = record ] && [ $lj_status = 0 ]; } || { [ "$lj_cmd" = top ] && [ $lj_watch = 1 ]; }; then
  [ "$lj_cmd" = record ] && { [ "$lj_export" = - ] && lj_json=1 || lj_json=0; }
  if [ $lj_json = 1 ] && [ -f /dev/stdout ] && ln -L /proc/self/fd/1 "$lj_base.out" 2>/dev/null; then
    lj_meta stream "$(stat -L -c %s "/proc/$$/fd/1")" "$@"
  fi
  lj_exec "$@"
fi

# A finite command: JSON on stdout, and/or in the file it writes.
lj_stdout_json=$lj_json lj_file_json=0
case $lj_cmd in
  snapshot)
    [ "$lj_output" = - ] && lj_stdout_json=1
    [ -n "$lj_output" ] && [ "$lj_output" != - ] && lj_file_json=1
    ;;
  trace)
    [ -n "$lj_output" ] && [ "$lj_output" != - ] && { lj_stdout_json=0; lj_file_json=$lj_json; }  # stdout: CMD's
    ;;
esac
[ $lj_stdout_json = 1 ] || [ $lj_file_json = 1 ] || lj_exec "$@"

# A child, so that its output can be copied once it ends. <&0: a background
# command's stdin would be /dev/null otherwise.
if [ $lj_stdout_json = 1 ]; then
  "$LINEAGE_REAL" "$@" <&0 >"$lj_base.out" &
else
  "$LINEAGE_REAL" "$@" <&0 &
fi
lj_child=$!
lj_signalled=0
for lj_s in TERM INT HUP QUIT USR1 USR2; do
  # shellcheck disable=SC2064  # the signal's name, now
  trap "lj_signalled=1; kill -$lj_s $lj_child 2>/dev/null" "$lj_s"
done
while :; do
  lj_signalled=0
  wait "$lj_child"
  lj_rc=$?
  [ $lj_signalled = 1 ] || break
done
if [ $lj_stdout_json = 1 ]; then
  cat "$lj_base.out"
  lj_meta "$lj_rc" 0 "$@"
fi
if [ $lj_file_json = 1 ] && [ -f "$lj_output" ]; then
  lj_base=$lj_base.file
  cp "$lj_output" "$lj_base.out" 2>/dev/null && lj_meta "$lj_rc" 0 "$@"
fi
exit "$lj_rc"
