#include "gateway/http_head.h"

#include <charconv>

namespace tollgate::gateway {

void appendRequestLine(std::string_view method, std::string_view target, std::string& out) {
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
}

void appendStatusLine(unsigned version, unsigned code, std::string_view reason,
                      std::string& out) {
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char digits[4];
  const auto r = std::to_chars(digits, digits + sizeof digits, code);
  out.append(digits, static_cast<size_t>(r.ptr - digits));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n");
}

void appendField(std::string_view name, std::string_view value, std::string& out) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void appendContentLength(uint64_t length, std::string& out) {
  char digits[20];
  const auto r = std::to_chars(digits, digits + sizeof digits, length);
  appendField("Content-Length", {digits, static_cast<size_t>(r.ptr - digits)}, out);
}

ChunkPrefix::ChunkPrefix(size_t size) {
  const auto r = std::to_chars(data.data(), data.data() + 16, size, 16);
  length = static_cast<size_t>(r.ptr - data.data());
  data[length++] = '\r';
  data[length++] = '\n';
}

}  // namespace tollgate::gateway
