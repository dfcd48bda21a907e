#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run every test: the Release build,
# then the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# TOLLGATE_TEST_SANITIZE=0 skips the sanitizer pass (quicker local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
bash scripts/format.sh --check
bash scripts/check_layers.sh  # gateway/ subsystems include only what they may depend on

echo "== Release build and tests"
bash scripts/build.sh build Release
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300
bash scripts/fuzz.sh 20  # every libFuzzer target (framers, dialect parsers) for 20 s under ASan+UBSan

if [[ "${TOLLGATE_TEST_SANITIZE:-1}" != 0 ]]; then
  echo "== ASan+UBSan build and tests"
  bash scripts/build.sh build-asan Debug -DTOLLGATE_SANITIZE=ON -DTOLLGATE_BUILD_BENCHMARKS=OFF
  # kafka_real (a real Kafka cluster under faults, minutes of wall time) and redis (redis-server
  # and gateway replicas, timing-driven lease and alert protocols) run in the Release pass only:
  # what they prove is a protocol between processes, which the sanitizers add nothing to.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600 -LE 'kafka_real|redis'
fi
