#include "gateway/events/kafka_sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

#include "gateway/core/thread_name.h"
#include "gateway/events/kafka_producer_conf.h"

namespace tollgate::gateway {
namespace {

// The sink thread lingers up to kLinger after a first event unless kWakeBatch events arrive.
constexpr size_t kWakeBatch = 256;
constexpr std::chrono::milliseconds kLinger{2};
constexpr size_t kBacklogChunk = 256;
constexpr std::string_view kContentType = "application/cloudevents+json; charset=UTF-8";
constexpr std::chrono::milliseconds kBlockedWait{10};
// Spool pages made writable ahead of the workers' appends per sink round (~2 ms under load,
// when ~30k events/s append ~70 KiB): the page faults happen here, not on the request path.
constexpr uint64_t kPrefaultBytes = 256 << 10;
constexpr std::chrono::milliseconds kIdleWait{100};
constexpr std::chrono::milliseconds kMaxRetryBackoff{5'000};
// How often the acknowledgement mark is saved: bounds the duplicates a crash causes.
constexpr std::chrono::milliseconds kCheckpointInterval{200};

using SteadyClock = std::chrono::steady_clock;

uint64_t unixMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::shared_ptr<spdlog::logger> log() {
  auto logger = spdlog::get("events");
  return logger ? logger : spdlog::default_logger();
}

// Errors a resend cannot cure: the record stays in the spool (replayed at the next start, after
// the configuration or the cluster has been fixed) instead of being retried in a loop.
bool isPermanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

KafkaSink::KafkaSink(const config::EventsConfig& config)
    : config_(config.kafka),
      durable_(config.durability != "memory"),
      fsync_interval_(config.spool.fsync_interval) {
  if (durable_) {
    spool_ = std::make_unique<Spool>(SpoolOptions{config.spool.dir, config.spool.max_bytes,
                                                  config.spool.segment_bytes, !config.spool.mmap});
    send_cursor_ = spool_->beginSeq();
    taken_end_ = spool_->endSeq();
    const SpoolStats s = spool_->stats();
    log()->info("spool {}: appends {}", config.spool.dir,
                s.mapped ? "copy into preallocated, mapped segments" : "with write(2)");
    if (s.replayed != 0 || s.torn_records != 0) {
      log()->info(
          "spool {}: replaying {} unacknowledged events ({} bytes); {} torn records "
          "skipped",
          config.spool.dir, s.replayed, s.bytes, s.torn_records);
    }
  }

  char err[512];
  // Without a spool the producer's queue is the only copy: never expire it.
  rd_kafka_conf_t* conf = idempotentProducerConf(config_, !durable_);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::onDelivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaSink::onError);
  rd_kafka_conf_set_log_cb(conf, &KafkaSink::onLog);
  rd_kafka_conf_set_opaque(conf, this);

  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("events.kafka: cannot create the producer: ") + err);
  }
  // What the producer really runs with (librdkafka adjusts some values for idempotence), so that
  // an operator and the real-cluster tests can see the pipelining the delivery promise holds for.
  char in_flight[32] = "?";
  size_t in_flight_size = sizeof in_flight;
  rd_kafka_conf_get(rd_kafka_conf(rk_), "max.in.flight.requests.per.connection", in_flight,
                    &in_flight_size);
  log()->info("kafka producer: idempotent, acks=all, {} requests in flight per connection",
              in_flight);
  rkt_ = rd_kafka_topic_new(rk_, config_.topic.c_str(), nullptr);
  if (rkt_ == nullptr) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error("events.kafka.topic: " +
                             std::string(rd_kafka_err2str(rd_kafka_last_error())));
  }
  poll_thread_ = std::thread([this] {
    nameThisThread("tg-kafka-poll");
    runPoll();
  });
  sink_thread_ = std::thread([this] {
    nameThisThread("tg-kafka-sink");
    runSink();
  });
}

