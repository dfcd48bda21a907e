#pragma once

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "gateway/core/attempt_record.h"
#include "gateway/core/ids.h"
#include "meter/cost_event.h"
#include "meter/dialect.h"

namespace tollgate::gateway {

// Everything known about one call while a session handles it. At the end it becomes the cost
// event, and observers (tracing, metrics) read it.
struct CallRecord {
  using Clock = std::chrono::steady_clock;

  Clock::time_point start;  // request fully read (at its head when the body came with it)
  std::chrono::system_clock::time_point start_wall;
  Clock::time_point upstream_start{};  // first upstream attempt began
  Clock::time_point upstream_end{};    // upstream answer ended (or failed)
  Clock::time_point first_byte{};      // first response body byte from the upstream
  bool has_first_byte = false;

  const meter::Dialect* dialect = nullptr;
  const config::UpstreamConfig* upstream = nullptr;
  meter::RequestInfo info;
  // Both point into the client's request head, which outlives the record.
  std::string_view endpoint;  // path without query
  std::string_view target;    // path with query, as the client sent it
  RequestId request_id;
  TraceId trace_id;         // W3C trace id (client's, or new)
  SpanId parent_span_id;    // the client's span id; empty when none
  bool sampled = true;      // client's traceparent flag (default sampled)
  std::string tracestate;   // the client's tracestate, forwarded as is
  SpanId span_id;           // the gateway's SERVER span id
  SpanId upstream_span_id;  // the CLIENT span id sent upstream
  unsigned http_version = 11;
  bool client_keep_alive = true;
  meter::Attribution attribution;

  int status = 0;  // what the client received
  meter::Outcome outcome = meter::Outcome::kOk;
  std::string error_type;  // why it failed (gateway code or upstream type)
  // Spend control: the budget or rate limit that refused the call or clamped its output cap,
  // and the cap forwarded when clamped (the event's "limit" and "max_tokens_clamped").
  std::string limit;
  std::optional<int64_t> max_tokens_clamped;
  meter::MeterResult result;
  bool metered = false;  // `result` holds the response meter's answer
  bool booked = false;   // the cost event was built and handed on
  // A call on a self-hosted GPU pool (upstreams[].gpu_pool): the pool, its cost per hour and
  // this replica's occupancy over the call (call-nanoseconds), for the event's live estimate.
  std::string gpu_pool;
  __int128 gpu_pool_hour_pico = 0;
  __int128 gpu_pool_occupancy_ns = 0;
  // Retries and fallbacks (docs/upstreams.md): the endpoint of `upstream` the attempt uses, the
  // call's earlier attempts already booked as events of their own, the model a fallback was
  // asked for in the client's stead (empty: the client's), and whether this attempt's answer is
  // read for its cost only (another attempt follows; the client never sees it).
  uint32_t endpoint_index = 0;
  uint32_t attempts_booked = 0;
  std::string attempt_model;
  bool discarding = false;
  // Each attempt at an upstream endpoint, in order (most calls make one).
  boost::container::small_vector<AttemptRecord, 2> attempts;
};

// Told about every finished call, on the worker thread that handled it, after the cost event
// is built. Must not block.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  virtual void onCallFinished(const CallRecord& call, const meter::CostEvent& event) = 0;
};

}  // namespace tollgate::gateway
