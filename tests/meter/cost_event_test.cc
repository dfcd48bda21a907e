#include "meter/cost_event.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

namespace tollgate::meter {
namespace {

// 2026-11-22T14:42:30Z
constexpr int64_t kEndSeconds = 1'795'358'550;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(TOLLGATE_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string rfc3339(int64_t unix_ns) {
  std::string out;
  appendRfc3339(unix_ns, out);
  return out;
}

std::string json(const CostEvent& event) {
  std::string out;
  appendCloudEventJson(event, out);
  return out;
}

CostEvent fullEvent() {
  Price price;
  price.input = price.cache_read = price.cache_write = *parsePerMillionPrice("3.00");
  price.output = price.reasoning = *parsePerMillionPrice("12.00");
  const PriceBook book("2026-11-01", {{"claude-sonnet-4*", price}});
  const PriceEntry* entry = book.find("claude-sonnet-4-20250514");

  CostEvent event;
  event.id = "tg-gw1-000000000042";
  event.source = "tollgate://gw-1";
  event.request_id = "req-7f3a9c";
  event.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  event.attribution = Attribution{.team = "fraud-platform",
                                  .project = "scoring",
                                  .cost_center = "CC-1042",
                                  .workload_type = "inference",
                                  .environment = "prod",
                                  .tags = {{"ticket", "FRAUD-12"}, {"owner", "ana"}},
                                  .key_id = "key_8f2c",
                                  .allocated = true};
  event.upstream = "anthropic-main";
  event.provider = "anthropic";
  event.operation = "chat";
  event.endpoint = "/v1/messages";
  event.model_requested = "claude-sonnet-4";
  event.model = "claude-sonnet-4-20250514";
  event.stream = true;
  event.status = 200;
  event.outcome = Outcome::kOk;
  event.usage = Usage{.input_tokens = 1'500, .output_tokens = 400};
  event.usage_source = UsageSource::kProvider;
  event.priced = true;
  event.price_ref = book.priceRef(*entry);
  event.cost = computeCost(entry->price, event.usage);
  event.end_unix_ns = kEndSeconds * kNanosPerSecond + 123'456'789;
  event.start_unix_ns = event.end_unix_ns - 12'345'678;
  event.ttft_ms = 3.2104;
  event.overhead_us = 187;
  return event;
}

struct Parsed {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

// Parses with simdjson, a strict RFC 8259 parser that also validates UTF-8.
::testing::AssertionResult parses(const std::string& text, Parsed& parsed) {
  const simdjson::padded_string padded(text);
  if (const auto error = parsed.parser.parse(padded).get(parsed.root); error) {
    return ::testing::AssertionFailure() << simdjson::error_message(error) << " in " << text;
  }
  return ::testing::AssertionSuccess();
}

std::string_view stringAt(simdjson::dom::element root, std::string_view pointer) {
  std::string_view value;
  EXPECT_EQ(root.at_pointer(pointer).get(value), simdjson::SUCCESS) << pointer;
  return value;
}

TEST(OutcomeToString, NamesEveryOutcomeAsTheContractSpellsIt) {
  EXPECT_EQ(toString(Outcome::kOk), "ok");
  EXPECT_EQ(toString(Outcome::kUpstreamError), "upstream_error");
  EXPECT_EQ(toString(Outcome::kClientDisconnect), "client_disconnect");
  EXPECT_EQ(toString(Outcome::kTimeout), "timeout");
  EXPECT_EQ(toString(Outcome::kRejected), "rejected");
  EXPECT_EQ(toString(Outcome::kInterrupted), "interrupted");
  EXPECT_EQ(toString(Outcome::kBudgetCut), "budget_cut");
}

TEST(AppendRfc3339, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(rfc3339(kEndSeconds * kNanosPerSecond + 123'456'000), "2026-11-22T14:42:30.123456Z");
  EXPECT_EQ(rfc3339(kEndSeconds * kNanosPerSecond + 123'456'999), "2026-11-22T14:42:30.123456Z");
}

TEST(AppendRfc3339, EpochIsMidnightOfNewYear1970) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339(999), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339(1'000), "1970-01-01T00:00:00.000001Z");
}

TEST(AppendRfc3339, LeapDayIsADate) {
  // 2024-02-29T23:59:59Z and the second after it.
  EXPECT_EQ(rfc3339(1'709'251'199 * kNanosPerSecond + 500'000'000), "2024-02-29T23:59:59.500000Z");
  EXPECT_EQ(rfc3339(1'709'251'200 * kNanosPerSecond), "2024-03-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339(951'868'800 * kNanosPerSecond - kNanosPerSecond),
            "2000-02-29T23:59:59.000000Z");
  EXPECT_EQ(rfc3339(4'107'542'400 * kNanosPerSecond - kNanosPerSecond),
            "2100-02-28T23:59:59.000000Z");  // 2100 is not a leap year
}

TEST(AppendRfc3339, TimesBeforeTheEpochRoundTowardThePast) {
  EXPECT_EQ(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(rfc3339(-1'000), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(rfc3339(-kNanosPerSecond), "1969-12-31T23:59:59.000000Z");
  EXPECT_EQ(rfc3339(-2'203'891'200 * kNanosPerSecond), "1900-03-01T00:00:00.000000Z");
}

TEST(AppendRfc3339, CoversTheWholeInt64Range) {
  EXPECT_EQ(rfc3339(std::numeric_limits<int64_t>::min()), "1677-09-21T00:12:43.145224Z");
  EXPECT_EQ(rfc3339(std::numeric_limits<int64_t>::max()), "2262-04-11T23:47:16.854775Z");
}

TEST(AppendRfc3339, AppendsWithoutClearing) {
  std::string out = "t=";
  appendRfc3339(0, out);
  EXPECT_EQ(out, "t=1970-01-01T00:00:00.000000Z");
}

TEST(CloudEventJson, FullyPopulatedEventMatchesGoldenFixture) {
  EXPECT_EQ(json(fullEvent()), readFixture("cost_event_full.json"));
}

TEST(CloudEventJson, GoldenEventIsValidJsonWithContractValues) {
  Parsed parsed;
  ASSERT_TRUE(parses(json(fullEvent()), parsed));
  EXPECT_EQ(stringAt(parsed.root, "/type"), "dev.tollgate.llm.usage.v1");
  EXPECT_EQ(stringAt(parsed.root, "/subject"), "fraud-platform");
  EXPECT_EQ(stringAt(parsed.root, "/data/cost/total"), "0.0093");
  EXPECT_EQ(stringAt(parsed.root, "/data/tags/owner"), "ana");
  int64_t input_tokens = 0;
  ASSERT_EQ(parsed.root.at_pointer("/data/usage/input_tokens").get(input_tokens),
            simdjson::SUCCESS);
  EXPECT_EQ(input_tokens, 1'500);
  double duration_ms = 0;
  ASSERT_EQ(parsed.root.at_pointer("/data/timing/duration_ms").get(duration_ms), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(duration_ms, 12.345);
}

TEST(CloudEventJson, HostileStringsStayValidJson) {
  CostEvent event = fullEvent();
  event.attribution.team = "a\"b\\c\nd";
  event.attribution.project = std::string("nul\0byte", 8);
  event.attribution.tags = {{"k\"ey", "line1\r\nline2"}, {"bad\xFF", "\xC3"}};
  event.model = "caf\xC3\xA9 \xF0\x9F\x92\xB8";
  event.endpoint = "</script>\t\x1F";

  Parsed parsed;
  ASSERT_TRUE(parses(json(event), parsed));
  EXPECT_EQ(stringAt(parsed.root, "/subject"), "a\"b\\c\nd");
  EXPECT_EQ(stringAt(parsed.root, "/data/team"), "a\"b\\c\nd");
  EXPECT_EQ(stringAt(parsed.root, "/data/project"), std::string_view("nul\0byte", 8));
  EXPECT_EQ(stringAt(parsed.root, "/data/tags/k\"ey"), "line1\r\nline2");
  EXPECT_EQ(stringAt(parsed.root, "/data/tags/bad\xEF\xBF\xBD"), "\xEF\xBF\xBD");
  EXPECT_EQ(stringAt(parsed.root, "/data/model"), "caf\xC3\xA9 \xF0\x9F\x92\xB8");
  EXPECT_EQ(stringAt(parsed.root, "/data/endpoint"), "</script>\t\x1F");
}

// The writer sizes its buffer by a bound (a string escapes to at most six bytes a byte) and
// reuses it from event to event: a small event, then one whose strings all take the longest
// escape (\u0001), then a small one again must each come out whole (the sanitizer build would
// see a write past the buffer).
TEST(CloudEventJson, EventsOfEverySizeFitTheWritersBuffer) {
  const std::string small = json(fullEvent());
  CostEvent worst = fullEvent();
  const std::string controls(4096, '\x01');
  worst.attribution.team = controls;
  worst.model = controls;
  worst.request_id = controls;
  worst.attribution.tags = {{controls, controls}};
  const std::string big = json(worst);
  Parsed parsed;
  ASSERT_TRUE(parses(big, parsed));
  EXPECT_EQ(stringAt(parsed.root, "/data/team"), controls);
  EXPECT_EQ(stringAt(parsed.root, "/data/model"), controls);
  EXPECT_GT(big.size(), 5 * 6 * controls.size());
  EXPECT_EQ(json(fullEvent()), small);
  std::string two;
  appendCloudEventJson(worst, two);
  appendCloudEventJson(fullEvent(), two);
  EXPECT_EQ(two, big + small);
}

TEST(CloudEventJson, UnpricedEventHasNullPriceRefAndZeroCost) {
  CostEvent event = fullEvent();
  event.priced = false;  // the stale price_ref and cost must not leak into the event
  const std::string text = json(event);
  EXPECT_NE(text.find(R"("priced":false,"price_ref":null,"cost":{"currency":"USD","input":"0",)"
                      R"("cache_read":"0","cache_write":"0","output":"0","total":"0"})"),
            std::string::npos)
      << text;
  Parsed parsed;
  ASSERT_TRUE(parses(text, parsed));
  simdjson::dom::element price_ref;
  ASSERT_EQ(parsed.root.at_pointer("/data/price_ref").get(price_ref), simdjson::SUCCESS);
  EXPECT_TRUE(price_ref.is_null());
}

TEST(CloudEventJson, UsageFlagsAreWrittenOnlyWhenSetInFlagOrder) {
  CostEvent event = fullEvent();
  EXPECT_EQ(json(event).find("usage_flags"), std::string::npos);
  event.usage_flags = kUsageBodyWindowed | kUsageCountRefused | kUsageOverContext;
  const std::string text = json(event);
  EXPECT_NE(text.find(R"("usage_source":"provider","usage_flags":["count_refused","over_context",)"
                      R"("body_windowed"],"priced":)"),
            std::string::npos)
      << text;
  Parsed parsed;
  ASSERT_TRUE(parses(text, parsed));
  for (const UsageFlag flag : kAllUsageFlags) {
    event.usage_flags = flag;
    const std::string one = json(event);
    EXPECT_NE(one.find("\"usage_flags\":[\"" + std::string(toString(flag)) + "\"]"),
              std::string::npos)
        << one;
    ASSERT_TRUE(parses(one, parsed));
  }
}

TEST(CloudEventJson, SpendControlFieldsAreWrittenOnlyWhenSetAfterTheOutcome) {
  CostEvent event = fullEvent();
  const std::string plain = json(event);
  EXPECT_EQ(plain.find(R"("limit")"), std::string::npos);
  EXPECT_EQ(plain.find("max_tokens_clamped"), std::string::npos);
  EXPECT_NE(plain.find(R"("outcome":"ok","usage":{)"), std::string::npos) << plain;

  event.outcome = Outcome::kRejected;
  event.limit = "fraud \"monthly\"";  // a name is the operator's text: escaped
  const std::string refused = json(event);
  EXPECT_NE(refused.find(R"("outcome":"rejected","limit":"fraud \"monthly\"","usage":{)"),
            std::string::npos)
      << refused;
  Parsed parsed;
  ASSERT_TRUE(parses(refused, parsed));
  EXPECT_EQ(stringAt(parsed.root, "/data/limit"), "fraud \"monthly\"");

  event.outcome = Outcome::kOk;
  event.limit = "fraud-monthly";
  event.max_tokens_clamped = 437;
  const std::string clamped = json(event);
  EXPECT_NE(
      clamped.find(R"("outcome":"ok","limit":"fraud-monthly","max_tokens_clamped":437,"usage":)"),
      std::string::npos)
      << clamped;
  ASSERT_TRUE(parses(clamped, parsed));
  int64_t cap = 0;
  ASSERT_EQ(parsed.root.at_pointer("/data/max_tokens_clamped").get(cap), simdjson::SUCCESS);
  EXPECT_EQ(cap, 437);
}

TEST(CloudEventJson, EmptyTagsAndDefaultsAreWellFormed) {
  CostEvent event;
  event.outcome = Outcome::kClientDisconnect;
  event.attribution.allocated = false;
  const std::string text = json(event);
  EXPECT_NE(text.find(R"("tags":{},"key_id":"","allocated":false,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("stream":false,"status":0,"outcome":"client_disconnect",)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("usage_source":"none",)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("timing":{"start":"1970-01-01T00:00:00.000000Z","duration_ms":0.000,)"
                      R"("ttft_ms":0.000,"overhead_us":0}}})"),
            std::string::npos)
      << text;
  Parsed parsed;
  EXPECT_TRUE(parses(text, parsed));
}

TEST(CloudEventJson, DuplicateTagKeysAreEmittedAsGiven) {
  CostEvent event = fullEvent();
  event.attribution.tags = {{"env", "a"}, {"env", "b"}};
  EXPECT_NE(json(event).find(R"("tags":{"env":"a","env":"b"})"), std::string::npos);
}

TEST(CloudEventJson, TimingIsExactMillisecondsWithThreeDecimals) {
  CostEvent event = fullEvent();
  event.start_unix_ns = 0;
  event.end_unix_ns = 1'500'000'000'123;  // 1,500,000.000123 ms: exact, not via double
  event.ttft_ms = 1.23456;
  std::string text = json(event);
  EXPECT_NE(text.find(R"("duration_ms":1500000.000,"ttft_ms":1.235,)"), std::string::npos) << text;

  event.end_unix_ns = 5'000;
  event.start_unix_ns = 10'000;  // a clock that went backwards is reported, not hidden
  event.ttft_ms = std::numeric_limits<double>::quiet_NaN();
  text = json(event);
  EXPECT_NE(text.find(R"("duration_ms":-0.005,"ttft_ms":0.000,)"), std::string::npos) << text;

  event.start_unix_ns = std::numeric_limits<int64_t>::min();
  event.end_unix_ns = std::numeric_limits<int64_t>::max();
  event.ttft_ms = -0.0;
  text = json(event);
  EXPECT_NE(text.find(R"("duration_ms":18446744073709.551,"ttft_ms":0.000,)"), std::string::npos)
      << text;
  Parsed parsed;
  EXPECT_TRUE(parses(text, parsed));
}

TEST(CloudEventJson, AppendsToExistingBuffer) {
  std::string out = "prefix";
  appendCloudEventJson(fullEvent(), out);
  EXPECT_EQ(out, "prefix" + readFixture("cost_event_full.json"));
}

TEST(CloudEventJson, AttemptFieldsAreWrittenOnlyForACallOfSeveralAttempts) {
  CostEvent event = fullEvent();
  const std::string single = json(event);
  EXPECT_EQ(single.find("\"attempt\""), std::string::npos);
  EXPECT_EQ(single.find("upstream_endpoint"), std::string::npos);
  event.attempt = 2;
  event.final_attempt = false;
  event.upstream_endpoint_index = 1;
  event.upstream_endpoint_host = "api.example.com:8443";
  const std::string text = json(event);
  EXPECT_NE(text.find(R"("outcome":"ok","attempt":2,"final":false,"upstream_endpoint":)"
                      R"({"index":1,"host":"api.example.com:8443"},"usage":)"),
            std::string::npos)
      << text;
  Parsed parsed;
  ASSERT_TRUE(parses(text, parsed));
  int64_t attempt = 0;
  ASSERT_EQ(parsed.root.at_pointer("/data/attempt").get(attempt), simdjson::SUCCESS);
  EXPECT_EQ(attempt, 2);
  // Everything else is the single attempt's event, byte for byte.
  const size_t at = text.find(R"(,"attempt")");
  const size_t end = text.find(R"(,"usage")");
  EXPECT_EQ(text.substr(0, at) + text.substr(end), single);
}

// The relay moves a call's attribution twice (admission, then the event) with moveAttribution,
// member by member: every member must arrive, and none of what the target held may stay.
Attribution attributionNamed(const std::string& name, bool allocated) {
  return Attribution{.team = name + "-team-with-a-name-past-the-short-string",
                     .project = name + "-project",
                     .cost_center = name + "-cc",
                     .workload_type = name + "-workload",
                     .environment = name + "-env",
                     .tags = {{name + "-tier", "gold"}, {"region", name}},
                     .key_id = name + "-key",
                     .allocated = allocated};
}

TEST(CostEvent, MoveAttributionMovesEveryMember) {
  Attribution from = attributionNamed("fraud", false);
  const Attribution expected = from;
  Attribution into = attributionNamed("stale", true);
  moveAttribution(from, into);
  EXPECT_EQ(into.team, expected.team);
  EXPECT_EQ(into.project, expected.project);
  EXPECT_EQ(into.cost_center, expected.cost_center);
  EXPECT_EQ(into.workload_type, expected.workload_type);
  EXPECT_EQ(into.environment, expected.environment);
  EXPECT_EQ(into.tags, expected.tags);
  EXPECT_EQ(into.key_id, expected.key_id);
  EXPECT_EQ(into.allocated, expected.allocated);
}

}  // namespace
}  // namespace tollgate::meter