KafkaSink::~KafkaSink() {
  stop(std::chrono::milliseconds(0));
  rd_kafka_topic_destroy(rkt_);
  rd_kafka_destroy(rk_);
}

bool KafkaSink::tryEmit(meter::CostEvent&& event) {
  // Serialized into a buffer each worker thread keeps, then copied into one allocation of the
  // exact size, which librdkafka takes over.
  const std::string_view json = meter::cloudEventJson(event);
  Message m;
  m.key = keyOf(event);
  m.value.reset(static_cast<char*>(std::malloc(json.size())));
  if (m.value == nullptr) throw std::bad_alloc();
  std::memcpy(m.value.get(), json.data(), json.size());
  m.value_size = json.size();
  bool wake = false;
  bool io_error = false;
  std::string error;
  {
    // The append happens under the queue's lock so that the queue holds spooled records in
    // sequence order: the sink thread relies on it to send each record once.
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= config_.queue_capacity) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (durable_) {
      m.stored = Stored::kUnspooled;
      if (!spool_blocked_) {
        const Spool::Entry entry{m.key, m.valueView()};
        uint64_t seq = 0;
        switch (spool_->append({&entry, 1}, unixMillis(), seq, &error)) {
          case Spool::AppendResult::kOk:
            m.seq = seq;
            m.stored = Stored::kSpooled;
            break;
          case Spool::AppendResult::kFull:
            spool_blocked_ = true;
            spool_full_.store(true);
            break;
          case Spool::AppendResult::kIoError:
            // Losing the disk must not lose the events as well: this one goes to Kafka from
            // memory, with the guarantees of durability: memory.
            m.stored = Stored::kMemory;
            io_error = true;
            break;
        }
      }
    }
    if (m.stored != Stored::kSpooled) ++queue_unspooled_;
    queue_.push_back(std::move(m));
    // The sink thread is woken when it sleeps on an empty queue, or when a batch is ready
    // while it lingers; otherwise it takes the queue when its linger ends.
    if (sleeping_ || queue_.size() == kWakeBatch) {
      wake = true;
      sleeping_ = false;
    }
  }
  if (io_error && spool_io_errors_.fetch_add(1, std::memory_order_relaxed) == 0) {
    log()->error("spool append failed ({}): events go to Kafka without the spool", error);
  }
  accepted_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
  return true;
}

bool KafkaSink::ready() const {
  std::lock_guard lock(mu_);
  return !stopping_ && !fatal_.load() && !spool_full_.load() &&
         queue_.size() < config_.queue_capacity;
}

std::string KafkaSink::keyOf(const meter::CostEvent& event) const {
  const auto& who = event.attribution;
  const std::string& k = config_.key;
  if (k == "team") return who.team;
  if (k == "project") return who.project;
  if (k == "cost_center") return who.cost_center;
  if (k == "workload_type") return who.workload_type;
  if (k == "environment") return who.environment;
  return {};
}

void KafkaSink::runPoll() {
  while (!poll_stop_.load()) {
    rd_kafka_poll(rk_, 100);
    applyAcks();
  }
}

void KafkaSink::applyAcks() {
  if (acks_.empty()) return;
  spool_->ack(acks_);
  acks_.clear();
}

