# shellcheck shell=bash disable=SC2034  # sourced; the variables it sets are its outputs
# loadtest/lib.sh: start-up code shared by loadtest/bench, bench_sinks.sh and bench_tracing.sh.
# Sourced, not run. Everything it starts is recorded in `pids` and stopped on exit; every
# wait is bounded. After `lib_init`:
#   start_mock WORKERS               -> mock_addr (mock_upstream, --no-record)
#   start_nginx WORKERS              -> nginx_addr (plain reverse proxy in front of the mock;
#                                    $nginx_main_extra is added to its main context)
#   start_kafka                      -> kafka_bootstrap (kafka_mock_cluster, one broker)
#   events_yaml SINK                 prints the gateway's events section for SINK
#   start_redis                      -> redis_port (redis-server on loopback, no persistence)
#   redis_commands                   prints "TOTAL EVALSHA": the commands Redis has run (INFO
#                                    commandstats, INFO itself left out; the commands a Lua
#                                    script runs are counted too) and the EVALSHAs among them
#                                    (what the gateways sent)
#   budgets_yaml BACKEND FILE        prints a budget and a rate limit every call meets, far from
#                                    their limits (spend_state: BACKEND; local keeps it in FILE)
#   start_gateway NAME WORKERS EVENTS_YAML [EXTRA_YAML]
#                                    -> gw_addr, gw_admin, gw_pid (config in $work/NAME.yaml);
#                                    runs $tollgate_bin when set (another build's), else
#                                    $build/bin/tollgate
#   stop_pid PID                     SIGTERM and wait
#   cpu_ticks PID...                 CPU ticks (user + system, 1/CLK_TCK s) of these processes
#                                    and their children (nginx's workers)
#   wrk_run SCENARIO URL CONNECTIONS DURATION
#                                    prints wrk's RESULT fields (loadtest/wrk/chat.lua)
#   lib_pin PROXY_CPUS REST_CPUS     from then on the proxies (gateway, nginx) run on
#                                    PROXY_CPUS and everything else (mock, Kafka, wrk) on
#                                    REST_CPUS (taskset lists): the proxy's own threads (the
#                                    sink's included) then compete for the same cores, so its
#                                    CPU per call shows in its requests/s
# Scenarios: nonstream, stream (SSE), and *-close (a new connection per call).

lib_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

lib_die() { echo "bench: $*" >&2; exit 1; }

# Command prefixes (empty unless lib_pin): taskset execs the command, so $! stays its pid.
on_proxy=() on_rest=()
lib_pin() {
  command -v taskset >/dev/null || lib_die "taskset is missing (util-linux)"
  on_proxy=(taskset -c "$1") on_rest=(taskset -c "$2")
}

lib_init() {  # lib_init BUILD_DIR TAG: checks the tools and the build, makes $work
  build=$1
  for tool in wrk nginx curl python3; do
    command -v $tool >/dev/null || lib_die "$tool is missing (run scripts/setup.sh)"
  done
  [[ -x $build/bin/tollgate && -x $build/bin/mock_upstream && -x $build/bin/kafka_mock_cluster ]] ||
    lib_die "build first: bash scripts/build.sh $build Release -DTOLLGATE_BUILD_TESTS=OFF"
  work=$(mktemp -d "/tmp/tollgate-$2-XXXXXX")
  pids=()
  trap lib_cleanup EXIT
  trap 'exit 130' INT TERM
}

