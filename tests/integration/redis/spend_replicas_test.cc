// Spend control across 2 gateway replicas (real processes) sharing one real redis-server on
// loopback: token rate limits hold across them, Redis killed under load behaves as
// `on_unavailable` says and recovers when it returns, and a restarted gateway keeps the spend.
// Label redis (Release pass only): a few seconds of paced load per test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/redis_server.h"
#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

const std::string kChat = "/v1/chat/completions";

// A chat call whose input estimate is exactly what the mock reports: `bytes` of text are
// ceil(bytes / 4) tokens plus 4 for the message (meter/token_estimator.h).
std::string chatBody(size_t bytes, int max_tokens) {
  return R"({"model":"gpt-test-1","max_tokens":)" + std::to_string(max_tokens) +
         R"(,"messages":[{"role":"user","content":")" + std::string(bytes, 'x') + R"("}]})";
}

Headers callHeaders(const std::string& team, int input_tokens, int output_tokens) {
  return {{"x-team", team},
          {"x-mock-prompt-tokens", std::to_string(input_tokens)},
          {"x-mock-completion-tokens", std::to_string(output_tokens)}};
}

struct Tally {
  std::atomic<int> ok{0}, budget{0}, rate{0}, unavailable{0}, other{0};
  int total() const { return ok + budget + rate + unavailable + other; }
};

void count(const HttpResponse& r, Tally& tally) {
  if (r.status == 200) {
    ++tally.ok;
  } else if (r.status == 429 && r.body.find("budget_exceeded") != std::string::npos) {
    ++tally.budget;
  } else if (r.status == 429) {
    ++tally.rate;
  } else if (r.status == 503 && r.body.find("spend_state_unavailable") != std::string::npos) {
    ++tally.unavailable;
  } else {
    ++tally.other;
  }
}

// `per_replica` callers on each gateway, each sending calls back to back (paced by `pause` after
// a refusal: a replica fetching a lease answers at once, and the caller comes back) until
// `stop` is set, `attempts` calls were sent, or `duration` passed. Bounded in count and time.
void load(const std::vector<Stack*>& replicas, int per_replica, const std::string& body,
          const Headers& headers, Tally& tally, int attempts, std::chrono::milliseconds duration,
          const std::atomic<bool>& stop, std::chrono::milliseconds pause = 20ms) {
  const auto deadline = SteadyClock::now() + duration;
  std::vector<std::thread> callers;
  for (Stack* replica : replicas) {
    for (int c = 0; c < per_replica; ++c) {
      callers.emplace_back([&, replica] {
        auto client = replica->gatewayClient();
        for (int i = 0; i < attempts && !stop && SteadyClock::now() < deadline; ++i) {
          const auto r = client.post(kChat, body, headers, 10s);
          count(r, tally);
          if (r.status != 200) std::this_thread::sleep_for(pause);
        }
      });
    }
  }
  for (auto& t : callers) t.join();
}

// Calendar minutes are the rate limits' windows: a run that starts late in one would straddle
// two. Waits (bounded: at most 15 s) until the current minute has `needed` left.
void awaitRoomInTheMinute(std::chrono::seconds needed) {
  for (;;) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto into = std::chrono::duration_cast<std::chrono::seconds>(now) % 60;
    if (60s - into >= needed) return;
    std::this_thread::sleep_for(200ms);
  }
}

// The events of both replicas' files.
std::vector<std::string> allEvents(const std::vector<Stack*>& replicas) {
  std::vector<std::string> out;
  for (Stack* replica : replicas) {
    for (auto& line : replica->waitForEvents(0, 0ms)) out.push_back(std::move(line));
  }
  return out;
}

// Sums `field` of team `team`'s booked (outcome ok) events by the calendar minute in which they
// started (the window the rate limit admitted them in: admission precedes the upstream call).
std::map<std::string, int64_t> perMinute(const std::vector<std::string>& events,
                                         const std::string& team, const char* field) {
  std::map<std::string, int64_t> sums;
  for (const auto& line : events) {
    const Json event(line);
    if (event.str("/data/team") != team || event.str("/data/outcome") != "ok") continue;
    // "2026-12-05T12:34:56.123456Z": the minute is the first 16 characters.
    sums[event.str("/data/timing/start").substr(0, 16)] += event.num(field);
  }
  return sums;
}

