#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tollgate::gateway {

// An id of at most N characters held inline. The gateway makes four per call (request, trace and
// two span ids); as std::string each was a heap allocation (they are longer than its 15-byte small
// buffer). Converts to std::string_view wherever one is taken.
template <size_t N>
class InlineId {
 public:
  InlineId() = default;
  // Implicit, like std::string's: ids are assigned from generated or parsed text and literals.
  InlineId(std::string_view text) { assign(text); }  // NOLINT(google-explicit-constructor)
  InlineId& operator=(std::string_view text) {
    assign(text);
    return *this;
  }

  std::string_view view() const { return {data_.data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }
  // Room to write an id of exactly N characters in place.
  char* fill() {
    size_ = N;
    return data_.data();
  }

  friend bool operator==(const InlineId& a, std::string_view b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& os, const InlineId& id) { return os << id.view(); }

 private:
  void assign(std::string_view text) {
    if (text.size() > N) throw std::length_error("id longer than " + std::to_string(N));
    std::memcpy(data_.data(), text.data(), text.size());
    size_ = static_cast<uint8_t>(text.size());
  }

  std::array<char, N> data_;
  uint8_t size_ = 0;
};

using RequestId = InlineId<32>;  // 32 lowercase hex
using TraceId = InlineId<32>;    // W3C trace-id
using SpanId = InlineId<16>;     // W3C parent-id / span-id

// Fast per-worker source of random identifiers (request ids, W3C trace and span ids). Not for
// secrets: seeded once from std::random_device, then xoshiro256**. One per worker thread.
class IdGenerator {
 public:
  IdGenerator();

  // 32 lowercase hex characters (128 random bits).
  RequestId requestId();
  // W3C trace-id: 32 lowercase hex, never all zero.
  TraceId traceId();
  // W3C parent-id/span-id: 16 lowercase hex, never all zero.
  SpanId spanId();

 private:
  uint64_t next();
  std::array<uint64_t, 4> s_{};
};

// Writes `v` as 16 lowercase hex characters, most significant first, to out[0..15]. Every call
// makes a request id, a trace id and a span id per attempt: eight bytes at a time, not a table
// lookup per nibble.
void writeLowerHex16(uint64_t v, char* out);

// A parsed W3C traceparent header (version 00).
struct TraceParent {
  TraceId trace_id;  // 32 hex
  SpanId parent_id;  // 16 hex
  uint8_t flags = 0;
};

// Parses "00-<32 hex>-<16 hex>-<2 hex>"; false for anything invalid (uppercase, all-zero ids,
// version ff, wrong lengths).
bool parseTraceParent(std::string_view header, TraceParent& out);

// The sampling decision for a trace the gateway starts itself (no sampled flag from a client):
// a pure function of the trace id, so every hop that applies the same ratio to the same trace
// agrees. ratio 1 keeps all, 0 none.
bool sampleTraceId(std::string_view trace_id, double ratio);

}  // namespace tollgate::gateway
