#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ledger/amount.h"

namespace tollgate::ledger {

// An exact non-money decimal (a quantity, a rate, a share, a run count): units x 10^-scale.
// Products of two of them stay exact; only a division rounds, and says so where it is used.
class Decimal {
 public:
  static constexpr int kMaxScale = 18;

  constexpr Decimal() = default;
  static constexpr Decimal fromInteger(__int128 value) { return Decimal(value, 0); }
  // "4.3", "1200", "-0.5"; at most kMaxScale fraction digits, no exponent.
  static std::optional<Decimal> parse(std::string_view text);

  constexpr __int128 units() const { return units_; }
  constexpr int scale() const { return scale_; }
  constexpr bool isZero() const { return units_ == 0; }
  bool isNegative() const { return units_ < 0; }

  Decimal operator*(const Decimal& other) const;
  Decimal operator+(const Decimal& other) const;
  friend bool operator==(const Decimal& a, const Decimal& b) { return a.compare(b) == 0; }
  int compare(const Decimal& other) const;

  // This many USD as an exact Amount; nullopt when it has a fraction of a picodollar.
  std::optional<Amount> toAmount() const;
  // Shortest exact decimal string.
  std::string toString() const;

 private:
  constexpr Decimal(__int128 units, int scale) : units_(units), scale_(scale) {}
  __int128 units_ = 0;
  int scale_ = 0;
};

// 10^n for 0 <= n <= 38.
__int128 powerOfTen(int n);

// numerator / denominator written with `scale` fraction digits, rounded half away from zero
// (the one rounding in the reports: a unit cost or a percentage). Trailing zeros are kept to
// `min_scale` digits. "n/a" when the denominator is zero.
std::string roundedQuotient(__int128 numerator, __int128 denominator, int scale, int min_scale);

// An Amount divided by a Decimal (a count of runs, of thousands of calls), in USD.
std::string amountPer(Amount amount, const Decimal& divisor, int scale = 12, int min_scale = 2);

// part / whole x 100 with `scale` fraction digits; "n/a" when whole is zero.
std::string percentOf(Amount part, Amount whole, int scale = 4);

}  // namespace tollgate::ledger
