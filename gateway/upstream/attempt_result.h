#pragma once

#include <cstdint>

#include "config/config.h"

namespace tollgate::gateway {

// How one attempt at an upstream endpoint ended, as far as balancing, ejection and retries care.
enum class AttemptResult : uint8_t {
  kSuccess,       // an answer the client gets (2xx, or a 4xx that is the client's own fault)
  kConnectError,  // resolve, refused, connect timeout, TLS, reset before a response head
  kTtftTimeout,   // no first response byte within ttft_timeout_ms
  k429,
  k5xx,
};

// The config's failure bit for `result` (0 for kSuccess): what retry_on and fallbacks[].on list.
inline uint8_t failureBit(AttemptResult result) {
  switch (result) {
    case AttemptResult::kConnectError:
      return config::kFailConnectError;
    case AttemptResult::kTtftTimeout:
      return config::kFailTtftTimeout;
    case AttemptResult::k429:
      return config::kFail429;
    case AttemptResult::k5xx:
      return config::kFail5xx;
    case AttemptResult::kSuccess:
      break;
  }
  return 0;
}

}  // namespace tollgate::gateway
