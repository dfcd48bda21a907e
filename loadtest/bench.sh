#!/usr/bin/env bash
# loadtest/bench.sh: one run, side by side, of the same wrk load against
#   direct  - the mock upstream itself,
#   nginx   - nginx 1.22 as a plain reverse proxy in front of it (the baseline),
#   gateway - tollgate with metering and its event sink on,
# for non-streaming and SSE streaming calls. Prints requests/s, p50/p99/p99.9 and the ratios
# gateway/nginx and gateway/direct, and writes them as CSV.
#
# usage: loadtest/bench.sh [--duration S] [--connections N] [--workers N]
#                          [--sink file|none|kafka-memory|kafka-spool] [--targets "direct nginx gateway"]
#                          [--out DIR] [--build DIR]
# --sink none writes the events to /dev/null (serialized, never stored); kafka-* start
# loadtest's kafka_mock_cluster (one broker) and use events.durability memory or spool.
# Everything runs on loopback and stops by itself (bounded duration, processes killed on exit).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10 connections=64 workers=1 sink=file out=loadtest/results build=build
scenarios="nonstream stream"
targets="direct nginx gateway"
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --sink) sink=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in wrk nginx; do
  command -v $tool >/dev/null || { echo "bench: $tool is missing (run scripts/setup.sh)" >&2; exit 1; }
done
[[ -x $build/bin/tollgate && -x $build/bin/mock_upstream ]] || {
  echo "bench: build first: bash scripts/build.sh $build Release" >&2; exit 1; }

work=$(mktemp -d /tmp/tollgate-bench-XXXXXX)
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

# The mock gets the same worker count as the proxies so it is never the only bottleneck.
$build/bin/mock_upstream --listen 127.0.0.1:0 --threads "$workers" --no-record >"$work/mock.out" 2>&1 &
pids+=($!)
mock_addr=$(wait_line "$work/mock.out" "mock_upstream listening on ")

# nginx cannot report an ephemeral port: pick a free one.
nginx_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<NGINX
worker_processes $workers;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  upstream mock { server $mock_addr; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
pids+=($!)

sink_yaml="events: { sink: file, file: { path: \"$work/events.jsonl\" } }"
case $sink in
  file) ;;
  none) sink_yaml="events: { sink: file, file: { path: \"/dev/null\" } }" ;;
  kafka-memory|kafka-spool)
    $build/bin/kafka_mock_cluster --brokers 1 --replication 1 --partitions 4 >"$work/kafka.out" 2>&1 &
    pids+=($!)
    kafka_line=$(wait_line "$work/kafka.out" "kafka_mock_cluster bootstrap ")
    sink_yaml="events: { sink: kafka, durability: ${sink#kafka-}, spool: { dir: \"$work/spool\" },
  kafka: { brokers: \"${kafka_line%% control *}\", topic: llm.cost.v1 } }" ;;
  *) echo "bench: unknown --sink $sink" >&2; exit 2 ;;
esac
cat >"$work/tollgate.yaml" <<YAML
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
$sink_yaml
logging: { level: warn }
YAML
$build/bin/tollgate --config "$work/tollgate.yaml" >"$work/gw.out" 2>"$work/gw.err" &
pids+=($!)
gw_line=$(wait_line "$work/gw.out" "tollgate listening on ")
gw_addr=${gw_line%% admin *}
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.05; done

mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
csv="$out/bench-$stamp.csv"
echo "scenario,target,workers,connections,duration_s,requests,rps,p50_us,p99_us,p999_us,errors,non2xx" >"$csv"

run() {  # run SCENARIO TARGET URL
  local scenario=$1 target=$2 url=$3 stream=0 close=0
  [[ $scenario == stream* ]] && stream=1
  [[ $scenario == *close ]] && close=1
  local line
  line=$(BENCH_STREAM=$stream BENCH_CLOSE=$close wrk -t1 -c"$connections" -d"${duration}s" \
    --timeout 10s -s loadtest/wrk/chat.lua "$url/v1/chat/completions" | grep '^RESULT')
  # shellcheck disable=SC2086
  local $(echo "${line#RESULT }")
  echo "$scenario,$target,$workers,$connections,$duration,$requests,$rps,$p50_us,$p99_us,$p999_us,$errors,$non2xx" >>"$csv"
  printf '%-16s %-8s %10s req/s  p50 %6s us  p99 %7s us  p99.9 %7s us  errors %s non2xx %s\n' \
    "$scenario" "$target" "$rps" "$p50_us" "$p99_us" "$p999_us" "$errors" "$non2xx"
}

echo "bench: workers=$workers connections=$connections duration=${duration}s sink=$sink"
for scenario in $scenarios; do
  if [[ " $targets " == *" direct "* ]]; then run "$scenario" direct "http://$mock_addr"; fi
  if [[ " $targets " == *" nginx "* ]]; then run "$scenario" nginx "http://127.0.0.1:$nginx_port"; fi
  if [[ " $targets " == *" gateway "* ]]; then run "$scenario" gateway "http://$gw_addr"; fi
done

python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {(r["scenario"], r["target"]): r for r in rows}
print("\nratios (same run):")
for sc in dict.fromkeys(r["scenario"] for r in rows):
    g, n, d = by.get((sc, "gateway")), by.get((sc, "nginx")), by.get((sc, "direct"))
    if not (g and n and d): continue
    rps = lambda r: float(r["rps"])
    print(f"  {sc:<16} gateway/nginx {rps(g)/rps(n):.2f}x  gateway/direct {rps(g)/rps(d):.2f}x"
          f"  added p99 vs nginx {(int(g['p99_us'])-int(n['p99_us']))/1000:+.2f} ms")
PY
echo "csv: $csv"
events=$(wc -l <"$work/events.jsonl" 2>/dev/null || echo 0)
echo "gateway cost events written: $events"
# The sink's own counters: with pending near 0 at the end it kept up with every call.
curl -s "http://${gw_line##* admin }/metrics" |
  grep -E '^tollgate_events_(accepted_total|delivered_total|dropped_total|failed_total|pending|spool_bytes) ' | sed 's/^/sink: /'
