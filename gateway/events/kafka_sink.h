#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "gateway/events/event_sink.h"
#include "gateway/events/spool.h"

namespace tollgate::gateway {

// Cost events to Kafka: one idempotent librdkafka producer (acks=all), CloudEvents Kafka binding
// in structured mode (content-type header, the JSON event as the value), keyed by an attribution
// field (the team by default).
//
// Threads: a worker serializes its event and, with durability: spool, appends it to the spool
// itself (a copy into the spool's mapped segment, i.e. the page cache; no fsync) before tryEmit
// returns: a call's event is in the spool before the client receives the last byte of its
// response, so a SIGKILL loses none. The serialized event then goes through a bounded in-memory
// queue (a full queue refuses the event and counts it as dropped) to the sink thread, which hands
// it to librdkafka, or, when librdkafka's queue is full or older records wait, leaves it to be read
// back from the spool. The poll thread serves librdkafka's delivery reports, which only touch
// atomics and the spool: an acknowledged record is trimmed from the spool, a failed one is marked
// for a resend.
//
// With durability: spool every event is in the write-ahead log before librdkafka sees it; what is
// not acknowledged is replayed at the next start. With durability: memory an event lives only in
// this process until acknowledged.
class KafkaSink final : public EventSink {
 public:
  // Creates the producer (every configuration property checked) and opens the spool; throws
  // std::runtime_error naming the key or property at fault.
  explicit KafkaSink(const config::EventsConfig& config);
  ~KafkaSink() override;

  bool tryEmit(meter::CostEvent&& event) override;
  bool ready() const override;
  uint64_t stop(std::chrono::milliseconds timeout) override;
  SinkStats stats() const override;

 private:
  // Where a serialized event stands with respect to the spool.
  enum class Stored {
    kSpooled,    // in the spool: `seq` is its sequence number
    kUnspooled,  // durable sink, but the spool was full: the sink thread appends it later
    kMemory,     // durability: memory, or the spool failed: only this copy exists
  };
  struct FreeBytes {
    void operator()(char* bytes) const noexcept { std::free(bytes); }
  };
  // A serialized event. Its bytes are malloc'd so that produce() hands them to librdkafka
  // (RD_KAFKA_MSG_F_FREE: freed after the delivery report) instead of librdkafka copying them
  // into a second allocation and the sink thread freeing the first.
  struct Message {
    uint64_t seq = 0;  // spool sequence number; 0 for an event that is not in the spool
    Stored stored = Stored::kMemory;
    std::string key;
    std::unique_ptr<char[], FreeBytes> value;
    size_t value_size = 0;

    std::string_view valueView() const { return {value.get(), value_size}; }
  };
  enum class Produced { kOk, kQueueFull, kFailed };

  void runSink();
  void runPoll();
  // Sorts a batch taken from the queue: spooled records go to librdkafka from memory when they
  // are next in line, the others to `unspooled_` / `unsent_`.
  void takeBatch(std::vector<Message>& batch);
  void spoolPending(uint64_t now_ms);
  // Hands records to librdkafka; false when its queue is full.
  bool sendFromMemory();
  bool sendBacklog();
  bool resendFailed();
  // Hands the message's bytes to librdkafka when it accepts them.
  Produced produce(Message& message);
  // Records read back from the spool: librdkafka copies them.
  Produced produce(uint64_t seq, std::string_view key, std::string_view value);
  Produced produce(uint64_t seq, std::string_view key, char* value, size_t size, int flags);
  std::string keyOf(const meter::CostEvent& event) const;
  void watchSpoolBound(uint64_t bytes);
  void logNewDeliveryErrors();

  static void onDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  // Acknowledges in the spool what onDelivery gathered in acks_.
  void applyAcks();
  static void onError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void onLog(const rd_kafka_t* rk, int level, const char* facility, const char* message);

  const config::KafkaSinkConfig config_;
  const bool durable_;
  const std::chrono::milliseconds fsync_interval_;
  std::unique_ptr<Spool> spool_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;

  // Worker side.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> queue_;    // taken whole by the sink thread (swapped)
  uint64_t queue_unspooled_ = 0;  // messages in queue_ that are not in the spool
  bool spool_blocked_ = false;    // older events wait for spool space: append no more
  bool stopping_ = false;
  bool sleeping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};

  // Sink thread only.
  std::vector<Message> unspooled_;  // serialized, waiting for spool space
  std::vector<Message> unsent_;     // in memory, not yet accepted by librdkafka
  // Events not in the spool whose delivery failed for a reason a resend can cure (librdkafka's
  // message.timeout.ms while the brokers are away): copied by the poll thread, under mu_, and
  // produced again by the sink thread, so that an event the spool could not take never expires.
  std::vector<Message> memory_retry_;
  std::atomic<uint64_t> memory_in_producer_{0};  // events not in the spool that librdkafka holds
  uint64_t send_cursor_ = 0;  // spool records below this were handed to librdkafka
  uint64_t taken_end_ = 0;    // spool records from here on may still be in queue_
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::steady_clock::time_point checkpoint_at_{};
  std::chrono::milliseconds retry_backoff_{250};
  int spool_level_logged_ = 0;  // 0 below 80%, 1 above, 2 full
  uint64_t errors_logged_ = 0;
  std::chrono::steady_clock::time_point next_error_log_{};

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> delivered_{0};
  // Sequence numbers delivered since the last applyAcks(). Only the thread that polls librdkafka
  // touches it: the poll thread, then stop() once the poll thread has ended.
  std::vector<uint64_t> acks_;
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> delivery_errors_{0};
  std::atomic<int> last_delivery_error_{0};
  std::atomic<uint64_t> in_memory_{0};        // serialized events held by the sink thread
  std::atomic<uint64_t> spool_io_errors_{0};  // appends that failed: sent from memory instead
  uint64_t spool_io_errors_logged_ = 0;
  std::chrono::steady_clock::time_point sync_at_{};
  std::atomic<bool> spool_full_{false};
  std::atomic<bool> fatal_{false};
  std::atomic<bool> poll_stop_{false};

  std::thread sink_thread_;
  std::thread poll_thread_;
  bool stopped_ = false;
  uint64_t left_after_stop_ = 0;
};

}  // namespace tollgate::gateway
