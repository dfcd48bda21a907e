#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tollgate::ledger {

// One call that ran on a GPU pool, as the sweep needs it. Times are unix microseconds (the
// resolution of the cost event's RFC 3339 times), [start, end).
struct GpuPoolCall {
  int64_t start_us = 0;
  int64_t end_us = 0;
  int64_t prefill_tokens = 0;  // input tokens that were not cache reads
  int64_t decode_tokens = 0;   // output tokens
  // Orders calls whose rounding remainders are equal (gpuCallTieKey of the event id), so that
  // the result never depends on the order the events arrived in.
  uint64_t tie_key = 0;
};

// A pool's cost over a period and each call's part of it. Exact: the calls' costs plus
// idle_line_pico equal pool_pico to the picodollar (docs/gpu-pools.md, "Rounding").
struct GpuPoolAllocation {
  int64_t period_us = 0;
  int64_t busy_us = 0;         // time with at least one call running
  int64_t idle_us = 0;         // period_us - busy_us
  int64_t pool_pico = 0;       // gpus x gpu_hour x the period
  int64_t busy_pico = 0;       // the cost of the busy time, shared among the calls
  int64_t idle_pico = 0;       // the cost of the idle time, however it is booked
  int64_t idle_line_pico = 0;  // idle: separate: idle_pico; proportional: 0 (spread)
  // Per call, in the input's order: its share of busy time, plus its part of the idle time
  // with idle: proportional. Calls outside the period cost 0.
  std::vector<int64_t> call_pico;
  std::string error;  // not empty: the pool's cost over the period exceeds int64 picodollars
};

// The sweep over the calls' start and end times within [period_start_us, period_end_us):
// over each interval where the set of running calls is constant, the pool's cost for the
// interval is shared among those calls by the pool's `share` rule (time: equally; tokens: by
// each call's weighted token rate, prefill x prefill_tokens + decode x decode_tokens over its
// duration); intervals with no call are idle. O(n log n) for n calls; pure.
GpuPoolAllocation allocateGpuPool(const config::GpuPoolConfig& pool, int64_t period_start_us,
                                  int64_t period_end_us, std::span<const GpuPoolCall> calls);

// A stable 64-bit key for an event id (FNV-1a).
uint64_t gpuCallTieKey(std::string_view event_id);

}  // namespace tollgate::ledger
