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
command -v wrk >/dev/null || { echo "bench: wrk is missing (run scripts/setup.sh)" >&2; exit 1; }
[[ -x $build/bin/tollgate && -x $build/bin/mock_upstream ]] || {
  echo "bench: build first: bash scripts/build.sh $build Release" >&2; exit 1; }

work=$(mktemp -d /tmp/tollgate-bench-tracing-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_line() {  # wait_line FILE PREFIX: prints the rest of the first line starting with PREFIX
  for _ in $(seq 1 200); do
    if line=$(grep -m1 "^$2" "$1" 2>/dev/null); then echo "${line#"$2"}"; return 0; fi
    sleep 0.05
  done
  echo "bench: timed out waiting for '$2' in $1" >&2; return 1
}

$build/bin/mock_upstream --listen 127.0.0.1:0 --threads "$workers" --no-record >"$work/mock.out" 2>&1 &
pids+=($!)
mock_addr=$(wait_line "$work/mock.out" "mock_upstream listening on ")
node tests/integration/node/otlp_receiver.mjs --count-only >"$work/otlp.out" 2>&1 &
pids+=($!)
otlp_addr=$(wait_line "$work/otlp.out" "otlp_receiver listening on ")

start_gateway() {  # start_gateway NAME TELEMETRY_YAML: prints the gateway address, sets gw_pid
  cat >"$work/$1.yaml" <<YAML
server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  workers: $workers
  instance_id: bench
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://$mock_addr"
    models: ["*"]
    max_idle_connections: 256
prices:
  "gpt-4o-mini*": { input: "0.15", cache_read: "0.075", output: "0.60" }
events: { sink: file, file: { path: "$work/$1-events.jsonl" } }
logging: { level: warn }
$2
YAML
  $build/bin/tollgate --config "$work/$1.yaml" >"$work/$1.out" 2>"$work/$1.err" &
  gw_pid=$!
  pids+=($gw_pid)
}

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
  stream=0
  [[ $scenario == stream ]] && stream=1
  for mode in off ratio_1.0 ratio_0.1; do
    start_gateway "$mode-$scenario" "${modes[$mode]}"
    line=$(wait_line "$work/$mode-$scenario.out" "tollgate listening on ")
    gw_addr=${line%% admin *}
    admin_addr=${line##* admin }
    result=$(BENCH_STREAM=$stream wrk -t1 -c"$connections" -d"${duration}s" --timeout 10s \
      -s loadtest/wrk/chat.lua "http://$gw_addr/v1/chat/completions" | grep '^RESULT')
    # shellcheck disable=SC2086
    local_vars=$(echo "${result#RESULT }")
    eval "$local_vars"
    metrics=$(curl -s "http://$admin_addr/metrics")
    kill -TERM "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
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
