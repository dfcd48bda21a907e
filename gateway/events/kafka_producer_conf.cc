#include "gateway/events/kafka_producer_conf.h"

#include <cctype>
#include <stdexcept>
#include <string>

namespace tollgate::gateway {

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

rd_kafka_conf_t* idempotentProducerConf(const config::KafkaSinkConfig& config, bool never_expire) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& name, const std::string& value, const std::string& where) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(where + ": " + err);
    }
  };
  set("bootstrap.servers", config.brokers, "events.kafka.brokers");
  set("client.id", "tollgate", "events.kafka");
  // The Java client's partitioner: consumers in any language find a team on the same partition.
  set("partitioner", "murmur2_random", "events.kafka");
  if (never_expire) set("message.timeout.ms", "0", "events.kafka");
  for (const auto& [name, value] : config.properties) {
    const std::string where = "events.kafka.properties.\"" + name + "\"";
    const std::string v = lower(value);
    if (name == "enable.idempotence" && v != "true") {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(where + ": the Kafka sink requires enable.idempotence=true");
    }
    if ((name == "acks" || name == "request.required.acks") && v != "all" && v != "-1") {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(where + ": the Kafka sink requires acks=all");
    }
    set(name, value, where);
  }
  // Set last so that nothing above weakens the delivery guarantee.
  set("enable.idempotence", "true", "events.kafka");
  set("acks", "all", "events.kafka");
  return conf;
}

}  // namespace tollgate::gateway
