#include "gateway/server/kafka_alert_channel.h"

namespace tollgate::gateway {

KafkaAlertChannel::KafkaAlertChannel(const config::Config& config)
    : producer_(config.events.kafka, config.alerts.kafka_topic) {}

void KafkaAlertChannel::publish(const BudgetAlert& alert, const std::string& cloud_event) {
  producer_.produce(alert.budget, cloud_event);
}

AlertChannel::Stats KafkaAlertChannel::stats() const {
  const auto s = producer_.stats();
  return {s.delivered, s.failed};
}

}  // namespace tollgate::gateway
