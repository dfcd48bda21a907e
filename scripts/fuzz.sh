#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz/ and runs
# each for a bounded time, seeded with the meter fixtures. Fails on the first crash, leak,
# out-of-bounds read, undefined behaviour or broken invariant; the reproducer is left in
# build-fuzz/fuzz/crash-*.
#   scripts/fuzz.sh [seconds per target, default 60] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_sse_framer fuzz_ndjson_framer fuzz_json_array_framer fuzz_openai_dialect
           fuzz_anthropic_dialect fuzz_gemini_dialect fuzz_ollama_dialect fuzz_json_scanner
           fuzz_request_head fuzz_member_order fuzz_aws_event_stream)
fi
build=build-fuzz
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTOLLGATE_FUZZ=ON -DTOLLGATE_BUILD_BENCHMARKS=OFF > "$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log"; exit 1; }
ninja -C "$build" -j "$(nproc)" "${targets[@]}"

# Seeds: every fixture, with a selector byte in front (the targets read their first byte as
# the choice of framing, status and cut pattern).
corpus="$build/fuzz/seeds"
rm -rf "$corpus" && mkdir -p "$corpus"
i=0
for f in tests/meter/testdata/*/*; do
  for selector in '\x00' '\x14' '\x18' '\x30' '\x94'; do
    { printf "$selector"; cat "$f"; } > "$corpus/seed-$i"
    i=$((i + 1))
  done
done

# The request head target starts from heads the conformance tests send.
for f in tests/fuzz/testdata/request_head/*; do
  [[ -e $f ]] || continue
  { printf '\x00'; cat "$f"; } > "$corpus/seed-$i"
  i=$((i + 1))
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  echo "== $t for ${seconds}s"
  mkdir -p "$build/fuzz/corpus-$t"
  log="$build/fuzz/$t.log"
  status=0
  (cd "$build/fuzz" && "./$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 "corpus-$t" seeds) > "$log" 2>&1 || status=$?
  grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units)" "$log" || true
  if ((status != 0)); then
    grep -E "ERROR|SUMMARY|Test unit written" "$log" || tail -20 "$log"
    echo "fuzz: $t found a problem (exit $status); full log: $log"
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds}s without a finding"
