#!/usr/bin/env bash
# loadtest/bench_sinks.sh: the cost of the event sink on proxy throughput, with the same wrk load
# (loadtest/bench.sh --targets gateway) per sink: no sink (events serialized to /dev/null), the
# JSONL file sink, Kafka with durability memory, Kafka with durability spool (against loadtest's
# kafka_mock_cluster, one broker). Prints requests/s per sink, the ratio to no sink, and what the
# sink delivered. With --rounds N the four sinks run N times, interleaved, and the median counts
# (on a shared machine one run per sink measures the neighbours as much as the sink).
#
# usage: loadtest/bench_sinks.sh [--duration S] [--connections N] [--workers N] [--build DIR]
#                                [--scenario nonstream|stream] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."

args=() scenario=nonstream rounds=1
while (($#)); do
  case $1 in
    --scenario) scenario=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration|--connections|--workers|--build) args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

sinks="none file kafka-memory kafka-spool"
out=$(mktemp -d /tmp/tollgate-bench-sinks-XXXXXX)
trap 'rm -rf "$out"' EXIT
for round in $(seq 1 "$rounds"); do
  for sink in $sinks; do
    echo "== round $round sink $sink"
    bash loadtest/bench.sh "${args[@]}" --sink "$sink" --targets gateway --scenarios "$scenario" \
      --out "$out/$sink-$round" 2>&1 | grep -E '^(nonstream|stream|sink:)'
  done
done

python3 - "$out" "$rounds" $sinks <<'PY'
import csv, glob, statistics, sys
out, rounds, sinks = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rps = {s: [float(next(csv.DictReader(open(f)))["rps"])
           for f in sorted(glob.glob(f"{out}/{s}-*/bench-*.csv"))] for s in sinks}
base = statistics.median(rps["none"])
print(f"\nsink cost (median of {rounds} interleaved run(s) per sink):")
for s in sinks:
    m = statistics.median(rps[s])
    runs = " ".join(f"{r:.0f}" for r in rps[s])
    print(f"  {s:<13} {m:>9.0f} req/s  {100 * (m / base - 1):+6.1f}% vs none   runs: {runs}")
PY
