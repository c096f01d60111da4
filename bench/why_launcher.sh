#!/usr/bin/env bash
# Cost of launcher verification: `lineage why PID --short` for a process
# whose chain holds a launcher (a real screen session, so the screen server's
# executable is verified), against a BASELINE binary in the same hyperfine
# run. Medians matter; this host's absolute times swing with its load.
#
#   BASELINE=/path/to/older/lineage bash bench/why_launcher.sh
#
# Environment: LINEAGE (default <repo>/build/lineage), BASELINE (required),
# RUNS (default 400).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LINEAGE=${LINEAGE:-$here/../build/lineage}
RUNS=${RUNS:-400}
: "${BASELINE:?set BASELINE to the lineage binary to compare with}"
for tool in hyperfine screen jq; do
  command -v "$tool" >/dev/null || { echo "why_launcher.sh: missing tool: $tool" >&2; exit 1; }
done
session="lineage-bench-$$"
marker="lineage-bench-sleep-$$"
screen -dmS "$session" bash -c "exec -a $marker sleep 1000"
trap 'screen -S "$session" -X quit >/dev/null 2>&1 || true' EXIT
pid=""
for _ in $(seq 50); do
  pid=$(pgrep -f "^$marker" | head -1 || true)
  [[ -n $pid ]] && break
  sleep 0.1
done
[[ -n $pid ]] || { echo "why_launcher.sh: the screen session did not start" >&2; exit 1; }
"$LINEAGE" why "$pid" --short >&2 || true
out=$(mktemp)
hyperfine -N -i -w 30 -r "$RUNS" --export-json "$out" \
  -n base-why-launcher "$BASELINE why $pid --short" \
  -n why-launcher "$LINEAGE why $pid --short" >&2
echo "| command | median ms | min ms |"
echo "|---|---:|---:|"
jq -r '.results[] | "| \(.command) | \(.median*1000*100|round/100) | \(.min*1000*100|round/100) |"' "$out"
rm -f "$out"
