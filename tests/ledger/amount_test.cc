#include "ledger/amount.h"

#include <gtest/gtest.h>

#include "ledger/decimal.h"

namespace tollgate::ledger {
namespace {

TEST(Amount, ParsesAndPrintsExactly) {
  EXPECT_EQ(Amount::parseUsd("0.000000000001")->pico(), 1);
  EXPECT_EQ(Amount::parseUsd("14860.80")->toDecimalString(), "14860.8");
  EXPECT_EQ(Amount::parseUsd("14860.80")->toFixedString(2), "14860.80");
  EXPECT_EQ(Amount::parseUsd("-1.5")->toFixedString(2), "-1.50");
  EXPECT_EQ(Amount::parseUsd("0")->toDecimalString(), "0");
  EXPECT_FALSE(Amount::parseUsd("1.0000000000001"));
  EXPECT_FALSE(Amount::parseUsd("1e3"));
  EXPECT_FALSE(Amount::parseUsd(".5"));
}

TEST(Amount, SumsBeyondInt64StayExact) {
  // 2,000,000 events of the largest Money each overflow int64 but not the ledger's sums.
  Amount sum;
  const auto big = meter::Money::fromPico(INT64_MAX);
  for (int i = 0; i < 4; ++i) sum += Amount::fromMoney(big);
  EXPECT_EQ(sum.toPicoString(), "36893488147419103228");
  EXPECT_EQ(Amount::parsePicoString(sum.toPicoString()), sum);
}

TEST(Decimal, QuantityTimesRateIsExact) {
  const auto egress = *Decimal::parse("1200") * *Decimal::parse("0.08");
  EXPECT_EQ(egress.toAmount()->toFixedString(2), "96.00");
  const auto training = *Decimal::parse("619.2") * *Decimal::parse("24.00");
  EXPECT_EQ(training.toAmount()->toFixedString(2), "14860.80");
}

TEST(Decimal, ProductWithAFractionOfAPicodollarIsRefused) {
  const auto product = *Decimal::parse("0.0000001") * *Decimal::parse("0.0000001");
  EXPECT_FALSE(product.toAmount());
}

TEST(Decimal, QuotientRoundsHalfAwayFromZero) {
  EXPECT_EQ(roundedQuotient(1, 3, 4, 0), "0.3333");
  EXPECT_EQ(roundedQuotient(2, 3, 4, 0), "0.6667");
  EXPECT_EQ(roundedQuotient(-2, 3, 4, 0), "-0.6667");
  EXPECT_EQ(roundedQuotient(5, 0, 4, 0), "n/a");
  EXPECT_EQ(amountPer(*Amount::parseUsd("14860.80"), *Decimal::parse("4.3")), "3456.00");
  EXPECT_EQ(percentOf(*Amount::parseUsd("1"), *Amount::parseUsd("8")), "12.5");
}

}  // namespace
}  // namespace tollgate::ledger
