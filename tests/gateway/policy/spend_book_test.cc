// The pure spend engine: holds, settles, periods, thresholds, rate windows, clamps, leases.
#include "gateway/policy/spend_book.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "config/civil_date.h"
#include "gateway/policy/budget_period.h"

namespace tollgate::gateway {
namespace {

using meter::Money;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Status = SpendAdmission::Status;

constexpr int64_t kUsd = Money::kPicoPerUsd;

int64_t utcMs(int64_t y, unsigned m, unsigned d, int64_t h = 0, int64_t min = 0) {
  return (config::daysFromCivil(y, m, d) * 86400 + h * 3600 + min * 60) * 1000;
}

// $1 per 1M input tokens, $2 per 1M output tokens: 1e6 and 2e6 picodollars per token.
meter::PriceEntry price(int64_t input_pico = 1'000'000, int64_t output_pico = 2'000'000) {
  meter::PriceEntry entry;
  entry.pattern = "*";
  entry.price.input = entry.price.cache_read = entry.price.cache_write = input_pico;
  entry.price.cache_write_1h = input_pico;
  entry.price.output = entry.price.reasoning = output_pico;
  return entry;
}

config::BudgetConfig budget(std::string name, int64_t limit_pico, config::SpendScope scope = {}) {
  config::BudgetConfig b;
  b.name = std::move(name);
  b.scope = std::move(scope);
  b.limit = Money::fromPico(limit_pico);
  return b;
}

SpendCall call(const meter::PriceEntry* p, int64_t input, std::optional<int64_t> max_output,
               std::string_view team = "fraud") {
  SpendCall c;
  c.labels.team = team;
  c.labels.key_id = "k1";
  c.price = p;
  c.input_tokens = input;
  c.max_output_tokens = max_output;
  return c;
}

meter::Usage usage(int64_t input, int64_t output) {
  meter::Usage u;
  u.input_tokens = input;
  u.output_tokens = output;
  return u;
}

const int64_t kNow = utcMs(2026, 12, 5, 12);

TEST(SpendBook, HoldsTheWorstCaseAndRefusesWhatDoesNotFit) {
  config::Config config;
  // Worst case of 1000 in + 1000 out: 1000*1e6 + 1000*2e6 = 3e9 pico. The limit fits three.
  config.budgets.push_back(budget("b", 9'000'000'000));
  SpendBook book(config, false);
  const auto p = price();
  std::vector<uint64_t> holds;
  for (int i = 0; i < 3; ++i) {
    const auto a = book.admit(call(&p, 1000, 1000), kNow);
    ASSERT_EQ(a.status, Status::kAdmitted);
    holds.push_back(a.hold);
  }
  const auto refused = book.admit(call(&p, 1000, 1000), kNow);
  EXPECT_EQ(refused.status, Status::kBudgetExceeded);
  EXPECT_EQ(refused.refused_by, "b");
  // Retry-After: the end of the month, 2027-01-01 00:00 UTC.
  EXPECT_EQ(refused.retry_after_s, (utcMs(2027, 1, 1) - kNow) / 1000);
  // Settling to the exact cost frees the rest of the hold: 3e9 - 1.02e9 = 1.98e9.
  book.settle(holds[0], usage(1000, 10), Money::fromPico(1'020'000'000), kNow);
  EXPECT_EQ(book.admit(call(&p, 981, 500), kNow).status, Status::kBudgetExceeded);
  EXPECT_EQ(book.admit(call(&p, 980, 500), kNow).status, Status::kAdmitted);
  EXPECT_EQ(book.budgets()[0].settled_pico, 1'020'000'000);
}

TEST(SpendBook, DefaultOutputTokensAreHeldWhenTheRequestNamesNone) {
  config::Config config;
  config.spend_state.default_output_tokens = 500;
  config.budgets.push_back(budget("b", 2'000'000'000));  // fits 1000 out, not 1001
  SpendBook book(config, false);
  const auto p = price(0, 2'000'000);
  const auto a = book.admit(call(&p, 0, std::nullopt), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  EXPECT_EQ(book.budgets()[0].held_pico, 1'000'000'000);
  EXPECT_EQ(book.admit(call(&p, 0, 501), kNow).status, Status::kBudgetExceeded);
}

TEST(SpendBook, WorstCaseUsesTheDearestInputAndOutputPrices) {
  meter::PriceEntry p = price(1, 10);
  p.price.cache_write = 3;
  p.price.reasoning = 20;
  EXPECT_EQ(SpendBook::worstCost(p, 100, 10).pico(), 100 * 3 + 10 * 20);
}

TEST(SpendBook, ZeroPricedAndUnpricedModelsAreNeverBlockedByMoney) {
  config::Config config;
  config.budgets.push_back(budget("b", 1));
  SpendBook book(config, false);
  const auto free_model = price(0, 0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(book.admit(call(&free_model, 100000, 100000), kNow).status, Status::kAdmitted);
    EXPECT_EQ(book.admit(call(nullptr, 100000, 100000), kNow).status, Status::kAdmitted);
  }
  const auto paid = price();
  EXPECT_EQ(book.admit(call(&paid, 1, 1), kNow).status, Status::kBudgetExceeded);
}

TEST(SpendBook, ScopeSelectsTheBudgets) {
  config::Config config;
  config::SpendScope team;
  team.team = "fraud";
  config::SpendScope key;
  key.key_id = "other";
  config.budgets.push_back(budget("fraud", 1, team));
  config.budgets.push_back(budget("key", 1, key));
  SpendBook book(config, false);
  const auto p = price();
  EXPECT_EQ(book.admit(call(&p, 10, 10, "search"), kNow).status, Status::kAdmitted);
  const auto refused = book.admit(call(&p, 10, 10, "fraud"), kNow);
  EXPECT_EQ(refused.status, Status::kBudgetExceeded);
  EXPECT_EQ(refused.refused_by, "fraud");
}

TEST(SpendBook, AlertOnlyBudgetsNeverRefuseButCountSpend) {
  config::Config config;
  config.budgets.push_back(budget("watch", 1000));
  config.budgets[0].action = "alert";
  SpendBook book(config, false);
  const auto p = price();
  const auto a = book.admit(call(&p, 1000, 1000), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  const auto crossings = book.settle(a.hold, usage(1000, 1000), Money::fromPico(5000), kNow);
  EXPECT_EQ(book.budgets()[0].settled_pico, 5000);
  EXPECT_EQ(crossings.size(), 3u);
}

TEST(SpendBook, ThresholdsFireOncePerPeriodAndAgainAfterTheRollover) {
  config::Config config;
  config.budgets.push_back(budget("b", 100 * kUsd));
  config.budgets[0].period = "day";
  SpendBook book(config, false);
  const auto p = price(1, 0);
  auto spend = [&](int64_t usd, int64_t at) {
    const auto a = book.admit(call(&p, 1, 0), at);
    EXPECT_EQ(a.status, Status::kAdmitted);
    std::vector<uint32_t> percents;
    for (const auto& c : book.settle(a.hold, usage(1, 0), Money::fromPico(usd * kUsd), at)) {
      percents.push_back(c.percent);
    }
    return percents;
  };
  EXPECT_THAT(spend(49, kNow), IsEmpty());
  EXPECT_THAT(spend(1, kNow), ElementsAre(50u));
  EXPECT_THAT(spend(1, kNow), IsEmpty());
  EXPECT_THAT(spend(40, kNow), ElementsAre(80u));
  EXPECT_THAT(spend(8, kNow), IsEmpty());
  EXPECT_THAT(spend(1, kNow), ElementsAre(100u));
  EXPECT_EQ(book.admit(call(&p, 1, 0), kNow).status, Status::kBudgetExceeded);
  // The next day starts from zero and alerts again.
  const int64_t tomorrow = utcMs(2026, 12, 6, 0, 1);
  EXPECT_THAT(spend(50, tomorrow), ElementsAre(50u));
  EXPECT_EQ(book.budgets()[0].settled_pico, 50 * kUsd);
}

TEST(SpendBook, CrossingCarriesSpendLimitAndForecast) {
  config::Config config;
  config.budgets.push_back(budget("b", 100 * kUsd));
  config.budgets[0].period = "day";
  config.budgets[0].alert_at = {50};
  SpendBook book(config, false);
  const auto p = price(1, 0);
  const auto a = book.admit(call(&p, 1, 0), kNow);  // noon: half the day gone
  const auto crossings = book.settle(a.hold, usage(1, 0), Money::fromPico(60 * kUsd), kNow);
  ASSERT_EQ(crossings.size(), 1u);
  EXPECT_EQ(crossings[0].spend.pico(), 60 * kUsd);
  EXPECT_EQ(crossings[0].limit.pico(), 100 * kUsd);
  EXPECT_EQ(crossings[0].forecast.pico(), 120 * kUsd);
  EXPECT_EQ(crossings[0].period.label, "2026-12-05");
}

TEST(SpendBook, ClampsMaxTokensToWhatTheBudgetBuys) {
  config::Config config;
  config.budgets.push_back(budget("b", 1'000'000'000 + 2'000'000 * 250));
  config.budgets[0].clamp_max_tokens = true;
  SpendBook book(config, false);
  const auto p = price();
  const auto a = book.admit(call(&p, 1000, 4000), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  EXPECT_EQ(a.max_tokens, 250);
  EXPECT_EQ(a.clamped_by, "b");
  EXPECT_EQ(book.budgets()[0].held_pico, 1'500'000'000);
  // Nothing left for even one output token: refused.
  EXPECT_EQ(book.admit(call(&p, 1, 10), kNow).status, Status::kBudgetExceeded);
}

TEST(SpendBook, StreamsGrowTheirHoldAndAreCutWhenTheBudgetRunsOut) {
  config::Config config;
  config.spend_state.default_output_tokens = 100;
  config.budgets.push_back(budget("b", 2'000'000 * 150));  // 150 output tokens
  SpendBook book(config, false);
  const auto p = price(0, 2'000'000);
  const auto a = book.admit(call(&p, 0, std::nullopt), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  EXPECT_EQ(book.extend(a.hold, 100, kNow).action, StreamVerdict::Action::kContinue);
  EXPECT_EQ(book.extend(a.hold, 125, kNow).action, StreamVerdict::Action::kContinue);
  EXPECT_EQ(book.extend(a.hold, 150, kNow).action, StreamVerdict::Action::kContinue);
  const auto cut = book.extend(a.hold, 151, kNow);
  EXPECT_EQ(cut.action, StreamVerdict::Action::kCut);
  EXPECT_EQ(cut.cut_by, "b");
}

TEST(SpendBook, FinishStreamsRunPastTheBudgetAndBookTheOverrun) {
  config::Config config;
  config.spend_state.default_output_tokens = 100;
  config.budgets.push_back(budget("b", 2'000'000 * 150));
  config.budgets[0].streams = "finish";
  SpendBook book(config, false);
  const auto p = price(0, 2'000'000);
  const auto a = book.admit(call(&p, 0, std::nullopt), kNow);
  EXPECT_EQ(book.extend(a.hold, 400, kNow).action, StreamVerdict::Action::kContinue);
  book.settle(a.hold, usage(0, 400), Money::fromPico(800'000'000), kNow);
  EXPECT_EQ(book.budgets()[0].settled_pico, 800'000'000);
  EXPECT_EQ(book.admit(call(&p, 0, 1), kNow).status, Status::kBudgetExceeded);
}

TEST(SpendBook, ExpiredHoldsAreReleased) {
  config::Config config;
  config.spend_state.hold_ttl = std::chrono::milliseconds(10'000);
  config.budgets.push_back(budget("b", 3'000'000'000));
  SpendBook book(config, false);
  const auto p = price();
  ASSERT_EQ(book.admit(call(&p, 1000, 1000), kNow).status, Status::kAdmitted);
  EXPECT_EQ(book.admit(call(&p, 1000, 1000), kNow).status, Status::kBudgetExceeded);
  EXPECT_EQ(book.expireHolds(kNow + 9'999), 0u);
  EXPECT_EQ(book.expireHolds(kNow + 10'000), 1u);
  EXPECT_EQ(book.openHolds(), 0u);
  EXPECT_EQ(book.admit(call(&p, 1000, 1000), kNow + 10'000).status, Status::kAdmitted);
}

config::RateLimitConfig rateLimit(uint64_t itpm, uint64_t otpm, uint64_t rpm) {
  config::RateLimitConfig r;
  r.name = "tpm";
  r.input_tokens_per_minute = itpm;
  r.output_tokens_per_minute = otpm;
  r.requests_per_minute = rpm;
  return r;
}

TEST(SpendBook, RequestsPerMinuteRefuseUntilTheWindowEnds) {
  config::Config config;
  config.rate_limits.push_back(rateLimit(0, 0, 2));
  SpendBook book(config, false);
  const int64_t t = utcMs(2026, 12, 5, 12, 0) + 15'500;
  EXPECT_EQ(book.admit(call(nullptr, 1, 1), t).status, Status::kAdmitted);
  EXPECT_EQ(book.admit(call(nullptr, 1, 1), t).status, Status::kAdmitted);
  const auto refused = book.admit(call(nullptr, 1, 1), t);
  EXPECT_EQ(refused.status, Status::kRateLimited);
  EXPECT_EQ(refused.refused_by, "tpm");
  EXPECT_EQ(refused.retry_after_s, 45);
  EXPECT_TRUE(refused.headers.present);
  EXPECT_EQ(refused.headers.limit_requests, 2);
  EXPECT_EQ(refused.headers.remaining_requests, 0);
  EXPECT_EQ(refused.headers.reset_ms, 44'500);
  EXPECT_EQ(book.admit(call(nullptr, 1, 1), t + 44'500).status, Status::kAdmitted);
}

TEST(SpendBook, InputTokensPerMinuteCountTheEstimateThenTheActual) {
  config::Config config;
  config.rate_limits.push_back(rateLimit(1000, 0, 0));
  SpendBook book(config, false);
  const auto a = book.admit(call(nullptr, 600, 1), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  EXPECT_EQ(book.admit(call(nullptr, 600, 1), kNow).status, Status::kRateLimited);
  // The provider counted fewer than the estimate: the rest comes back.
  book.settle(a.hold, usage(300, 1), Money(), kNow);
  EXPECT_EQ(book.admit(call(nullptr, 600, 1), kNow).status, Status::kAdmitted);
}

TEST(SpendBook, OutputTokensPerMinuteCutAStream) {
  config::Config config;
  config.rate_limits.push_back(rateLimit(0, 100, 0));
  SpendBook book(config, false);
  const auto a = book.admit(call(nullptr, 1, std::nullopt), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  EXPECT_EQ(book.extend(a.hold, 60, kNow).action, StreamVerdict::Action::kContinue);
  EXPECT_EQ(book.extend(a.hold, 100, kNow).action, StreamVerdict::Action::kContinue);
  // A second call is refused while the window has no output token left.
  EXPECT_EQ(book.admit(call(nullptr, 1, 1), kNow).status, Status::kRateLimited);
  const auto cut = book.extend(a.hold, 101, kNow);
  EXPECT_EQ(cut.action, StreamVerdict::Action::kCut);
  EXPECT_EQ(cut.cut_by, "tpm");
}

TEST(SpendBook, SnapshotRestoresSpendAndFiredThresholdsInTheSamePeriod) {
  config::Config config;
  config.budgets.push_back(budget("b", 10 * kUsd));
  SpendBook book(config, false);
  const auto p = price(1, 0);
  const auto a = book.admit(call(&p, 1, 0), kNow);
  ASSERT_EQ(book.settle(a.hold, usage(1, 0), Money::fromPico(6 * kUsd), kNow).size(), 1u);
  const auto snap = book.snapshot();

  SpendBook again(config, false);
  again.restore(snap, kNow + 1000);
  EXPECT_EQ(again.budgets()[0].settled_pico, 6 * kUsd);
  const auto b = again.admit(call(&p, 1, 0), kNow + 1000);
  const auto crossings = again.settle(b.hold, usage(1, 0), Money::fromPico(2 * kUsd), kNow);
  ASSERT_EQ(crossings.size(), 1u);  // 80 %, not 50 % again
  EXPECT_EQ(crossings[0].percent, 80u);
  // A snapshot of last month is not this month's spend.
  SpendBook next_month(config, false);
  next_month.restore(snap, utcMs(2027, 1, 2));
  EXPECT_EQ(next_month.budgets()[0].settled_pico, 0);
}

TEST(SpendBook, ReloadKeepsSpendAndHoldsAndTakesTheNewLimit) {
  config::Config old_config;
  old_config.budgets.push_back(budget("b", 5 * kUsd));
  auto old_book = std::make_unique<SpendBook>(old_config, false);
  const auto p = price(kUsd, 0);  // $1 per input token
  const auto settled = old_book->admit(call(&p, 2, 0), kNow);
  old_book->settle(settled.hold, usage(2, 0), Money::fromPico(2 * kUsd), kNow);
  const auto open = old_book->admit(call(&p, 1, 0), kNow);
  ASSERT_EQ(open.status, Status::kAdmitted);

  config::Config new_config;
  new_config.budgets.push_back(budget("b", 4 * kUsd));
  SpendBook book(new_config, false);
  book.adopt(std::move(*old_book), kNow);
  EXPECT_EQ(book.budgets()[0].settled_pico, 2 * kUsd);
  EXPECT_EQ(book.budgets()[0].held_pico, kUsd);
  EXPECT_EQ(book.admit(call(&p, 2, 0), kNow).status, Status::kBudgetExceeded);
  const auto last = book.admit(call(&p, 1, 0), kNow);
  EXPECT_EQ(last.status, Status::kAdmitted);
  EXPECT_NE(last.hold, open.hold);
  book.settle(open.hold, usage(1, 0), Money::fromPico(kUsd), kNow);
  EXPECT_EQ(book.budgets()[0].settled_pico, 3 * kUsd);
}

TEST(SpendBook, SharedBooksAskForLeasesAndSpendThemLocally) {
  config::Config config;
  config.budgets.push_back(budget("b", 32 * kUsd));
  SpendBook book(config, true);
  const auto p = price(kUsd, 0);
  const auto first = book.admit(call(&p, 2, 0), kNow);
  ASSERT_EQ(first.status, Status::kNeedsLease);
  ASSERT_EQ(first.wants.size(), 1u);
  EXPECT_EQ(first.wants[0].amount, 2 * kUsd);  // the shortfall: above a 1/32 slice
  book.grant(first.wants[0], 2 * kUsd, 30 * kUsd, kNow + 1000);
  const auto a = book.admit(call(&p, 2, 0), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  book.settle(a.hold, usage(2, 0), Money::fromPico(2 * kUsd), kNow);
  const auto unsynced = book.takeUnsynced(kNow);
  ASSERT_EQ(unsynced.size(), 1u);
  EXPECT_EQ(unsynced[0].counter.amount, 2 * kUsd);
  EXPECT_EQ(unsynced[0].returned, 0);
  EXPECT_THAT(book.takeUnsynced(kNow), IsEmpty());
  // A short grant: refused until the retry time, then asked again.
  const auto again = book.admit(call(&p, 1, 0), kNow);
  ASSERT_EQ(again.status, Status::kNeedsLease);
  book.grant(again.wants[0], 0, 0, kNow + 1000);
  EXPECT_EQ(book.admit(call(&p, 1, 0), kNow + 999).status, Status::kBudgetExceeded);
  EXPECT_EQ(book.admit(call(&p, 1, 0), kNow + 1000).status, Status::kNeedsLease);
}

TEST(SpendBook, SharedBooksReturnTheirSpareWhenTheSharedStateRunsLow) {
  config::Config config;
  config.budgets.push_back(budget("b", 32 * kUsd));
  SpendBook book(config, true);
  const auto p = price(kUsd, 0);
  const auto first = book.admit(call(&p, 1, 0), kNow);
  ASSERT_EQ(first.status, Status::kNeedsLease);
  book.grant(first.wants[0], 3 * kUsd, 0, kNow + 1000);  // the last of it
  ASSERT_EQ(book.admit(call(&p, 1, 0), kNow).status, Status::kAdmitted);
  const auto unsynced = book.takeUnsynced(kNow);
  ASSERT_EQ(unsynced.size(), 1u);
  EXPECT_EQ(unsynced[0].returned, 2 * kUsd);
}

// Output is counted when a call ends: past the lease, the shared state books the excess as
// spent and takes the lease to zero, never below. The replica's lease must follow, or the
// excess would be charged again out of its next lease (measured: output TPM across 2 replicas
// stopped at 75 % of the limit).
TEST(SpendBook, SharedBooksDoNotChargeOutputPastTheLeaseTwice) {
  config::Config config;
  config.rate_limits.push_back(rateLimit(0, 320, 0));  // slices of 10 output tokens
  SpendBook book(config, true);
  const auto first = book.admit(call(nullptr, 1, 100), kNow);
  ASSERT_EQ(first.status, Status::kNeedsLease);
  book.grant(first.wants[0], first.wants[0].amount, 310, kNow + 1000);
  const auto a = book.admit(call(nullptr, 1, 100), kNow);
  ASSERT_EQ(a.status, Status::kAdmitted);
  book.settle(a.hold, usage(1, 100), Money(), kNow);
  const auto reported = book.takeUnsynced(kNow);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].counter.amount, 100);
  // The next call asks for one slice, as the shared state sees this replica's lease: empty.
  const auto next = book.admit(call(nullptr, 1, 100), kNow);
  ASSERT_EQ(next.status, Status::kNeedsLease);
  ASSERT_EQ(next.wants.size(), 1u);
  EXPECT_EQ(next.wants[0].amount, 10);
  book.grant(next.wants[0], 10, 200, kNow + 1000);
  EXPECT_EQ(book.admit(call(nullptr, 1, 100), kNow).status, Status::kAdmitted);
}

TEST(BudgetPeriod, DayWeekAndMonthInUtcAndInAZone) {
  const config::TimeZone utc;
  const int64_t t = utcMs(2026, 12, 5, 12) / 1000;  // a Saturday
  const auto day = BudgetPeriod::at("day", utc, t);
  EXPECT_EQ(day.start, utcMs(2026, 12, 5) / 1000);
  EXPECT_EQ(day.end, utcMs(2026, 12, 6) / 1000);
  const auto week = BudgetPeriod::at("week", utc, t);
  EXPECT_EQ(week.start, utcMs(2026, 11, 30) / 1000);  // Monday
  EXPECT_EQ(week.end, utcMs(2026, 12, 7) / 1000);
  EXPECT_EQ(week.label, "2026-W49");
  const auto month = BudgetPeriod::at("month", utc, t);
  EXPECT_EQ(month.start, utcMs(2026, 12, 1) / 1000);
  EXPECT_EQ(month.end, utcMs(2027, 1, 1) / 1000);
  EXPECT_EQ(month.label, "2026-12");
  // ISO week 1 of 2027 starts on Monday 2027-01-04; 2027-01-01 is in 2026-W53.
  EXPECT_EQ(BudgetPeriod::at("week", utc, utcMs(2027, 1, 1) / 1000).label, "2026-W53");
}

TEST(BudgetPeriod, MonthInBerlinStartsAtLocalMidnight) {
  std::ifstream in(
      std::string(TOLLGATE_SOURCE_DIR) + "/tests/config/testdata/zoneinfo/Europe_Berlin",
      std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto berlin = config::TimeZone::parse("Europe/Berlin", bytes);
  ASSERT_TRUE(berlin);
  // 2026-11-30 23:30 UTC is already December 1st in Berlin.
  const auto month = BudgetPeriod::at("month", *berlin, utcMs(2026, 11, 30, 23, 30) / 1000);
  EXPECT_EQ(month.label, "2026-12");
  EXPECT_EQ(month.start, utcMs(2026, 11, 30, 23) / 1000);
  EXPECT_EQ(month.end, utcMs(2026, 12, 31, 23) / 1000);
  // A summer day is 24 h between two local midnights two hours east of UTC.
  const auto day = BudgetPeriod::at("day", *berlin, utcMs(2026, 7, 1, 12) / 1000);
  EXPECT_EQ(day.start, utcMs(2026, 6, 30, 22) / 1000);
  // The day clocks go forward lasts 23 hours.
  const auto spring = BudgetPeriod::at("day", *berlin, utcMs(2026, 3, 29, 12) / 1000);
  EXPECT_EQ(spring.end - spring.start, 23 * 3600);
}

}  // namespace
}  // namespace tollgate::gateway
