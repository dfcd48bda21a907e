#!/usr/bin/env bash
# The ledger's benchmark: ingest rate from the JSONL file into SQLite (events/s on one core:
# the ingest is single-threaded) and report latency over the resulting store.
# usage: ledger/bench/bench.sh [EVENTS] [BUILD_DIR]      (default 1000000, build)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
build=${2:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$build/bin/ledger_make_events" "$n" "$dir/events.jsonl"
printf 'source: { file: "%s", batch_events: 5000 }\nstore: { sqlite: "%s" }\n' \
  "$dir/events.jsonl" "$dir/ledger.db" > "$dir/ledger.yaml"
bytes=$(stat -c %s "$dir/events.jsonl")
t0=$(date +%s.%N)
"$build/bin/tollgate-ledger" ingest --config "$dir/ledger.yaml" | tail -1
t1=$(date +%s.%N)
awk -v n="$n" -v b="$bytes" -v s="$(echo "$t1 - $t0" | bc)" \
  'BEGIN { printf "ingest: %d events (%.0f MB) in %.2f s: %.0f events/s\n", n, b/1e6, s, n/s }'
rows=$(sqlite3 "$dir/ledger.db" 'SELECT count(*) FROM rollup')
echo "store: $(stat -c %s "$dir/ledger.db" | awk '{printf "%.0f MB", $1/1e6}'), $rows rollup rows"
for fmt in json focus html; do
  best=""
  for run in 1 2 3; do
    t0=$(date +%s.%N)
    "$build/bin/tollgate-ledger" report --config "$dir/ledger.yaml" --period 2026-11 \
      --by team,model --format "$fmt" --out "$dir/report.$fmt"
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc)
    if [[ -z $best ]] || (( $(echo "$s < $best" | bc) )); then best=$s; fi
  done
  echo "report --format $fmt --by team,model: best of 3 $(printf '%.3f' "$best") s"
done
