#include "gateway/http/http_head.h"

#include <charconv>
#include <string>

namespace tollgate::gateway {

namespace {

// Grows `out` by `n` bytes (one capacity check, geometric growth) and returns where they start.
char* grow(std::string& out, size_t n) {
  const size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

constexpr std::string_view kVersionEnd = " HTTP/1.1\r\n";

// An unsigned number's decimal digits, a digit at a time: std::to_chars' table-driven
// conversion is ~1 KB of code on every call's path (status lines, Content-Length) for numbers
// of a few digits.
struct Decimal {
  explicit Decimal(uint64_t n) {
    do {
      *--first = static_cast<char>('0' + n % 10);
      n /= 10;
    } while (n != 0);
  }
  Decimal(const Decimal&) = delete;  // `first` points into this object's own array
  Decimal& operator=(const Decimal&) = delete;
  std::string_view view() const {
    return {first, static_cast<size_t>(digits + sizeof digits - first)};
  }
  char digits[20];
  char* first = digits + sizeof digits;
};

char* put(char* at, std::string_view text) {
  std::char_traits<char>::copy(at, text.data(), text.size());
  return at + text.size();
}

}  // namespace

void appendRequestLine(std::string_view method, std::string_view prefix, std::string_view target,
                       std::string_view drop_param, std::string& out) {
  const size_t q = drop_param.empty() ? std::string_view::npos : target.find('?');
  const std::string_view path = target.substr(0, q);
  char* at = put(grow(out, method.size() + 1 + prefix.size() + path.size()), method);
  put(put(put(at, " "), prefix), path);
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
  put(grow(out, kVersionEnd.size()), kVersionEnd);
}

void appendStatusLine(unsigned version, unsigned code, std::string_view reason, std::string& out) {
  const Decimal digits(code);
  char* at = grow(out, 9 + digits.view().size() + 1 + reason.size() + 2);
  at = put(put(at, version == 10 ? "HTTP/1.0 " : "HTTP/1.1 "), digits.view());
  put(put(put(at, " "), reason), "\r\n");
}

// One growth, then plain copies (each std::string::append would inline a capacity check and
// its slow path: 1.7 KB of code for the four, on every call's path).
void appendField(std::string_view name, std::string_view value, std::string& out) {
  char* at = put(grow(out, name.size() + value.size() + 4), name);
  at = put(at, ": ");
  put(put(at, value), "\r\n");
}

void appendContentLength(uint64_t length, std::string& out) {
  const Decimal digits(length);
  appendField("Content-Length", digits.view(), out);
}

void appendBearer(std::string_view token, std::string& out) {
  constexpr std::string_view kName = "Authorization: Bearer ";
  put(put(put(grow(out, kName.size() + token.size() + 2), kName), token), "\r\n");
}

void appendTraceParent(std::string_view trace_id, std::string_view parent_span_id, bool sampled,
                       std::string& out) {
  constexpr std::string_view kName = "traceparent: 00-";
  char* at = grow(out, kName.size() + trace_id.size() + 1 + parent_span_id.size() + 5);
  at = put(put(put(at, kName), trace_id), "-");
  put(put(at, parent_span_id), sampled ? "-01\r\n" : "-00\r\n");
}

ChunkPrefix::ChunkPrefix(size_t size) {
  const auto r = std::to_chars(data.data(), data.data() + 16, size, 16);
  length = static_cast<size_t>(r.ptr - data.data());
  data[length++] = '\r';
  data[length++] = '\n';
}

}  // namespace tollgate::gateway
