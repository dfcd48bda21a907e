#include "ledger/gpu_pool_allocation.h"

#include <algorithm>
#include <limits>

namespace tollgate::ledger {
namespace {

using u128 = unsigned __int128;

constexpr int64_t kMicrosPerHour = 3'600'000'000;
// Fraction bits of the running cost per unit of rate. With rates below 2^32 and the bounds of
// config/gpu_pools_section.cc no intermediate below exceeds 2^127 (docs/gpu-pools.md).
constexpr int kFractionBits = 30;
constexpr u128 kFractionMask = (u128{1} << kFractionBits) - 1;
constexpr u128 kMaxRate = u128{1} << 32;
constexpr int64_t kMicrosPerSecond = 1'000'000;

struct SweepPoint {
  int64_t time_us;
  uint32_t call;
  bool end;
};

// A call's share weight: 1 under `time`; under `tokens` its weighted tokens per second, at
// least 1 so that a call that produced no tokens still holds its slot.
u128 rateOf(const config::GpuPoolConfig& pool, const GpuPoolCall& call) {
  if (pool.share == "time") return 1;
  const u128 work =
      u128(static_cast<uint64_t>(std::max<int64_t>(call.prefill_tokens, 0))) * pool.prefill_weight +
      u128(static_cast<uint64_t>(std::max<int64_t>(call.decode_tokens, 0))) * pool.decode_weight;
  const auto duration = static_cast<uint64_t>(call.end_us - call.start_us);
  const u128 rate = work * kMicrosPerSecond / duration;
  return std::clamp<u128>(rate, 1, kMaxRate);
}

// floor(a / c) in units of 2^-kFractionBits, without forming a << kFractionBits.
u128 fixedQuotient(u128 a, u128 c) {
  const u128 q = a / c;
  const u128 r = a % c;
  return (q << kFractionBits) + (r << kFractionBits) / c;
}

// Gives `left` picodollars one each to the calls with the largest remainders (ties by
// tie_key, then position), in rounds when there are more picodollars than calls.
template <class Remainder>
void distributeLeftover(int64_t left, std::vector<uint32_t>& order, std::vector<int64_t>& pico,
                        std::span<const GpuPoolCall> calls, Remainder remainder) {
  if (left <= 0 || order.empty()) return;
  const auto m = static_cast<int64_t>(order.size());
  if (left >= m) {
    for (const uint32_t i : order) pico[i] += left / m;
    left %= m;
    if (left == 0) return;
  }
  const auto larger = [&](uint32_t a, uint32_t b) {
    const auto ra = remainder(a);
    const auto rb = remainder(b);
    if (ra != rb) return ra > rb;
    if (calls[a].tie_key != calls[b].tie_key) return calls[a].tie_key < calls[b].tie_key;
    return a < b;
  };
  std::nth_element(order.begin(), order.begin() + (left - 1), order.end(), larger);
  for (int64_t k = 0; k < left; ++k) ++pico[order[static_cast<size_t>(k)]];
}

}  // namespace

uint64_t gpuCallTieKey(std::string_view event_id) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : event_id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

GpuPoolAllocation allocateGpuPool(const config::GpuPoolConfig& pool, int64_t period_start_us,
                                  int64_t period_end_us, std::span<const GpuPoolCall> calls) {
  GpuPoolAllocation out;
  out.call_pico.assign(calls.size(), 0);
  if (period_end_us <= period_start_us) return out;
  out.period_us = period_end_us - period_start_us;
  const u128 hour_pico = static_cast<u128>(pool.hourPico());
  const u128 pool_pico = hour_pico * static_cast<uint64_t>(out.period_us) / kMicrosPerHour;
  if (pool_pico > static_cast<u128>(std::numeric_limits<int64_t>::max())) {
    out.error = "pool " + pool.name + " costs more than 9.2 million USD over the period";
    return out;
  }
  out.pool_pico = static_cast<int64_t>(pool_pico);

  std::vector<SweepPoint> points;
  points.reserve(calls.size() * 2);
  std::vector<u128> rate(calls.size(), 0);
  std::vector<uint32_t> ran;  // the calls with time inside the period
  for (uint32_t i = 0; i < calls.size(); ++i) {
    const GpuPoolCall& c = calls[i];
    const int64_t start = std::max(c.start_us, period_start_us);
    const int64_t end = std::min(c.end_us, period_end_us);
    if (end <= start) continue;
    rate[i] = rateOf(pool, c);
    points.push_back({start, i, false});
    points.push_back({end, i, true});
    ran.push_back(i);
  }
  std::sort(points.begin(), points.end(),
            [](const SweepPoint& a, const SweepPoint& b) { return a.time_us < b.time_us; });

  // cost_per_rate: the running sum, over the busy intervals so far, of each interval's cost
  // divided by the total rate of the calls running in it (fixed point). A call's share is its
  // rate times the growth of that sum over its lifetime.
  u128 cost_per_rate = 0;
  u128 running_rate = 0;
  int64_t running = 0;
  std::vector<u128> share(calls.size(), 0);  // the sum at the call's start, then its share
  int64_t at = period_start_us;
  const auto advance = [&](int64_t to) {
    const int64_t d = to - at;
    if (d <= 0) return;
    if (running == 0) {
      out.idle_us += d;
    } else {
      out.busy_us += d;
      cost_per_rate +=
          fixedQuotient(hour_pico * static_cast<uint64_t>(d), running_rate * kMicrosPerHour);
    }
    at = to;
  };
  for (const SweepPoint& p : points) {
    advance(p.time_us);
    if (p.end) {
      share[p.call] = rate[p.call] * (cost_per_rate - share[p.call]);
      running_rate -= rate[p.call];
      --running;
    } else {
      share[p.call] = cost_per_rate;
      running_rate += rate[p.call];
      ++running;
    }
  }
  advance(period_end_us);

  // Busy time's cost, rounded down to the picodollar, shared exactly: each call's fixed-point
  // share rounded down, and the picodollars left go to the largest fractions.
  out.busy_pico =
      static_cast<int64_t>(hour_pico * static_cast<uint64_t>(out.busy_us) / kMicrosPerHour);
  out.idle_pico = out.pool_pico - out.busy_pico;
  int64_t given = 0;
  for (const uint32_t i : ran) {
    out.call_pico[i] = static_cast<int64_t>(share[i] >> kFractionBits);
    given += out.call_pico[i];
  }
  distributeLeftover(out.busy_pico - given, ran, out.call_pico, calls,
                     [&](uint32_t i) { return share[i] & kFractionMask; });

  out.idle_line_pico = out.idle_pico;
  if (pool.idle == "proportional" && out.busy_pico > 0) {
    // Each call's part of idle is idle x its busy share / busy: both below 2^63, the product
    // fits 128 bits.
    std::vector<int64_t> idle_part(calls.size(), 0);
    std::vector<uint64_t> remainder(calls.size(), 0);
    int64_t spread = 0;
    for (const uint32_t i : ran) {
      const u128 product =
          u128(static_cast<uint64_t>(out.idle_pico)) * static_cast<uint64_t>(out.call_pico[i]);
      idle_part[i] = static_cast<int64_t>(product / static_cast<uint64_t>(out.busy_pico));
      remainder[i] = static_cast<uint64_t>(product % static_cast<uint64_t>(out.busy_pico));
      spread += idle_part[i];
    }
    distributeLeftover(out.idle_pico - spread, ran, idle_part, calls,
                       [&](uint32_t i) { return remainder[i]; });
    for (const uint32_t i : ran) out.call_pico[i] += idle_part[i];
    out.idle_line_pico = 0;
  }
  return out;
}

}  // namespace tollgate::ledger
