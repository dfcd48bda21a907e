#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tollgate::gateway {

// How the client's response body is delimited (RFC 9112 6).
enum class BodyFraming {
  kNone,           // no body (1xx, 204, 304, or an empty answer): Content-Length: 0 when allowed
  kContentLength,  // the upstream's length, relayed: the body is passed on unchanged
  kChunked,        // the gateway re-frames: the body may change (usage hidden) or has no length
  kUntilClose,     // HTTP/1.0 client and no usable length: the end of the body closes
};

// What the upstream's answer and the client's request say about framing the response.
struct ResponseShape {
  int status = 200;
  bool has_body = false;                   // the upstream's answer has a body to relay
  std::optional<uint64_t> content_length;  // the upstream's, when it sent one
  bool body_may_change = false;            // the meter may alter the body (usage hiding)
  unsigned client_version = 11;            // 10 or 11
  bool client_keep_alive = true;           // the client's request allows another one
  bool draining = false;                   // the gateway is shutting down
};

// The framing decision for one response: pure, so every combination has a unit test.
struct FramingPlan {
  BodyFraming body = BodyFraming::kNone;
  bool content_length_zero = false;  // kNone: send "Content-Length: 0" (a status with a body)
  bool keep_alive = true;            // the client connection carries another request after it
  enum class ConnectionField { kNone, kClose, kKeepAlive } connection = ConnectionField::kNone;
};

FramingPlan planResponseFraming(const ResponseShape& shape);

// Appends the plan's framing and connection fields (each "Name: value\r\n") to a head.
void appendFramingFields(const FramingPlan& plan, const ResponseShape& shape, std::string& head);

}  // namespace tollgate::gateway
