#!/usr/bin/env bash
# loadtest/bench_sinks.sh: the cost of the event sink on proxy throughput, with the same wrk load
# against the gateway per sink: no sink (events serialized to /dev/null), the JSONL file sink,
# Kafka with durability memory, Kafka with durability spool (against loadtest's
# kafka_mock_cluster, one broker; appends copied into mapped segments, and kafka-spool-write:
# with write(2), events.spool.mmap: false), and, when the gateway accepts `events.sink: none`, "off"
# (metering and events off). Prints requests/s and the gateway's CPU time per call per sink,
# the ratios to no sink, and what the sink delivered. With --rounds N the sinks run N times,
# interleaved, and the median counts (on a shared machine one run per sink measures the
# neighbours as much as the sink). Then bin/sink_rate measures what each sink sustains on its
# own, without the proxy: events per second accepted and delivered (Kafka: acknowledged), and
# CPU per event (--sink-events N events, 200,000 by default).
#
# usage: loadtest/bench_sinks.sh [--duration S] [--connections N] [--workers N] [--build DIR]
#                                [--scenario nonstream|stream|nonstream-close|stream-close]
#                                [--rounds N] [--pin] [--sink-events N]
# --pin: the gateway runs on the last CPU and everything else (mock, Kafka, wrk) on the others,
# so the sink's threads compete with the worker for the gateway's core and its cost shows in
# requests/s, not only in CPU per call (needs 2 CPUs or more; use with --workers 1).
set -euo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh

duration=10 connections=64 workers=1 build=build scenario=nonstream rounds=1 pin=0 sink_events=200000
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    --sink-events) sink_events=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

lib_init "$build" bench-sinks
if ((pin)); then
  cpus=$(nproc)
  ((cpus >= 2)) || lib_die "--pin needs 2 CPUs or more"
  lib_pin "$((cpus - 1))" "0-$((cpus - 2))"
fi
start_mock "$workers"
start_kafka
sinks="none file kafka-memory kafka-spool"
if gateway_accepts "$(events_yaml kafka-spool-write)"; then
  sinks="$sinks kafka-spool-write"
fi
if gateway_accepts "$(events_yaml off)"; then sinks="off $sinks"; fi

results=$work/results.txt
for round in $(seq 1 "$rounds"); do
  for sink in $sinks; do
    start_gateway "$sink-$round" "$workers" "$(events_yaml "$sink")"
    cpu0=$(cpu_ticks "$gw_pid")
    eval "$(wrk_run "$scenario" "$gw_addr" "$connections" "$duration")"
    cpu_us=$(( ($(cpu_ticks "$gw_pid") - cpu0) * 1000000 / $(getconf CLK_TCK) / (requests > 0 ? requests : 1) ))
    counters=$(curl -s "http://$gw_admin/metrics" | grep -E \
      '^tollgate_events_(accepted_total|delivered_total|dropped_total|pending) ' |
      sed 's/^tollgate_events_//' | tr '\n' ' ')
    stop_pid "$gw_pid"
    echo "$sink $rps $cpu_us" >>"$results"
    printf '== round %s sink %-12s %10s req/s  p99 %6s us  gateway CPU %4s us/call  errors %s  %s\n' \
      "$round" "$sink" "$rps" "$p99_us" "$cpu_us" "$((errors + non2xx))" "$counters"
  done
done

python3 - "$results" "$rounds" $sinks <<'PY'
import statistics, sys
results, rounds, sinks = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rps = {s: [] for s in sinks}
cpu = {s: [] for s in sinks}
for line in open(results):
    sink, value, us = line.split()
    rps[sink].append(float(value))
    cpu[sink].append(float(us))
base, base_cpu = statistics.median(rps["none"]), statistics.median(cpu["none"])
print(f"\nsink cost (median of {rounds} interleaved run(s) per sink):")
for s in sinks:
    m, c = statistics.median(rps[s]), statistics.median(cpu[s])
    runs = " ".join(f"{r:.0f}" for r in rps[s])
    print(f"  {s:<13} {m:>9.0f} req/s  {100 * (m / base - 1):+6.1f}% vs none   "
          f"CPU {c:>5.0f} us/call {100 * (c / base_cpu - 1):+6.1f}%   runs: {runs}")
PY

if ((sink_events > 0)); then
  [[ -x $build/bin/sink_rate ]] || lib_die "no $build/bin/sink_rate: ninja -C $build sink_rate"
  echo
  echo "what each sink sustains on its own (bin/sink_rate, $sink_events events, 1 producer thread):"
  for sink in file kafka-memory kafka-spool; do
    args=(--sink "${sink%%-*}" --events "$sink_events" --dir "$work/sink-rate" --deadline 120)
    [[ $sink == kafka-* ]] && args+=(--brokers "$kafka_bootstrap" --durability "${sink#kafka-}")
    line=$("${on_proxy[@]}" "$build/bin/sink_rate" "${args[@]}" | grep '^RESULT') ||
      lib_die "sink_rate failed for $sink"
    printf '  %-13s %s\n' "$sink" "$(tr ' ' '\n' <<<"${line#RESULT }" |
      grep -E '^(delivered_per_s|cpu_us_per_event|left)=' | tr '\n' ' ')"
  done
fi
