#!/usr/bin/env bash
# loadtest/bench_tracing.sh: one run, side by side, of the same wrk load against the gateway
# with tracing off, on at sample_ratio 1.0 and on at 0.1, exporting OTLP/HTTP JSON to a tiny
# counting receiver (tests/integration/node/otlp_receiver.mjs --count-only). Non-streaming and
# streaming chat. Prints requests/s, p50/p99 and the ratio to "off", and writes a CSV.
#
# usage: loadtest/bench_tracing.sh [--duration S] [--connections N] [--workers N] [--out DIR]
#                                  [--build DIR] [--scenarios "nonstream stream"]
# Everything runs on loopback and stops by itself (bounded duration, processes killed on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh

duration=10 connections=32 workers=1 out=loadtest/results build=build
scenarios="nonstream stream"
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v node >/dev/null || lib_die "node is missing (run scripts/setup.sh)"

lib_init "$build" bench-tracing
start_mock "$workers"
node tests/integration/node/otlp_receiver.mjs --count-only >"$work/otlp.out" 2>&1 &
pids+=($!)
otlp_addr=$(wait_line "$work/otlp.out" "otlp_receiver listening on ")

mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
csv="$out/bench-tracing-$stamp.csv"
echo "scenario,tracing,workers,connections,duration_s,requests,rps,p50_us,p99_us,p999_us,errors,non2xx,spans_exported,spans_dropped" >"$csv"

declare -A modes=(
  [off]=""
  [ratio_1.0]="telemetry: { otlp_endpoint: \"http://$otlp_addr\", sample_ratio: 1.0 }"
  [ratio_0.1]="telemetry: { otlp_endpoint: \"http://$otlp_addr\", sample_ratio: 0.1 }"
)
echo "bench: workers=$workers connections=$connections duration=${duration}s otlp=$otlp_addr"
for scenario in $scenarios; do
  for mode in off ratio_1.0 ratio_0.1; do
    start_gateway "$mode-$scenario" "$workers" "$(events_yaml file)" "${modes[$mode]}"
    eval "$(wrk_run "$scenario" "$gw_addr" "$connections" "$duration")"
    metrics=$(curl -s "http://$gw_admin/metrics")
    stop_pid "$gw_pid"
    exported=$(grep -m1 '^tollgate_trace_spans_exported_total ' <<<"$metrics" | cut -d' ' -f2 || true)
    dropped=$(grep -m1 '^tollgate_trace_spans_dropped_total ' <<<"$metrics" | cut -d' ' -f2 || true)
    echo "$scenario,$mode,$workers,$connections,$duration,$requests,$rps,$p50_us,$p99_us,$p999_us,$errors,$non2xx,${exported:-0},${dropped:-0}" >>"$csv"
    printf '%-10s %-10s %10s req/s  p50 %6s us  p99 %7s us  errors %s non2xx %s  spans exported %s dropped %s\n' \
      "$scenario" "$mode" "$rps" "$p50_us" "$p99_us" "$errors" "$non2xx" "${exported:-0}" "${dropped:-0}"
  done
done

python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {(r["scenario"], r["tracing"]): r for r in rows}
print("\nratio to tracing off (same run):")
for sc in dict.fromkeys(r["scenario"] for r in rows):
    off = by.get((sc, "off"))
    for mode in ("ratio_1.0", "ratio_0.1"):
        r = by.get((sc, mode))
        if off and r:
            print(f"  {sc:<10} {mode:<10} {float(r['rps'])/float(off['rps']):.3f}x")
PY
echo "csv: $csv"
