#include "tests/integration/support/alert_scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>
#include <tuple>

namespace tollgate::testing {

ClockFile::ClockFile(const TempDir& dir, int64_t unix_seconds) : path_(dir.file("clock")) {
  set(unix_seconds);
}

void ClockFile::set(int64_t unix_seconds) const {
  const std::string next = path_ + ".next";
  {
    std::ofstream out(next, std::ios::binary | std::ios::trunc);
    out << unix_seconds << '\n';
  }
  if (std::rename(next.c_str(), path_.c_str()) != 0) {
    throw std::runtime_error("cannot move the test clock file into place");
  }
}

int64_t AlertScenario::december16() { return 1797379200; }
int64_t AlertScenario::january16() { return 1800057600; }

std::string AlertScenario::yaml(const std::string& webhook_url, const std::string& format) {
  return std::string("budgets:\n") + "  - { name: " + kBudget +
         ", scope: { team: fraud }, period: month, limit_usd: \"0.001\",\n"
         "      alert_at: [50, 80, 100], action: alert }\n"
         "alerts:\n"
         "  webhook: { url: \"" +
         webhook_url + "\", format: " + format + " }\n";
}

int AlertScenario::crossEveryThreshold(const std::vector<Stack*>& replicas, WebhookReceiver& hook,
                                       size_t alerts_before) {
  const std::string body =
      R"({"model":"gpt-test-1","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]})";
  const Headers known_cost = {
      {"x-team", "fraud"}, {"x-mock-prompt-tokens", "5"}, {"x-mock-completion-tokens", "16"}};
  int failed = 0;
  size_t expected = alerts_before;
  for (int call = 1; call <= 7; ++call) {
    auto client = replicas[static_cast<size_t>(call) % replicas.size()]->gatewayClient();
    if (client.post("/v1/chat/completions", body, known_cost).status != 200) ++failed;
    if (call >= 3 && call <= 5) {
      // The crossing reaches the webhook (its first attempt) before the next call adds spend.
      ++expected;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (hook.distinctBodies() < expected && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  return failed;
}

int64_t AlertScenario::counterSum(const std::vector<Stack*>& replicas, const std::string& series,
                                  int64_t want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    int64_t sum = 0;
    for (Stack* s : replicas) sum += std::max<int64_t>(0, s->metric(series));
    if (sum >= want || std::chrono::steady_clock::now() >= deadline) return sum;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void AlertScenario::expectTwoMonthsOfAlerts(
    const std::vector<WebhookReceiver::Delivery>& deliveries, const std::string& format) {
  std::vector<ReceivedAlert> alerts;
  for (const auto& d : deliveries) {
    alerts.push_back(ReceivedAlert::parse(d, format));
    EXPECT_TRUE(alerts.back().ok) << d.body;
    EXPECT_EQ(alerts.back().content_type,
              format == "cloudevents" ? "application/cloudevents+json" : "application/json");
  }
  ASSERT_EQ(alerts.size(), 6u);
  std::sort(alerts.begin(), alerts.end(), [](const ReceivedAlert& a, const ReceivedAlert& b) {
    return std::tie(a.period, a.threshold) < std::tie(b.period, b.threshold);
  });
  // 3, 4 and 5 calls of 207e6 picodollars; forecast = spend x 31 / 15, exactly.
  struct Expected {
    int threshold;
    const char* spend;
    const char* forecast;
  };
  const Expected expected[] = {
      {50, "0.000621", "0.0012834"}, {80, "0.000828", "0.0017112"}, {100, "0.001035", "0.002139"}};
  for (size_t i = 0; i < alerts.size(); ++i) {
    const ReceivedAlert& a = alerts[i];
    const Expected& e = expected[i % 3];
    const std::string period = i < 3 ? "2026-12" : "2027-01";
    SCOPED_TRACE(period + " " + std::to_string(e.threshold));
    EXPECT_EQ(a.budget, kBudget);
    EXPECT_EQ(a.scope, "team=fraud");
    EXPECT_EQ(a.period_kind, "month");
    EXPECT_EQ(a.period, period);
    EXPECT_EQ(a.threshold, e.threshold);
    EXPECT_EQ(a.spend, e.spend);
    EXPECT_EQ(a.limit, "0.001");
    EXPECT_EQ(a.forecast, e.forecast);
    if (format == "cloudevents") {
      EXPECT_EQ(a.id, std::string(kBudget) + "/" + period + "/" + std::to_string(e.threshold));
    }
  }
}

ReceivedAlert ReceivedAlert::parse(const WebhookReceiver::Delivery& delivery,
                                   const std::string& format) {
  ReceivedAlert a;
  a.content_type = delivery.content_type;
  if (format == "cloudevents") {
    const Json event(delivery.body);
    if (!event.ok() || event.str("/type") != "dev.tollgate.budget.threshold.v1") return a;
    a.id = event.str("/id");
    a.budget = event.str("/data/budget");
    const std::string team = event.str("/data/scope/team");
    a.scope = team.empty() ? "" : "team=" + team;
    a.period_kind = event.str("/data/period/kind");
    a.period = event.str("/data/period/label");
    a.threshold = static_cast<int>(event.num("/data/threshold_percent"));
    a.spend = event.str("/data/spend_usd");
    a.limit = event.str("/data/limit_usd");
    a.forecast = event.str("/data/forecast_usd");
  } else {
    const Json message(delivery.body);
    if (!message.ok()) return a;
    static const std::regex text(
        R"(Budget (\S+) \(([^)]*)\) reached (\d+)% of \$([0-9.]+) for (\S+): spend \$([0-9.]+), )"
        R"(forecast \$([0-9.]+) by the end of the (\w+)\.)");
    std::smatch m;
    const std::string t = message.str("/text");
    if (!std::regex_match(t, m, text)) return a;
    a.budget = m[1];
    a.scope = m[2];
    a.threshold = std::stoi(m[3]);
    a.limit = m[4];
    a.period = m[5];
    a.spend = m[6];
    a.forecast = m[7];
    a.period_kind = m[8];
  }
  a.ok = !a.budget.empty() && !a.period.empty() && a.threshold != 0 && !a.spend.empty() &&
         !a.limit.empty() && !a.forecast.empty() && !a.period_kind.empty();
  return a;
}

}  // namespace tollgate::testing
