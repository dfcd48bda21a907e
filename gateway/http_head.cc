#include "gateway/http_head.h"

#include <charconv>

namespace tollgate::gateway {

namespace http = boost::beast::http;

namespace {

void appendFields(const http::fields& fields, std::string& out) {
  for (const auto& f : fields) {
    out.append(f.name_string());
    out.append(": ");
    out.append(f.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

void appendVersion(unsigned version, std::string& out) {
  out.append(version == 10 ? "HTTP/1.0" : "HTTP/1.1");
}

}  // namespace

void appendRequestHead(const http::request_header<>& head, std::string& out) {
  out.append(head.method_string());
  out.push_back(' ');
  out.append(head.target());
  out.push_back(' ');
  appendVersion(head.version(), out);
  out.append("\r\n");
  appendFields(head, out);
}

void appendResponseHead(const http::response_header<>& head, std::string& out) {
  appendVersion(head.version(), out);
  out.push_back(' ');
  char code[4];
  const auto r = std::to_chars(code, code + sizeof code, head.result_int());
  out.append(code, static_cast<size_t>(r.ptr - code));
  out.push_back(' ');
  out.append(head.reason());
  out.append("\r\n");
  appendFields(head, out);
}

ChunkPrefix::ChunkPrefix(size_t size) {
  const auto r = std::to_chars(data.data(), data.data() + 16, size, 16);
  length = static_cast<size_t>(r.ptr - data.data());
  data[length++] = '\r';
  data[length++] = '\n';
}

}  // namespace tollgate::gateway
