#pragma once

#include <array>
#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/http/http_fields.h"

namespace tollgate::gateway {

// Message heads are written straight into one contiguous buffer. Beast's serializer hands the
// kernel one iovec per name, separator, value and CRLF (about four per field), and building a
// beast::http::fields to serialize costs one allocation per field; the profile showed both.

// "METHOD <prefix><target> HTTP/1.1\r\n", the target without any `<drop_param>=...` query
// parameter (exact name match; the others keep their order). An empty drop_param drops none.
void appendRequestLine(std::string_view method, std::string_view prefix, std::string_view target,
                       std::string_view drop_param, std::string& out);

// "HTTP/1.x code reason\r\n" (version 10 or 11).
void appendStatusLine(unsigned version, unsigned code, std::string_view reason, std::string& out);

// "name: value\r\n".
void appendField(std::string_view name, std::string_view value, std::string& out);

// "Content-Length: <n>\r\n".
void appendContentLength(uint64_t length, std::string& out);

// "Authorization: Bearer <token>\r\n".
void appendBearer(std::string_view token, std::string& out);

// "traceparent: 00-<trace id>-<parent span id>-<01 sampled | 00>\r\n" (W3C Trace Context).
void appendTraceParent(std::string_view trace_id, std::string_view parent_span_id, bool sampled,
                       std::string& out);

// Every end-to-end field of `from` (HopByHop false) for which `keep(code, name)` is true, in
// order (`code` is Beast's field code, field::unknown for a name it does not know).
template <class Fields, class Keep>
void appendEndToEnd(const Fields& from, std::string& out, Keep&& keep) {
  const HopByHop hop_by_hop = HopByHop::of(from);
  for (const auto& f : from) {
    const auto name = f.name_string();
    if (hop_by_hop(f.name(), name) || !keep(f.name(), name)) continue;
    appendField(name, f.value(), out);
  }
}

// Chunked transfer coding framing (RFC 9112 section 7.1): "<hex size>\r\n".
// Returns the prefix in a small fixed buffer.
struct ChunkPrefix {
  explicit ChunkPrefix(size_t size);
  std::string_view view() const { return {data.data(), length}; }
  std::array<char, 20> data{};
  size_t length = 0;
};

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace tollgate::gateway
