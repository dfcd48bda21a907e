#include "gateway/http/http_head.h"

#include <charconv>

namespace tollgate::gateway {

void appendRequestLine(std::string_view method, std::string_view prefix, std::string_view target,
                       std::string_view drop_param, std::string& out) {
  out.append(method);
  out.push_back(' ');
  out.append(prefix);
  const size_t q = drop_param.empty() ? std::string_view::npos : target.find('?');
  out.append(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    char sep = '?';
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      const std::string_view key = param.substr(0, param.find('='));
      if (key == drop_param || param.empty()) continue;
      out.push_back(sep);
      out.append(param);
      sep = '&';
    }
  }
  out.append(" HTTP/1.1\r\n");
}

void appendStatusLine(unsigned version, unsigned code, std::string_view reason, std::string& out) {
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
