// SIGHUP reloads keys and prices without dropping a call; a bad config is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/integration/support/stack.h"
#include "tests/integration/support/test_files.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";
const std::string kOldKey = "tg-reload-old-4a7c1e";
const std::string kNewKey = "tg-reload-new-8b2d6f";

std::string keyYaml(const std::string& id, const std::string& secret, const std::string& team) {
  return "  - id: " + id + "\n    sha256: \"" + sha256Hex(secret) + "\"\n    team: " + team +
         "\n    projects: [p1]\n";
}

const std::string kBody =
    R"({"model":"gpt-test-1","messages":[{"role":"user","content":"Say hello"}]})";

uint64_t metric(Stack& stack, const std::string& series) {
  const std::string text = stack.adminClient().get("/metrics").body;
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 999999;
  return std::stoull(text.substr(at + series.size() + 2));
}

StackOptions keyedOptions() {
  StackOptions options;
  options.extra_yaml = "keys:\n" + keyYaml("old-key", kOldKey, "team-old") +
                       "attribution:\n  mode: enforce\n  required: [team, project]\n";
  return options;
}

// A load of calls on keep-alive connections from several threads, counting every outcome.
class Load {
 public:
  Load(Stack& stack, int threads) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, &stack] {
        auto client = stack.gatewayClient();
        while (!stop_.load()) {
          const bool after = reloaded_.load();
          const auto r = client.post(kChat, kBody, {{"authorization", "Bearer " + kOldKey}});
          std::lock_guard lock(mutex_);
          ++done_;
          if (r.status != 200) {
            ++failed_;
            failures_ += std::to_string(r.status) + " " + r.error + " " + r.body + "\n";
          }
          if (after) started_after_reload_.push_back(r.header("x-request-id"));
          changed_.notify_all();
        }
      });
    }
  }
  ~Load() { stop(); }

  void waitForCalls(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_ >= n; });
  }
  void markReloaded() { reloaded_.store(true); }
  void stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int done() const { return done_; }
  int failed() const { return failed_; }
  const std::string& failures() const { return failures_; }
  const std::vector<std::string>& startedAfterReload() const { return started_after_reload_; }

 private:
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reloaded_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  int done_ = 0;
  int failed_ = 0;
  std::string failures_;
  std::vector<std::string> started_after_reload_;
};

TEST(ReloadTest, SighupUnderLoadDropsNoCallAndSwitchesKeysAndPrices) {
  Stack stack(keyedOptions());
  const std::string original = readFile(stack.configPath());
  // The new file: one more key, a new price for gpt-test* and a new catalog version.
  std::string next = replacedOnce(original, R"("gpt-test*": { input: "3.00", output: "12.00" })",
                                  R"("gpt-test*": { input: "6.00", output: "24.00" })");
  next = replacedOnce(next, R"(price_version: "itest-1")", R"(price_version: "itest-2")");
  next = replacedOnce(next, "keys:\n", "keys:\n" + keyYaml("new-key", kNewKey, "team-new"));

  auto newKeyCall = [&] {
    return stack.gatewayClient()
        .post(kChat, kBody, {{"authorization", "Bearer " + kNewKey}})
        .status;
  };
  ASSERT_EQ(newKeyCall(), 401);

  Load load(stack, 3);
  load.waitForCalls(150);
  ASSERT_TRUE(writeFileAtomically(stack.configPath(), next));
  stack.gatewayProcess().signal(SIGHUP);
  // The reload happens on the gateway's main thread; calls keep flowing meanwhile. The new key
  // is refused until the new configuration is in use.
  int refused_before_reload = 0;
  while (newKeyCall() != 200) {
    ++refused_before_reload;
    ASSERT_LT(refused_before_reload, 10000) << stack.gatewayProcess().stderrText();
  }
  load.markReloaded();
  const int at_reload = load.done();
  load.waitForCalls(at_reload + 150);
  load.stop();

  RecordProperty("calls", load.done());
  RecordProperty("calls_started_after_reload", static_cast<int>(load.startedAfterReload().size()));
  RecordProperty("new_key_refusals_before_swap", refused_before_reload);
  EXPECT_EQ(load.failed(), 0) << load.failures();
  EXPECT_GE(load.done(), 300);
  ASSERT_FALSE(load.startedAfterReload().empty());

  const auto events = stack.waitForEvents(static_cast<size_t>(load.done()) + 2 +
                                          static_cast<size_t>(refused_before_reload));
  std::map<std::string, std::string> price_ref_by_request;
  std::map<std::string, std::string> cost_by_request;
  int old_prices = 0;
  int new_prices = 0;
  for (const auto& line : events) {
    Json e(line);
    if (e.str("/data/key_id") != "old-key") continue;
    const std::string ref = e.str("/data/price_ref");
    price_ref_by_request[e.str("/data/request_id")] = ref;
    cost_by_request[e.str("/data/request_id")] = e.str("/data/cost/total");
    if (ref == "itest-1/gpt-test*") ++old_prices;
    if (ref == "itest-2/gpt-test*") ++new_prices;
  }
  EXPECT_EQ(old_prices + new_prices, load.done());
  EXPECT_GE(old_prices, 150);
  EXPECT_GE(new_prices, 150);
  // Every call that started after the new key worked was priced with the new catalog: the mock
  // answers 12 input and 16 output tokens, 12 x 6.00 + 16 x 24.00 per 1M = 0.000456 USD.
  for (const auto& id : load.startedAfterReload()) {
    EXPECT_EQ(price_ref_by_request[id], "itest-2/gpt-test*") << id;
    EXPECT_EQ(cost_by_request[id], "0.000456") << id;
  }
  // Before: 12 x 3.00 + 16 x 12.00 per 1M = 0.000228 USD.
  for (const auto& [id, ref] : price_ref_by_request) {
    if (ref == "itest-1/gpt-test*") {
      EXPECT_EQ(cost_by_request[id], "0.000228") << id;
    }
  }
  EXPECT_EQ(metric(stack, "tollgate_config_reloads_total{result=\"ok\"}"), 1u);
  EXPECT_EQ(metric(stack, "tollgate_config_reloads_total{result=\"error\"}"), 0u);
}

