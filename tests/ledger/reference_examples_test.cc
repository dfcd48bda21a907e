// The FinOps practice's two reference worked examples ("FinOps for AI: the showback-to-
// chargeback ladder"), reproduced from cost events and imported lines.
//
// How the events are built without writing millions of lines: one event is written by the
// meter's own CloudEvents writer, parsed back by the ledger, and that record is booked into
// the rollups once per request (2,000,000 and 22,000,000 times): the rollup sums are what the
// store would hold after ingesting that many distinct events, and every figure below comes
// from them.

#include <gtest/gtest.h>

#include <map>

#include "ledger/cost_event_parser.h"
#include "ledger/import_line.h"
#include "ledger/report.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

const std::string kHeader =
    "period_start,period_end,description,category,amount_usd,quantity,unit,rate_usd,team,project,"
    "cost_center,workload_type,environment,runs_completed\n";

CostRecord parsed(const testing::EventSpec& spec) {
  CostEventParser parser;
  auto event = parser.parse(testing::eventJson(spec));
  EXPECT_EQ(event.status, ParseStatus::kRecord) << event.error;
  return event.record;
}

LedgerData november(const CostRecord& record, int64_t requests, const std::string& csv) {
  LedgerData data;
  data.period = *parsePeriod("2026-11");
  RollupTotals totals;
  for (int64_t i = 0; i < requests; ++i) totals.add(record);
  data.rollups[RollupKey{record.hour, record.labels}] = totals;
  auto imported = parseImportCsv(kHeader + csv);
  EXPECT_TRUE(imported.errors.empty()) << imported.errors[0].toString();
  data.imported = std::move(imported.lines);
  return data;
}

TEST(ReferenceExample1, TrainingInferenceAndEgressExactly) {
  // 2M requests x 1,500 input / 400 output tokens at $3 / $12 per 1M tokens: $0.0093 each.
  testing::EventSpec spec;
  const CostRecord record = parsed(spec);
  ASSERT_EQ(record.cost.total.toDecimalString(), "0.0093");
  // Training: 8 GPUs x 18 h x $24.00 = $3,456.00 per run, x 4.3 runs = 619.2 GPU-hours.
  // Egress: 1,200 GB x $0.08 = $96.00 (the article prints $98.30; 1,200 x 0.08 is 96).
  const auto data =
      november(record, 2'000'000,
               "2026-11-01,2026-12-01,8x H100 training,training,,619.2,GPU-hours,24.00,ml,,cc-200,"
               "training,prod,4.3\n"
               "2026-11-01,2026-12-01,Egress,egress,,1200,GB,0.08,,,,inference,prod,\n");
  const Report r = computeReport(data, {Label::kWorkloadType}, {}, {});

  EXPECT_EQ(r.metered.toFixedString(2), "18600.00");
  // The article rounds 3,456 x 4.3 to $14,861.00; the ledger books the exact 14,860.80.
  EXPECT_EQ(r.unit_costs.training_spend.toFixedString(2), "14860.80");
  EXPECT_EQ(r.imported.toFixedString(2), "14956.80");
  EXPECT_EQ(r.total.toFixedString(2), "33556.80");
  EXPECT_EQ(r.unit_costs.inferences, 2'000'000);
  EXPECT_EQ(r.unit_costs.per_completed_run, "3456.00");
  EXPECT_EQ(r.unit_costs.per_1k_inferences_pure_token, "9.30");
  // Fully loaded: (18,600 + 96 egress) / 2,000 thousand inferences.
  EXPECT_EQ(r.unit_costs.per_1k_inferences_fully_loaded, "9.348");
  EXPECT_EQ(r.unit_costs.per_1k_input_tokens, "0.003");
  EXPECT_EQ(r.unit_costs.per_1k_output_tokens, "0.012");
  // 18,600 / 3,800,000 thousand tokens = 0.0048947368421052..., rounded to the picodollar.
  EXPECT_EQ(r.unit_costs.per_1k_tokens_blended, "0.004894736842");
  EXPECT_EQ(r.unit_costs.per_1k_tokens_fully_loaded, "0.00492");
  EXPECT_EQ(r.paved_road_pct, "55.4284");

  ASSERT_EQ(r.chargeback.size(), 3u);
  EXPECT_EQ(r.chargeback[0].cost_center, "cc-100");
  EXPECT_EQ(r.chargeback[0].cost.toFixedString(2), "18600.00");
  EXPECT_EQ(r.chargeback[1].cost_center, "cc-200");
  EXPECT_EQ(r.chargeback[2].cost_center, "");
  EXPECT_EQ(r.chargeback[2].cost.toFixedString(2), "96.00");
  EXPECT_EQ(r.chargeback[0].cost + r.chargeback[1].cost + r.chargeback[2].cost, r.total);
  EXPECT_EQ(r.unallocated_pct, "0.2861");
  EXPECT_EQ(r.gpu_idle_pct, "n/a");
  ASSERT_EQ(r.cost_per_1k_tokens_trend.size(), 1u);
  EXPECT_EQ(r.cost_per_1k_tokens_trend[0].week, "2026-W45");
}

TEST(ReferenceExample2, BlendedBillSplit35_55_10ByWorkloadType) {
  // 22M completed inferences through the gateway with no price of their own (priced: false,
  // cost 0): the provider bills them in the blended $60,000.00 invoice, imported below with
  // the month's 14 completed training runs.
  testing::EventSpec spec;
  spec.priced = false;
  const CostRecord record = parsed(spec);
  const auto data = november(record, 22'000'000,
                             "2026-11-01,2026-12-01,Blended provider bill,invoice,60000.00,,,,"
                             "platform,,cc-300,,prod,14\n");
  AllocationRule rule;
  rule.name = "blended-by-workload";
  rule.match = {{"category", "invoice"}};
  rule.split_by = Label::kWorkloadType;
  rule.shares = {{"training", *Decimal::parse("35")},
                 {"inference", *Decimal::parse("55")},
                 {"notebook", *Decimal::parse("10")}};
  const Report r = computeReport(data, {Label::kWorkloadType}, {rule}, {});

  EXPECT_EQ(r.total.toFixedString(2), "60000.00");
  std::map<std::string, std::string> by_workload;
  for (const auto& row : r.rows) by_workload[row.labels[0]] = row.cost.toFixedString(2);
  EXPECT_EQ(by_workload["training"], "21000.00");
  EXPECT_EQ(by_workload["inference"], "33000.00");
  EXPECT_EQ(by_workload["notebook"], "6000.00");
  EXPECT_EQ(r.unit_costs.per_completed_run, "1500.00");
  EXPECT_EQ(r.unit_costs.inferences, 22'000'000);
  EXPECT_EQ(r.unit_costs.per_1k_inferences_fully_loaded, "1.50");
  EXPECT_EQ(r.unit_costs.per_1k_inferences_pure_token, "0.00");
  EXPECT_EQ(r.unpriced_events, 22'000'000);
  EXPECT_EQ(r.paved_road_pct, "0");
}

}  // namespace
}  // namespace tollgate::ledger
