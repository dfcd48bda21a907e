// A call retried or sent to a fallback has one cost event per attempt (docs/upstreams.md): the
// ledger books each as its own cost line, once, and the call's cost is their sum.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/cost_event_parser.h"
#include "ledger/sqlite_store.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::EventSpec;

// Attempt `n` of call "req-1" as the gateway writes it: the first keeps the call's id.
std::string attemptLine(int n, bool final_attempt, const std::string& model, int64_t input_price) {
  EventSpec spec;
  spec.id = "req-1";
  spec.model = model;
  spec.input_price = input_price;
  meter::CostEvent event = testing::costEvent(spec);
  if (n >= 2) event.id += "-" + std::to_string(n);
  event.attempt = static_cast<uint32_t>(n);
  event.final_attempt = final_attempt;
  event.upstream_endpoint_host = "127.0.0.1:9000";
  if (!final_attempt) {
    event.status = 429;
    event.outcome = meter::Outcome::kUpstreamError;
  }
  std::string line;
  meter::appendCloudEventJson(event, line);
  return line;
}

TEST(AttemptEvents, EachAttemptIsItsOwnCostLineBookedOnceAndTheCallIsTheirSum) {
  const std::vector<std::string> lines = {attemptLine(1, false, "gpt-4o", 2'500'000),
                                          attemptLine(2, false, "gpt-4o", 2'500'000),
                                          attemptLine(3, true, "claude-sonnet-4-5", 3'000'000)};
  CostEventParser parser;
  std::vector<CostRecord> records;
  for (const auto& line : lines) {
    const auto parsed = parser.parse(line);
    ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error << " in " << line;
    records.push_back(parsed.record);
  }
  EXPECT_EQ(records[0].id, "req-1");
  EXPECT_EQ(records[1].id, "req-1-2");
  EXPECT_EQ(records[2].id, "req-1-3");

  tollgate::testing::TempDir dir;
  std::string error;
  auto store = SqliteStore::open(dir.file("ledger.db"), error);
  ASSERT_TRUE(store) << error;
  auto first = store->commitBatch({{"s", 3}}, records, {}, error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(first->booked, 3);
  EXPECT_EQ(first->duplicates, 0);
  // The same lines read again (a consumer's restart) book nothing more.
  auto again = store->commitBatch({{"s", 6}}, records, {}, error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->booked, 0);
  EXPECT_EQ(again->duplicates, 3);

  auto data = store->loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  int64_t events = 0;
  Amount total;
  for (const auto& [key, rollup] : data->rollups) {
    events += rollup.events;
    total += rollup.cost_total;
  }
  EXPECT_EQ(events, 3);
  // Prices are picodollars per token: 1500 input tokens at 2.5M on the first two attempts and
  // 3M on the fallback's, 400 output tokens at 12M on each.
  const int64_t expected =
      2 * (1500 * 2'500'000LL + 400 * 12'000'000LL) + (1500 * 3'000'000LL + 400 * 12'000'000LL);
  EXPECT_EQ(total.toDecimalString(), meter::Money::fromPico(expected).toDecimalString());
}

}  // namespace
}  // namespace tollgate::ledger
