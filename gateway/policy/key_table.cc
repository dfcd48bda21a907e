#include "gateway/policy/key_table.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

namespace tollgate::gateway {
namespace {

uint64_t prefixOf(const KeyDigest& digest) {
  uint64_t prefix = 0;
  std::memcpy(&prefix, digest.data(), sizeof prefix);
  return prefix;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// keys[].sha256 was validated by the config loader (64 hex digits).
KeyDigest fromHex(std::string_view hex) {
  KeyDigest digest{};
  for (size_t i = 0; i < digest.size() && 2 * i + 1 < hex.size(); ++i) {
    digest[i] = static_cast<unsigned char>(hexValue(hex[2 * i]) * 16 + hexValue(hex[2 * i + 1]));
  }
  return digest;
}

}  // namespace

KeyDigest sha256(std::string_view data) {
  KeyDigest digest{};
  unsigned int length = 0;
  // EVP_Digest with the built-in SHA-256 fails only on allocation failure; the zero digest
  // it then leaves matches no configured key (they are validated 64-hex hashes of real keys).
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    digest.fill(0);
  }
  return digest;
}

std::string toHex(const KeyDigest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (const unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

KeyTable::KeyTable(const std::vector<config::KeyConfig>& keys) {
  entries_.reserve(keys.size());
  for (const auto& key : keys) {
    entries_.push_back({fromHex(key.sha256), &key});
    by_prefix_.emplace(prefixOf(entries_.back().digest), entries_.size() - 1);
  }
}

const config::KeyConfig* KeyTable::find(std::string_view presented) const {
  if (presented.empty() || entries_.empty()) return nullptr;
  const KeyDigest digest = sha256(presented);
  const auto [first, last] = by_prefix_.equal_range(prefixOf(digest));
  for (auto it = first; it != last; ++it) {
    const Entry& entry = entries_[it->second];
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) return entry.key;
  }
  return nullptr;
}

}  // namespace tollgate::gateway
