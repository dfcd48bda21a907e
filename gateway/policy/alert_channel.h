#pragma once

#include <cstdint>
#include <string>

#include "gateway/policy/budget_alert.h"

namespace tollgate::gateway {

// A channel budget alerts go to besides the webhook (the Kafka alerts topic). Policy may not
// include events/ (docs/architecture.md): main.cc wires an implementation from the layer above.
// AlertDispatcher calls publish() once per alert, from its own thread, before the webhook's
// first attempt; it must not wait long (queue and return).
class AlertChannel {
 public:
  virtual ~AlertChannel() = default;

  // `cloud_event`: the alert as a structured CloudEvent (BudgetAlert::toCloudEvent).
  virtual void publish(const BudgetAlert& alert, const std::string& cloud_event) = 0;

  struct Stats {
    uint64_t delivered = 0;
    uint64_t failed = 0;
  };
  virtual Stats stats() const = 0;
};

}  // namespace tollgate::gateway