// A series of /metrics as text (for decimal gauges); "" when absent.
std::string metricText(Stack& stack, const std::string& series) {
  const std::string text = stack.adminClient().get("/metrics").body;
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  const size_t begin = at + series.size() + 2;
  return text.substr(begin, text.find('\n', begin) - begin);
}

template <class Fn>
bool eventually(Fn done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class SpendReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Never a skip: a machine without Debian's redis-server fails and says how to fix it.
    ASSERT_TRUE(RedisServer::installed()) << "redis-server is not installed: run scripts/setup.sh";
    redis_ = std::make_unique<RedisServer>();
  }

  std::string spendStateYaml(const std::string& on_unavailable) const {
    return "spend_state:\n"
           "  backend: redis\n"
           "  redis: { url: \"" +
           redis_->url() + "\", on_unavailable: " + on_unavailable + ", timeout_ms: 100 }\n";
  }

  std::unique_ptr<Stack> replica(const std::string& rules, const std::string& on_unavailable) {
    StackOptions options;
    options.workers = 1;
    options.extra_yaml = rules + spendStateYaml(on_unavailable);
    return std::make_unique<Stack>(options);
  }

  std::unique_ptr<RedisServer> redis_;
};

constexpr int64_t kInputLimit = 3000;
constexpr int64_t kOutputLimit = 2000;
constexpr int kCallersPerReplica = 4;
constexpr int kOutputPerCall = 100;

TEST_F(SpendReplicasTest, InputAndOutputTokensPerMinuteHoldAcrossTwoReplicas) {
  const std::string rules =
      "rate_limits:\n"
      "  - { name: input-tpm, scope: { team: input }, input_tokens_per_minute: 3000 }\n"
      "  - { name: output-tpm, scope: { team: output }, output_tokens_per_minute: 2000 }\n";
  auto a = replica(rules, "closed");
  auto b = replica(rules, "closed");
  const std::vector<Stack*> both = {a.get(), b.get()};
  awaitRoomInTheMinute(15s);
  const std::atomic<bool> never{false};

  // 100 input tokens a call (384 bytes: 96 + 4), estimated exactly: 30 calls fill a minute.
  Tally input;
  load(both, kCallersPerReplica, chatBody(384, 1), callHeaders("input", 100, 1), input, 400, 5s,
       never, 50ms);
  // 5 input and 100 output tokens a call, not streamed: output is counted when a call ends, so
  // a call admitted while the window had room may take it past the limit.
  Tally output;
  load(both, kCallersPerReplica, chatBody(2, kOutputPerCall),
       callHeaders("output", 5, kOutputPerCall), output, 400, 5s, never, 50ms);
  EXPECT_EQ(input.other + output.other, 0);
  EXPECT_EQ(input.budget + input.unavailable + output.budget + output.unavailable, 0);

  ASSERT_TRUE(eventually([&] {
    return static_cast<int>(allEvents(both).size()) == input.total() + output.total();
  })) << "every call booked once";
  const auto events = allEvents(both);
  const auto in = perMinute(events, "input", "/data/usage/input_tokens");
  const auto out = perMinute(events, "output", "/data/usage/output_tokens");
  ASSERT_FALSE(in.empty());
  ASSERT_FALSE(out.empty());
  for (const auto& [minute, tokens] : in) {
    std::printf("input tpm %s: admitted %lld of %lld (%d calls, %d refused)\n", minute.c_str(),
                static_cast<long long>(tokens), static_cast<long long>(kInputLimit),
                input.ok.load(), input.rate.load());
    // Exact estimates: nothing may pass (docs/budgets.md, "The overrun bound").
    EXPECT_LE(tokens, kInputLimit) << minute;
  }
  for (const auto& [minute, tokens] : out) {
    std::printf("output tpm %s: admitted %lld of %lld (%d calls, %d refused)\n", minute.c_str(),
                static_cast<long long>(tokens), static_cast<long long>(kOutputLimit),
                output.ok.load(), output.rate.load());
    // Non-streamed: at most the calls in flight when the window ran out, one per caller.
    EXPECT_LE(tokens, kOutputLimit + 2 * kCallersPerReplica * kOutputPerCall) << minute;
  }
  // The limits were reached, not merely respected (a lease left on a replica at the end is
  // not spent: at most a call's worth or a slice each).
  int64_t most_in = 0, most_out = 0;
  for (const auto& [minute, tokens] : in) most_in = std::max(most_in, tokens);
  for (const auto& [minute, tokens] : out) most_out = std::max(most_out, tokens);
  EXPECT_GE(most_in, kInputLimit / 2);
  EXPECT_GE(most_out, kOutputLimit / 2);
  // Rate-limit refusals name their limit.
  int named = 0;
  for (const auto& line : events) {
    const Json event(line);
    if (event.str("/data/outcome") != "rejected") continue;
    const std::string expected = event.str("/data/team") == "input" ? "input-tpm" : "output-tpm";
    EXPECT_EQ(event.str("/data/limit"), expected) << line;
    ++named;
  }
  EXPECT_EQ(named, input.rate + output.rate);
}

