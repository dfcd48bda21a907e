#!/usr/bin/env bash
# The GPU-pool sweep's benchmark: allocation of N calls over a month on one pool, in memory.
# usage: ledger/bench/gpu_pool_bench.sh [CALLS] [BUILD_DIR]      (default 10000000, build)
set -euo pipefail
cd "$(dirname "$0")/../.."
"${2:-build}/bin/ledger_gpu_pool_bench" "${1:-10000000}"
