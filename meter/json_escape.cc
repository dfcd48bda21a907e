#include "meter/json_escape.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace tollgate::meter {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  size_t len = 0;
  uint32_t min = 0;
  uint32_t cp = 0;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kTops = 0x8080808080808080ULL;
// Nonzero when a byte of `x` is below `n` (n <= 128) / equal to `c`. Flags above the lowest
// true one may be false positives, never below it.
constexpr uint64_t hasLess(uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kTops; }
constexpr uint64_t hasByte(uint64_t x, uint64_t c) { return hasLess(x ^ (kOnes * c), 1); }

// The first index at or after `i` whose byte is not printable ASCII other than '"' and '\'.
size_t plainAsciiEnd(std::string_view s, size_t i) {
  const char* p = s.data();
  const size_t n = s.size();
  if constexpr (std::endian::native == std::endian::little) {
    auto stops = [](uint64_t x) {
      return hasByte(x, '"') | hasByte(x, '\\') | hasLess(x, 0x20) | (x & kTops);
    };
    if (n - i >= 8) {
      for (; n - i >= 8; i += 8) {
        uint64_t x;
        std::memcpy(&x, p + i, 8);
        if (const uint64_t stop = stops(x); stop != 0) return i + (std::countr_zero(stop) >> 3);
      }
      if (i == n) return n;
      // The last word, overlapping bytes already known to be plain: its lowest flagged byte is
      // still the first one to stop at, and lies at or after i.
      uint64_t x;
      std::memcpy(&x, p + n - 8, 8);
      const uint64_t stop = stops(x);
      return stop == 0 ? n : n - 8 + (std::countr_zero(stop) >> 3);
    }
  }
  for (; i < n; ++i) {
    const auto c = static_cast<uint8_t>(p[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
  }
  return i;
}

// The escaped body of `s` (no quotes), handed to `emit(const char*, size_t)` in runs.
template <class Emit>
void escapeBody(std::string_view s, Emit&& emit) {
  size_t run_start = 0;
  size_t i = 0;
  for (;;) {
    i = plainAsciiEnd(s, i);
    if (i == s.size()) break;
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      if (const size_t len = utf8SequenceLength(s, i); len != 0) {
        i += len;
        continue;
      }
      emit(s.data() + run_start, i - run_start);
      emit("\xEF\xBF\xBD", 3);  // U+FFFD for an invalid byte
      run_start = ++i;
      continue;
    }
    emit(s.data() + run_start, i - run_start);
    switch (c) {
      case '"':
        emit("\\\"", 2);
        break;
      case '\\':
        emit("\\\\", 2);
        break;
      case '\n':
        emit("\\n", 2);
        break;
      case '\r':
        emit("\\r", 2);
        break;
      case '\t':
        emit("\\t", 2);
        break;
      case '\b':
        emit("\\b", 2);
        break;
      case '\f':
        emit("\\f", 2);
        break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        emit(u, 6);
      }
    }
    run_start = ++i;
  }
  emit(s.data() + run_start, s.size() - run_start);
}

}  // namespace

void appendJsonString(std::string_view s, std::string& out) {
  out.push_back('"');
  escapeBody(s, [&](const char* p, size_t n) { out.append(p, n); });
  out.push_back('"');
}

size_t jsonStringBound(std::string_view s) {
  // An escape is at most six bytes for one (\u001f), a replacement character three for one.
  return plainAsciiEnd(s, 0) == s.size() ? s.size() + 2 : 6 * s.size() + 2;
}

char* writeJsonString(std::string_view s, char* out) {
  *out++ = '"';
  escapeBody(s, [&](const char* p, size_t n) {
    if (n != 0) std::memcpy(out, p, n);  // an empty view may have no data pointer
    out += n;
  });
  *out++ = '"';
  return out;
}

}  // namespace tollgate::meter
