#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::gateway {

// Fast per-worker source of random identifiers (request ids, W3C trace and span ids). Not for
// secrets: seeded once from std::random_device, then xoshiro256**. One per worker thread.
class IdGenerator {
 public:
  IdGenerator();

  // 32 lowercase hex characters (128 random bits).
  std::string requestId();
  // W3C trace-id: 32 lowercase hex, never all zero.
  std::string traceId();
  // W3C parent-id/span-id: 16 lowercase hex, never all zero.
  std::string spanId();

 private:
  uint64_t next();
  void appendHex(uint64_t v, std::string& out);
  std::array<uint64_t, 4> s_{};
};

// A parsed W3C traceparent header (version 00).
struct TraceParent {
  std::string trace_id;   // 32 hex
  std::string parent_id;  // 16 hex
  uint8_t flags = 0;
};

// Parses "00-<32 hex>-<16 hex>-<2 hex>"; false for anything invalid (uppercase, all-zero ids,
// version ff, wrong lengths).
bool parseTraceParent(std::string_view header, TraceParent& out);

}  // namespace tollgate::gateway
