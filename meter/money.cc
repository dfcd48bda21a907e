#include "meter/money.h"

#include <cstdint>
#include <limits>

namespace tollgate::meter {
namespace {

constexpr int kFractionDigits = 12;

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

std::string Money::toDecimalString() const {
  const bool negative = pico_ < 0;
  const uint64_t magnitude =
      negative ? ~static_cast<uint64_t>(pico_) + 1 : static_cast<uint64_t>(pico_);
  const uint64_t whole = magnitude / static_cast<uint64_t>(kPicoPerUsd);
  uint64_t fraction = magnitude % static_cast<uint64_t>(kPicoPerUsd);

  std::string out;
  if (negative) out.push_back('-');
  out += std::to_string(whole);
  if (fraction != 0) {
    char digits[kFractionDigits];
    for (int k = kFractionDigits - 1; k >= 0; --k) {
      digits[k] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    int len = kFractionDigits;
    while (digits[len - 1] == '0') --len;
    out.push_back('.');
    out.append(digits, static_cast<size_t>(len));
  }
  return out;
}

}  // namespace tollgate::meter
