#include "meter/aws_event_stream_framer.h"

#include <algorithm>

#include "meter/crc32.h"

namespace tollgate::meter {
namespace {

uint32_t loadBigEndian32(std::string_view s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

uint16_t loadBigEndian16(std::string_view s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Bytes of a header value of type `type` after its type byte, for the fixed-size types; -1 for
// the length-prefixed ones (6, 7), -2 for an unknown type.
int fixedValueBytes(unsigned char type) {
  switch (type) {
    case 0:
    case 1:
      return 0;
    case 2:
      return 1;
    case 3:
      return 2;
    case 4:
      return 4;
    case 5:
    case 8:
      return 8;
    case 9:
      return 16;
    case 6:
    case 7:
      return -1;
    default:
      return -2;
  }
}

// Reads the headers section; false when a header is malformed.
bool readHeaders(std::string_view headers, AwsEventStreamMessage& message) {
  size_t at = 0;
  while (at < headers.size()) {
    const size_t name_len = static_cast<unsigned char>(headers[at++]);
    if (name_len == 0 || headers.size() - at < name_len + 1) return false;
    const std::string_view name = headers.substr(at, name_len);
    at += name_len;
    const auto type = static_cast<unsigned char>(headers[at++]);
    const int fixed = fixedValueBytes(type);
    if (fixed == -2) return false;
    if (fixed >= 0) {
      if (headers.size() - at < static_cast<size_t>(fixed)) return false;
      at += static_cast<size_t>(fixed);
      continue;
    }
    if (headers.size() - at < 2) return false;
    const size_t len = loadBigEndian16(headers, at);
    at += 2;
    if (headers.size() - at < len) return false;
    const std::string_view value = headers.substr(at, len);
    at += len;
    if (type != 7) continue;
    if (name == ":message-type") {
      message.message_type = value;
    } else if (name == ":event-type") {
      message.event_type = value;
    } else if (name == ":exception-type") {
      message.exception_type = value;
    } else if (name == ":error-code") {
      message.error_code = value;
    } else if (name == ":error-message") {
      message.error_message = value;
    } else if (name == ":content-type") {
      message.content_type = value;
    }
  }
  return true;
}

}  // namespace

bool AwsEventStreamFramer::readPrelude(std::string_view prelude, size_t& total) {
  total = loadBigEndian32(prelude, 0);
  const size_t headers = loadBigEndian32(prelude, 4);
  if (crc32(0, prelude.substr(0, 8)) != loadBigEndian32(prelude, 8)) {
    ++faults_.prelude_crc;
  } else if (total < kOverheadBytes || headers > total - kOverheadBytes) {
    ++faults_.bad_length;
  } else if (total > max_message_bytes_) {
    ++faults_.too_large;
  } else {
    return true;
  }
  broken_ = true;
  return false;
}

bool AwsEventStreamFramer::take(std::string_view& chunk, std::string_view& message) {
  if (broken_) return false;
  if (buffer_.empty() && chunk.size() >= kPreludeBytes) {
    size_t total = 0;
    if (!readPrelude(chunk, total)) return false;
    if (chunk.size() >= total) {
      message = chunk.substr(0, total);
      chunk.remove_prefix(total);
      return true;
    }
    buffer_total_ = total;
    buffer_.reserve(std::min<size_t>(total, 64 * 1024));
  }
  while (!chunk.empty()) {
    const size_t want =
        buffer_total_ == 0 ? kPreludeBytes - buffer_.size() : buffer_total_ - buffer_.size();
    const size_t n = std::min(want, chunk.size());
    buffer_.append(chunk.substr(0, n));
    chunk.remove_prefix(n);
    if (buffer_total_ == 0 && buffer_.size() == kPreludeBytes) {
      if (!readPrelude(buffer_, buffer_total_)) {
        std::string().swap(buffer_);
        return false;
      }
      buffer_.reserve(std::min<size_t>(buffer_total_, 64 * 1024));
    }
    if (buffer_total_ != 0 && buffer_.size() == buffer_total_) {
      message = buffer_;
      buffer_taken_ = true;
      return true;
    }
  }
  return false;
}

bool AwsEventStreamFramer::decode(std::string_view bytes, AwsEventStreamMessage& message) {
  const size_t crc_at = bytes.size() - 4;
  if (crc32(0, bytes.substr(0, crc_at)) != loadBigEndian32(bytes, crc_at)) {
    ++faults_.message_crc;
    return false;
  }
  const size_t headers_len = loadBigEndian32(bytes, 4);
  message = AwsEventStreamMessage{};
  if (!readHeaders(bytes.substr(kPreludeBytes, headers_len), message)) {
    ++faults_.bad_headers;
    return false;
  }
  message.payload = bytes.substr(kPreludeBytes + headers_len, crc_at - kPreludeBytes - headers_len);
  return true;
}

void AwsEventStreamFramer::releaseBuffer() {
  if (!buffer_taken_) return;
  buffer_taken_ = false;
  buffer_total_ = 0;
  // A large message's storage is not kept for the rest of the stream.
  if (buffer_.capacity() > 64 * 1024) {
    std::string().swap(buffer_);
  } else {
    buffer_.clear();
  }
}

void AwsEventStreamFramer::finish() {
  if (!broken_ && !buffer_.empty()) ++faults_.truncated;
  std::string().swap(buffer_);
  buffer_total_ = 0;
}

}  // namespace tollgate::meter
