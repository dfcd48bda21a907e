#include <gtest/gtest.h>

#include "ledger/calendar.h"
#include "ledger/cost_event_parser.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::eventJson;
using testing::EventSpec;

TEST(CostRecord, ReadsTheGatewaysEvent) {
  CostEventParser parser;
  EventSpec spec;
  spec.cache_read_tokens = 500;
  const auto parsed = parser.parse(eventJson(spec));
  ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  const CostRecord& r = parsed.record;
  EXPECT_EQ(r.id, "evt-1");
  EXPECT_EQ(formatHour(r.hour), "2026-11-02T10:00:00Z");
  EXPECT_EQ(labelOf(r.labels, Label::kTeam), "fraud");
  EXPECT_EQ(labelOf(r.labels, Label::kCostCenter), "cc-100");
  EXPECT_EQ(labelOf(r.labels, Label::kModel), "claude-sonnet-4-5");
  EXPECT_EQ(labelOf(r.labels, Label::kOutcome), "ok");
  EXPECT_EQ(r.usage.input_tokens, 1500);
  EXPECT_EQ(r.usage.cache_read_tokens, 500);
  EXPECT_EQ(r.cost.total.toDecimalString(), "0.0093");
  EXPECT_TRUE(r.priced);
  EXPECT_TRUE(r.completed_inference);
}

TEST(CostRecord, FailedAttemptIsNotAnInference) {
  CostEventParser parser;
  EventSpec spec;
  spec.outcome = meter::Outcome::kUpstreamError;
  const auto parsed = parser.parse(eventJson(spec));
  ASSERT_EQ(parsed.status, ParseStatus::kRecord);
  EXPECT_FALSE(parsed.record.completed_inference);
}

TEST(CostRecord, NonFinalAttemptIsNotAnInference) {
  CostEventParser parser;
  std::string json = eventJson(EventSpec{});
  json.insert(json.find("\"upstream\""), "\"attempt\":1,\"final\":false,");
  const auto parsed = parser.parse(json);
  ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  EXPECT_FALSE(parsed.record.completed_inference);
}

TEST(CostRecord, OtherEventTypesAreSkippedNotErrors) {
  CostEventParser parser;
  const auto parsed = parser.parse(
      R"({"specversion":"1.0","id":"a","type":"dev.tollgate.budget.threshold.v1","data":{}})");
  EXPECT_EQ(parsed.status, ParseStatus::kOtherType);
}

TEST(CostRecord, TotalThatIsNotTheSumOfItsPartsIsMalformed) {
  CostEventParser parser;
  std::string json = eventJson(EventSpec{});
  const auto at = json.find("\"total\":\"0.0093\"");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 16, "\"total\":\"0.0094\"");
  const auto parsed = parser.parse(json);
  EXPECT_EQ(parsed.status, ParseStatus::kMalformed);
  EXPECT_NE(parsed.error.find("sum"), std::string::npos);
}

TEST(CostRecord, FloatMoneyIsMalformed) {
  CostEventParser parser;
  std::string json = eventJson(EventSpec{});
  const auto at = json.find("\"total\":\"0.0093\"");
  json.replace(at, 16, "\"total\":0.0093");
  EXPECT_EQ(parser.parse(json).status, ParseStatus::kMalformed);
}

TEST(CostRecord, TruncatedLineIsMalformed) {
  CostEventParser parser;
  const std::string json = eventJson(EventSpec{});
  EXPECT_EQ(parser.parse(json.substr(0, json.size() / 2)).status, ParseStatus::kMalformed);
  EXPECT_EQ(parser.parse("").status, ParseStatus::kMalformed);
}

TEST(CostRecord, MissingIdIsMalformed) {
  CostEventParser parser;
  std::string json = eventJson(EventSpec{});
  json.replace(json.find("\"id\":\"evt-1\""), 12, "\"id\":\"\"");
  EXPECT_EQ(parser.parse(json).status, ParseStatus::kMalformed);
}

}  // namespace
}  // namespace tollgate::ledger
