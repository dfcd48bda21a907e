#include "ledger/import_line.h"

#include <gtest/gtest.h>

namespace tollgate::ledger {
namespace {

const std::string kHeader =
    "period_start,period_end,description,category,amount_usd,quantity,unit,rate_usd,team,project,"
    "cost_center,workload_type,environment,runs_completed\n";

TEST(ImportLine, QuantityTimesRateIsBookedExactly) {
  const auto result = parseImportCsv(
      kHeader +
      "2026-11-01,2026-12-01,Egress,egress,,1200,GB,0.08,fraud,,cc-100,inference,prod,\n");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].toString();
  ASSERT_EQ(result.lines.size(), 1u);
  EXPECT_EQ(result.lines[0].amount.toFixedString(2), "96.00");
  EXPECT_EQ(labelOf(result.lines[0].labels, Label::kTeam), "fraud");
  EXPECT_EQ(labelOf(result.lines[0].labels, Label::kModel), "");
}

TEST(ImportLine, QuotedDescriptionWithCommaAndRunsCompleted) {
  const auto result = parseImportCsv(kHeader +
                                     "2026-11-01,2026-12-01,\"GPU node, 8x H100 \"\"a\"\"\","
                                     "training,14860.80,,,,ml,,,training,,4.3\r\n");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].toString();
  EXPECT_EQ(result.lines[0].description, "GPU node, 8x H100 \"a\"");
  EXPECT_EQ(result.lines[0].runs_completed.toString(), "4.3");
}

TEST(ImportLine, AmountThatDisagreesWithQuantityTimesRateIsAnError) {
  const auto result =
      parseImportCsv(kHeader + "2026-11-01,2026-12-01,Egress,egress,98.30,1200,GB,0.08,,,,,,\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 2u);
  EXPECT_NE(result.errors[0].message.find("96"), std::string::npos);
}

TEST(ImportLine, EveryBadFieldIsReportedWithItsLine) {
  const auto result = parseImportCsv(kHeader +
                                     "2026-11-01,2026-12-01,ok,other,1,,,,,,,,,\n"
                                     "2026-11-31,2026-12-01,x,fuel,abc,,,,bad team,,,,,-1\n");
  EXPECT_TRUE(result.lines.size() == 1u);
  ASSERT_GE(result.errors.size(), 5u);
  for (const auto& e : result.errors) EXPECT_EQ(e.line, 3u) << e.toString();
}

TEST(ImportLine, MissingAmountIsAnError) {
  const auto result = parseImportCsv(kHeader + "2026-11-01,2026-12-01,x,other,,5,GB,,,,,,,\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("required"), std::string::npos);
}

TEST(ImportLine, HeaderMustNameTheContractColumns) {
  const auto result = parseImportCsv("period_start,amount\n2026-11-01,5\n");
  EXPECT_TRUE(result.lines.empty());
  EXPECT_FALSE(result.errors.empty());
}

TEST(ImportLine, UnterminatedQuoteIsAnError) {
  const auto result = parseImportCsv(kHeader + "2026-11-01,2026-12-01,\"open,other,1,,,,,,,,,\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("unterminated"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::ledger
