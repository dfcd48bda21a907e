#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "gateway/call_record.h"
#include "gateway/deadline.h"
#include "gateway/event_sink.h"
#include "gateway/fields_arena.h"
#include "gateway/ids.h"
#include "gateway/metrics.h"
#include "gateway/rate_limited_log.h"
#include "gateway/runtime.h"
#include "gateway/token_bucket.h"
#include "gateway/upstream_pool.h"

namespace tollgate::gateway {

// Holds the current Runtime snapshot; swapped whole on reload, read once per call.
class RuntimeHolder {
 public:
  explicit RuntimeHolder(std::shared_ptr<const Runtime> runtime) : current_(std::move(runtime)) {}
  std::shared_ptr<const Runtime> load() const { return current_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const Runtime> runtime) {
    current_.store(std::move(runtime), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const Runtime>> current_;
};

class DownstreamSession;

// Per worker: 20 events a second, a burst of 20.
inline constexpr double kUnauthenticatedEventsPerSecond = 20;

// What a session needs from its worker. Everything here belongs to one worker thread except
// the runtime holder, the sink and the draining flag, which are shared and thread-safe.
struct WorkerContext {
  size_t index = 0;
  const RuntimeHolder* runtime = nullptr;
  EventSink* sink = nullptr;
  // False with events.sink: none: responses are relayed unread and no call is booked.
  bool metering = true;
  const std::atomic<bool>* draining = nullptr;
  std::string event_source;  // "tollgate://<instance>"
  WorkerMetrics* metrics = nullptr;
  UpstreamPool* pool = nullptr;
  DeadlineSweeper* deadlines = nullptr;  // the worker's I/O timeouts
  // Data-plane warnings, rate limited per message key (warnings->warn("key", fmt, args...)).
  RateLimitedLog* warnings = nullptr;
  IdGenerator ids;
  // Blocks the sessions' field arenas borrow for the heads of a call. Worker thread only.
  FieldBlockPool field_blocks;
  // Told about every finished call (tracing, detailed metrics). Set before the worker starts.
  std::vector<CallObserver*> observers;
  uint64_t next_connection_id = 1;
  // Cost events of calls refused for a missing or invalid key: a client without a key must not
  // be able to fill the disk or the topic (every refusal is still counted in the metrics).
  TokenBucket unauthenticated_events{kUnauthenticatedEventsPerSecond,
                                     kUnauthenticatedEventsPerSecond};
  // Open client sessions, so shutdown can close the idle ones. Worker thread only.
  std::vector<DownstreamSession*> sessions;

  bool isDraining() const { return draining->load(std::memory_order_relaxed); }
};

}  // namespace tollgate::gateway