void KafkaSink::runSink() {
  std::vector<Message> batch;
  bool blocked = false;
  for (;;) {
    bool stopping = false;
    bool past_deadline = false;
    {
      std::unique_lock lock(mu_);
      // While a batch waits for spool space the queue is the back-pressure: take nothing more.
      const bool can_take = unspooled_.empty();
      if (!stopping_ && !(can_take && !queue_.empty())) {
        // Only a thread that could take the queue is worth waking.
        sleeping_ = can_take;
        cv_.wait_for(lock, blocked ? kBlockedWait : kIdleWait,
                     [&] { return stopping_ || (can_take && !queue_.empty()); });
        sleeping_ = false;
      }
      // Woken by a first event: let a batch gather instead of being woken by every event (a
      // futex wake per call was the largest cost of the sink under load). The events are in
      // the spool already; this only delays their hand-over to librdkafka.
      if (can_take && !stopping_ && !queue_.empty() && queue_.size() < kWakeBatch) {
        cv_.wait_for(lock, kLinger, [&] { return stopping_ || queue_.size() >= kWakeBatch; });
      }
      stopping = stopping_;
      past_deadline = stopping && SteadyClock::now() >= stop_deadline_;
      if (can_take) {
        // The whole queue is taken by a swap: the lock is held for O(1), not for moving each
        // message (workers waiting on it showed as futex time in the profile), and the empty
        // vector handed back keeps the capacity of the previous batch.
        batch.swap(queue_);
        queue_unspooled_ = 0;
        in_memory_.fetch_add(batch.size(), std::memory_order_relaxed);
      }
      if (!memory_retry_.empty()) {
        in_memory_.fetch_add(memory_retry_.size(), std::memory_order_relaxed);
        for (auto& m : memory_retry_) unsent_.push_back(std::move(m));
        memory_retry_.clear();
      }
    }
    if (!batch.empty()) takeBatch(batch);

    blocked = false;
    if (durable_) {
      spoolPending(unixMillis());
      blocked = !unspooled_.empty();
      if (!resendFailed()) blocked = true;
      if (!sendBacklog()) blocked = true;
      watchSpoolBound(spool_->bytes());
      spool_->prefault(kPrefaultBytes);
      if (const auto now = SteadyClock::now(); now >= checkpoint_at_) {
        spool_->checkpoint();
        checkpoint_at_ = now + kCheckpointInterval;
      }
      // Off by default: while fdatasync runs, workers' appends to the same file can stall
      // (measured: p99.9 6.6-9 ms without, 37 ms with a 200 ms interval).
      if (const auto now = SteadyClock::now(); fsync_interval_.count() > 0 && now >= sync_at_) {
        spool_->sync();
        sync_at_ = now + fsync_interval_;
      }
    }
    if (!sendFromMemory()) blocked = true;
    logNewDeliveryErrors();

    if (stopping) {
      std::lock_guard lock(mu_);
      const bool drained = queue_.empty() && unspooled_.empty() && unsent_.empty();
      if (drained || past_deadline) return;
    }
  }
}

void KafkaSink::takeBatch(std::vector<Message>& batch) {
  // Spooled records arrive in sequence order. The one the cursor points at goes to librdkafka from
  // this copy; a record below the cursor was already read back from the spool; above it (older
  // records wait, or librdkafka refused one) the spool backlog reader sends it later.
  size_t done = 0;
  for (auto& m : batch) {
    switch (m.stored) {
      case Stored::kSpooled:
        ++done;
        taken_end_ = std::max(taken_end_, m.seq + 1);
        if (m.seq == send_cursor_ && unspooled_.empty()) {
          if (produce(m) != Produced::kQueueFull) send_cursor_ = m.seq + 1;
        }
        break;
      case Stored::kUnspooled:
        unspooled_.push_back(std::move(m));
        break;
      case Stored::kMemory:
        unsent_.push_back(std::move(m));
        break;
    }
  }
  in_memory_.fetch_sub(done, std::memory_order_relaxed);
  batch.clear();
}

