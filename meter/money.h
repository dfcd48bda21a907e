#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Exact money: an integer count of picodollars (1e-12 USD). Never converted through double.
class Money {
 public:
  static constexpr int64_t kPicoPerUsd = 1'000'000'000'000;

  constexpr Money() = default;
  static constexpr Money fromPico(int64_t pico) { return Money(pico); }

  // Parses a plain decimal USD amount ("0.0093", "12", "-1.5"); at most 12 fraction digits,
  // no exponent, no sign other than a leading '-'. nullopt when malformed or out of range.
  static std::optional<Money> parseUsd(std::string_view decimal);

  constexpr int64_t pico() const { return pico_; }

  // Shortest exact decimal USD string: "0.0093", "0", "15", "-0.000000000001".
  std::string toDecimalString() const;
  // The same characters written at `out`, which has room for kMaxDecimalChars; returns the end.
  static constexpr size_t kMaxDecimalChars = 1 + 20 + 1 + 12;  // sign, whole, point, fraction
  char* writeDecimal(char* out) const;

  // Sums saturate at the int64 limits instead of wrapping: ~$9.2M in picodollars is beyond any
  // real total a gateway adds up, so only nonsense reaches it, and it must then stay an absurdly
  // large amount, never turn negative.
  constexpr Money& operator+=(Money other) {
    pico_ = saturatingAdd(pico_, other.pico_);
    return *this;
  }
  friend constexpr Money operator+(Money a, Money b) {
    return Money(saturatingAdd(a.pico_, b.pico_));
  }
  friend constexpr auto operator<=>(const Money&, const Money&) = default;

 private:
  constexpr explicit Money(int64_t pico) : pico_(pico) {}
  static constexpr int64_t saturatingAdd(int64_t a, int64_t b) {
    int64_t sum = 0;
    if (!__builtin_add_overflow(a, b, &sum)) return sum;
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  int64_t pico_ = 0;
};

}  // namespace tollgate::meter
