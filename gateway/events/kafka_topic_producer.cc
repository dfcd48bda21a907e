#include "gateway/events/kafka_topic_producer.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "gateway/core/thread_name.h"
#include "gateway/events/kafka_producer_conf.h"

namespace tollgate::gateway {

namespace {

// As the cost events (CloudEvents Kafka binding, structured mode).
constexpr std::string_view kContentType = "application/cloudevents+json; charset=UTF-8";

std::shared_ptr<spdlog::logger> log() {
  auto logger = spdlog::get("events");
  return logger ? logger : spdlog::default_logger();
}

}  // namespace

KafkaTopicProducer::KafkaTopicProducer(const config::KafkaSinkConfig& config, std::string topic)
    : topic_(std::move(topic)), flush_timeout_(config.flush_timeout) {
  char err[512];
  rd_kafka_conf_t* conf = idempotentProducerConf(config, false);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaTopicProducer::onDelivery);
  rd_kafka_conf_set_opaque(conf, this);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("events.kafka: cannot create the producer: ") + err);
  }
  rkt_ = rd_kafka_topic_new(rk_, topic_.c_str(), nullptr);
  if (rkt_ == nullptr) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error(topic_ + ": " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  poll_thread_ = std::thread([this] {
    nameThisThread("tg-kafka-topic");
    while (!stop_.load()) rd_kafka_poll(rk_, 100);
  });
}

KafkaTopicProducer::~KafkaTopicProducer() {
  stop_ = true;
  poll_thread_.join();
  rd_kafka_flush(rk_, static_cast<int>(flush_timeout_.count()));
  const int left = rd_kafka_outq_len(rk_);
  if (left > 0) {
    failed_ += static_cast<uint64_t>(left);
    log()->warn("kafka {}: {} messages not acknowledged at shutdown", topic_, left);
  }
  rd_kafka_topic_destroy(rkt_);
  rd_kafka_destroy(rk_);
}

bool KafkaTopicProducer::produce(std::string_view key, std::string_view value) {
  const rd_kafka_resp_err_t err =
      rd_kafka_producev(rk_, RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(key.data(), key.size()),
                        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                        RD_KAFKA_V_HEADER("content-type", kContentType.data(),
                                          static_cast<ssize_t>(kContentType.size())),
                        RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
  ++failed_;
  log()->warn("kafka {}: message refused: {}", topic_, rd_kafka_err2str(err));
  return false;
}

void KafkaTopicProducer::onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KafkaTopicProducer*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->delivered_;
    return;
  }
  ++self->failed_;
  log()->warn("kafka {}: message not delivered: {}", self->topic_, rd_kafka_err2str(message->err));
}

}  // namespace tollgate::gateway
