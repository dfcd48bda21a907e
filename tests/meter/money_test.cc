#include "meter/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>

namespace tollgate::meter {
namespace {

std::optional<int64_t> picoOf(std::string_view decimal) {
  const auto money = Money::parseUsd(decimal);
  if (!money) return std::nullopt;
  return money->pico();
}

TEST(MoneyParseUsd, ReadsPlainDecimalsExactly) {
  EXPECT_EQ(picoOf("0.0093"), 9'300'000'000);
  EXPECT_EQ(picoOf("12"), 12'000'000'000'000);
  EXPECT_EQ(picoOf("-1.5"), -1'500'000'000'000);
  EXPECT_EQ(picoOf("0.5"), 500'000'000'000);
  EXPECT_EQ(picoOf("0"), 0);
  EXPECT_EQ(picoOf("-0"), 0);
  EXPECT_EQ(picoOf("007.25"), 7'250'000'000'000);
}

TEST(MoneyParseUsd, ReadsAllTwelveFractionDigits) {
  EXPECT_EQ(picoOf("0.000000000001"), 1);
  EXPECT_EQ(picoOf("-0.000000000001"), -1);
  EXPECT_EQ(picoOf("1.234567890123"), 1'234'567'890'123);
}

TEST(MoneyParseUsd, RejectsMoreThanTwelveFractionDigits) {
  EXPECT_EQ(Money::parseUsd("0.0000000000001"), std::nullopt);
  EXPECT_EQ(Money::parseUsd("1.0000000000000"), std::nullopt);
}

TEST(MoneyParseUsd, RejectsMalformedInput) {
  for (const char* bad : {"", "-", ".", ".5", "-.5", "1.", "1e3", "1E3", "+1", " 1", "1 ", "1,5",
                          "1.2.3", "--1", "0x10", "1-", "abc", "1.5a", "\u00A01"}) {
    EXPECT_EQ(Money::parseUsd(bad), std::nullopt) << "accepted \"" << bad << '"';
  }
}

TEST(MoneyParseUsd, AcceptsTheFullInt64RangeAndRejectsBeyond) {
  EXPECT_EQ(picoOf("9223372.036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(picoOf("-9223372.036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Money::parseUsd("9223372.036854775808"), std::nullopt);
  EXPECT_EQ(Money::parseUsd("-9223372.036854775809"), std::nullopt);
  EXPECT_EQ(Money::parseUsd("9223373"), std::nullopt);
  EXPECT_EQ(Money::parseUsd("99999999999999999999999999"), std::nullopt);
}

TEST(MoneyToDecimalString, IsShortestAndExact) {
  EXPECT_EQ(Money::fromPico(9'300'000'000).toDecimalString(), "0.0093");
  EXPECT_EQ(Money::fromPico(0).toDecimalString(), "0");
  EXPECT_EQ(Money::fromPico(15'000'000'000'000).toDecimalString(), "15");
  EXPECT_EQ(Money::fromPico(-1).toDecimalString(), "-0.000000000001");
  EXPECT_EQ(Money::fromPico(1'500'000'000'000).toDecimalString(), "1.5");
  EXPECT_EQ(Money::fromPico(-2'000'000'000'010).toDecimalString(), "-2.00000000001");
}

TEST(MoneyToDecimalString, HandlesInt64Extremes) {
  EXPECT_EQ(Money::fromPico(std::numeric_limits<int64_t>::max()).toDecimalString(),
            "9223372.036854775807");
  EXPECT_EQ(Money::fromPico(std::numeric_limits<int64_t>::min()).toDecimalString(),
            "-9223372.036854775808");
}

TEST(MoneyToDecimalString, RoundTripsThroughParseUsd) {
  for (const int64_t pico :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{10}, int64_t{999'999},
        int64_t{1'000'000'000'000}, int64_t{123'456'789'012'345}, int64_t{-987'654'321}}) {
    const Money money = Money::fromPico(pico);
    EXPECT_EQ(Money::parseUsd(money.toDecimalString()), money) << pico;
  }
}

// The decimal string as first written (digit by digit, through std::to_string).
std::string referenceDecimal(int64_t pico) {
  const bool negative = pico < 0;
  const uint64_t magnitude =
      negative ? ~static_cast<uint64_t>(pico) + 1 : static_cast<uint64_t>(pico);
  const uint64_t whole = magnitude / 1'000'000'000'000;
  uint64_t fraction = magnitude % 1'000'000'000'000;
  std::string out = negative ? "-" : "";
  out += std::to_string(whole);
  if (fraction != 0) {
    std::string digits(12, '0');
    for (int k = 11; k >= 0; --k, fraction /= 10)
      digits[k] = static_cast<char>('0' + fraction % 10);
    out += "." + digits.substr(0, digits.find_last_not_of('0') + 1);
  }
  return out;
}

TEST(MoneyToDecimalString, WritesWhatTheDigitByDigitReferenceWrites) {
  std::mt19937_64 rng(42);
  for (int n = 0; n < 20000; ++n) {
    // Magnitudes of every size, and fractions with runs of zeros at either end.
    int64_t pico = static_cast<int64_t>(rng() >> (rng() % 64));
    if (n % 3 == 0) pico -= pico % 1'000'000;
    if (n % 2 == 0 && pico != std::numeric_limits<int64_t>::min()) pico = -pico;
    const Money money = Money::fromPico(pico);
    ASSERT_EQ(money.toDecimalString(), referenceDecimal(pico)) << pico;
    char buf[Money::kMaxDecimalChars];
    ASSERT_EQ(std::string(buf, money.writeDecimal(buf)), referenceDecimal(pico)) << pico;
  }
  for (const int64_t pico :
       {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{0},
        int64_t{1}, int64_t{-1}, int64_t{100'000}, int64_t{999'999'999'999}}) {
    char buf[Money::kMaxDecimalChars];
    EXPECT_EQ(std::string(buf, Money::fromPico(pico).writeDecimal(buf)), referenceDecimal(pico));
  }
}

TEST(MoneyArithmetic, AddsAndComparesExactly) {
  Money sum = Money::fromPico(4'500'000'000);
  sum += Money::fromPico(4'800'000'000);
  EXPECT_EQ(sum, Money::parseUsd("0.0093"));
  EXPECT_EQ((Money::fromPico(1) + Money::fromPico(2)).pico(), 3);
  EXPECT_LT(Money::fromPico(-1), Money{});
  EXPECT_EQ(Money{}.pico(), 0);
}

}  // namespace
}  // namespace tollgate::meter

namespace tollgate::meter {
namespace {

// A sum of absurd amounts (a gateway metric adding nonsense calls) stays absurdly large, never
// wraps negative.
TEST(MoneyArithmetic, SumsSaturateAtTheInt64LimitsInsteadOfWrapping) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const Money top = Money::fromPico(kMax);
  EXPECT_EQ((top + Money::fromPico(1)).pico(), kMax);
  EXPECT_EQ((top + top).pico(), kMax);
  Money sum = top;
  sum += top;
  EXPECT_EQ(sum.pico(), kMax);
  EXPECT_EQ((Money::fromPico(kMin) + Money::fromPico(-1)).pico(), kMin);
  EXPECT_EQ((top + Money::fromPico(-5)).pico(), kMax - 5);
  EXPECT_EQ((Money::fromPico(kMin) + top).pico(), -1);
}

}  // namespace
}  // namespace tollgate::meter
