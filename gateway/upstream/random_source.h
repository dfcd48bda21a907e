#pragma once

#include <cstdint>

namespace tollgate::gateway {

// Where the balancers' randomness comes from: tests script it, the gateway uses SplitMix64.
class RandomSource {
 public:
  virtual ~RandomSource() = default;

  // A uniformly distributed 64-bit value.
  virtual uint64_t next() = 0;

  // A value in [0, bound), bound > 0 (Lemire's multiply-shift; the bias is below 2^-32 for
  // any pool size a gateway has).
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }
};

}  // namespace tollgate::gateway
