#include "meter/json_array_framer.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tollgate::meter {
namespace {

struct Masks {
  uint64_t quote = 0;
  uint64_t backslash = 0;
  uint64_t bracket = 0;  // { } [ ]
};

// The masks of 64 bytes (`block` is padded with spaces past the real ones).
Masks masksOf(const char* block) {
  Masks m;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  // '[' and '{', ']' and '}' differ only in bit 0x20.
  const __m128i fold = _mm_set1_epi8(0x20);
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  for (int i = 0; i < 4; ++i) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i));
    const __m128i folded = _mm_or_si128(x, fold);
    const auto shift = static_cast<unsigned>(16 * i);
    m.quote |=
        static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, quote))))
        << shift;
    m.backslash |= static_cast<uint64_t>(
                       static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, backslash))))
                   << shift;
    m.bracket |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(
                     _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close)))))
                 << shift;
  }
#else
  for (unsigned i = 0; i < 64; ++i) {
    const char c = block[i];
    const uint64_t bit = uint64_t{1} << i;
    if (c == '"') m.quote |= bit;
    if (c == '\\') m.backslash |= bit;
    if (c == '{' || c == '}' || c == '[' || c == ']') m.bracket |= bit;
  }
#endif
  return m;
}

// Bit i set when an odd number of bits at or below i are set in x.
uint64_t prefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

}  // namespace

uint64_t JsonArrayFramer::classify(const char* bytes, size_t len) {
  const char* block = bytes;
  char padded[64];
  if (len < 64) {
    std::memset(padded, ' ', sizeof padded);
    std::memcpy(padded, bytes, len);
    block = padded;
  }
  const Masks m = masksOf(block);

  // Escaped bytes: those after an odd run of backslashes (simdjson's find_escaped).
  constexpr uint64_t kEven = 0x5555555555555555ULL;
  const uint64_t backslash = m.backslash & ~escaped_;
  const uint64_t follows_escape = (backslash << 1) | escaped_;
  const uint64_t odd_starts = backslash & ~kEven & ~follows_escape;
  uint64_t even_sequences = 0;
  const bool overflow = __builtin_add_overflow(odd_starts, backslash, &even_sequences);
  const uint64_t escaped = (kEven ^ (even_sequences << 1)) & follows_escape;

  const uint64_t in_string = prefixXor(m.quote & ~escaped) ^ in_string_;
  // The carries are those after the last real byte: padding spaces change no string state, and
  // whether the first byte of the next chunk is escaped is bit `len` of the escaped mask.
  in_string_ = (in_string >> 63) != 0 ? ~uint64_t{0} : 0;
  escaped_ = len < 64 ? (escaped >> len) & 1 : (overflow ? 1 : 0);
  return m.bracket & ~in_string;
}

void JsonArrayFramer::keep(std::string_view bytes) {
  if (dropping_) return;
  if (partial_.size() + bytes.size() > kMaxObject) {
    std::string().swap(partial_);
    dropping_ = true;
    return;
  }
  partial_.append(bytes);
}

}  // namespace tollgate::meter
