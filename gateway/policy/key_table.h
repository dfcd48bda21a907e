#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"

namespace tollgate::gateway {

using KeyDigest = std::array<unsigned char, 32>;

// SHA-256 of `data` (OpenSSL EVP).
KeyDigest sha256(std::string_view data);

// Lower-case hex of a digest (what keys[].sha256 holds).
std::string toHex(const KeyDigest& digest);

// The gateway keys of one configuration, held only as SHA-256 digests. A presented key is
// hashed and looked up by its digest; the candidate is confirmed with a constant-time compare,
// so the time a lookup takes says nothing about how close a guess came.
class KeyTable {
 public:
  explicit KeyTable(const std::vector<config::KeyConfig>& keys);

  // No keys configured: the gateway runs open.
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

  // The key whose hash matches SHA-256(presented), or nullptr. Empty input never matches.
  const config::KeyConfig* find(std::string_view presented) const;

 private:
  struct Entry {
    KeyDigest digest;
    const config::KeyConfig* key;
  };

  std::vector<Entry> entries_;
  // First 8 digest bytes -> indices into entries_ (collisions are kept, then compared whole).
  std::unordered_multimap<uint64_t, size_t> by_prefix_;
};

}  // namespace tollgate::gateway
