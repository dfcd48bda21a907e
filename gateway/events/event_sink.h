#pragma once

#include <chrono>
#include <cstdint>

#include "meter/cost_event.h"

namespace tollgate::gateway {

// Counters every sink keeps; read at scrape time.
struct SinkStats {
  uint64_t accepted = 0;     // events taken by tryEmit
  uint64_t dropped = 0;      // events refused because the queue was full (never silent)
  uint64_t delivered = 0;    // events durably handed on (written / acknowledged)
  uint64_t failed = 0;       // events whose delivery failed for good
  uint64_t queue_depth = 0;  // accepted, not yet delivered
  uint64_t spool_bytes = 0;  // bytes held in a durable spool (0 for a sink without one)
  std::chrono::milliseconds delivery_lag{0};  // age of the oldest accepted, undelivered event
  // Kafka sink (zero elsewhere).
  uint64_t pending = 0;             // accepted, not yet acknowledged (spooled ones included)
  uint64_t spool_limit_bytes = 0;   // events.spool.max_bytes; 0 without a spool
  uint64_t spool_replayed = 0;      // unacknowledged events found in the spool at start
  uint64_t spool_torn_records = 0;  // truncated or corrupt spool records skipped
};

// Where cost events go. tryEmit is called on worker threads and never blocks: a sink queues the
// event and delivers it from its own thread.
class EventSink {
 public:
  virtual ~EventSink() = default;

  // Takes the event if the sink can accept it; false (and counted as dropped) when it cannot.
  virtual bool tryEmit(meter::CostEvent&& event) = 0;

  // True while the sink can accept events (readiness).
  virtual bool ready() const = 0;

  // Stops accepting, delivers what is queued within `timeout`, and stops its thread. Returns
  // the number of events left undelivered.
  virtual uint64_t stop(std::chrono::milliseconds timeout) = 0;

  virtual SinkStats stats() const = 0;
};

}  // namespace tollgate::gateway