// A budget large enough that calls are refused only for want of Redis: $0.10, a lease 1/32 of
// it ($0.003125, about 15 calls of 207e6 picodollars).
const std::string kBudgetRules =
    "budgets:\n"
    "  - { name: shared, scope: {}, period: month, limit_usd: \"0.10\" }\n";
const std::string kKnownCostBody = chatBody(2, 16);  // 5 input tokens, 16 output: 207e6 pico
const Headers kKnownCost = callHeaders("fraud", 5, 16);

// Runs paced load on both replicas while `during` runs on this thread; returns the tally.
template <class Fn>
void underLoad(const std::vector<Stack*>& replicas, Tally& tally, Fn during) {
  std::atomic<bool> stop{false};
  std::thread loader(
      [&] { load(replicas, 2, kKnownCostBody, kKnownCost, tally, 2000, 30s, stop, 10ms); });
  during();
  stop = true;
  loader.join();
}

TEST_F(SpendReplicasTest, RedisKilledUnderLoadClosedRefusesOnceLeasesRunOutThenRecovers) {
  auto a = replica(kBudgetRules, "closed");
  auto b = replica(kBudgetRules, "closed");
  const std::vector<Stack*> both = {a.get(), b.get()};
  Tally before, outage, after;
  underLoad(both, before, [&] { ASSERT_TRUE(eventually([&] { return before.ok >= 20; })); });
  ASSERT_GE(before.ok, 20);

  redis_->kill();  // SIGKILL, callers running
  underLoad(both, outage, [&] {
    // Calls go on while the replicas' leases last, then 503 spend_state_unavailable.
    EXPECT_TRUE(eventually([&] { return outage.unavailable >= 20; }, 15s));
  });
  std::printf("redis down (closed): %d admitted from leases, %d answered 503\n", outage.ok.load(),
              outage.unavailable.load());
  EXPECT_GT(outage.unavailable, 0);
  EXPECT_EQ(outage.other, 0);
  // What the replicas held: each tops its lease up below one slice (about 15 calls), so it
  // holds less than two.
  EXPECT_LE(outage.ok, 2 * 2 * 16);
  EXPECT_TRUE(a->gatewayProcess().running());
  EXPECT_TRUE(b->gatewayProcess().running());
  EXPECT_TRUE(eventually([&] {
    return a->metric("tollgate_spend_redis_available") == 0 &&
           b->metric("tollgate_spend_redis_available") == 0;
  }));

  redis_->start();  // the same port, empty
  underLoad(both, after, [&] {
    EXPECT_TRUE(eventually([&] { return after.ok >= 20; }, 15s)) << "decisions resume";
  });
  EXPECT_TRUE(eventually([&] {
    return a->metric("tollgate_spend_redis_available") == 1 &&
           b->metric("tollgate_spend_redis_available") == 1;
  }));
  EXPECT_EQ(after.other, 0);
  std::printf("redis back: %d admitted, %d answered 503 while leases were fetched\n",
              after.ok.load(), after.unavailable.load());
}