lib_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cpu_ticks() {
  local p stat total=0 all=()
  for p in "$@"; do
    all+=("$p")
    read -ra children <<<"$(cat /proc/"$p"/task/*/children 2>/dev/null)"
    all+=("${children[@]}")
  done
  for p in "${all[@]}"; do
    stat=$(cat /proc/"$p"/stat 2>/dev/null) || continue
    read -ra fields <<<"${stat##*) }"  # fields from the state on: utime is 11, stime 12
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

wait_line() {  # wait_line FILE PREFIX: prints the rest of the first line starting with PREFIX
  local line
  for _ in $(seq 1 200); do
    if line=$(grep -m1 "^$2" "$1" 2>/dev/null); then echo "${line#"$2"}"; return 0; fi
    sleep 0.05
  done
  echo "bench: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2 2>/dev/null || true
  return 1
}

free_port() {  # nginx cannot report an ephemeral port: pick a free one
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

wait_http() {  # wait_http URL: until anything answers
  for _ in $(seq 1 200); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.05
  done
  lib_die "nothing answers at $1"
}

# The mock gets the same worker count as the proxies so it is never the only bottleneck.
start_mock() {
  "${on_rest[@]}" "$build/bin/mock_upstream" --listen 127.0.0.1:0 --threads "$1" --no-record \
    >"$work/mock-$1.out" 2>&1 &
  pids+=($!)
  mock_pid=$!
  mock_addr=$(wait_line "$work/mock-$1.out" "mock_upstream listening on ")
}

start_nginx() {
  local port
  port=$(free_port)
  mkdir -p "$work/nginx-$1"
  cat >"$work/nginx-$1/nginx.conf" <<NGINX
worker_processes $1;
daemon off;
${nginx_main_extra:-}
pid $work/nginx-$1/nginx.pid;
error_log $work/nginx-$1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-$1/body;
  proxy_temp_path $work/nginx-$1/proxy;
  upstream mock { server $mock_addr; keepalive 128; }
  server {
    listen 127.0.0.1:$port reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
  "${on_proxy[@]}" nginx -c "$work/nginx-$1/nginx.conf" -e "$work/nginx-$1/error.log" &
  pids+=($!)
  nginx_pid=$!
  nginx_addr=127.0.0.1:$port
  wait_http "http://$nginx_addr/"
}

start_kafka() {
  "${on_rest[@]}" "$build/bin/kafka_mock_cluster" --brokers 1 --replication 1 --partitions 4 >"$work/kafka.out" 2>&1 &
  pids+=($!)
  kafka_pid=$!
  local line
  line=$(wait_line "$work/kafka.out" "kafka_mock_cluster bootstrap ")
  kafka_bootstrap=${line%% control *}
}

# file: JSONL in $work; none: the file sink to /dev/null (serialized, never stored);
# kafka-memory / kafka-spool: the Kafka sink (start_kafka first) with that durability;
# kafka-spool-write: the spool appending with write(2) (events.spool.mmap: false);
# off: `events.sink: none`, no metering and no events (the gateway-bare target);
# none-nojournal: none without the open-call journal (events.open_calls.enabled: false).
events_yaml() {
  case $1 in
    file) echo "events: { sink: file, file: { path: \"$work/events-$RANDOM.jsonl\" } }" ;;
    none) echo "events: { sink: file, file: { path: \"/dev/null\" },
  open_calls: { dir: \"$work/open-calls-$RANDOM\" } }" ;;
    none-nojournal) echo "events: { sink: file, file: { path: \"/dev/null\" },
  open_calls: { enabled: false } }" ;;
    kafka-memory|kafka-spool|kafka-spool-write)
      [[ -n ${kafka_bootstrap:-} ]] || lib_die "events_yaml $1: start_kafka first"
      local durability=${1#kafka-} mmap=true
      [[ $1 == kafka-spool-write ]] && durability=spool mmap=false
      echo "events: { sink: kafka, durability: $durability,
  spool: { dir: \"$work/spool-$RANDOM\", mmap: $mmap },
  kafka: { brokers: \"$kafka_bootstrap\", topic: llm.cost.v1 } }" ;;
    off) echo "events: { sink: none }" ;;
    *) lib_die "unknown sink $1 (file|none|none-nojournal|kafka-memory|kafka-spool|kafka-spool-write|off)" ;;
  esac
}

gateway_yaml() {  # gateway_yaml FILE WORKERS EVENTS_YAML [EXTRA_YAML]; $pool_endpoints_yaml replaces base_url
  cat >"$1" <<YAML
server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  workers: $2
  instance_id: bench
upstreams:
  - name: mock
    dialect: openai
${pool_endpoints_yaml:-    base_url: "http://$mock_addr"}
    models: ["*"]
    max_idle_connections: 256
prices:
  "gpt-4o-mini*": { input: "0.15", cache_read: "0.075", output: "0.60" }
$3
logging: { level: warn }
${4:-}
YAML
}

gateway_accepts() {  # gateway_accepts EVENTS_YAML: the tollgate start_gateway runs validates that config
  mock_addr=${mock_addr:-127.0.0.1:9} gateway_yaml "$work/check.yaml" 1 "$1"
  "${tollgate_bin:-$build/bin/tollgate}" --check-config "$work/check.yaml" >"$work/check.out" 2>&1
}

start_redis() {
  command -v redis-server >/dev/null || lib_die "redis-server is missing (run scripts/setup.sh)"
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && return; sleep 0.05; done
  lib_die "redis-server did not answer on port $redis_port"
}

redis_commands() {
  redis-cli -p "$redis_port" info commandstats |
    awk -F'[=,:]' '/^cmdstat_/ && !/^cmdstat_info:/ {n += $3} /^cmdstat_evalsha:/ {e = $3}
                   END {print n + 0, e + 0}'
}

budgets_yaml() {
  local state="{ backend: local, file: \"$2\" }"
  [[ $1 == redis ]] && state="{ backend: redis, redis: { url: \"redis://127.0.0.1:$redis_port/0\" } }"
  cat <<YAML
budgets:
  - { name: bench, scope: {}, period: month, limit_usd: "1000000" }
rate_limits:
  - { name: bench-tpm, scope: {}, input_tokens_per_minute: 1000000000, requests_per_minute: 1000000000 }
spend_state: $state
YAML
}

start_gateway() {
  gateway_yaml "$work/$1.yaml" "$2" "$3" "${4:-}"
  "${on_proxy[@]}" "${tollgate_bin:-$build/bin/tollgate}" --config "$work/$1.yaml" \
    >"$work/$1.out" 2>"$work/$1.err" &
  pids+=($!)
  gw_pid=$!
  local line
  line=$(wait_line "$work/$1.out" "tollgate listening on ") || { cat "$work/$1.err" >&2; exit 1; }
  gw_addr=${line%% admin *}
  gw_admin=${line##* admin }
}

wrk_run() {
  local stream=0 close=0 result
  [[ $1 == stream* ]] && stream=1
  [[ $1 == *close ]] && close=1
  result=$(BENCH_STREAM=$stream BENCH_CLOSE=$close "${on_rest[@]}" timeout $(($4 + 30)) \
    wrk -t1 -c"$3" -d"$4s" --timeout 10s -s "$lib_root/loadtest/wrk/chat.lua" \
    "http://$2/v1/chat/completions" | grep '^RESULT') || { echo "bench: wrk failed on $2" >&2; return 1; }
  echo "${result#RESULT }"
}
