#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "gateway/core/call_record.h"
#include "gateway/core/deadline.h"
#include "gateway/core/ids.h"
#include "gateway/core/rate_limited_log.h"
#include "gateway/core/token_bucket.h"
#include "gateway/core/worker_metrics.h"
#include "gateway/events/event_sink.h"
#include "gateway/events/open_call_tracker.h"
#include "gateway/http/fields_arena.h"
#include "gateway/proxy/runtime.h"
#include "gateway/upstream/retry_policy.h"
#include "gateway/upstream/upstream_pool.h"
#include "gateway/upstream/worker_pools.h"

namespace tollgate::gateway {

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
  // Endpoint choice, health, ejection, retry budget and fallbacks of the worker's upstreams.
  WorkerPools* upstream_pools = nullptr;
  RetryPolicy retry_policy;              // whether a failed upstream attempt is tried again
  DeadlineSweeper* deadlines = nullptr;  // the worker's I/O timeouts
  // The worker's open-call journal (calls a dying gateway is in are booked at the next start);
  // null with events.open_calls.enabled false or metering off.
  OpenCallTracker* open_calls = nullptr;
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
