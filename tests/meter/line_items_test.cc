// Line items: billed units that one text-token number cannot express (usage.h, Unit), their
// prices (price_book.h), usage on other models (coster.h) and the v2 event that carries
// them (cost_event.h).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "dialect_test_support.h"
#include "meter/cost_event.h"
#include "meter/coster.h"
#include "meter/price_book.h"

namespace tollgate::meter {
namespace {

// One price for every input kind and one for every output kind.
Price textPrice(std::string_view input, std::string_view output) {
  return testing::perMillion(input, input, input, output);
}

Money usd(std::string_view decimal) { return *Money::parseUsd(decimal); }

Money partsSum(const CostBreakdown& c) {
  return c.input + c.cache_read + c.cache_write + c.output + c.requests + c.other_models;
}

TEST(ParsePerThousandPrice, ConvertsUsdPerThousandRequestsToPicoPerRequest) {
  EXPECT_EQ(parsePerThousandPrice("10.00"), 10'000'000'000);
  EXPECT_EQ(parsePerThousandPrice("35"), 35'000'000'000);
  EXPECT_EQ(parsePerThousandPrice("0.000000001"), 1);  // 9 fraction digits: exact
  EXPECT_EQ(parsePerThousandPrice("0.0000000001"), std::nullopt);
  EXPECT_EQ(parsePerThousandPrice("-1"), std::nullopt);
  EXPECT_EQ(parsePerThousandPrice("1e3"), std::nullopt);
  EXPECT_EQ(parsePerThousandPrice(""), std::nullopt);
}

TEST(LineItemCost, AudioInputIsPricedAtItsOwnPriceAndTheTextRestAtTheInputPrice) {
  Price price = textPrice("2.50", "10.00");
  price.unit[index(Unit::kAudioInputTokens)] = *parsePerMillionPrice("40.00");
  Usage usage{.input_tokens = 1'000, .cache_read_tokens = 200, .output_tokens = 100};
  usage[Unit::kAudioInputTokens] = 300;
  const CostBreakdown cost = computeCost(price, usage);
  // 500 text x $2.50 + 300 audio x $40 per 1M; the cached 200 at the cache price.
  EXPECT_EQ(cost.input, usd("0.01325"));
  EXPECT_EQ(cost.units[index(Unit::kAudioInputTokens)], usd("0.012"));
  EXPECT_EQ(cost.cache_read, usd("0.0005"));
  EXPECT_EQ(cost.output, usd("0.001"));
  EXPECT_EQ(cost.total, partsSum(cost));
}

TEST(LineItemCost, ATokenKindWithoutAPriceIsPricedAsText) {
  const Price price = textPrice("2.50", "10.00");
  Usage usage{.input_tokens = 1'000, .output_tokens = 100};
  usage[Unit::kImageInputTokens] = 400;
  usage[Unit::kAudioOutputTokens] = 60;
  const CostBreakdown cost = computeCost(price, usage);
  EXPECT_EQ(cost.input, usd("0.0025"));
  EXPECT_EQ(cost.output, usd("0.001"));
  EXPECT_EQ(cost.units[index(Unit::kImageInputTokens)], usd("0.001"));
}

TEST(LineItemCost, ModalityPartsLargerThanTheirTotalAreNeverPricedTwice) {
  Price price = textPrice("1.00", "2.00");
  price.unit[index(Unit::kAudioInputTokens)] = *parsePerMillionPrice("10.00");
  price.unit[index(Unit::kImageInputTokens)] = *parsePerMillionPrice("20.00");
  price.unit[index(Unit::kAudioOutputTokens)] = *parsePerMillionPrice("30.00");
  Usage usage{.input_tokens = 100, .output_tokens = 50, .reasoning_tokens = 20};
  usage[Unit::kAudioInputTokens] = 80;
  usage[Unit::kImageInputTokens] = 80;   // only 20 input tokens remain for it
  usage[Unit::kAudioOutputTokens] = 90;  // only 30 output tokens remain beside the reasoning
  const CostBreakdown cost = computeCost(price, usage);
  EXPECT_EQ(cost.units[index(Unit::kAudioInputTokens)], Money::fromPico(80 * 10'000'000));
  EXPECT_EQ(cost.units[index(Unit::kImageInputTokens)], Money::fromPico(20 * 20'000'000));
  EXPECT_EQ(cost.input, Money::fromPico(80 * 10'000'000 + 20 * 20'000'000));
  EXPECT_EQ(cost.output, Money::fromPico(20 * 2'000'000 + 30 * 30'000'000));
  EXPECT_EQ(cost.total, partsSum(cost));
}

TEST(LineItemCost, RequestsArePricedPerThousandInAdditionToTheTokens) {
  Price price = textPrice("3.00", "15.00");
  price.unit[index(Unit::kWebSearchRequests)] = *parsePerThousandPrice("10.00");
  Usage usage{.input_tokens = 1'000, .output_tokens = 1'000};
  usage[Unit::kWebSearchRequests] = 3;
  const CostBreakdown cost = computeCost(price, usage);
  EXPECT_EQ(cost.requests, usd("0.03"));
  EXPECT_EQ(cost.units[index(Unit::kWebSearchRequests)], usd("0.03"));
  EXPECT_EQ(cost.total, usd("0.048"));
  EXPECT_EQ(cost.total, partsSum(cost));
  EXPECT_EQ(unpricedUnits(price, usage), 0u);
}

TEST(LineItemCost, ARequestUnitWithoutAPriceCostsNothingAndIsFlagged) {
  const Price price = textPrice("3.00", "15.00");
  Usage usage{.input_tokens = 1'000};
  usage[Unit::kWebFetchRequests] = 2;
  const CostBreakdown cost = computeCost(price, usage);
  EXPECT_EQ(cost.requests, Money{});
  EXPECT_EQ(cost.total, usd("0.003"));
  EXPECT_EQ(unpricedUnits(price, usage), kUsageUnitUnpriced);
}

TEST(LineItemCost, LineItemCountsOutOfBoundsMakeTheUsageOutOfBounds) {
  Usage usage{.input_tokens = 10};
  EXPECT_TRUE(withinBounds(usage));
  usage[Unit::kGroundingRequests] = kMalformedCount;
  EXPECT_FALSE(withinBounds(usage));
}

// The book of the coster's tests: the executor and its advisor, with different prices.
PriceBook advisorBook() {
  Price sonnet = textPrice("3.00", "15.00");
  sonnet.unit[index(Unit::kWebSearchRequests)] = *parsePerThousandPrice("10.00");
  const Price opus = textPrice("5.00", "25.00");
  return PriceBook("v", {{"claude-sonnet-4-6", sonnet}, {"claude-opus-4-6", opus}});
}

// The event the gateway writes for `usage` and `result` (gateway/proxy/call_accounting.cc).
CostEvent accounted(const PriceBook& book, std::string_view model, const Usage& usage,
                    const MeterResult& result) {
  CostEvent event;
  event.model = std::string(model);
  event.usage = usage;
  event.provider_cost = result.provider_cost;
  CostInput input;
  input.model = model;
  input.other_models = result.other_models;
  Costed costed = TokenCoster(book).cost(input, event.usage);
  event.priced = costed.priced;
  event.price_ref = costed.price_ref;
  event.cost = costed.cost;
  event.usage_flags = costed.usage_flags;
  event.other_models = std::move(costed.other_models);
  return event;
}

TEST(TokenCosterLineItems, AdvisorUsageIsPricedAtTheAdvisorModelsPriceAndAddedToTheTotal) {
  Usage usage{.input_tokens = 10'000, .output_tokens = 2'000};
  usage[Unit::kWebSearchRequests] = 1;
  MeterResult result;
  result.other_models.push_back(
      {"claude-opus-4-6", Usage{.input_tokens = 12'000, .output_tokens = 1'500}});
  const CostEvent event = accounted(advisorBook(), "claude-sonnet-4-6", usage, result);

  // Executor: 10k x $3 + 2k x $15 per 1M = $0.06, plus one search at $0.01.
  // Advisor: 12k x $5 + 1.5k x $25 per 1M = $0.0975, at Opus's price, not Sonnet's.
  ASSERT_EQ(event.other_models.size(), 1u);
  EXPECT_TRUE(event.other_models[0].priced);
  EXPECT_EQ(event.other_models[0].price_ref, "v/claude-opus-4-6");
  EXPECT_EQ(event.other_models[0].cost.total, usd("0.0975"));
  EXPECT_EQ(event.cost.requests, usd("0.01"));
  EXPECT_EQ(event.cost.other_models, usd("0.0975"));
  EXPECT_EQ(event.cost.total, usd("0.1675"));
  EXPECT_EQ(event.cost.total, partsSum(event.cost));
  EXPECT_EQ(event.usage_flags, 0u);
}

TEST(TokenCosterLineItems, UsageOnAModelWithoutAPriceIsListedAtNoCostAndFlagged) {
  MeterResult result;
  result.other_models.push_back({"claude-unknown", Usage{.input_tokens = 5}});
  const CostEvent event =
      accounted(advisorBook(), "claude-sonnet-4-6", Usage{.input_tokens = 1'000}, result);
  ASSERT_EQ(event.other_models.size(), 1u);
  EXPECT_FALSE(event.other_models[0].priced);
  EXPECT_EQ(event.cost.total, usd("0.003"));
  EXPECT_EQ(event.usage_flags, kUsageUnitUnpriced);
}

TEST(TokenCosterLineItems, UnknownUnitsAreFlaggedEvenWhenTheCallIsNotPriced) {
  const CostEvent event = accounted(advisorBook(), "no-such-model",
                                    Usage{.input_tokens = 1'000, .unknown_units = 2}, {});
  EXPECT_FALSE(event.priced);
  EXPECT_EQ(event.usage_flags, kUsageUnknownUnits);
  EXPECT_EQ(event.cost, CostBreakdown{});
}

std::string eventJson(const CostEvent& event) {
  std::string out;
  appendCloudEventJson(event, out);
  return out;
}

TEST(CostEventV2, AnEventWithoutLineItemsStaysAVersion1Event) {
  CostEvent event;
  event.usage = Usage{.input_tokens = 5, .output_tokens = 1};
  EXPECT_FALSE(usesLineItems(event));
  const std::string json = eventJson(event);
  EXPECT_NE(json.find(R"("type":"dev.tollgate.llm.usage.v1")"), std::string::npos);
  EXPECT_EQ(json.find("line_items"), std::string::npos);
  EXPECT_EQ(json.find("requests"), std::string::npos);
}

TEST(CostEventV2, LineItemsUnitsAndCostPartsAreWrittenAndAddUpToTheTotal) {
  Usage usage{.input_tokens = 10'000, .output_tokens = 2'000, .unknown_units = 1};
  usage[Unit::kWebSearchRequests] = 1;
  MeterResult result;
  result.other_models.push_back(
      {"claude-opus-4-6", Usage{.input_tokens = 12'000, .output_tokens = 1'500}});
  result.provider_cost = usd("0.17");
  const CostEvent event = accounted(advisorBook(), "claude-sonnet-4-6", usage, result);
  const std::string json = eventJson(event);

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["type"]), "dev.tollgate.llm.usage.v2");
  const auto data = root["data"];
  EXPECT_EQ(int64_t(data["usage"]["units"]["web_search_requests"]), 1);
  EXPECT_EQ(int64_t(data["usage"]["unknown_units"]), 1);
  const auto items = simdjson::dom::array(data["line_items"]);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(std::string_view(items.at(0)["unit"]), "web_search_requests");
  EXPECT_EQ(int64_t(items.at(0)["quantity"]), 1);
  EXPECT_EQ(std::string_view(items.at(0)["cost"]), "0.01");
  EXPECT_EQ(std::string_view(items.at(1)["unit"]), "other_model");
  EXPECT_EQ(std::string_view(items.at(1)["model"]), "claude-opus-4-6");
  EXPECT_EQ(std::string_view(items.at(1)["price_ref"]), "v/claude-opus-4-6");
  EXPECT_EQ(int64_t(items.at(1)["usage"]["input_tokens"]), 12'000);
  EXPECT_EQ(std::string_view(items.at(1)["cost"]), "0.0975");
  EXPECT_EQ(std::string_view(data["provider_cost"]), "0.17");
  const auto cost = data["cost"];
  EXPECT_EQ(std::string_view(cost["requests"]), "0.01");
  EXPECT_EQ(std::string_view(cost["other_models"]), "0.0975");
  EXPECT_EQ(std::string_view(cost["total"]), "0.1675");
  Money sum;
  for (const char* part :
       {"input", "cache_read", "cache_write", "output", "requests", "other_models"}) {
    sum += *Money::parseUsd(std::string_view(cost[part]));
  }
  EXPECT_EQ(sum, usd("0.1675"));
}

TEST(CostEventV2, AnUnpricedCallListsItsLineItemsAtNoCost) {
  CostEvent event;
  event.usage = Usage{.input_tokens = 10};
  event.usage[Unit::kGroundingRequests] = 1;
  event.cost.requests = usd("0.035");  // whatever the breakdown holds, unpriced states none
  event.cost.units[index(Unit::kGroundingRequests)] = usd("0.035");
  const std::string json = eventJson(event);
  EXPECT_NE(json.find(R"({"unit":"grounding_requests","quantity":1,"cost":"0"})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("requests":"0")"), std::string::npos) << json;
}

}  // namespace
}  // namespace tollgate::meter
