#include "ledger/amount.h"

#include <algorithm>

#include "ledger/decimal.h"

namespace tollgate::ledger {
namespace {

constexpr int kFractionDigits = 12;
constexpr __int128 kPicoPerUsd = 1'000'000'000'000;
// Larger magnitudes are refused so that sums of many of them still fit.
constexpr __int128 kMaxMagnitude = static_cast<__int128>(1) << 100;

}  // namespace

std::string int128ToString(__int128 value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  unsigned __int128 magnitude =
      negative ? ~static_cast<unsigned __int128>(value) + 1 : static_cast<unsigned __int128>(value);
  std::string out;
  while (magnitude != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  if (negative) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<Amount> Amount::parseUsd(std::string_view decimal) {
  auto value = Decimal::parse(decimal);
  if (!value || value->scale() > kFractionDigits) return std::nullopt;
  auto amount = value->toAmount();
  if (!amount || amount->pico_ > kMaxMagnitude || amount->pico_ < -kMaxMagnitude) {
    return std::nullopt;
  }
  return amount;
}

std::optional<Amount> Amount::parsePicoString(std::string_view digits) {
  bool negative = false;
  if (!digits.empty() && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 38) return std::nullopt;
  __int128 value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return Amount(negative ? -value : value);
}

std::string Amount::toPicoString() const { return int128ToString(pico_); }

std::string Amount::toFixedString(int min_fraction) const {
  const bool negative = pico_ < 0;
  const __int128 magnitude = negative ? -pico_ : pico_;
  std::string out = negative ? "-" : "";
  out += int128ToString(magnitude / kPicoPerUsd);
  std::string fraction = int128ToString(magnitude % kPicoPerUsd);
  fraction.insert(0, kFractionDigits - fraction.size(), '0');
  while (static_cast<int>(fraction.size()) > min_fraction && fraction.back() == '0') {
    fraction.pop_back();
  }
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

std::string Amount::toDecimalString() const { return toFixedString(0); }

}  // namespace tollgate::ledger
