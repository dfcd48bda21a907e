#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

namespace tollgate::gateway {

// Serializes message heads into one contiguous buffer. Beast's serializer hands the kernel one
// iovec per name, separator, value and CRLF (about four per field), which the profile showed
// as a large share of a call's cost; a head built once here is a single iovec.

// "METHOD target HTTP/1.1\r\n" + fields + "\r\n".
void appendRequestHead(const boost::beast::http::request_header<>& head, std::string& out);

// "HTTP/1.x code reason\r\n" + fields + "\r\n". The caller puts the framing fields
// (Content-Length or Transfer-Encoding) and Connection into `head` before.
void appendResponseHead(const boost::beast::http::response_header<>& head, std::string& out);

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