void KafkaSink::spoolPending(uint64_t now_ms) {
  if (unspooled_.empty()) return;
  // These waited for space: one record per append, so that whatever fits goes in (a batch may
  // be larger than the whole bound) and the rest waits for the next round.
  size_t done = 0;
  for (; done < unspooled_.size(); ++done) {
    Message& m = unspooled_[done];
    const Spool::Entry entry{m.key, m.valueView()};
    uint64_t seq = 0;
    std::string error;
    const Spool::AppendResult appended = spool_->append({&entry, 1}, now_ms, seq, &error);
    if (appended == Spool::AppendResult::kFull) break;
    if (appended == Spool::AppendResult::kIoError) {
      // Losing the disk must not lose the events as well: they go to Kafka from memory, with
      // the guarantees of durability: memory (still counted in in_memory_ until sent).
      log()->error("spool append failed ({}): {} events sent without the spool", error,
                   unspooled_.size() - done);
      for (size_t i = done; i < unspooled_.size(); ++i) {
        unspooled_[i].stored = Stored::kMemory;
        unsent_.push_back(std::move(unspooled_[i]));
      }
      unspooled_.resize(done);
      break;
    }
    m.seq = seq;
    m.stored = Stored::kSpooled;
    taken_end_ = std::max(taken_end_, seq + 1);
    // Nothing older waits: the record goes to librdkafka from memory instead of being read back.
    if (send_cursor_ == seq && produce(m) != Produced::kQueueFull) send_cursor_ = seq + 1;
  }
  unspooled_.erase(unspooled_.begin(), unspooled_.begin() + static_cast<ptrdiff_t>(done));
  in_memory_.fetch_sub(done, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  if (unspooled_.empty()) {
    // Workers append again (tryEmit sets both flags again, under this lock, at the next kFull).
    spool_blocked_ = false;
    spool_full_.store(false);
  } else {
    spool_full_.store(true);
  }
}

bool KafkaSink::sendBacklog() {
  // Records at or above taken_end_ are still in the queue and go out from memory.
  std::vector<SpoolRecord> records;
  while (send_cursor_ < taken_end_) {
    records.clear();
    const uint64_t next = spool_->readFrom(send_cursor_, kBacklogChunk, records);
    for (auto& r : records) {
      if (r.seq >= taken_end_) break;
      if (produce(r.seq, r.key, r.value) == Produced::kQueueFull) {
        send_cursor_ = r.seq;
        return false;
      }
    }
    send_cursor_ = std::min(next, taken_end_);
  }
  return true;
}

bool KafkaSink::resendFailed() {
  const auto now = SteadyClock::now();
  if (now < retry_at_) return true;
  std::vector<uint64_t> failed = spool_->takeFailed();
  if (failed.empty()) {
    retry_backoff_ = std::chrono::milliseconds(250);
    return true;
  }
  std::sort(failed.begin(), failed.end());
  failed.erase(std::unique(failed.begin(), failed.end()), failed.end());
  bool all = true;
  for (size_t i = 0; i < failed.size(); ++i) {
    SpoolRecord r;
    if (!spool_->read(failed[i], r)) continue;  // acknowledged meanwhile, or unreadable
    if (produce(r.seq, r.key, r.value) == Produced::kQueueFull) {
      for (size_t k = i; k < failed.size(); ++k) spool_->markFailed(failed[k]);
      all = false;
      break;
    }
  }
  // Failures again after a resend mean the cluster is still away: back off.
  retry_at_ = now + retry_backoff_;
  retry_backoff_ = std::min(retry_backoff_ * 2, kMaxRetryBackoff);
  return all;
}

bool KafkaSink::sendFromMemory() {
  if (unsent_.empty()) return true;
  size_t i = 0;
  for (; i < unsent_.size(); ++i) {
    if (produce(unsent_[i]) == Produced::kQueueFull) break;
  }
  unsent_.erase(unsent_.begin(), unsent_.begin() + static_cast<ptrdiff_t>(i));
  in_memory_.fetch_sub(i, std::memory_order_relaxed);
  return unsent_.empty();
}

KafkaSink::Produced KafkaSink::produce(Message& m) {
  const Produced produced = produce(m.seq, m.key, m.value.get(), m.value_size, RD_KAFKA_MSG_F_FREE);
  // Accepted: librdkafka frees the bytes. Refused: they are still ours (rdkafka.h: "If the
  // function returns -1 and RD_KAFKA_MSG_F_FREE was specified, then the memory associated with
  // the payload is still the caller's responsibility").
  if (produced == Produced::kOk) {
    static_cast<void>(m.value.release());
    if (m.seq == 0) memory_in_producer_.fetch_add(1, std::memory_order_relaxed);
  }
  return produced;
}

KafkaSink::Produced KafkaSink::produce(uint64_t seq, std::string_view key, std::string_view value) {
  return produce(seq, key, const_cast<char*>(value.data()), value.size(), RD_KAFKA_MSG_F_COPY);
}

KafkaSink::Produced KafkaSink::produce(uint64_t seq, std::string_view key, char* value, size_t size,
                                       int flags) {
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_, RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_MSGFLAGS(flags),
      RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_VALUE(value, size),
      RD_KAFKA_V_HEADER("content-type", kContentType.data(),
                        static_cast<ssize_t>(kContentType.size())),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(seq))), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Produced::kOk;
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return Produced::kQueueFull;
  delivery_errors_.fetch_add(1, std::memory_order_relaxed);
  last_delivery_error_.store(err);
  if (seq != 0 && !isPermanent(err) && !fatal_.load()) {
    spool_->markFailed(seq);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
  }
  return Produced::kFailed;
}

