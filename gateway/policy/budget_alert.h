#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"
#include "gateway/policy/budget_period.h"
#include "meter/money.h"

namespace tollgate::gateway {

// One threshold of one budget reached in one period: what every alert channel says.
struct BudgetAlert {
  std::string budget;
  config::SpendScope scope;
  std::string period_kind;  // day | week | month
  BudgetPeriod period;
  uint32_t threshold_percent = 0;
  meter::Money spend;
  meter::Money limit;
  meter::Money forecast;  // end-of-period spend at the rate so far
  int64_t time_ms = 0;    // when it was detected

  // Stable across replicas and retries: "<budget>/<period label>/<percent>". Receivers dedupe
  // on it (the CloudEvent id).
  std::string id() const;

  // Slack-compatible: {"text": "..."}.
  std::string toSlackJson() const;
  // A structured CloudEvent of type dev.tollgate.budget.threshold.v1 from `source`.
  std::string toCloudEvent(const std::string& source) const;
};

}  // namespace tollgate::gateway
