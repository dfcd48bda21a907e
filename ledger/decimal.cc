#include "ledger/decimal.h"

#include <algorithm>

namespace tollgate::ledger {
namespace {

constexpr __int128 kLimit = static_cast<__int128>(1) << 120;

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  size_t i = 0;
  __int128 units = 0;
  int scale = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    units = units * 10 + (text[i] - '0');
    if (units > kLimit / powerOfTen(kMaxScale)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  if (i < text.size()) {
    if (text[i] != '.') return std::nullopt;
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++scale > kMaxScale) return std::nullopt;
      units = units * 10 + (text[i] - '0');
      ++i;
    }
    if (scale == 0 || i != text.size()) return std::nullopt;
  }
  return Decimal(negative ? -units : units, scale);
}

Decimal Decimal::operator*(const Decimal& other) const {
  Decimal product(units_ * other.units_, scale_ + other.scale_);
  // Keep the scale small: drop trailing zeros while the result stays exact.
  while (product.scale_ > 0 && product.units_ % 10 == 0) {
    product.units_ /= 10;
    --product.scale_;
  }
  return product;
}

Decimal Decimal::operator+(const Decimal& other) const {
  const int scale = std::max(scale_, other.scale_);
  return Decimal(
      units_ * powerOfTen(scale - scale_) + other.units_ * powerOfTen(scale - other.scale_), scale);
}

int Decimal::compare(const Decimal& other) const {
  const int scale = std::max(scale_, other.scale_);
  const __int128 a = units_ * powerOfTen(scale - scale_);
  const __int128 b = other.units_ * powerOfTen(scale - other.scale_);
  return a < b ? -1 : (a > b ? 1 : 0);
}

std::optional<Amount> Decimal::toAmount() const {
  if (scale_ <= 12) return Amount::fromPico(units_ * powerOfTen(12 - scale_));
  const __int128 divisor = powerOfTen(scale_ - 12);
  if (units_ % divisor != 0) return std::nullopt;
  return Amount::fromPico(units_ / divisor);
}

std::string Decimal::toString() const {
  const bool negative = units_ < 0;
  const __int128 magnitude = negative ? -units_ : units_;
  std::string out = negative ? "-" : "";
  out += int128ToString(magnitude / powerOfTen(scale_));
  if (scale_ > 0) {
    std::string fraction = int128ToString(magnitude % powerOfTen(scale_));
    fraction.insert(0, static_cast<size_t>(scale_) - fraction.size(), '0');
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) out += "." + fraction;
  }
  return out;
}

__int128 powerOfTen(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

std::string roundedQuotient(__int128 numerator, __int128 denominator, int scale, int min_scale) {
  if (denominator == 0) return "n/a";
  if (denominator < 0) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const bool negative = numerator < 0;
  const __int128 magnitude = negative ? -numerator : numerator;
  const __int128 scaled = magnitude * powerOfTen(scale);
  __int128 q = scaled / denominator;
  if ((scaled % denominator) * 2 >= denominator) ++q;
  std::string out = negative && q != 0 ? "-" : "";
  out += int128ToString(q / powerOfTen(scale));
  std::string fraction = int128ToString(q % powerOfTen(scale));
  fraction.insert(0, static_cast<size_t>(scale) - fraction.size(), '0');
  while (static_cast<int>(fraction.size()) > min_scale && fraction.back() == '0') {
    fraction.pop_back();
  }
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

std::string amountPer(Amount amount, const Decimal& divisor, int scale, int min_scale) {
  // amount_pico / 1e12 / (units / 10^s) = amount_pico x 10^s / (units x 1e12)
  return roundedQuotient(amount.pico() * powerOfTen(divisor.scale()),
                         divisor.units() * powerOfTen(12), scale, min_scale);
}

std::string percentOf(Amount part, Amount whole, int scale) {
  return roundedQuotient(part.pico() * 100, whole.pico(), scale, 0);
}

}  // namespace tollgate::ledger