TEST(ReloadTest, BadConfigIsRefusedAndTheRunningOneStays) {
  Stack stack(keyedOptions());
  const std::string original = readFile(stack.configPath());
  // A new key with a malformed hash, and a price that is not a decimal.
  std::string bad = replacedOnce(original, "keys:\n",
                                 "keys:\n  - id: new-key\n    sha256: \"" + kNewKey + "\"\n");
  bad = replacedOnce(bad, R"(input: "3.00")", R"(input: "three")");
  ASSERT_TRUE(writeFileAtomically(stack.configPath(), bad));
  stack.gatewayProcess().signal(SIGHUP);
  // Scrapes until the refusal is counted (each scrape is a real request, no sleep).
  int scrapes = 0;
  while (metric(stack, "tollgate_config_reloads_total{result=\"error\"}") != 1) {
    ASSERT_LT(++scrapes, 10000) << stack.gatewayProcess().stderrText();
  }
  EXPECT_EQ(metric(stack, "tollgate_config_reloads_total{result=\"ok\"}"), 0u);
  const std::string log = stack.gatewayProcess().stderrText();
  EXPECT_NE(log.find("keys[0].sha256: must be 64 hexadecimal digits"), std::string::npos) << log;
  EXPECT_NE(log.find("prices.\"gpt-test*\".input: must be a decimal string"), std::string::npos)
      << log;
  EXPECT_NE(log.find("reload refused: 2 problem(s)"), std::string::npos) << log;
  // Even a refused file must not leak what was typed where a hash belongs.
  EXPECT_EQ(log.find(kNewKey), std::string::npos);

  // The old key and prices still serve.
  const auto r = stack.gatewayClient().post(
      kChat, kBody, {{"authorization", "Bearer " + kOldKey}, {"x-project", "p1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/price_ref"), "itest-1/gpt-test*");
  EXPECT_EQ(
      stack.gatewayClient().post(kChat, kBody, {{"authorization", "Bearer " + kNewKey}}).status,
      401);

  // Fixing the file and signalling again applies it.
  ASSERT_TRUE(writeFileAtomically(
      stack.configPath(),
      replacedOnce(original, "keys:\n", "keys:\n" + keyYaml("new-key", kNewKey, "team-new"))));
  stack.gatewayProcess().signal(SIGHUP);
  int tries = 0;
  while (
      stack.gatewayClient().post(kChat, kBody, {{"authorization", "Bearer " + kNewKey}}).status !=
      200) {
    ASSERT_LT(++tries, 10000) << stack.gatewayProcess().stderrText();
  }
  EXPECT_EQ(metric(stack, "tollgate_config_reloads_total{result=\"ok\"}"), 1u);
}

}  // namespace
}  // namespace tollgate::testing
