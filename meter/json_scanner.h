#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tollgate::meter {

// The value of a hexadecimal digit (as in a \uXXXX escape), -1 for any other byte.
constexpr int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A strict, forward-only reader of one JSON text in place, for the pre-filters that read the
// common stream events (content deltas) from their raw bytes instead of through simdjson. It
// accepts only what RFC 8259 accepts, within tighter limits of its own: keys without escapes,
// no lone surrogates, at most kMaxDepth levels. Whatever it reads is therefore a document that
// simdjson reads whole and alike; on anything else a step fails and the caller hands the bytes
// to simdjson instead. Bytes >= 0x80 are only noted while scanning: validUtf8() checks the whole
// text once at the end, as simdjson does before reading anything.
class JsonScanner {
 public:
  static constexpr int kMaxDepth = 32;
  enum class Step { kItem, kEnd, kBad };

  explicit JsonScanner(std::string_view json)
      : begin_(json.data()), p_(json.data()), end_(json.data() + json.size()) {}

  // The next byte after whitespace (0 at the end); consumed by consume() only when it is `c`.
  char peek() {
    skipSpace();
    return p_ < end_ ? *p_ : '\0';
  }
  bool consume(char c) {
    skipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // The next member of an object opened by consume('{'): kItem with its raw key, the scanner
  // then on its value (which the caller must read or skip); kEnd after the closing brace.
  // `first` starts true for each object.
  Step member(bool& first, std::string_view& key) {
    const Step step = separator(first, '}');
    if (step != Step::kItem) return step;
    if (p_ == end_ || *p_ != '"' || !plainBody(key)) return Step::kBad;
    return consume(':') ? Step::kItem : Step::kBad;
  }
  // The next element of an array opened by consume('['), like member().
  Step element(bool& first) { return separator(first, ']'); }

  // An object, member by member: on_member(key) is called with the scanner on each value, must
  // read or skip it, and returns false to reject the object. False when the object is not well
  // formed or on_member rejected it.
  template <class OnMember>
  bool forEachMember(OnMember&& on_member) {
    return consume('{') && forEachMemberAfter(true, on_member);
  }
  // The rest of an object whose opening brace, and when !first some members, were already read.
  template <class OnMember>
  bool forEachMemberAfter(bool first, OnMember&& on_member) {
    std::string_view key;
    for (;;) {
      const Step step = member(first, key);
      if (step == Step::kEnd) return true;
      if (step == Step::kBad || !on_member(key)) return false;
    }
  }
  // An array, element by element, like forEachMember: on_element() reads each one.
  template <class OnElement>
  bool forEachElement(OnElement&& on_element) {
    if (!consume('[')) return false;
    for (bool first = true;;) {
      const Step step = element(first);
      if (step == Step::kEnd) return true;
      if (step == Step::kBad || !on_element()) return false;
    }
  }

  // A string value: `bytes` is its length once unescaped (what simdjson's get_string gives).
  bool string(int64_t& bytes) {
    if (!consume('"')) return false;
    bool escaped = false;
    return scanString(bytes, escaped);
  }
  // A string value without escapes, as it is.
  bool plainString(std::string_view& s) {
    skipSpace();
    return p_ < end_ && *p_ == '"' && plainBody(s);
  }
  // The literal null.
  bool null();
  // An integer token that fits in int64 (no fraction, no exponent).
  bool integer(int64_t& n);
  // A token count as the dialects' simdjson readers take it (meter_support's readCount): a
  // non-negative integer up to kMaxCallTokens as it is; any other value (null, a string, a
  // negative, a fraction, an exponent, a larger number) is consumed and read as
  // kMalformedCount. False only when the value is not well formed; `n` is set only on success.
  bool count(int64_t& n);
  // Adds a string value's unescaped length to `bytes`; a value of another type adds nothing.
  bool addStringBytes(int64_t& bytes) {
    if (peek() != '"') return skipValue();
    int64_t n = 0;
    if (!string(n)) return false;
    bytes += n;
    return true;
  }
  // Any value, checked.
  bool skipValue() { return skipValue(0); }

  // Consumes `bytes` when the text continues with exactly them. For a producer's own fixed
  // serialization of a common event: the caller passes ASCII it knows to be what the scan of
  // those bytes would accept, and saves that scan.
  bool skip(std::string_view bytes) {
    if (static_cast<size_t>(end_ - p_) < bytes.size() ||
        std::memcmp(p_, bytes.data(), bytes.size()) != 0) {
      return false;
    }
    p_ += bytes.size();
    return true;
  }

  // Only whitespace is left.
  bool atEnd() {
    skipSpace();
    return p_ == end_;
  }
  bool validUtf8() const;
  // The value read was the whole text: only whitespace is left and the text is valid UTF-8.
  bool complete() { return atEnd() && validUtf8(); }
  // Offset of the next byte in the text.
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  // Goes back to an earlier offset() after a tentative read failed, to read the bytes another
  // way. (Bytes >= 0x80 noted on the way stay noted: they lie in the same text.)
  void rewind(size_t offset) { p_ = begin_ + offset; }

 private:
  void skipSpace() {
    // Compact JSON, as servers write it, has none: one comparison in the common case.
    while (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ' &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }
  // Before a member or element: kEnd past the closer, or kItem with the scanner on the next one.
  Step separator(bool& first, char closer) {
    skipSpace();
    if (p_ == end_) return Step::kBad;
    if (*p_ == closer) {
      ++p_;
      return Step::kEnd;
    }
    if (!first) {
      if (*p_ != ',') return Step::kBad;
      ++p_;
      skipSpace();
    }
    first = false;
    return Step::kItem;
  }

  // From an opening quote, a string without escapes; on success the scanner is past it.
  bool plainBody(std::string_view& s) {
    const char* from = ++p_;
    int64_t bytes = 0;
    bool escaped = false;
    if (!scanString(bytes, escaped) || escaped) return false;
    s = std::string_view(from, static_cast<size_t>(bytes));
    return true;
  }

  // From just after an opening quote to just after the closing one.
  bool scanString(int64_t& bytes, bool& escaped) {
    const char* from = p_;
    int64_t saved = 0;  // raw bytes that unescaping removes
    for (;;) {
      bool stopped = false;
#if defined(__SSE2__)
      // Sixteen bytes at a time up to the first quote, backslash or control byte.
      {
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i backslash = _mm_set1_epi8('\\');
        const __m128i below_space = _mm_set1_epi8(0x1f);
        while (end_ - p_ >= 16) {
          const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
          const __m128i stop =
              _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                           _mm_cmpeq_epi8(_mm_min_epu8(x, below_space), x));
          const auto hits = static_cast<uint32_t>(_mm_movemask_epi8(stop));
          // Bytes past the stop lie further in the same text: noting them early is harmless.
          high_ |= static_cast<uint32_t>(_mm_movemask_epi8(x));
          if (hits != 0) {
            p_ += std::countr_zero(hits);
            stopped = true;
            break;
          }
          p_ += 16;
        }
      }
#endif
      // Eight bytes at a time: the first quote, backslash or control byte is the lowest flagged
      // byte of the word (flags above it may be false positives, never below it).
      if constexpr (std::endian::native == std::endian::little) {
        while (!stopped && end_ - p_ >= 8) {
          uint64_t x;
          std::memcpy(&x, p_, 8);
          const uint64_t stop = hasByte(x, '"') | hasByte(x, '\\') | hasLess(x, 0x20);
          high_ |= x & kTops;
          if (stop != 0) {
            p_ += std::countr_zero(stop) >> 3;
            break;
          }
          p_ += 8;
        }
      }
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        bytes = (p_ - from) - saved;
        ++p_;
        return true;
      }
      if (c == '\\') {
        escaped = true;
        if (!escape(saved)) return false;
      } else if (c < 0x20) {
        return false;
      } else {
        high_ |= c & 0x80;
        ++p_;
      }
    }
  }

  static constexpr uint64_t kOnes = 0x0101010101010101ULL;
  static constexpr uint64_t kTops = 0x8080808080808080ULL;
  // Nonzero when a byte of `x` is below `n` (n <= 128) / equal to `c`.
  static constexpr uint64_t hasLess(uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kTops; }
  static constexpr uint64_t hasByte(uint64_t x, uint64_t c) { return hasLess(x ^ (kOnes * c), 1); }

  bool skipValue(int depth);
  bool skipNumber();
  bool literal(std::string_view word);
  bool escape(int64_t& saved);

  const char* begin_;
  const char* p_;
  const char* end_;
  uint64_t high_ = 0;  // nonzero once a byte >= 0x80 was seen
};

}  // namespace tollgate::meter
