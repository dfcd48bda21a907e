#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"

namespace tollgate::gateway {

// One upstream a call may fall back to.
struct FallbackStep {
  size_t upstream = 0;     // index into Config::upstreams
  std::string model;       // the model asked of it; empty: the client's
  uint8_t on = 0;          // the failures (of the upstream naming it) that lead here
  size_t subtree_end = 0;  // the first step after this one's own fallbacks
};

// An upstream's fallbacks followed transitively, depth first and in config order, each upstream
// once: for A [B, C] and B [D], the chain is B, D, C. A step's fallbacks come right after it, so
// skipping a step skips them too (D is reached only through B). A step without a model of its
// own asks for the model its parent was asked for. Computed once per config snapshot.
std::vector<FallbackStep> fallbackChain(std::span<const config::UpstreamConfig> upstreams,
                                        size_t first);

}  // namespace tollgate::gateway