void KafkaSink::onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  const auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message->_private));
  if (seq == 0) self->memory_in_producer_.fetch_sub(1, std::memory_order_relaxed);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
    // Acknowledged in one go when the poll returns: one spool lock per poll, not per message.
    if (seq != 0) self->acks_.push_back(seq);
    return;
  }
  self->delivery_errors_.fetch_add(1, std::memory_order_relaxed);
  self->last_delivery_error_.store(message->err);
  const bool purged = message->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                      message->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
  if (seq != 0 && !isPermanent(message->err)) {
    self->spool_->markFailed(seq);
  } else if (seq == 0 && !isPermanent(message->err) && !purged && !self->fatal_.load()) {
    // Only this copy exists (the spool could not take it, or durability: memory): produce it
    // again rather than let librdkafka's local timeout lose it.
    Message m;
    m.key.assign(static_cast<const char*>(message->key), message->key_len);
    m.value.reset(static_cast<char*>(std::malloc(std::max<size_t>(message->len, 1))));
    if (m.value == nullptr) throw std::bad_alloc();
    std::memcpy(m.value.get(), message->payload, message->len);
    m.value_size = message->len;
    std::lock_guard lock(self->mu_);
    self->memory_retry_.push_back(std::move(m));
  } else {
    // Not in the spool (memory durability), or a permanent error: the spool keeps a permanent
    // failure for the next start, but in this process it counts as failed.
    self->failed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void KafkaSink::onError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    const rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, text, sizeof text);
    self->fatal_.store(true);
    log()->error("kafka producer fatal error {}: {}; events stay in the spool until a restart",
                 rd_kafka_err2name(fatal), text);
    return;
  }
  log()->warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

void KafkaSink::onLog(const rd_kafka_t*, int level, const char* facility, const char* message) {
  // syslog levels: 0..3 errors, 4 warning, 5..6 notice/info, 7 debug.
  const auto spd = level <= 3   ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  log()->log(spd, "librdkafka {}: {}", facility, message);
}

void KafkaSink::watchSpoolBound(uint64_t bytes) {
  const uint64_t max = spool_->maxBytes();
  const int level = spool_full_.load() ? 2 : (bytes >= max / 10 * 8 ? 1 : 0);
  if (level == spool_level_logged_) return;
  if (level == 2) {
    log()->error(
        "spool full ({} of {} bytes): new cost events are refused until Kafka "
        "acknowledges the backlog",
        bytes, max);
  } else if (level == 1 && spool_level_logged_ == 0) {
    log()->warn("spool above 80% of its bound ({} of {} bytes): Kafka is not keeping up", bytes,
                max);
  } else if (level == 0) {
    log()->info("spool back below 80% of its bound ({} of {} bytes)", bytes, max);
  }
  spool_level_logged_ = level;
}

