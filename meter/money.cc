#include "meter/money.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

namespace tollgate::meter {
namespace {

constexpr int kFractionDigits = 12;

// Two decimal digits per entry: "00" .. "99".
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

}  // namespace

std::optional<Money> Money::parseUsd(std::string_view decimal) {
  bool negative = false;
  if (!decimal.empty() && decimal.front() == '-') {
    negative = true;
    decimal.remove_prefix(1);
  }
  // The magnitude is accumulated unsigned so that the most negative int64 still parses.
  const uint64_t limit =
      negative ? uint64_t{1} << 63 : uint64_t{std::numeric_limits<int64_t>::max()};
  constexpr uint64_t kWhole = static_cast<uint64_t>(kPicoPerUsd);

  size_t i = 0;
  uint64_t whole = 0;
  while (i < decimal.size() && decimal[i] >= '0' && decimal[i] <= '9') {
    const auto digit = static_cast<uint64_t>(decimal[i] - '0');
    if (whole > (limit / kWhole - digit) / 10) return std::nullopt;
    whole = whole * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;  // no integer part: "", "-", ".5"

  uint64_t fraction = 0;
  if (i < decimal.size()) {
    if (decimal[i] != '.') return std::nullopt;
    ++i;
    int digits = 0;
    while (i < decimal.size() && decimal[i] >= '0' && decimal[i] <= '9') {
      if (++digits > kFractionDigits) return std::nullopt;
      fraction = fraction * 10 + static_cast<uint64_t>(decimal[i] - '0');
      ++i;
    }
    if (digits == 0 || i != decimal.size()) return std::nullopt;
    for (; digits < kFractionDigits; ++digits) fraction *= 10;
  }

  const uint64_t whole_pico = whole * kWhole;  // cannot overflow: whole <= limit / kWhole
  if (fraction > limit - whole_pico) return std::nullopt;
  const uint64_t magnitude = whole_pico + fraction;
  if (!negative) return Money(static_cast<int64_t>(magnitude));
  // Negating in unsigned arithmetic and converting back is exact for every value up to 2^63.
  return Money(static_cast<int64_t>(~magnitude + 1));
}

char* Money::writeDecimal(char* out) const {
  const bool negative = pico_ < 0;
  const uint64_t magnitude =
      negative ? ~static_cast<uint64_t>(pico_) + 1 : static_cast<uint64_t>(pico_);
  const uint64_t whole = magnitude / static_cast<uint64_t>(kPicoPerUsd);
  const uint64_t fraction = magnitude % static_cast<uint64_t>(kPicoPerUsd);

  if (negative) *out++ = '-';
  out = std::to_chars(out, out + 20, whole).ptr;
  if (fraction != 0) {
    // Twelve digits as two halves of six, two digits at a time.
    char digits[kFractionDigits];
    const uint64_t halves[2] = {fraction / 1'000'000, fraction % 1'000'000};
    for (int h = 0; h < 2; ++h) {
      const uint64_t v = halves[h];
      std::memcpy(digits + 6 * h, kDigitPairs + 2 * (v / 10'000), 2);
      std::memcpy(digits + 6 * h + 2, kDigitPairs + 2 * (v / 100 % 100), 2);
      std::memcpy(digits + 6 * h + 4, kDigitPairs + 2 * (v % 100), 2);
    }
    int len = kFractionDigits;
    while (digits[len - 1] == '0') --len;
    *out++ = '.';
    std::memcpy(out, digits, static_cast<size_t>(len));
    out += len;
  }
  return out;
}

std::string Money::toDecimalString() const {
  char buf[kMaxDecimalChars];
  return std::string(buf, writeDecimal(buf));
}

}  // namespace tollgate::meter
