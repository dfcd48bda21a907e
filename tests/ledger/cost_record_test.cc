#include <gtest/gtest.h>

#include "ledger/calendar.h"
#include "ledger/cost_event_parser.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::costEvent;
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

// A v2 event (line items): a web search request and advisor usage on another model are in the
// total, which the ledger books whole; its parts still add up to it.
TEST(CostRecord, ReadsAVersion2EventWithLineItems) {
  const std::string json = testing::lineItemEventJson(EventSpec{});
  ASSERT_NE(json.find(R"("type":"dev.tollgate.llm.usage.v2")"), std::string::npos) << json;

  CostEventParser parser;
  const auto parsed = parser.parse(json);
  ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  // 0.0093 of tokens + 2 x $0.01 of searches + $0.0075 of advisor usage.
  EXPECT_EQ(parsed.record.cost.total.toDecimalString(), "0.0368");
  EXPECT_EQ(parsed.record.cost.requests.toDecimalString(), "0.02");
  EXPECT_EQ(parsed.record.cost.other_models.toDecimalString(), "0.0075");
  // The line items themselves: the unit's count and cost, the other model's usage and cost.
  EXPECT_EQ(parsed.record.usage[meter::Unit::kWebSearchRequests], 2);
  EXPECT_EQ(
      parsed.record.cost.units[meter::index(meter::Unit::kWebSearchRequests)].toDecimalString(),
      "0.02");
  ASSERT_EQ(parsed.record.other_models.size(), 1u);
  EXPECT_EQ(parsed.record.other_models[0].model, "claude-opus-4-6");
  EXPECT_EQ(parsed.record.other_models[0].usage.input_tokens, 1000);
  EXPECT_EQ(parsed.record.other_models[0].usage.output_tokens, 100);
  EXPECT_EQ(parsed.record.other_models[0].cost.toDecimalString(), "0.0075");

  // The same total without the parts that make it up is refused, as in v1.
  std::string lost = json;
  lost.replace(lost.find(R"("requests":"0.02")"), 17, R"("requests":"0.00")");
  EXPECT_EQ(parser.parse(lost).status, ParseStatus::kMalformed);
}

TEST(CostRecord, AVersion2UnitThisVersionDoesNotKnowIsSkippedNotRefused) {
  std::string json = testing::lineItemEventJson(EventSpec{});
  const std::string known = R"("units":{"web_search_requests":2})";
  ASSERT_NE(json.find(known), std::string::npos) << json;
  json.replace(json.find(known), known.size(),
               R"("units":{"web_search_requests":2,"video_seconds":7})");
  CostEventParser parser;
  const auto parsed = parser.parse(json);
  ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  EXPECT_EQ(parsed.record.usage[meter::Unit::kWebSearchRequests], 2);
}

TEST(CostRecord, AVersion2OtherModelItemWithoutItsUsageIsMalformed) {
  std::string json = testing::lineItemEventJson(EventSpec{});
  const size_t at = json.find(R"("usage":{"input_tokens":1000)");
  ASSERT_NE(at, std::string::npos) << json;
  json.replace(at, 8, R"("usagx":)");
  CostEventParser parser;
  EXPECT_EQ(parser.parse(json).status, ParseStatus::kMalformed);
}

TEST(CostRecord, APoolCallCarriesItsPoolAndExactTimesToTheMicrosecond) {
  CostEventParser parser;
  EventSpec spec;
  spec.gpu_pool = "h100-a";
  spec.start_ns = spec.end_ns - 2'500'123'456;
  const auto parsed = parser.parse(eventJson(spec));
  ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  EXPECT_EQ(parsed.record.gpu_pool, "h100-a");
  EXPECT_EQ(parsed.record.end_us, spec.end_ns / 1000);
  // The event's times are written to the microsecond, rounded down.
  EXPECT_EQ(parsed.record.start_us, spec.end_ns / 1000 - 2'500'124);
  EXPECT_EQ(parser.parse(eventJson(EventSpec{})).record.gpu_pool, "");
}

TEST(CostRecord, APoolCallWithoutAStartOrANamelessPoolIsMalformed) {
  CostEventParser parser;
  EventSpec spec;
  spec.gpu_pool = "h100-a";
  std::string line = eventJson(spec);
  const auto start = line.find(R"("start":")");
  ASSERT_NE(start, std::string::npos);
  std::string no_start = line;
  no_start.replace(start, 8, R"("begun":)");
  EXPECT_EQ(parser.parse(no_start).status, ParseStatus::kMalformed);
  std::string nameless = line;
  nameless.replace(nameless.find(R"("name":"h100-a")"), 15, R"("name":"")");
  EXPECT_EQ(parser.parse(nameless).status, ParseStatus::kMalformed);
}

TEST(CostRecord, FailedAttemptIsNotAnInference) {
  CostEventParser parser;
  EventSpec spec;
  spec.outcome = meter::Outcome::kUpstreamError;
  const auto parsed = parser.parse(eventJson(spec));
  ASSERT_EQ(parsed.status, ParseStatus::kRecord);
  EXPECT_FALSE(parsed.record.completed_inference);
}

TEST(CostRecord, ASpendRefusalNamingItsLimitIsBookedAsRejectedAtNoCost) {
  CostEventParser parser;
  EventSpec spec;
  spec.outcome = meter::Outcome::kRejected;
  spec.priced = false;
  spec.input_tokens = spec.output_tokens = 0;
  meter::CostEvent event = costEvent(spec);
  event.status = 429;
  event.limit = "fraud-monthly";
  std::string json;
  meter::appendCloudEventJson(event, json);
  ASSERT_NE(json.find(R"("limit":"fraud-monthly")"), std::string::npos);
  const auto parsed = parser.parse(json);
  ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  EXPECT_EQ(labelOf(parsed.record.labels, Label::kOutcome), "rejected");
  EXPECT_FALSE(parsed.record.completed_inference);
  EXPECT_EQ(parsed.record.cost.total, meter::Money());
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
