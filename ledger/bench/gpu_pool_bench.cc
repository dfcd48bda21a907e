// The GPU-pool sweep's benchmark (ledger/bench/gpu_pool_bench.sh): N calls over November 2026
// on one 8-GPU pool, from a fixed seed, allocated in memory once per share rule. Prints the
// seconds of the allocation alone (generation excluded) and checks the sum is exact.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "ledger/gpu_pool_allocation.h"

int main(int argc, char** argv) {
  using namespace tollgate;
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  constexpr int64_t kMonthUs = 30LL * 24 * 3'600'000'000;
  std::mt19937_64 rng(20);
  std::vector<ledger::GpuPoolCall> calls(n);
  for (auto& c : calls) {
    // Latencies from 0.1 s to 60 s: at 10M calls a month that is ~90 calls in flight on average.
    c.start_us = static_cast<int64_t>(rng() % static_cast<uint64_t>(kMonthUs));
    c.end_us = c.start_us + 100'000 + static_cast<int64_t>(rng() % 59'900'000);
    c.prefill_tokens = static_cast<int64_t>(rng() % 8000);
    c.decode_tokens = static_cast<int64_t>(rng() % 1500);
    c.tie_key = rng();
  }
  config::GpuPoolConfig pool;
  pool.name = "h100-a";
  pool.gpus = 8;
  pool.gpu_hour = *meter::Money::parseUsd("24.00");
  for (const char* share : {"tokens", "time"}) {
    pool.share = share;
    const auto t0 = std::chrono::steady_clock::now();
    const auto a = ledger::allocateGpuPool(pool, 0, kMonthUs, calls);
    const auto t1 = std::chrono::steady_clock::now();
    const int64_t sum = std::accumulate(a.call_pico.begin(), a.call_pico.end(), a.idle_line_pico);
    std::printf("share=%s calls=%zu allocation_s=%.3f pool_usd=%s idle_pct=%.4f exact=%s\n", share,
                n, std::chrono::duration<double>(t1 - t0).count(),
                meter::Money::fromPico(a.pool_pico).toDecimalString().c_str(),
                100.0 * static_cast<double>(a.idle_us) / static_cast<double>(a.period_us),
                sum == a.pool_pico ? "yes" : "NO");
    if (sum != a.pool_pico) return 1;
  }
  return 0;
}
