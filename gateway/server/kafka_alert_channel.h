#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "gateway/events/kafka_topic_producer.h"
#include "gateway/policy/alert_channel.h"

namespace tollgate::gateway {

// Budget alerts to alerts.kafka_topic (docs/budgets.md, "Alerts"): each alert's CloudEvent,
// keyed by the budget's name (one budget's alerts stay in order on one partition), on the
// brokers of events.kafka. The bridge between policy's AlertChannel and events' producer.
class KafkaAlertChannel final : public AlertChannel {
 public:
  // Throws std::runtime_error naming the key at fault.
  explicit KafkaAlertChannel(const config::Config& config);

  void publish(const BudgetAlert& alert, const std::string& cloud_event) override;
  Stats stats() const override;

 private:
  KafkaTopicProducer producer_;
};

}  // namespace tollgate::gateway
