#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meter/money.h"

namespace tollgate::ledger {

// An exact USD amount in 128-bit picodollars: a month of events summed per rollup key cannot
// overflow it (2^127 pUSD is 1.7e14 trillion USD), and an int64 Money adds into it exactly.
class Amount {
 public:
  constexpr Amount() = default;
  static constexpr Amount fromPico(__int128 pico) { return Amount(pico); }
  static constexpr Amount fromMoney(meter::Money money) { return Amount(money.pico()); }

  // A plain decimal USD string with at most 12 fraction digits ("96", "-0.000000000001").
  static std::optional<Amount> parseUsd(std::string_view decimal);
  // The integer picodollar count as written by toPicoString ("-15000000000000").
  static std::optional<Amount> parsePicoString(std::string_view digits);

  constexpr __int128 pico() const { return pico_; }
  constexpr bool isZero() const { return pico_ == 0; }

  // Shortest exact decimal: "0", "14860.8", "0.000000000001".
  std::string toDecimalString() const;
  // At least `min_fraction` fraction digits ("18600.00"), never rounded.
  std::string toFixedString(int min_fraction) const;
  std::string toPicoString() const;

  constexpr Amount& operator+=(Amount other) {
    pico_ += other.pico_;
    return *this;
  }
  constexpr Amount& operator-=(Amount other) {
    pico_ -= other.pico_;
    return *this;
  }
  friend constexpr Amount operator+(Amount a, Amount b) { return Amount(a.pico_ + b.pico_); }
  friend constexpr Amount operator-(Amount a, Amount b) { return Amount(a.pico_ - b.pico_); }
  friend constexpr auto operator<=>(const Amount&, const Amount&) = default;

 private:
  constexpr explicit Amount(__int128 pico) : pico_(pico) {}
  __int128 pico_ = 0;
};

// Writes a signed 128-bit integer in decimal.
std::string int128ToString(__int128 value);

}  // namespace tollgate::ledger
