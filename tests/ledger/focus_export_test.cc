// A FOCUS 1.2 validator for the ledger's export: the spec's mandatory column list, required
// non-null columns, allowed values, UTC date/time format, and BilledCost adding up to the
// report's total (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, specification/columns).

#include "ledger/focus_export.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>
#include <set>

#include "ledger/cost_event_parser.h"
#include "ledger/import_line.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::EventSpec;

const std::vector<std::string> kMandatory = {
    "BilledCost",        "BillingAccountId",   "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd",  "BillingPeriodStart", "ChargeCategory",     "ChargeClass",
    "ChargeDescription", "ChargePeriodEnd",    "ChargePeriodStart",  "ContractedCost",
    "EffectiveCost",     "InvoiceIssuerName",  "ListCost",           "PricingQuantity",
    "PricingUnit",       "ProviderName",       "PublisherName",      "ServiceCategory",
    "ServiceName"};
const std::set<std::string> kSpecColumnsUsed = {
    "ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "ResourceId", "ResourceName",
    "ResourceType", "SkuId", "SkuMeter", "Tags",
    // FOCUS 1.3's allocation columns (the GPU pools' split shared cost).
    "AllocatedMethodId", "AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName"};
const std::vector<std::string> kNotNull = {
    "BilledCost",         "BillingAccountId", "BillingCurrency",   "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory",   "ChargePeriodEnd",   "ChargePeriodStart",
    "ContractedCost",     "EffectiveCost",    "InvoiceIssuerName", "ListCost",
    "ProviderName",       "PublisherName",    "ServiceCategory",   "ServiceName",
    "ChargeDescription"};
const std::set<std::string> kChargeCategories = {"Usage", "Purchase", "Tax", "Credit",
                                                 "Adjustment"};
const std::set<std::string> kServiceCategories = {"AI and Machine Learning",
                                                  "Analytics",
                                                  "Business Applications",
                                                  "Compute",
                                                  "Databases",
                                                  "Developer Tools",
                                                  "Multicloud",
                                                  "Identity",
                                                  "Integration",
                                                  "Internet of Things",
                                                  "Management and Governance",
                                                  "Media",
                                                  "Migration",
                                                  "Mobile",
                                                  "Networking",
                                                  "Security",
                                                  "Storage",
                                                  "Web",
                                                  "Other"};

// An RFC 4180 reader written for this test (independent of the exporter's writer).
std::vector<std::vector<std::string>> readCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        row.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        row.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.emplace_back();
    } else if (c == '\n') {
      rows.push_back(std::move(row));
      row.assign(1, "");
    } else {
      row.back() += c;
    }
  }
  return rows;
}

