#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "gateway/core/ids.h"

namespace tollgate::gateway {

// One attempt of a call at an upstream endpoint, for its span (one child of the call's upstream
// CLIENT span per attempt). The strings are literals.
struct AttemptRecord {
  using Clock = std::chrono::steady_clock;

  SpanId span_id;
  const config::UpstreamConfig* upstream = nullptr;  // the endpoint's view of its upstream
  uint32_t endpoint = 0;                             // index in the upstream's endpoints
  uint32_t number = 1;                               // 1-based, over endpoints and fallbacks
  Clock::time_point start{};
  Clock::time_point end{};
  bool ended = false;
  int status = 0;            // the upstream's status; 0 when no response head came
  std::string_view failure;  // "" (none), connect_error, 429, 5xx, ttft_timeout
  std::string_view next;     // "" (the call's last), retry, fallback, resend
};

}  // namespace tollgate::gateway
