#include "meter/price_book.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "meter/glob.h"

namespace tollgate::meter {
namespace {

Price flatPrice(std::string_view input, std::string_view output) {
  Price price;
  price.input = price.cache_read = price.cache_write = *parsePerMillionPrice(input);
  price.output = price.reasoning = *parsePerMillionPrice(output);
  return price;
}

TEST(ParsePerMillionPrice, ConvertsUsdPerMillionToPicoPerToken) {
  EXPECT_EQ(parsePerMillionPrice("3.00"), 3'000'000);
  EXPECT_EQ(parsePerMillionPrice("0.075"), 75'000);
  EXPECT_EQ(parsePerMillionPrice("0.15"), 150'000);
  EXPECT_EQ(parsePerMillionPrice("15"), 15'000'000);
  EXPECT_EQ(parsePerMillionPrice("0.000001"), 1);
  EXPECT_EQ(parsePerMillionPrice("0"), 0);
}

TEST(ParsePerMillionPrice, RejectsMoreThanSixFractionDigits) {
  EXPECT_EQ(parsePerMillionPrice("0.0000001"), std::nullopt);
  EXPECT_EQ(parsePerMillionPrice("1.5000000"), std::nullopt);
}

TEST(ParsePerMillionPrice, RejectsNegativeMalformedAndOverflowingPrices) {
  for (const char* bad : {"-1", "-0", "", ".5", "1.", "1e2", "+3", " 3", "3 ", "three", "3.0.0",
                          "99999999999999999999"}) {
    EXPECT_EQ(parsePerMillionPrice(bad), std::nullopt) << "accepted \"" << bad << '"';
  }
}

TEST(ComputeCost, AnthropicStyleCallCostsExactlyNinetyThreeHundredthsOfACent) {
  const Price price = flatPrice("3.00", "12.00");
  const CostBreakdown cost = computeCost(price, Usage{.input_tokens = 1'500, .output_tokens = 400});
  EXPECT_EQ(cost.input.toDecimalString(), "0.0045");
  EXPECT_EQ(cost.output.toDecimalString(), "0.0048");
  EXPECT_EQ(cost.cache_read.toDecimalString(), "0");
  EXPECT_EQ(cost.cache_write.toDecimalString(), "0");
  EXPECT_EQ(cost.total.toDecimalString(), "0.0093");
  EXPECT_EQ(cost.total, Money::parseUsd("0.0093"));
}

TEST(ComputeCost, CachedInputTokensAreNeverBilledTwice) {
  Price price = flatPrice("0.15", "0.60");
  price.cache_read = *parsePerMillionPrice("0.075");
  const CostBreakdown cost = computeCost(
      price, Usage{.input_tokens = 1'000, .cache_read_tokens = 400, .output_tokens = 100});
  EXPECT_EQ(cost.input.pico(), 600 * 150'000);
  EXPECT_EQ(cost.cache_read.pico(), 400 * 75'000);
  EXPECT_EQ(cost.cache_write.pico(), 0);
  EXPECT_EQ(cost.output.pico(), 100 * 600'000);
  EXPECT_EQ(cost.total.pico(), 90'000'000 + 30'000'000 + 60'000'000);
  EXPECT_EQ(cost.total.toDecimalString(), "0.00018");
}

TEST(ComputeCost, CacheWritesArePricedApartFromUncachedInput) {
  Price price = flatPrice("3.00", "15.00");
  price.cache_read = *parsePerMillionPrice("0.30");
  price.cache_write = *parsePerMillionPrice("3.75");
  const CostBreakdown cost = computeCost(price, Usage{.input_tokens = 10'000,
                                                      .cache_read_tokens = 6'000,
                                                      .cache_write_tokens = 2'000,
                                                      .output_tokens = 500});
  EXPECT_EQ(cost.input.toDecimalString(), "0.006");         // 2,000 x $3.00/1M
  EXPECT_EQ(cost.cache_read.toDecimalString(), "0.0018");   // 6,000 x $0.30/1M
  EXPECT_EQ(cost.cache_write.toDecimalString(), "0.0075");  // 2,000 x $3.75/1M
  EXPECT_EQ(cost.output.toDecimalString(), "0.0075");       // 500 x $15/1M
  EXPECT_EQ(cost.total.toDecimalString(), "0.0228");
}

TEST(ComputeCost, ReasoningTokensArePricedAtTheReasoningPriceOnlyOnce) {
  Price price = flatPrice("1.10", "4.40");
  price.reasoning = *parsePerMillionPrice("8.80");
  const CostBreakdown cost = computeCost(
      price, Usage{.input_tokens = 100, .output_tokens = 1'000, .reasoning_tokens = 700});
  EXPECT_EQ(cost.output.pico(), int64_t{300} * 4'400'000 + int64_t{700} * 8'800'000);
  EXPECT_EQ(cost.total.pico(), 110'000'000 + 1'320'000'000 + int64_t{6'160'000'000});
}

TEST(ComputeCost, InconsistentPartsNeverProduceANegativeCharge) {
  const Price price = flatPrice("1", "2");
  const CostBreakdown cost = computeCost(price, Usage{.input_tokens = 100,
                                                      .cache_read_tokens = 80,
                                                      .cache_write_tokens = 50,
                                                      .output_tokens = 10,
                                                      .reasoning_tokens = 30});
  EXPECT_EQ(cost.input.pico(), 0);
  EXPECT_EQ(cost.cache_read.pico(), 80 * 1'000'000);
  EXPECT_EQ(cost.cache_write.pico(), 50 * 1'000'000);
  EXPECT_EQ(cost.output.pico(), 30 * 2'000'000);
  EXPECT_EQ(cost.total.pico(), (80 + 50 + 30 * 2) * 1'000'000);

  const CostBreakdown negative = computeCost(price, Usage{.input_tokens = -5, .output_tokens = -1});
  EXPECT_EQ(negative, CostBreakdown{});
}

TEST(ComputeCost, ZeroUsageAndFreePricesCostNothing) {
  EXPECT_EQ(computeCost(flatPrice("3", "15"), Usage{}), CostBreakdown{});
  EXPECT_EQ(computeCost(flatPrice("0", "0"), Usage{.input_tokens = 1'000'000, .output_tokens = 5}),
            CostBreakdown{});
}

TEST(ComputeCost, OverflowSaturatesInsteadOfWrapping) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const Price price = flatPrice("1000000", "1000000");
  const CostBreakdown cost = computeCost(
      price, Usage{.input_tokens = kMax, .cache_read_tokens = kMax / 2, .output_tokens = kMax});
  EXPECT_EQ(cost.input.pico(), kMax);
  EXPECT_EQ(cost.cache_read.pico(), kMax);
  EXPECT_EQ(cost.output.pico(), kMax);
  EXPECT_EQ(cost.total.pico(), kMax);
}

TEST(ClampToContext, CountsBeyondTheModelsWindowAreClampedAndFlagged) {
  PriceEntry entry{"m*", flatPrice("1", "1")};
  Usage usage;
  usage.input_tokens = 300'000;
  usage.cache_read_tokens = 250'000;
  usage.output_tokens = 100;
  EXPECT_EQ(clampToContext(entry, usage), 0u);  // window unknown: nothing to clamp against
  EXPECT_EQ(usage.input_tokens, 300'000);
  entry.max_context_tokens = 200'000;
  EXPECT_EQ(clampToContext(entry, usage), kUsageOverContext);
  EXPECT_EQ(usage.input_tokens, 200'000);
  EXPECT_EQ(usage.cache_read_tokens, 200'000);
  EXPECT_EQ(usage.output_tokens, 100);
  // Within the window: untouched, unflagged.
  EXPECT_EQ(clampToContext(entry, usage), 0u);
  // A full window of cached input and 100 output tokens at $1 per 1M tokens.
  EXPECT_EQ(computeCost(entry, usage).total.toDecimalString(), "0.2001");
}

TEST(PriceBook, FirstMatchingEntryInConfigOrderWins) {
  const PriceBook book("2026-11-01", {{"gpt-4o-mini*", flatPrice("0.15", "0.60")},
                                      {"gpt-4o*", flatPrice("2.50", "10.00")},
                                      {"*", flatPrice("1", "1")}});
  ASSERT_NE(book.find("gpt-4o-mini-2024-07-18"), nullptr);
  EXPECT_EQ(book.find("gpt-4o-mini-2024-07-18")->pattern, "gpt-4o-mini*");
  EXPECT_EQ(book.find("gpt-4o-2024-08-06")->pattern, "gpt-4o*");
  EXPECT_EQ(book.find("llama-3")->pattern, "*");
  EXPECT_EQ(book.find("gpt-4o")->price.input, 2'500'000);
}

TEST(PriceBook, UnknownModelHasNoPrice) {
  const PriceBook book("v1", {{"claude-sonnet-4*", flatPrice("3", "15")}});
  EXPECT_EQ(book.find("gpt-4o"), nullptr);
  EXPECT_EQ(PriceBook{}.find("gpt-4o"), nullptr);
}

TEST(PriceBook, PriceRefNamesVersionAndPattern) {
  const PriceBook book("2026-11-01", {{"claude-sonnet-4*", flatPrice("3", "15")}});
  EXPECT_EQ(book.version(), "2026-11-01");
  ASSERT_EQ(book.entries().size(), 1u);
  EXPECT_EQ(book.priceRef(*book.find("claude-sonnet-4-20250514")), "2026-11-01/claude-sonnet-4*");
}

PriceEntry entryFor(std::string pattern, std::string_view input, std::string_view output) {
  PriceEntry entry;
  entry.pattern = std::move(pattern);
  entry.price = flatPrice(input, output);
  return entry;
}

TEST(ComputeCost, OneHourCacheWritesArePricedApartFromFiveMinuteOnes) {
  Price price = flatPrice("3.00", "15.00");
  price.cache_write = *parsePerMillionPrice("3.75");
  price.cache_write_1h = *parsePerMillionPrice("6.00");
  const CostBreakdown cost = computeCost(
      price,
      Usage{.input_tokens = 1'100, .cache_write_tokens = 1'000, .cache_write_1h_tokens = 400});
  EXPECT_EQ(cost.cache_write.pico(), int64_t{600} * 3'750'000 + int64_t{400} * 6'000'000);
  EXPECT_EQ(cost.input.pico(), int64_t{100} * 3'000'000);
}

TEST(PriceBook, VariantEntryWinsForItsVariantAndStandardIsTheFallback) {
  PriceEntry standard = entryFor("gpt-5*", "1.25", "10.00");
  PriceEntry priority = entryFor("gpt-5*", "2.50", "20.00");
  priority.variant = "priority";
  const PriceBook book("v1", {standard, priority});
  EXPECT_EQ(book.find("gpt-5", "priority", 0)->price.input, 2'500'000);
  EXPECT_EQ(book.find("gpt-5", "", 0)->price.input, 1'250'000);
  EXPECT_EQ(book.find("gpt-5", "batch", 0)->price.input, 1'250'000);
  EXPECT_EQ(book.priceRef(*book.find("gpt-5", "priority", 0)), "v1/gpt-5*#priority");
  EXPECT_EQ(book.find("gpt-5")->price.input, 1'250'000);
}

TEST(PriceBook, EffectiveDatesSelectThePriceInForceWhenTheCallStarted) {
  constexpr int64_t kDay = int64_t{86'400} * 1'000'000'000;
  PriceEntry old_price = entryFor("m*", "2.00", "8.00");
  old_price.effective_until_ns = 100 * kDay;
  PriceEntry new_price = entryFor("m*", "1.00", "4.00");
  new_price.effective_from_ns = 100 * kDay;
  const PriceBook book("v1", {old_price, new_price});
  EXPECT_EQ(book.find("m1", "", 100 * kDay - 1)->price.input, 2'000'000);
  EXPECT_EQ(book.find("m1", "", 100 * kDay)->price.input, 1'000'000);
}

TEST(PriceBook, UserEntriesWinOverTheBaseCatalogWhosePriceRefNamesItsOwnVersion) {
  PriceEntry user = entryFor("gpt-4o", "9.00", "9.00");
  PriceEntry base_same = entryFor("gpt-4o", "2.50", "10.00");
  base_same.catalog = "tollgate-default-2026-12-05";
  PriceEntry base_other = entryFor("o3", "2.00", "8.00");
  base_other.catalog = "tollgate-default-2026-12-05";
  const PriceBook book("config", {user}, {base_same, base_other});
  EXPECT_EQ(book.find("gpt-4o", "", 0)->price.input, 9'000'000);
  EXPECT_EQ(book.priceRef(*book.find("gpt-4o", "", 0)), "config/gpt-4o");
  EXPECT_EQ(book.priceRef(*book.find("o3", "", 0)), "tollgate-default-2026-12-05/o3");
  EXPECT_EQ(book.find("unknown-model", "", 0), nullptr);
}

// PriceBook compares plain names and prefixes as strings instead of matching globs: on every
// kind of pattern (plain, prefix*, other globs, invalid ones), variant and date, it finds what
// a linear globMatch search finds.
TEST(PriceBook, FindsWhatALinearGlobSearchFinds) {
  const std::vector<std::string> patterns = {"gpt-4o-mini",
                                             "gpt-4o-mini*",
                                             "gpt-4o*",
                                             "gpt-4o",
                                             "*",
                                             "**",
                                             "gpt-*-mini",
                                             "o3?",
                                             "o[34]*",
                                             "claude-\\*",
                                             "claude-sonnet-4*",
                                             "a*b*",
                                             "[!g]*",
                                             "",
                                             "[",
                                             "x\\",
                                             "gpt-4o-mini**",
                                             "?*",
                                             "\\gpt-4o",
                                             "gpt-4o[",
                                             "g*"};
  const std::vector<std::string> models = {"gpt-4o-mini",
                                           "gpt-4o-mini-2024-07-18",
                                           "gpt-4o",
                                           "gpt-4o-2024-08-06",
                                           "o3",
                                           "o3x",
                                           "o4-mini",
                                           "claude-*",
                                           "claude-sonnet-4-20250514",
                                           "ab",
                                           "",
                                           "g",
                                           "x\\",
                                           "gpt-4.1-mini",
                                           "[",
                                           "\\gpt-4o"};
  const std::vector<std::string> variants = {"", "batch", "priority"};
  std::mt19937_64 rng(3);
  for (int book_n = 0; book_n < 300; ++book_n) {
    std::vector<PriceEntry> entries;
    for (uint64_t k = rng() % 12; k > 0; --k) {
      PriceEntry e{patterns[rng() % patterns.size()], flatPrice("1", "2")};
      e.variant = variants[rng() % variants.size()];
      if (rng() % 3 == 0) e.effective_from_ns = static_cast<int64_t>(rng() % 100);
      if (rng() % 3 == 0)
        e.effective_until_ns = e.effective_from_ns + static_cast<int64_t>(rng() % 100);
      entries.push_back(std::move(e));
    }
    const PriceBook book("v", entries);
    for (const std::string& model : models) {
      const PriceEntry* standard_first = nullptr;
      for (const PriceEntry& e : book.entries()) {
        if (e.variant.empty() && globMatch(e.pattern, model)) {
          standard_first = &e;
          break;
        }
      }
      ASSERT_EQ(book.find(model), standard_first) << model;
      for (const std::string& variant : variants) {
        const int64_t at = static_cast<int64_t>(rng() % 200);
        const PriceEntry* expected = nullptr;
        const PriceEntry* standard = nullptr;
        for (const PriceEntry& e : book.entries()) {
          if (at < e.effective_from_ns || at >= e.effective_until_ns) continue;
          if (e.variant != variant && !e.variant.empty()) continue;
          if (!globMatch(e.pattern, model)) continue;
          if (e.variant == variant) {
            expected = &e;
            break;
          }
          if (standard == nullptr) standard = &e;
        }
        if (expected == nullptr) expected = standard;
        ASSERT_EQ(book.find(model, variant, at), expected) << model << " " << variant << " " << at;
      }
    }
  }
}

}  // namespace
}  // namespace tollgate::meter
