#pragma once

#include <cstdint>

#include "gateway/upstream/random_source.h"

namespace tollgate::gateway {

// A small, fast generator (Steele, Lea, Flood 2014): one per worker, seeded from the worker's
// id, is enough for picking endpoints; nothing here is security sensitive.
class SplitMix64 final : public RandomSource {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() override {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace tollgate::gateway
