#pragma once

#include <string>
#include <vector>

#include "tests/integration/support/process.h"
#include "tests/integration/support/stack.h"
#include "tests/integration/support/webhook_receiver.h"

namespace tollgate::testing {

// The file behind `tollgate --test-clock-file`: set() writes a unix time beside it and renames it
// into place, so a gateway never reads half a time.
class ClockFile {
 public:
  ClockFile(const TempDir& dir, int64_t unix_seconds);
  const std::string& path() const { return path_; }
  void set(int64_t unix_seconds) const;

 private:
  std::string path_;
};

// The budget-alert scenario of docs/budgets.md ("Alerts"), shared by the local, Redis and Kafka
// tests: an alert-only budget of $0.001 a month for team fraud, alert_at [50, 80, 100], and
// calls of exactly 207,000,000 picodollars (5 input and 16 output tokens of gpt-test), so
// that the 3rd, 4th and 5th calls of a month cross 50, 80 and 100 % one at a time. The clock
// stands on the 16th of the month at 00:00 UTC (15 of 31 days gone): the forecast is the spend
// times 31/15.
struct AlertScenario {
  static constexpr const char* kBudget = "team-alerts";
  static int64_t december16();  // 2026-12-16T00:00:00Z
  static int64_t january16();   // 2027-01-16T00:00:00Z

  // The budgets: and alerts: sections (spend_state: is the caller's).
  static std::string yaml(const std::string& webhook_url, const std::string& format);

  // Seven calls of one month, alternating over `replicas`; after each crossing waits until the
  // receiver has seen that alert (a first attempt counts), so that each alert's spend is that
  // of exactly 3, 4 or 5 calls. The 6th and 7th calls cross nothing. `alerts_before`: the
  // alerts of earlier months. Returns the calls that were not answered 200 (none expected).
  static int crossEveryThreshold(const std::vector<Stack*>& replicas, WebhookReceiver& hook,
                                 size_t alerts_before);

  // Polls the sum of a counter of the replicas' /metrics until it reaches `want` (10 s at
  // most); returns the last sum.
  static int64_t counterSum(const std::vector<Stack*>& replicas, const std::string& series,
                            int64_t want);

  // The six alerts of December then January, whatever their arrival order: each threshold once
  // per month, with the scenario's exact spend, limit and forecast, in `format`'s content type.
  static void expectTwoMonthsOfAlerts(const std::vector<WebhookReceiver::Delivery>& deliveries,
                                      const std::string& format);
};

// One alert as the receiver got it, in either format.
struct ReceivedAlert {
  std::string content_type;
  std::string id;  // CloudEvents only
  std::string budget;
  std::string scope;  // "team=fraud"
  std::string period_kind;
  std::string period;  // the label: "2026-12"
  int threshold = 0;
  std::string spend, limit, forecast;  // USD decimals
  bool ok = false;                     // the body had every field

  static ReceivedAlert parse(const WebhookReceiver::Delivery& delivery, const std::string& format);
};

}  // namespace tollgate::testing
