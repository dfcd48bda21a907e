#pragma once

#include <librdkafka/rdkafka.h>

#include "config/config.h"

namespace tollgate::gateway {

// The librdkafka configuration every producer of the gateway starts from (the cost-event sink,
// the budget-alerts topic): events.kafka.brokers and .properties, the Java client's partitioner,
// and an idempotent acks=all producer that no property may weaken. `never_expire` sets
// message.timeout.ms to 0 (the producer's queue is the only copy). Throws std::runtime_error
// naming the key or property at fault; the caller owns the result (rd_kafka_new takes it).
rd_kafka_conf_t* idempotentProducerConf(const config::KafkaSinkConfig& config, bool never_expire);

}  // namespace tollgate::gateway
