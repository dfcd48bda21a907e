#include "gateway/core/ids.h"

#include <charconv>
#include <cstring>
#include <random>

namespace tollgate::gateway {
namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool allZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// The eight nibbles of `x` as eight ASCII hex digits, the most significant nibble in the most
// significant byte: each nibble is spread into a byte of its own, then turned into '0'..'9' or
// 'a'..'f' by adding '0', plus 39 more where the nibble is 10 or above.
uint64_t hexDigits(uint32_t x) {
  uint64_t v = x;
  v = ((v & 0xFFFF0000ULL) << 16) | (v & 0x0000FFFFULL);
  v = ((v & 0x0000FF000000FF00ULL) << 8) | (v & 0x000000FF000000FFULL);
  v = ((v & 0x00F000F000F000F0ULL) << 4) | (v & 0x000F000F000F000FULL);
  const uint64_t letters = ((v + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
  return v + 0x3030303030303030ULL + letters * ('a' - '0' - 10);
}

}  // namespace

IdGenerator::IdGenerator() {
  std::random_device rd;
  for (auto& word : s_) {
    word = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    if (word == 0) word = 0x9E3779B97F4A7C15ULL;
  }
}

uint64_t IdGenerator::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void writeLowerHex16(uint64_t v, char* out) {
  // Big-endian order in memory: the first character is the most significant nibble.
  const uint64_t hi = __builtin_bswap64(hexDigits(static_cast<uint32_t>(v >> 32)));
  const uint64_t lo = __builtin_bswap64(hexDigits(static_cast<uint32_t>(v)));
  std::memcpy(out, &hi, 8);
  std::memcpy(out + 8, &lo, 8);
}

RequestId IdGenerator::requestId() {
  RequestId id;
  char* out = id.fill();
  writeLowerHex16(next(), out);
  writeLowerHex16(next(), out + 16);
  return id;
}

TraceId IdGenerator::traceId() {
  uint64_t hi = 0;
  uint64_t lo = 0;
  while (hi == 0 && lo == 0) hi = next(), lo = next();
  TraceId id;
  char* out = id.fill();
  writeLowerHex16(hi, out);
  writeLowerHex16(lo, out + 16);
  return id;
}

SpanId IdGenerator::spanId() {
  uint64_t v = 0;
  while (v == 0) v = next();
  SpanId id;
  writeLowerHex16(v, id.fill());
  return id;
}

bool parseTraceParent(std::string_view h, TraceParent& out) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters for version 00.
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
  const auto version = h.substr(0, 2);
  const auto trace_id = h.substr(3, 32);
  const auto parent_id = h.substr(36, 16);
  const auto flags = h.substr(53, 2);
  if (!isLowerHex(version) || version == "ff" || !isLowerHex(trace_id) || !isLowerHex(parent_id) ||
      !isLowerHex(flags) || allZero(trace_id) || allZero(parent_id)) {
    return false;
  }
  out.trace_id = trace_id;
  out.parent_id = parent_id;
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  out.flags = static_cast<uint8_t>(nibble(flags[0]) << 4 | nibble(flags[1]));
  return true;
}

bool sampleTraceId(std::string_view trace_id, double ratio) {
  if (ratio >= 1.0) return true;
  if (ratio <= 0.0 || trace_id.size() < 16) return false;
  // The low 64 bits of a W3C trace id are random (W3C Trace Context level 2 "random" flag).
  uint64_t low = 0;
  const auto tail = trace_id.substr(trace_id.size() - 16);
  const auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), low, 16);
  if (ec != std::errc() || end != tail.data() + tail.size()) return false;
  // 53 bits keep the comparison exact in a double.
  return static_cast<double>(low >> 11) < ratio * 9007199254740992.0;
}

}  // namespace tollgate::gateway
