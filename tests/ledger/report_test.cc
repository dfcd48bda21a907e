#include "ledger/report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>

#include "ledger/cost_event_parser.h"
#include "ledger/report_json.h"
#include "ledger/report_text.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::EventSpec;

// Three teams, two models, odd picodollar costs, one unattributed call, across two weeks.
LedgerData sample() {
  LedgerData data;
  data.period = *parsePeriod("2026-11");
  CostEventParser parser;
  auto book = [&](EventSpec spec) {
    auto parsed = parser.parse(testing::eventJson(spec));
    EXPECT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
    addToRollups(data.rollups, parsed.record);
  };
  EventSpec a;
  a.input_tokens = 1001;
  a.output_tokens = 7;
  a.input_price = 150'001;  // odd picodollars per token
  book(a);
  EventSpec b = a;
  b.team = "search";
  b.cost_center = "cc-200";
  b.model = "gpt-4o-mini";
  b.end_ns += 8 * 24 * testing::kHourNs;  // the next ISO week
  book(b);
  EventSpec c = a;
  c.team = "";
  c.cost_center = "";
  c.project = "";
  book(c);
  return data;
}

TEST(Report, ChargebackAddsUpExactlyWithUnallocatedLast) {
  const Report r = computeReport(sample(), {Label::kTeam}, {}, {});
  ASSERT_EQ(r.chargeback.size(), 3u);
  EXPECT_EQ(r.chargeback.back().cost_center, "");
  Amount sum;
  for (const auto& line : r.chargeback) sum += line.cost;
  EXPECT_EQ(sum, r.total);
  EXPECT_EQ(r.unallocated, r.chargeback.back().cost);
  // Each call: 1001 x 150,001 + 7 x 12,000,000 pUSD.
  EXPECT_EQ(r.total.pico(), 3 * (1001 * 150'001 + 7 * 12'000'000));
}

TEST(Report, ShowbackByAnyLabelSet) {
  const Report r = computeReport(sample(), {Label::kTeam, Label::kModel}, {}, {});
  ASSERT_EQ(r.rows.size(), 3u);
  Amount sum;
  for (const auto& row : r.rows) {
    ASSERT_EQ(row.labels.size(), 2u);
    sum += row.cost;
  }
  EXPECT_EQ(sum, r.total);
  bool found = false;
  for (const auto& row : r.rows)
    found = found || (row.labels[0] == "search" && row.labels[1] == "gpt-4o-mini");
  EXPECT_TRUE(found);
}

TEST(Report, WeeklyTrendHasOneEntryPerIsoWeek) {
  const Report r = computeReport(sample(), {Label::kTeam}, {}, {});
  ASSERT_EQ(r.cost_per_1k_tokens_trend.size(), 2u);
  EXPECT_EQ(r.cost_per_1k_tokens_trend[0].week, "2026-W45");
  EXPECT_EQ(r.cost_per_1k_tokens_trend[1].week, "2026-W46");
}

TEST(Report, BudgetVarianceAgainstMonthBudgets) {
  Budget fraud{"fraud-monthly", {{"team", "fraud"}}, "month", Amount::fromPico(100'000'000)};
  Budget weekly{"all-weekly", {}, "week", Amount::fromPico(1)};
  Budget by_key{"key", {{"key_id", "k1"}}, "month", Amount::fromPico(1)};
  const Report r = computeReport(sample(), {Label::kTeam}, {}, {fraud, weekly, by_key});
  ASSERT_EQ(r.budget_variance.size(), 3u);
  const auto& v = r.budget_variance[0];
  EXPECT_EQ(v.actual.pico(), 1001 * 150'001 + 7 * 12'000'000);
  // 234,151,001 pUSD spent of 100,000,000: 134,151,001 over, 134.151001 %.
  EXPECT_EQ(v.variance_usd, "0.000134151001");
  EXPECT_EQ(v.variance_pct, "134.151");
  EXPECT_EQ(r.budget_variance[1].variance_usd, "n/a");
  EXPECT_FALSE(r.budget_variance[1].note.empty());
  EXPECT_EQ(r.budget_variance[2].variance_usd, "n/a");
}

TEST(Report, JsonHasTheContractsFields) {
  const Report r = computeReport(sample(), {Label::kTeam}, {}, {});
  const std::string json = formatJson(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["period"]), "2026-11");
  EXPECT_EQ(std::string_view(doc["total_usd"]), r.total.toDecimalString());
  EXPECT_EQ(doc["rows"].get_array().size(), 3u);
  EXPECT_TRUE(doc["rows"].at(0)["labels"]["team"].is_string());
  EXPECT_TRUE(doc["rows"].at(0)["cost_usd"].is_string());
  EXPECT_TRUE(doc["unit_costs"]["per_1k_inferences_pure_token_usd"].is_string());
  auto metrics = doc["review_metrics"];
  EXPECT_EQ(std::string_view(metrics["gpu_idle_pct"]), "n/a");
  EXPECT_TRUE(metrics["cost_per_1k_tokens_trend"].is_array());
  EXPECT_TRUE(metrics["paved_road_pct"].is_string());
  EXPECT_TRUE(metrics["unallocated_pct"].is_string());
  EXPECT_TRUE(metrics["budget_variance"].is_array());
}

TEST(Report, LineItemsOfVersion2EventsAreSummedOverThePeriodAndShown) {
  LedgerData data;
  data.period = *parsePeriod("2026-11");
  CostEventParser parser;
  for (const std::string team : {"fraud", "search"}) {
    EventSpec spec;
    spec.id = "v2-" + team;
    spec.team = team;
    const auto parsed = parser.parse(testing::lineItemEventJson(spec));
    ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
    addToRollups(data.rollups, parsed.record);
  }
  const Report r = computeReport(data, {Label::kTeam}, {}, {});
  ASSERT_EQ(r.line_items.size(), 2u);
  EXPECT_EQ(r.line_items[0].item, "other_model");
  EXPECT_EQ(r.line_items[0].model, "claude-opus-4-6");
  EXPECT_EQ(r.line_items[0].totals.quantity, 2);
  EXPECT_EQ(r.line_items[0].totals.input_tokens, 2000);
  EXPECT_EQ(r.line_items[0].totals.cost.toDecimalString(), "0.015");
  EXPECT_EQ(r.line_items[1].item, "web_search_requests");
  EXPECT_EQ(r.line_items[1].totals.quantity, 4);
  EXPECT_EQ(r.line_items[1].totals.cost.toDecimalString(), "0.04");
  // Parts of the metered total, not on top of it.
  EXPECT_EQ(r.metered.toDecimalString(), "0.0736");

  const std::string json = formatJson(r);
  simdjson::dom::parser json_parser;
  simdjson::dom::element doc;
  ASSERT_EQ(json_parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(doc["line_items"].get_array().size(), 2u);
  EXPECT_EQ(std::string_view(doc["line_items"].at(1)["item"]), "web_search_requests");
  EXPECT_EQ(int64_t(doc["line_items"].at(1)["quantity"]), 4);
  EXPECT_EQ(std::string_view(doc["line_items"].at(1)["cost_usd"]), "0.04");
  EXPECT_EQ(std::string_view(doc["line_items"].at(0)["model"]), "claude-opus-4-6");
  const std::string table = formatTable(r);
  EXPECT_NE(table.find("web_search_requests (4)"), std::string::npos) << table;
  EXPECT_NE(table.find("other_model claude-opus-4-6 (2 calls, 2000 in / 200 out)"),
            std::string::npos)
      << table;
}

TEST(Report, CsvQuotesLabelsThatNeedIt) {
  EXPECT_EQ(csvField("a,b"), "\"a,b\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  const Report r = computeReport(sample(), {Label::kTeam}, {}, {});
  const std::string csv = formatCsv(r);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "team,cost_usd,metered_usd,imported_usd,events,inferences,input_tokens,output_tokens");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_NE(formatTable(r).find("unallocated"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::ledger
