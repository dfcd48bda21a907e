#include "ledger/allocation.h"

#include <gtest/gtest.h>

namespace tollgate::ledger {
namespace {

std::vector<Decimal> shares(std::initializer_list<const char*> texts) {
  std::vector<Decimal> out;
  for (const auto* t : texts) out.push_back(*Decimal::parse(t));
  return out;
}

TEST(Allocation, ThirdsAddUpToTheWholeToThePicodollar) {
  const auto parts = splitExactly(Amount::fromPico(100), shares({"33.33", "33.33", "33.34"}));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ((parts[0] + parts[1] + parts[2]).pico(), 100);
  // 33.33, 33.33, 33.34 of 100 pUSD: the remainders go to the largest fractions first.
  EXPECT_EQ(parts[0].pico(), 33);
  EXPECT_EQ(parts[1].pico(), 33);
  EXPECT_EQ(parts[2].pico(), 34);
}

TEST(Allocation, OddPicodollarGoesToTheLargestRemainder) {
  const auto parts = splitExactly(Amount::fromPico(1), shares({"50", "50"}));
  EXPECT_EQ(parts[0].pico() + parts[1].pico(), 1);
  const auto negative = splitExactly(Amount::fromPico(-7), shares({"35", "55", "10"}));
  EXPECT_EQ((negative[0] + negative[1] + negative[2]).pico(), -7);
}

TEST(Allocation, UnmatchedLinesStayWholeWithTheirLabels) {
  ImportLine line;
  line.category = "egress";
  line.amount = *Amount::parseUsd("96");
  AllocationRule rule;
  rule.name = "invoice";
  rule.match = {{"category", "invoice"}};
  rule.split_by = Label::kWorkloadType;
  rule.shares = {{"training", *Decimal::parse("100")}};
  const std::vector<ImportLine> lines = {line};
  const auto out = allocate(lines, {rule});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "");
  EXPECT_EQ(labelOf(out[0].labels, Label::kWorkloadType), "");
  EXPECT_EQ(out[0].amount, line.amount);
}

TEST(Allocation, MatchedLineIsSplitByTheRulesLabel) {
  ImportLine line;
  line.category = "invoice";
  labelOf(line.labels, Label::kTeam) = "platform";
  line.amount = *Amount::parseUsd("60000.00");
  AllocationRule rule;
  rule.name = "blended";
  rule.match = {{"category", "invoice"}, {"team", "platform"}};
  rule.split_by = Label::kWorkloadType;
  rule.shares = {{"training", *Decimal::parse("35")},
                 {"inference", *Decimal::parse("55")},
                 {"notebook", *Decimal::parse("10")}};
  const std::vector<ImportLine> lines = {line};
  const auto out = allocate(lines, {rule});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].amount.toFixedString(2), "21000.00");
  EXPECT_EQ(out[1].amount.toFixedString(2), "33000.00");
  EXPECT_EQ(out[2].amount.toFixedString(2), "6000.00");
  EXPECT_EQ(labelOf(out[1].labels, Label::kWorkloadType), "inference");
  EXPECT_EQ(labelOf(out[1].labels, Label::kTeam), "platform");
  EXPECT_EQ(out[1].rule, "blended");
}

}  // namespace
}  // namespace tollgate::ledger
