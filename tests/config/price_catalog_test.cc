#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"
#include "meter/price_book.h"

namespace tollgate::config {
namespace {

const std::string kUpstreams = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
)";

std::optional<std::string> noEnv(std::string_view) { return std::nullopt; }

Config parseValid(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    std::string all;
    for (const auto& e : *errors) all += e.toString() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << all;
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv);
  std::vector<std::string> out;
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    for (const auto& e : *errors) out.push_back(e.toString());
  }
  return out;
}

meter::PriceBook bookOf(const Config& c) {
  return meter::PriceBook(c.price_catalog_version, c.prices, c.default_prices);
}

TEST(PriceCatalog, TheBundledCatalogLoadsUnderTheUsersPricesWithItsVersion) {
  const Config c = parseValid(kUpstreams + R"(
prices:
  "gpt-4o": { input: "9.00", output: "9.00" }
)");
  ASSERT_FALSE(c.default_prices.empty());
  const auto book = bookOf(c);
  EXPECT_EQ(book.find("gpt-4o", "", 0)->price.input, 9'000'000);
  EXPECT_EQ(book.priceRef(*book.find("gpt-4o", "", 0)), "config/gpt-4o");
  const auto* mini = book.find("gpt-4o-mini", "", 0);
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->price.cache_read, 75'000);
  EXPECT_EQ(book.priceRef(*mini), "tollgate-default-2026-12-05/gpt-4o-mini");
  const auto* sonnet = book.find("claude-sonnet-4-20250514", "", 0);
  ASSERT_NE(sonnet, nullptr);
  EXPECT_EQ(sonnet->price.cache_write, 3'750'000);
  EXPECT_EQ(sonnet->price.cache_write_1h, 6'000'000);
  ASSERT_EQ(sonnet->tiers.size(), 1u);
  EXPECT_EQ(sonnet->tiers[0].above_input_tokens, 200'000);
  EXPECT_EQ(sonnet->tiers[0].price.output, 22'500'000);
  // Cheaper siblings are not caught by a broader glob.
  EXPECT_EQ(book.find("gpt-5-mini", "", 0), nullptr);
  EXPECT_EQ(book.find("o3-mini", "", 0), nullptr);
}

TEST(PriceCatalog, LineItemPricesAreReadPerMillionTokensAndPerThousandRequests) {
  const Config c = parseValid(kUpstreams + R"(
prices:
  "m":
    input: "2.50"
    output: "10.00"
    audio_input: "40.00"
    image_output: "30.00"
    web_search_per_1k: "10.00"
    grounding_per_1k: "0.035000001"
price_defaults: false
)");
  ASSERT_EQ(c.prices.size(), 1u);
  const meter::Price& p = c.prices[0].price;
  using meter::index;
  using meter::Unit;
  EXPECT_EQ(p.unit[index(Unit::kAudioInputTokens)], 40'000'000);
  EXPECT_EQ(p.unit[index(Unit::kImageOutputTokens)], 30'000'000);
  EXPECT_EQ(p.unit[index(Unit::kWebSearchRequests)], 10'000'000'000);  // $0.01 a request
  EXPECT_EQ(p.unit[index(Unit::kGroundingRequests)], 35'000'001);      // exact to 1e-12 USD
  // Not given: audio output is priced as output, a web fetch has no price.
  EXPECT_EQ(p.unit[index(Unit::kAudioOutputTokens)], meter::kNoUnitPrice);
  EXPECT_EQ(p.unit[index(Unit::kWebFetchRequests)], meter::kNoUnitPrice);
}

TEST(PriceCatalog, BadLineItemPricesNameTheirKey) {
  const auto errors = errorsOf(kUpstreams + R"(
prices:
  "m":
    input: "1.00"
    output: "2.00"
    web_fetch_per_1k: "0.0000000001"
    audio_output: "-1"
    file_search: "2.50"
)");
  const auto has = [&](std::string_view text) {
    for (const auto& e : errors) {
      if (e.find(text) != std::string::npos) return true;
    }
    return false;
  };
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_TRUE(has("prices.\"m\".web_fetch_per_1k: expected")) << all;
  EXPECT_TRUE(has("prices.\"m\".audio_output"));
  EXPECT_TRUE(has("prices.\"m\".file_search: unknown key"));
}

TEST(PriceCatalog, TheBundledCatalogPricesTheLineItemsAndTheCompatibleProviders) {
  const Config c = parseValid(kUpstreams);
  const auto book = bookOf(c);
  using meter::index;
  using meter::Unit;
  const auto unit = [&](std::string_view model, Unit u) {
    const auto* entry = book.find(model, "", 0);
    return entry == nullptr ? int64_t{-2} : entry->price.unit[index(u)];
  };
  EXPECT_EQ(unit("claude-sonnet-4-6", Unit::kWebSearchRequests), 10'000'000'000);
  EXPECT_EQ(unit("claude-sonnet-4-6", Unit::kWebFetchRequests), 0);
  EXPECT_EQ(unit("gpt-4.1", Unit::kFileSearchCalls), 2'500'000'000);
  EXPECT_EQ(unit("gpt-4o-audio-preview-2025-06-03", Unit::kAudioInputTokens), 40'000'000);
  EXPECT_EQ(unit("gemini-2.5-flash", Unit::kGroundingRequests), 35'000'000'000);
  // The advisor model and the OpenAI-compatible providers have entries.
  for (const char* model :
       {"claude-opus-4-6", "deepseek-chat", "grok-3-mini", "qwen/qwen3-32b", "mistral-small-latest",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo", "accounts/fireworks/models/deepseek-v3p1",
        "anthropic/claude-sonnet-4.5"}) {
    EXPECT_NE(book.find(model, "", 0), nullptr) << model;
  }
}

TEST(PriceCatalog, PriceDefaultsFalseLeavesOnlyTheUsersPrices) {
  const Config c = parseValid(kUpstreams + "price_defaults: false\n");
  EXPECT_TRUE(c.default_prices.empty());
}

TEST(PriceCatalog, TiersVariantsAndEffectiveDatesAreRead) {
  const Config c = parseValid(kUpstreams + R"(
price_version: "acme-2026-11"
prices:
  "m*":
    - input: "2.00"
      output: "8.00"
      effective_until: "2026-01-01"
    - input: "1.00"
      cache_write: "1.25"
      cache_write_1h: "2.00"
      output: "4.00"
      effective_from: "2026-01-01"
      tiers:
        - { above_input_tokens: 200000, input: "2.00", output: "6.00" }
      variants:
        batch: { input: "0.50", output: "2.00" }
price_defaults: false
)");
  ASSERT_EQ(c.prices.size(), 3u);
  constexpr int64_t k2026 = int64_t{1'767'225'600} * 1'000'000'000;  // 2026-01-01T00:00:00Z
  EXPECT_EQ(c.prices[0].effective_until_ns, k2026);
  EXPECT_EQ(c.prices[1].effective_from_ns, k2026);
  EXPECT_EQ(c.prices[1].price.cache_write_1h, 2'000'000);
  EXPECT_EQ(c.prices[1].price.cache_read, 1'000'000);
  ASSERT_EQ(c.prices[1].tiers.size(), 1u);
  EXPECT_EQ(c.prices[1].tiers[0].price.output, 6'000'000);
  EXPECT_EQ(c.prices[2].variant, "batch");
  EXPECT_EQ(c.prices[2].effective_from_ns, k2026);
  const auto book = bookOf(c);
  EXPECT_EQ(book.find("m1", "", k2026 - 1)->price.input, 2'000'000);
  EXPECT_EQ(book.find("m1", "batch", k2026)->price.input, 500'000);
  EXPECT_EQ(book.priceRef(*book.find("m1", "batch", k2026)), "acme-2026-11/m*#batch");
}

TEST(PriceCatalog, BadTiersVariantsAndDatesNameTheirKeyPath) {
  const auto errors = errorsOf(kUpstreams + R"(
prices:
  "m*":
    input: "1.00"
    output: "2.00"
    effective_from: "2026-13-01"
    tiers:
      - { above_input_tokens: 200000, input: "2.00", output: "3.00" }
      - { above_input_tokens: 100000, input: "2.00", output: "3.00" }
    variants:
      cheap: { input: "0.5", output: "1" }
)");
  const std::vector<std::string> expected = {
      R"(prices."m*".effective_from: expected a date YYYY-MM-DD)",
      R"(prices."m*".tiers[1].above_input_tokens: tiers must have ascending thresholds)",
      R"(prices."m*".variants.cheap: unknown key)"};
  for (const auto& e : expected) {
    EXPECT_NE(std::find(errors.begin(), errors.end(), e), errors.end()) << e;
  }
}

TEST(PriceCatalog, MaxContextTokensIsReadForTheEntryAndItsVariants) {
  const Config c = parseValid(kUpstreams + R"(
prices:
  "m*":
    input: "1.00"
    output: "2.00"
    max_context_tokens: 200000
    variants:
      batch: { input: "0.5", output: "1" }
  "n*": { input: "1.00", output: "2.00" }
price_defaults: false
)");
  ASSERT_EQ(c.prices.size(), 3u);
  EXPECT_EQ(c.prices[0].max_context_tokens, 200'000);
  EXPECT_EQ(c.prices[1].max_context_tokens, 200'000);  // the batch variant: same model
  EXPECT_EQ(c.prices[2].max_context_tokens, 0);        // unknown window
}

TEST(PriceCatalog, BadMaxContextTokensNamesItsKeyPath) {
  for (const char* bad : {"0", "-5", "1000000001", "1.5", "\"big\""}) {
    const auto errors = errorsOf(kUpstreams + R"(
prices:
  "m*": { input: "1.00", output: "2.00", max_context_tokens: )" +
                                 bad + R"( }
)");
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].rfind(R"(prices."m*".max_context_tokens: )", 0), 0u) << errors[0];
  }
}

}  // namespace
}  // namespace tollgate::config
