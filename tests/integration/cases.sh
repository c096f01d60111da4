# shellcheck shell=bash
# What the scenario scripts (why_attacks.sh, record_scenarios.sh) share: the
# command line `SCRIPT LINEAGE_BINARY [CASE...]`, the per-case verdict, and
# running cases one by one, each ending in one PASS, FAIL or SKIP line.
#
# Set ALL_CASES, then source this with the script's arguments:
#   . "$(dirname "$0")/cases.sh" "$@"
# It sets LINEAGE (an absolute path) and cases (the ones named, else all),
# and exits 2 on a usage error.

script=${0##*/}
LINEAGE=${1:?usage: $script LINEAGE_BINARY [CASE...]}
shift
[ -x "$LINEAGE" ] || { echo "$script: $LINEAGE is not an executable" >&2; exit 2; }
LINEAGE=$(readlink -f "$LINEAGE")
# The binary itself. Under ctest LINEAGE is the launcher that keeps every
# JSON document for the schema check (build/tests/lineage-json): a shell
# script that runs lineage as its child and copies its output. A check
# where that extra process matters (lineage ending its own ancestors) uses
# LINEAGE_BIN.
LINEAGE_BIN=$LINEAGE
if [ "$(head -c 2 "$LINEAGE")" = "#!" ]; then
  lineage_real=$(sed -n "s/^LINEAGE_REAL='\(.*\)'$/\1/p" "$LINEAGE")
  [ -n "$lineage_real" ] && [ -x "$lineage_real" ] && LINEAGE_BIN=$lineage_real  # another wrapper: used as it is
fi
for c in "$@"; do
  case " ${ALL_CASES[*]} " in *" $c "*) ;; *) echo "$script: unknown case $c (cases: ${ALL_CASES[*]})" >&2; exit 2 ;; esac
done
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${ALL_CASES[@]}")

# The machine cannot run the script at all: ctest counts exit 77 as skipped.
skip_all() { echo "SKIP: $*"; exit 77; }
now_us() { echo "${EPOCHREALTIME/./}"; }

# Per-case verdict: bad MESSAGE records a failure; skip_case REASON skips.
fails=()
skipped=""
bad() { fails+=("$*"); }
skip_case() { skipped=$*; }

# run_case NAME: runs case_NAME, then the script's after_case (when it has
# one), and prints the verdict; failed becomes 1 when the case failed.
# shellcheck disable=SC2034  # failed is the sourcing script's exit status
failed=0
run_case() {
  fails=()
  skipped=""
  local t0 took msg
  t0=$(now_us)
  "case_$1"
  if declare -F after_case >/dev/null; then after_case; fi
  took=$(( ($(now_us) - t0) / 1000 ))
  if [ -n "$skipped" ]; then
    echo "SKIP $1: $skipped"
  elif [ ${#fails[@]} = 0 ]; then
    echo "PASS $1 (${took} ms)"
  else
    # shellcheck disable=SC2034
    failed=1
    msg=$(printf '%s; ' "${fails[@]}")
    echo "FAIL $1: ${msg%; } (${took} ms)"
  fi
}
