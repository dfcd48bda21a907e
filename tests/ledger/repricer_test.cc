#include "ledger/repricer.h"

#include <gtest/gtest.h>

#include "ledger/cost_event_parser.h"
#include "ledger/report_json.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::EventSpec;

std::shared_ptr<const meter::PriceBook> catalog(std::string_view yaml) {
  auto parsed = parsePriceCatalog(yaml);
  if (auto* errors = std::get_if<ConfigErrors>(&parsed)) {
    ADD_FAILURE() << (*errors)[0].toString();
    return nullptr;
  }
  return std::get<std::shared_ptr<const meter::PriceBook>>(parsed);
}

TEST(Repricer, LineItemsAreRepricedWithTheCatalogsUnitAndOtherModelPrices) {
  const auto book = catalog(R"(
price_version: "2026-12-units"
price_defaults: false
prices:
  "claude-sonnet-4*": { input: "3.00", output: "12.00", web_search_per_1k: "5.00" }
  "claude-opus-4-6": { input: "10.00", output: "50.00" }
)");
  ASSERT_TRUE(book);
  LedgerData data;
  data.period = *parsePeriod("2026-11");
  CostEventParser parser;
  EventSpec spec;
  spec.model = "claude-sonnet-4-5";
  for (int i = 0; i < 3; ++i) {
    spec.id = "e" + std::to_string(i);
    const auto parsed = parser.parse(testing::lineItemEventJson(spec));
    ASSERT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
    addToRollups(data.rollups, parsed.record);
  }
  const auto result = reprice(data, *book, {Label::kTeam});
  // Booked: 3 x (0.0093 tokens + 0.02 searches + 0.0075 advisor).
  EXPECT_EQ(result.old_total.toDecimalString(), "0.1104");
  // Now 3 x (1500 x 3 + 400 x 12 per 1M = 0.0093, 2 searches at $5 per 1,000 = 0.01, advisor
  // 1000 x 10 + 100 x 50 per 1M = 0.015).
  EXPECT_EQ(result.new_total.toDecimalString(), "0.1029");
  EXPECT_EQ(result.other_model_calls_unpriced_new, 0);
  EXPECT_EQ(result.inexact_buckets, 0);

  const auto without_opus = catalog(R"(
price_defaults: false
prices:
  "claude-sonnet-4*": { input: "3.00", output: "12.00", web_search_per_1k: "5.00" }
)");
  ASSERT_TRUE(without_opus);
  const auto partial = reprice(data, *without_opus, {Label::kTeam});
  EXPECT_EQ(partial.new_total.toDecimalString(), "0.0579");
  EXPECT_EQ(partial.other_model_calls_unpriced_new, 3);
}

TEST(Repricer, RepricingRollupsEqualsRepricingEachCall) {
  const auto book = catalog(R"(
price_version: "2026-12-cut"
price_defaults: false
prices:
  "claude-sonnet-4*": { input: "1.10", cache_read: "0.11", output: "5.50" }
)");
  ASSERT_TRUE(book);
  meter::Price new_price;
  new_price.input = 1'100'000;
  new_price.cache_read = 110'000;
  new_price.cache_write = 1'100'000;
  new_price.output = new_price.reasoning = 5'500'000;

  LedgerData data;
  data.period = *parsePeriod("2026-11");
  CostEventParser parser;
  Amount old_expected, new_expected;
  for (int i = 0; i < 50; ++i) {
    EventSpec spec;
    spec.id = "e" + std::to_string(i);
    spec.team = i % 2 ? "fraud" : "search";
    spec.input_tokens = 1000 + 37 * i;
    spec.cache_read_tokens = 11 * i;
    spec.output_tokens = 3 + 7 * i;
    spec.end_ns += (i % 5) * testing::kHourNs;
    const auto event = testing::costEvent(spec);
    old_expected += Amount::fromMoney(event.cost.total);
    new_expected += Amount::fromMoney(meter::computeCost(new_price, event.usage).total);
    addToRollups(data.rollups, parser.parse(testing::eventJson(spec)).record);
  }
  const auto result = reprice(data, *book, {Label::kTeam});
  EXPECT_EQ(result.catalog_version, "2026-12-cut");
  EXPECT_EQ(result.old_total, old_expected);
  EXPECT_EQ(result.new_total, new_expected);
  EXPECT_NE(result.new_total, result.old_total);
  EXPECT_EQ(result.inexact_buckets, 0);
  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.rows[0].old_cost + result.rows[1].old_cost, old_expected);

  const Report report = computeReport(data, {Label::kTeam}, {}, {});
  const std::string json = formatJson(report, &result);
  EXPECT_NE(json.find("\"new_metered_usd\":\"" + new_expected.toDecimalString() + "\""),
            std::string::npos);
}

TEST(Repricer, ModelMissingFromTheCatalogIsCountedNotPricedAtZeroSilently) {
  const auto book =
      catalog("price_defaults: false\nprices:\n  \"gpt-4o*\": { input: \"1\", output: \"2\" }\n");
  ASSERT_TRUE(book);
  LedgerData data;
  CostEventParser parser;
  addToRollups(data.rollups, parser.parse(testing::eventJson(EventSpec{})).record);
  const auto result = reprice(data, *book, {Label::kModel});
  EXPECT_EQ(result.events_unpriced_new, 1);
  EXPECT_TRUE(result.new_total.isZero());
}

TEST(Repricer, TieredEntryIsFlaggedAsInexact) {
  const auto book = catalog(R"(
price_defaults: false
prices:
  "claude-sonnet-4*":
    input: "3.00"
    output: "15.00"
    tiers: [{ above_input_tokens: 200000, input: "6.00", output: "22.50" }]
)");
  ASSERT_TRUE(book);
  LedgerData data;
  CostEventParser parser;
  addToRollups(data.rollups, parser.parse(testing::eventJson(EventSpec{})).record);
  EXPECT_EQ(reprice(data, *book, {Label::kModel}).inexact_buckets, 1);
}

TEST(Repricer, BadCatalogNamesTheKeyPath) {
  auto parsed = parsePriceCatalog("prices:\n  \"gpt-4o*\": { input: \"1.5e3\", output: \"2\" }\n");
  ASSERT_TRUE(std::holds_alternative<ConfigErrors>(parsed));
  EXPECT_NE(std::get<ConfigErrors>(parsed)[0].path.find("prices"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<ConfigErrors>(parsePriceCatalog("server: {}\n")));
}

TEST(Repricer, BundledCatalogFillsModelsTheFileDoesNotList) {
  const auto book = catalog("prices:\n  \"my-model\": { input: \"1\", output: \"2\" }\n");
  ASSERT_TRUE(book);
  EXPECT_NE(book->find("gpt-4o-mini"), nullptr);
  EXPECT_NE(book->find("my-model"), nullptr);
}

}  // namespace
}  // namespace tollgate::ledger
