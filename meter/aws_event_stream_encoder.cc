#include "meter/aws_event_stream_encoder.h"

#include <cstdint>

#include "meter/crc32.h"

namespace tollgate::meter {
namespace {

void appendBigEndian32(uint32_t v, std::string& out) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

constexpr char kStringType = 7;

}  // namespace

std::string encodeAwsEventStreamMessage(std::span<const AwsEventStreamHeader> headers,
                                        std::string_view payload) {
  size_t headers_len = 0;
  for (const auto& h : headers) headers_len += 1 + h.name.size() + 1 + 2 + h.value.size();
  const size_t total = 12 + headers_len + payload.size() + 4;
  std::string out;
  out.reserve(total);
  appendBigEndian32(static_cast<uint32_t>(total), out);
  appendBigEndian32(static_cast<uint32_t>(headers_len), out);
  appendBigEndian32(crc32(0, out), out);
  for (const auto& h : headers) {
    out.push_back(static_cast<char>(h.name.size()));
    out.append(h.name);
    out.push_back(kStringType);
    out.push_back(static_cast<char>(h.value.size() >> 8));
    out.push_back(static_cast<char>(h.value.size()));
    out.append(h.value);
  }
  out.append(payload);
  appendBigEndian32(crc32(0, out), out);
  return out;
}

}  // namespace tollgate::meter
