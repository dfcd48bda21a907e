#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "config/config.h"

namespace tollgate::gateway {

// A few structured CloudEvents to one Kafka topic beside the cost events (the budget-alerts
// topic): its own idempotent acks=all producer on events.kafka's brokers and properties, with
// the cost events' content-type header. A separate producer, not the cost-event sink's: that
// one's delivery reports drive its spool (an acknowledged sequence number is trimmed), and a
// message of another topic has no place in that sequence. No spool: a message lives in
// librdkafka's queue until acknowledged (retried for message.timeout.ms, 5 minutes by default)
// and is lost if the process dies first.
class KafkaTopicProducer {
 public:
  // Throws std::runtime_error naming the key or property at fault.
  KafkaTopicProducer(const config::KafkaSinkConfig& config, std::string topic);
  // Waits up to events.kafka.flush_timeout_ms for what is still unacknowledged.
  ~KafkaTopicProducer();
  KafkaTopicProducer(const KafkaTopicProducer&) = delete;
  KafkaTopicProducer& operator=(const KafkaTopicProducer&) = delete;

  // Copies the message into librdkafka's queue; never waits. False (and counted as failed)
  // when librdkafka refuses it at once (its queue full).
  bool produce(std::string_view key, std::string_view value);

  struct Stats {
    uint64_t delivered = 0;  // acknowledged by the brokers
    uint64_t failed = 0;     // refused at once or not acknowledged in time
  };
  Stats stats() const { return {delivered_.load(), failed_.load()}; }
  const std::string& topic() const { return topic_; }

 private:
  static void onDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  const std::string topic_;
  const std::chrono::milliseconds flush_timeout_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> stop_{false};
  std::thread poll_thread_;
};

}  // namespace tollgate::gateway
