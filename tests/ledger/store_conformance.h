#pragma once

// What every Store must do, run against each (SQLite, PostgreSQL) by its own test file.

#include <gtest/gtest.h>

#include "ledger/cost_event_parser.h"
#include "ledger/store.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger::testing {

inline CostRecord parsedRecord(const EventSpec& spec) {
  CostEventParser parser;
  auto parsed = parser.parse(eventJson(spec));
  EXPECT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  return parsed.record;
}

inline void expectDuplicateIdsBookedOnce(Store& store) {
  EventSpec a, b;
  b.id = "evt-2";
  std::string error;
  auto first = store.commitBatch({{"s", 10}}, {parsedRecord(a), parsedRecord(b), parsedRecord(a)},
                                 {}, error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(first->booked, 2);
  EXPECT_EQ(first->duplicates, 1);
  auto second = store.commitBatch({{"s", 20}}, {parsedRecord(b)}, {}, error);
  ASSERT_TRUE(second) << error;
  EXPECT_EQ(second->booked, 0);
  EXPECT_EQ(second->duplicates, 1);
  EXPECT_EQ(store.sourcePosition("s", error), 20);
  auto data = store.loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  ASSERT_EQ(data->rollups.size(), 1u);
  EXPECT_EQ(data->rollups.begin()->second.events, 2);
  EXPECT_EQ(data->rollups.begin()->second.cost_total.toDecimalString(), "0.0186");
  EXPECT_TRUE(store.loadPeriod(*parsePeriod("2026-10"), error)->rollups.empty());
}

// v2's line items (a unit's count and cost, another model's usage and cost) are kept with their
// bucket, summed across batches, and loaded with the period.
inline void expectLineItemsKeptAndSummed(Store& store) {
  EventSpec a, b;
  b.id = "evt-2";
  CostEventParser parser;
  std::string error;
  for (const EventSpec* spec : {&a, &b}) {
    auto parsed = parser.parse(lineItemEventJson(*spec));
    ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
    ASSERT_TRUE(store.commitBatch({}, {parsed.record}, {}, error)) << error;
  }
  auto data = store.loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  ASSERT_EQ(data->rollups.size(), 1u);
  const RollupTotals& t = data->rollups.begin()->second;
  EXPECT_EQ(t.cost_total.toDecimalString(), "0.0736");
  ASSERT_EQ(t.line_items.size(), 2u);
  const LineItemTotals& search = t.line_items.at(LineItemKey{"web_search_requests", ""});
  EXPECT_EQ(search.quantity, 4);
  EXPECT_EQ(search.cost.toDecimalString(), "0.04");
  const LineItemTotals& advisor = t.line_items.at(LineItemKey{"other_model", "claude-opus-4-6"});
  EXPECT_EQ(advisor.quantity, 2);
  EXPECT_EQ(advisor.input_tokens, 2000);
  EXPECT_EQ(advisor.output_tokens, 200);
  EXPECT_EQ(advisor.cost.toDecimalString(), "0.015");
  EXPECT_TRUE(store.loadPeriod(*parsePeriod("2026-10"), error)->rollups.empty());
}

// A GPU-pool call is kept whole (pool, exact times, labels, tokens) once, and a period loads
// every call running in it, including one that started in the month before.
inline void expectPoolCallsKeptOnceWithTheirExactTimes(Store& store) {
  EventSpec plain, crossing, later;
  crossing.id = "pool-1";
  crossing.gpu_pool = "h100-a";
  crossing.team = "search";
  crossing.cache_read_tokens = 7;
  crossing.end_ns = kNov2At10Ns;
  crossing.start_ns = kNov2At10Ns - 40 * kHourNs - 123'456'000;  // 2026-10-31
  later = crossing;
  later.id = "pool-2";
  later.start_ns = kNov2At10Ns + 40 * 24 * kHourNs;  // December
  later.end_ns = later.start_ns + kHourNs;
  std::string error;
  for (int run = 0; run < 2; ++run) {
    auto result = store.commitBatch(
        {}, {parsedRecord(plain), parsedRecord(crossing), parsedRecord(later)}, {}, error);
    ASSERT_TRUE(result) << error;
  }
  auto data = store.loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  ASSERT_EQ(data->pool_calls.size(), 1u);
  const PoolCall& call = data->pool_calls[0];
  EXPECT_EQ(call.id, "pool-1");
  EXPECT_EQ(call.pool, "h100-a");
  EXPECT_EQ(call.start_us, crossing.start_ns / 1000);
  EXPECT_EQ(call.end_us, crossing.end_ns / 1000);
  EXPECT_EQ(labelOf(call.labels, Label::kTeam), "search");
  EXPECT_EQ(call.usage.input_tokens, 1500);
  EXPECT_EQ(call.usage.cache_read_tokens, 7);
  EXPECT_EQ(call.usage.output_tokens, 400);
  EXPECT_EQ(store.loadPeriod(*parsePeriod("2026-10"), error)->pool_calls.size(), 1u);
  EXPECT_EQ(store.loadPeriod(*parsePeriod("2026-12"), error)->pool_calls.size(), 1u);
}

inline void expectReimportBooksOnceInOrder(Store& store) {
  auto csv = parseImportCsv(
      "period_start,period_end,description,category,amount_usd,quantity,unit,rate_usd,team,"
      "project,cost_center,workload_type,environment,runs_completed\n"
      "2026-11-01,2026-12-01,\"Egress, \"\"EU\"\"\",egress,,1200,GB,0.08,,,,inference,,\n"
      "2026-10-01,2026-11-01,Old,other,5,,,,,,,,,\n"
      "2026-11-01,2026-12-01,Training,training,14860.80,,,,ml,,,training,,4.3\n");
  ASSERT_TRUE(csv.errors.empty());
  std::string error;
  auto first = store.importLines(csv.lines, "a.csv", error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(first->added, 3);
  auto again = store.importLines(csv.lines, "a.csv", error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->added, 0);
  EXPECT_EQ(again->already_imported, 3);
  auto data = store.loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  ASSERT_EQ(data->imported.size(), 2u);
  EXPECT_EQ(data->imported[0].description, "Egress, \"EU\"");
  EXPECT_EQ(data->imported[0].amount.toFixedString(2), "96.00");
  EXPECT_EQ(data->imported[0].quantity->toString(), "1200");
  EXPECT_EQ(data->imported[1].runs_completed.toString(), "4.3");
}

}  // namespace tollgate::ledger::testing