struct Exported {
  Report report;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

Exported exportSample() {
  LedgerData data;
  data.period = *parsePeriod("2026-11");
  CostEventParser parser;
  auto book = [&](const EventSpec& spec) {
    auto parsed = parser.parse(testing::eventJson(spec));
    EXPECT_EQ(parsed.status, ParseStatus::kRecord);
    addToRollups(data.rollups, parsed.record);
  };
  EventSpec a;
  a.cache_read_tokens = 500;
  book(a);
  EventSpec tiny;  // one input token at $0.15 per 1M: $0.00000015, below LiteLLM's 6 places
  tiny.id = "tiny";
  tiny.model = "gpt-4o-mini";
  tiny.upstream = "openai";
  tiny.input_tokens = 1;
  tiny.output_tokens = 0;
  tiny.input_price = 150'000;
  tiny.outcome = meter::Outcome::kClientDisconnect;
  book(tiny);
  EventSpec team_less = a;
  team_less.team = "";
  team_less.end_ns += testing::kHourNs;
  book(team_less);
  auto csv = parseImportCsv(
      "period_start,period_end,description,category,amount_usd,quantity,unit,rate_usd,team,"
      "project,cost_center,workload_type,environment,runs_completed\n"
      "2026-11-01,2026-12-01,\"Blended bill, November\",invoice,60000.00,3,Seats,20000,platform,,"
      ",,prod,14\n"
      "2026-11-01,2026-12-01,Egress,egress,,1200,GB,0.08,,,,inference,,\n"
      "2026-11-01,2026-12-01,Reserved capacity,commitment,1000,,,,,,,,,\n");
  EXPECT_TRUE(csv.errors.empty());
  data.imported = csv.lines;
  AllocationRule rule{"blended",
                      {{"category", "invoice"}},
                      Label::kWorkloadType,
                      {{"training", *Decimal::parse("35")},
                       {"inference", *Decimal::parse("55")},
                       {"notebook", *Decimal::parse("10")}}};
  // Two calls on a GPU pool, the second half of a 2-hour window shared: plus idle the rest of
  // the month.
  for (int i = 0; i < 2; ++i) {
    EventSpec pooled = a;
    pooled.id = "pool-" + std::to_string(i);
    pooled.model = "llama-3.1-70b";
    pooled.upstream = "vllm-llama";
    pooled.priced = false;
    pooled.gpu_pool = "h100-a";
    pooled.team = i == 0 ? "fraud" : "search";
    pooled.start_ns = testing::kNov2At10Ns + i * testing::kHourNs;
    pooled.end_ns = testing::kNov2At10Ns + 2 * testing::kHourNs;
    auto parsed = parser.parse(testing::eventJson(pooled));
    EXPECT_EQ(parsed.status, ParseStatus::kRecord);
    addToRollups(data.rollups, parsed.record);
    data.pool_calls.push_back(poolCallOf(parsed.record));
  }
  config::GpuPoolConfig pool;
  pool.name = "h100-a";
  pool.gpus = 8;
  pool.gpu_hour = *meter::Money::parseUsd("24.00");
  pool.share = "time";
  Exported out;
  out.report = computeReport(data, {Label::kTeam}, {rule}, {});
  out.report.gpu = computeGpuPools(data.period, data.pool_calls, {pool}, nullptr);
  const auto table = readCsv(formatFocus(data, out.report, FocusSettings{}));
  out.header = table.at(0);
  for (size_t r = 1; r < table.size(); ++r) {
    EXPECT_EQ(table[r].size(), out.header.size()) << "row " << r;
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < out.header.size() && c < table[r].size(); ++c) {
      row[out.header[c]] = table[r][c];
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

TEST(FocusExport, HasAllMandatoryColumnsAndOnlySpecOrXColumns) {
  const auto e = exportSample();
  const std::set<std::string> header(e.header.begin(), e.header.end());
  for (const auto& column : kMandatory) EXPECT_TRUE(header.contains(column)) << column;
  for (const auto& column : e.header) {
    const bool spec = std::find(kMandatory.begin(), kMandatory.end(), column) != kMandatory.end() ||
                      kSpecColumnsUsed.contains(column);
    EXPECT_TRUE(spec || column.starts_with("x_")) << column;
  }
}

TEST(FocusExport, RowsPassTheSpecsValueRules) {
  const auto e = exportSample();
  ASSERT_FALSE(e.rows.empty());
  const std::regex utc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  const std::regex decimal(R"(-?\d+(\.\d+)?)");
  simdjson::dom::parser json;
  for (const auto& row : e.rows) {
    for (const auto& column : kNotNull) EXPECT_FALSE(row.at(column).empty()) << column;
    EXPECT_TRUE(kChargeCategories.contains(row.at("ChargeCategory")));
    EXPECT_TRUE(row.at("ChargeClass").empty() || row.at("ChargeClass") == "Correction");
    EXPECT_TRUE(kServiceCategories.contains(row.at("ServiceCategory")))
        << row.at("ServiceCategory");
    EXPECT_EQ(row.at("BillingCurrency"), "USD");
    for (const char* c :
         {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}) {
      EXPECT_TRUE(std::regex_match(row.at(c), utc)) << c << "=" << row.at(c);
    }
    EXPECT_LT(row.at("ChargePeriodStart"), row.at("ChargePeriodEnd"));
    EXPECT_LT(row.at("BillingPeriodStart"), row.at("BillingPeriodEnd"));
    for (const char* c : {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
                          "PricingQuantity", "ConsumedQuantity"}) {
      EXPECT_TRUE(std::regex_match(row.at(c), decimal)) << c << "=" << row.at(c);
    }
    if (row.at("ChargeCategory") == "Usage" || row.at("ChargeCategory") == "Purchase") {
      EXPECT_FALSE(row.at("PricingQuantity").empty());
      EXPECT_FALSE(row.at("PricingUnit").empty());
    }
    if (row.at("ChargeCategory") == "Usage") {
      EXPECT_FALSE(row.at("ConsumedQuantity").empty());
      EXPECT_FALSE(row.at("ConsumedUnit").empty());
    }
    simdjson::dom::element tags;
    ASSERT_EQ(json.parse(row.at("Tags")).get(tags), simdjson::SUCCESS) << row.at("Tags");
    ASSERT_TRUE(tags.is_object());
    for (auto field : tags.get_object()) EXPECT_TRUE(field.value.is_string());
  }
}

TEST(FocusExport, BilledCostAddsUpToTheReportTotalPlusTheGpuPoolsToThePicodollar) {
  const auto e = exportSample();
  Amount sum, pools;
  for (const auto& row : e.rows) {
    sum += *Amount::parseUsd(row.at("BilledCost"));
    if (row.at("x_source") == "gpu_pool") pools += *Amount::parseUsd(row.at("BilledCost"));
  }
  ASSERT_EQ(e.report.gpu.pools.size(), 1u);
  EXPECT_EQ(pools, e.report.gpu.pools[0].cost);
  EXPECT_EQ(sum, e.report.total + e.report.gpu.pools[0].cost);
}

TEST(FocusExport, GpuPoolSharesUseTheAllocationColumnsAndIdleIsItsOwnRow) {
  const auto e = exportSample();
  std::map<std::string, std::map<std::string, std::string>> by_team;
  std::vector<std::map<std::string, std::string>> idle;
  for (const auto& row : e.rows) {
    if (row.at("x_source") != "gpu_pool") continue;
    EXPECT_EQ(row.at("AllocatedMethodId"), "gpu-pool-time");
    EXPECT_EQ(row.at("AllocatedResourceId"), "h100-a");
    EXPECT_EQ(row.at("ChargePeriodStart"), "2026-11-01T00:00:00Z");
    if (row.at("x_gpu_pool_idle") == "true") {
      idle.push_back(row);
    } else {
      by_team[row.at("x_team")] = row;
    }
  }
  // 10:00-11:00 fraud alone ($192), 11:00-12:00 shared ($96 each); 718 idle hours.
  EXPECT_EQ(by_team["fraud"].at("BilledCost"), "288");
  EXPECT_EQ(by_team["search"].at("BilledCost"), "96");
  EXPECT_EQ(by_team["search"].at("x_model"), "llama-3.1-70b");
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].at("BilledCost"), "137856");
  EXPECT_EQ(idle[0].at("x_team"), "");
}

TEST(FocusExport, TokenRowsCarryRealQuantitiesAndSubMicrodollarCosts) {
  const auto e = exportSample();
  bool tiny = false, cache_read = false;
  for (const auto& row : e.rows) {
    if (row.at("SkuId") == "openai/gpt-4o-mini/input") {
      tiny = true;
      EXPECT_EQ(row.at("BilledCost"), "0.00000015");
      EXPECT_EQ(row.at("PricingUnit"), "1M Tokens");
      EXPECT_EQ(row.at("PricingQuantity"), "0.000001");
      EXPECT_EQ(row.at("ConsumedQuantity"), "1");
      EXPECT_EQ(row.at("ConsumedUnit"), "Tokens");
    }
    if (row.at("SkuId") == "anthropic/claude-sonnet-4-5/cache_read" &&
        row.at("x_team") == "fraud") {
      cache_read = true;
      EXPECT_EQ(row.at("ConsumedQuantity"), "500");
      EXPECT_EQ(row.at("PricingQuantity"), "0.0005");
      EXPECT_EQ(
          row.at("Tags"),
          R"({"team":"fraud","project":"scoring","cost_center":"cc-100","workload_type":"inference","environment":"prod"})");
      EXPECT_EQ(row.at("ChargePeriodStart"), "2026-11-02T10:00:00Z");
      EXPECT_EQ(row.at("ChargePeriodEnd"), "2026-11-02T11:00:00Z");
    }
  }
  EXPECT_TRUE(tiny);
  EXPECT_TRUE(cache_read);
}

TEST(FocusExport, AllocatedInvoicePartsAndCommitmentPurchase) {
  const auto e = exportSample();
  std::map<std::string, std::map<std::string, std::string>> invoice;
  bool purchase = false;
  for (const auto& row : e.rows) {
    if (row.at("x_allocation_rule") == "blended") invoice[row.at("x_workload_type")] = row;
    if (row.at("SkuId") == "imported/commitment") {
      purchase = true;
      EXPECT_EQ(row.at("ChargeCategory"), "Purchase");
    }
  }
  ASSERT_EQ(invoice.size(), 3u);
  EXPECT_EQ(invoice["training"].at("BilledCost"), "21000");
  // 3 seats x 35 % of the line.
  EXPECT_EQ(invoice["training"].at("PricingQuantity"), "1.05");
  EXPECT_EQ(invoice["notebook"].at("ChargeDescription"), "Blended bill, November");
  EXPECT_TRUE(purchase);
}

}  // namespace
}  // namespace tollgate::ledger