TEST_F(SpendReplicasTest, RedisKilledUnderLoadOpenKeepsServing) {
  auto a = replica(kBudgetRules, "open");
  auto b = replica(kBudgetRules, "open");
  const std::vector<Stack*> both = {a.get(), b.get()};
  Tally before, outage;
  underLoad(both, before, [&] { ASSERT_TRUE(eventually([&] { return before.ok >= 20; })); });
  redis_->kill();
  underLoad(both, outage, [&] {
    // Well past the replicas' leases (about 15 calls each).
    EXPECT_TRUE(eventually([&] { return outage.ok >= 100; }, 20s));
  });
  std::printf("redis down (open): %d admitted, %d answered 503\n", outage.ok.load(),
              outage.unavailable.load());
  EXPECT_GE(outage.ok, 100);
  EXPECT_EQ(outage.other, 0);
  EXPECT_EQ(outage.budget, 0);
  EXPECT_GT(a->metric("tollgate_spend_unavailable_decisions_total") +
                b->metric("tollgate_spend_unavailable_decisions_total"),
            0);
  EXPECT_TRUE(a->gatewayProcess().running());
  EXPECT_TRUE(b->gatewayProcess().running());
}

constexpr int64_t kCallPico = 207'000'000;

// Picodollars under $1 as the gateway writes USD: "0.00207".
std::string usd(int64_t pico) {
  std::string digits = std::to_string(pico);
  digits.insert(0, 12 - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return digits.empty() ? "0" : "0." + digits;
}

TEST_F(SpendReplicasTest, ARestartedGatewayKeepsTheSpendInRedis) {
  // Ten calls of exactly 207e6 picodollars: $0.00207.
  const std::string rules =
      "budgets:\n"
      "  - { name: ten-calls, scope: {}, period: month, limit_usd: \"0.00207\" }\n";
  int admitted = 0;
  std::string spent;
  {
    auto first = replica(rules, "closed");
    auto client = first->gatewayClient();
    // Until refused for the budget: a 503 is a lease being fetched, asked again. Bounded.
    for (int i = 0; i < 400; ++i) {
      const auto r = client.post(kChat, kKnownCostBody, kKnownCost, 10s);
      if (r.status == 200) ++admitted;
      if (r.status == 429) break;
      ASSERT_TRUE(r.status == 200 || r.status == 503) << r.status << " " << r.body;
      if (r.status == 503) std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(admitted, 0);
    EXPECT_LE(admitted, 10);
    // Reported to Redis within a flush or two.
    ASSERT_TRUE(eventually([&] {
      spent = metricText(*first, "tollgate_budget_spend_usd{budget=\"ten-calls\"}");
      return spent == usd(admitted * kCallPico);
    })) << spent;
  }  // stopped (SIGTERM)
  auto second = replica(rules, "closed");
  auto client = second->gatewayClient();
  HttpResponse r;
  ASSERT_TRUE(eventually([&] {
    r = client.post(kChat, kKnownCostBody, kKnownCost, 10s);
    return r.status != 503;
  }));
  // What the first gateway spent is still spent: the call does not fit, the first gateway
  // having stopped as the budget ran out.
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("budget_exceeded"), std::string::npos) << r.body;
  EXPECT_TRUE(eventually([&] {
    return metricText(*second, "tollgate_budget_spend_usd{budget=\"ten-calls\"}") == spent;
  })) << "the restarted gateway reads "
      << spent;
  std::printf("restart: %d calls ($%s) before; the restarted gateway reads $%s and refuses\n",
              admitted, spent.c_str(),
              metricText(*second, "tollgate_budget_spend_usd{budget=\"ten-calls\"}").c_str());
}

}  // namespace
}  // namespace tollgate::testing
