#include "gateway/events/interrupted_calls.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollgate::gateway {
namespace {

OpenCallEntry opened(std::string id, int64_t at = 1000) {
  OpenCallEntry e;
  e.kind = OpenCallEntry::Kind::kOpen;
  e.id = std::move(id);
  e.request_id = e.id;
  e.source = "tollgate://gw";
  e.model_requested = "gpt-4o-mini";
  e.upstream = "openai";
  e.provider = "openai";
  e.operation = "chat";
  e.endpoint = "/v1/chat/completions";
  e.stream = true;
  e.attribution.team = "fraud";
  e.start_unix_ns = 500;
  e.at_unix_ns = at;
  e.input_estimate = 100;
  e.output_bytes = 40;
  e.status = 200;
  return e;
}

OpenCallEntry progressed(std::string id, int64_t at, int64_t output_bytes) {
  OpenCallEntry e;
  e.kind = OpenCallEntry::Kind::kProgress;
  e.id = std::move(id);
  e.at_unix_ns = at;
  e.output_bytes = output_bytes;
  e.status = 200;
  return e;
}

OpenCallEntry closed(std::string id) {
  OpenCallEntry e;
  e.kind = OpenCallEntry::Kind::kClose;
  e.id = std::move(id);
  return e;
}

TEST(UnclosedCallsTest, OnlyCallsWithoutACloseRemainInTheOrderTheyOpened) {
  const std::vector<OpenCallEntry> entries = {opened("a"), opened("b"), opened("c"), closed("b")};
  const auto calls = unclosedCalls(entries);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, "a");
  EXPECT_EQ(calls[1].id, "c");
}

TEST(UnclosedCallsTest, TheLatestProgressIsMergedIntoItsCall) {
  const std::vector<OpenCallEntry> entries = {opened("a"), progressed("a", 2000, 400),
                                              progressed("a", 3000, 800)};
  const auto calls = unclosedCalls(entries);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].output_bytes, 800);
  EXPECT_EQ(calls[0].at_unix_ns, 3000);
  EXPECT_EQ(calls[0].attribution.team, "fraud");  // from the open, kept
}

TEST(UnclosedCallsTest, ACallOpenedTwiceIsBookedOnce) {
  // A compaction rewrites an open with its latest progress; a crash between the new file and
  // the old one's removal could show both.
  auto again = opened("a", 5000);
  again.output_bytes = 999;
  const std::vector<OpenCallEntry> entries = {opened("a"), progressed("a", 2000, 400), again};
  const auto calls = unclosedCalls(entries);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].output_bytes, 999);
}

TEST(UnclosedCallsTest, ACloseReadBeforeItsOpenStillClosesIt) {
  const std::vector<OpenCallEntry> entries = {closed("a"), opened("a"), progressed("a", 9, 9)};
  EXPECT_TRUE(unclosedCalls(entries).empty());
}

TEST(UnclosedCallsTest, ProgressWithoutAnOpenIsIgnored) {
  const std::vector<OpenCallEntry> entries = {progressed("x", 2000, 400)};
  EXPECT_TRUE(unclosedCalls(entries).empty());
}

meter::PriceBook book() {
  meter::PriceEntry entry;
  entry.pattern = "gpt-4o-mini*";
  entry.price.input = 150'000;  // 0.15 USD per 1M
  entry.price.cache_read = 75'000;
  entry.price.cache_write = 150'000;
  entry.price.output = 600'000;
  entry.price.reasoning = 600'000;
  entry.price.cache_write_1h = 150'000;
  return meter::PriceBook("test-1", {entry});
}

const meter::Coster& coster() {
  static const meter::PriceBook prices = book();
  static const meter::TokenCoster token_coster(prices);
  return token_coster;
}

TEST(InterruptedEventTest, IsBookedInterruptedFromTheEstimateAndPriced) {
  auto call = opened("req-1", 4'000'000'000);
  call.output_bytes = 4001;  // 1001 tokens at four bytes a token, rounded up
  call.input_estimate = 250;
  const auto event = interruptedEvent(call, coster());
  EXPECT_EQ(event.id, "req-1");
  EXPECT_EQ(event.outcome, meter::Outcome::kInterrupted);
  EXPECT_EQ(event.usage_source, meter::UsageSource::kEstimated);
  EXPECT_EQ(event.usage.input_tokens, 250);
  EXPECT_EQ(event.usage.output_tokens, 1001);
  EXPECT_TRUE(event.priced);
  EXPECT_EQ(event.price_ref, "test-1/gpt-4o-mini*");
  EXPECT_EQ(event.cost.total.toDecimalString(), "0.0006381");  // 250*0.15e-6 + 1001*0.6e-6
  EXPECT_EQ(event.start_unix_ns, 500);
  EXPECT_EQ(event.end_unix_ns, 4'000'000'000);
  EXPECT_EQ(event.attribution.team, "fraud");
  EXPECT_EQ(event.model, "gpt-4o-mini");
}

TEST(InterruptedEventTest, TheProvidersEarlyCountsWinOverTheEstimate) {
  auto call = opened("req-2");
  call.input_known = true;
  call.provider_so_far.input_tokens = 900;
  call.provider_so_far.cache_read_tokens = 800;
  call.provider_so_far.output_tokens = 50;
  call.output_bytes = 40;  // 10 tokens relayed: the provider's 50 is larger
  call.model = "gpt-4o-mini-2024-07-18";
  const auto event = interruptedEvent(call, coster());
  EXPECT_EQ(event.usage.input_tokens, 900);
  EXPECT_EQ(event.usage.cache_read_tokens, 800);
  EXPECT_EQ(event.usage.output_tokens, 50);
  EXPECT_EQ(event.model, "gpt-4o-mini-2024-07-18");
}

TEST(InterruptedEventTest, AModelWithoutAPriceIsBookedUnpriced) {
  auto call = opened("req-3");
  call.model_requested = "unknown-model";
  const auto event = interruptedEvent(call, coster());
  EXPECT_FALSE(event.priced);
  EXPECT_EQ(event.outcome, meter::Outcome::kInterrupted);
}

TEST(InterruptedEventTest, TheSameRecordGivesTheSameEventBytes) {
  const auto call = opened("req-4", 7'000);
  std::string a;
  std::string b;
  meter::appendCloudEventJson(interruptedEvent(call, coster()), a);
  meter::appendCloudEventJson(interruptedEvent(call, coster()), b);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("\"outcome\":\"interrupted\""), std::string::npos);
  EXPECT_NE(a.find("\"usage_source\":\"estimated\""), std::string::npos);
}

}  // namespace
}  // namespace tollgate::gateway
