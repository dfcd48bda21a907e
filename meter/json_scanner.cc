#include "meter/json_scanner.h"

#include <simdjson.h>

#include "meter/usage.h"

namespace tollgate::meter {
namespace {

bool hex4(const char* p, const char* end, uint32_t& out) {
  if (end - p < 4) return false;
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hexDigit(p[i]);
    if (d < 0) return false;
    out = (out << 4) | static_cast<uint32_t>(d);
  }
  return true;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool JsonScanner::null() { return peek() == 'n' && literal("null"); }

bool JsonScanner::integer(int64_t& n) {
  skipSpace();
  const char* p = p_;
  const bool negative = p < end_ && *p == '-';
  if (negative) ++p;
  if (p == end_ || !isDigit(*p)) return false;
  if (*p == '0' && p + 1 < end_ && isDigit(p[1])) return false;
  uint64_t magnitude = 0;
  int digits = 0;
  for (; p < end_ && isDigit(*p); ++p) {
    if (++digits > 18) return false;  // 18 digits always fit in int64
    magnitude = magnitude * 10 + static_cast<uint64_t>(*p - '0');
  }
  if (p < end_ && (*p == '.' || *p == 'e' || *p == 'E')) return false;
  n = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  p_ = p;
  return true;
}

bool JsonScanner::count(int64_t& n) {
  int64_t v = 0;
  if (integer(v)) {
    n = v < 0 || v > kMaxCallTokens ? kMalformedCount : v;
    return true;
  }
  if (!skipValue()) return false;
  n = kMalformedCount;
  return true;
}

bool JsonScanner::validUtf8() const {
  return high_ == 0 || simdjson::validate_utf8(begin_, static_cast<size_t>(end_ - begin_));
}

bool JsonScanner::skipValue(int depth) {
  switch (peek()) {
    case '"': {
      ++p_;
      int64_t bytes = 0;
      bool escaped = false;
      return scanString(bytes, escaped);
    }
    case '{': {
      if (depth >= kMaxDepth) return false;
      ++p_;
      bool first = true;
      std::string_view key;
      for (;;) {
        const Step step = member(first, key);
        if (step == Step::kEnd) return true;
        if (step == Step::kBad || !skipValue(depth + 1)) return false;
      }
    }
    case '[': {
      if (depth >= kMaxDepth) return false;
      ++p_;
      bool first = true;
      for (;;) {
        const Step step = element(first);
        if (step == Step::kEnd) return true;
        if (step == Step::kBad || !skipValue(depth + 1)) return false;
      }
    }
    case 't':
      return literal("true");
    case 'f':
      return literal("false");
    case 'n':
      return literal("null");
    default:
      return skipNumber();
  }
}

bool JsonScanner::skipNumber() {
  const char* p = p_;
  if (p < end_ && *p == '-') ++p;
  if (p == end_ || !isDigit(*p)) return false;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end_ && isDigit(*p)) ++p;
  }
  if (p < end_ && *p == '.') {
    ++p;
    if (p == end_ || !isDigit(*p)) return false;
    while (p < end_ && isDigit(*p)) ++p;
  }
  if (p < end_ && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end_ && (*p == '+' || *p == '-')) ++p;
    if (p == end_ || !isDigit(*p)) return false;
    while (p < end_ && isDigit(*p)) ++p;
  }
  p_ = p;
  return true;
}

bool JsonScanner::literal(std::string_view word) {
  if (static_cast<size_t>(end_ - p_) < word.size() ||
      std::memcmp(p_, word.data(), word.size()) != 0) {
    return false;
  }
  p_ += word.size();
  return true;
}

bool JsonScanner::escape(int64_t& saved) {
  if (end_ - p_ < 2) return false;
  switch (p_[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      p_ += 2;
      saved += 1;
      return true;
    case 'u':
      break;
    default:
      return false;
  }
  uint32_t cp = 0;
  if (!hex4(p_ + 2, end_, cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    // A surrogate pair, "\uD83D\uDE00": twelve raw bytes, one four-byte UTF-8 character.
    uint32_t low = 0;
    if (end_ - p_ < 12 || p_[6] != '\\' || p_[7] != 'u' || !hex4(p_ + 8, end_, low) ||
        low < 0xDC00 || low > 0xDFFF) {
      return false;
    }
    p_ += 12;
    saved += 12 - 4;
    return true;
  }
  p_ += 6;
  saved += 6 - (cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3);
  return true;
}

}  // namespace tollgate::meter