void KafkaSink::logNewDeliveryErrors() {
  const uint64_t errors = delivery_errors_.load(std::memory_order_relaxed);
  const auto now = SteadyClock::now();
  // At most one line a second: an outage fails deliveries in bursts.
  if (errors == errors_logged_ || now < next_error_log_) return;
  next_error_log_ = now + std::chrono::seconds(1);
  const auto err = static_cast<rd_kafka_resp_err_t>(last_delivery_error_.load());
  log()->warn("kafka: {} deliveries failed (last: {}); {}", errors - errors_logged_,
              rd_kafka_err2name(err),
              durable_ ? "they are resent from the spool" : "those events are lost");
  errors_logged_ = errors;
}

uint64_t KafkaSink::stop(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return left_after_stop_;
    stopped_ = true;
    stopping_ = true;
    stop_deadline_ = deadline;
  }
  cv_.notify_all();
  if (sink_thread_.joinable()) sink_thread_.join();
  poll_stop_.store(true);
  if (poll_thread_.joinable()) poll_thread_.join();

  const auto left_time =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  const auto flush =
      std::max(std::chrono::milliseconds(0), std::min(left_time, config_.flush_timeout));
  rd_kafka_flush(rk_, static_cast<int>(flush.count()));
  applyAcks();
  const uint64_t in_producer = static_cast<uint64_t>(std::max(0, rd_kafka_outq_len(rk_)));
  // Not in the spool and not delivered: the purge below loses them.
  const uint64_t memory_in_producer = memory_in_producer_.load();
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_, 0);
  applyAcks();
  if (durable_) spool_->checkpoint();

  uint64_t queued_unspooled = 0;
  uint64_t memory_retry = 0;
  {
    std::lock_guard lock(mu_);
    queued_unspooled = queue_unspooled_;
    memory_retry = memory_retry_.size();
  }
  // Events never spooled are lost with the process; spooled ones wait for the next start.
  const uint64_t lost = queued_unspooled + unspooled_.size() + unsent_.size() + memory_retry +
                        (durable_ ? memory_in_producer : 0);
  left_after_stop_ = durable_ ? spool_->stats().pending + lost : in_producer + lost;
  if (left_after_stop_ != 0) {
    log()->warn("kafka sink stopped with {} events unacknowledged{}", left_after_stop_,
                durable_ ? " (kept in the spool for the next start)" : " (lost)");
  }
  return left_after_stop_;
}

SinkStats KafkaSink::stats() const {
  SinkStats s;
  s.accepted = accepted_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  uint64_t queued = 0;
  uint64_t queued_unspooled = 0;
  {
    std::lock_guard lock(mu_);
    queued = queue_.size();
    queued_unspooled = queue_unspooled_;
  }
  const uint64_t in_producer = static_cast<uint64_t>(std::max(0, rd_kafka_outq_len(rk_)));
  s.queue_depth = queued + in_memory_.load(std::memory_order_relaxed) + in_producer;
  if (durable_) {
    const SpoolStats spool = spool_->stats();
    // A queued event that is already in the spool is counted there.
    s.pending = queued_unspooled + in_memory_.load(std::memory_order_relaxed) + spool.pending +
                memory_in_producer_.load(std::memory_order_relaxed);
    s.spool_bytes = spool.bytes;
    s.spool_limit_bytes = spool_->maxBytes();
    s.spool_replayed = spool.replayed;
    s.spool_torn_records = spool.torn_records;
    const uint64_t now = unixMillis();
    if (spool.oldest_pending_unix_ms != 0 && now > spool.oldest_pending_unix_ms) {
      s.delivery_lag = std::chrono::milliseconds(now - spool.oldest_pending_unix_ms);
    }
  } else {
    s.pending = s.queue_depth;
  }
  return s;
}

}  // namespace tollgate::gateway
