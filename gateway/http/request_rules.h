#pragma once

#include <optional>
#include <string_view>

#include "gateway/core/gateway_error.h"
#include "gateway/http/fields_arena.h"

namespace tollgate::gateway {

// What the gateway decides from a client's request head alone, before any body byte is read:
// whether the message framing can be trusted (RFC 9112 section 6), what `Expect` asks for, and
// whether the connection can carry another request after this one. Pure: no I/O, no state.
struct HeadDecision {
  std::optional<GatewayError> error;  // refuse the request with this
  bool close = false;                 // the framing is unusable: close after answering
  bool expect_continue = false;       // the client waits for "100 Continue" before its body
};

// Transfer-Encoding other than exactly `chunked` (a coding the gateway does not decode, chunked
// twice or not last, or any Transfer-Encoding in HTTP/1.0) cannot be framed: 400 (501 for a
// coding before chunked) and close, never a bodiless request whose body becomes the next one.
// `Expect: 100-continue` is answered by the gateway; any other expectation is 417.
HeadDecision checkRequestHead(const Fields& head, unsigned version);

// Removes the fields a chunked body's trailer section added after the head was read (`count` is
// the number of fields the head had): trailers are never taken as request headers and never
// forwarded. Returns how many were removed.
size_t dropTrailerFields(Fields& head, size_t count);

// A model name longer than this is refused (400 invalid_request): it is a label on metrics and
// in every event, and no provider names a model with more than a few dozen characters.
inline constexpr size_t kMaxModelNameBytes = 256;
std::optional<GatewayError> checkModelName(std::string_view model);

// The value of the query parameter `name` in `target` ("" when absent; the first when repeated).
std::string_view queryParameter(std::string_view target, std::string_view name);

}  // namespace tollgate::gateway
