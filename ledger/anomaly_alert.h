#pragma once

#include <string>

#include "ledger/anomaly_detector.h"

namespace tollgate::ledger {

// The gateway config's alerts.webhook (contract.md round 2), where budget alerts go.
struct WebhookConfig {
  std::string url;
  std::string format = "slack";  // slack | cloudevents
};

// The request body for one anomaly, in the webhook's format: a Slack message ({"text": ...})
// or a CloudEvents 1.0 structured event of type dev.tollgate.spend.anomaly.v1, the budget
// alerts' envelope. `now_rfc3339` is the event time (the caller owns the clock).
std::string anomalyAlertBody(const Anomaly& anomaly, const WebhookConfig& webhook,
                             const std::string& now_rfc3339);

// The content type of those bodies.
std::string anomalyAlertContentType(const WebhookConfig& webhook);

// Stable per anomaly (rule, scope, window): its CloudEvents id and the key that makes it
// sent once.
std::string anomalyKey(const Anomaly& anomaly);

}  // namespace tollgate::ledger
