#include "gateway/metrics.h"

#include <fmt/format.h>

#include "gateway/detached_completion.h"
#include "gateway/event_sink.h"
#include "meter/money.h"

namespace tollgate::gateway {
namespace {

uint64_t sum(const std::vector<const WorkerMetrics*>& shards,
             const std::atomic<uint64_t> WorkerMetrics::*field) {
  uint64_t total = 0;
  for (const auto* s : shards) total += (s->*field).load(std::memory_order_relaxed);
  return total;
}

void counter(std::string& out, std::string_view name, std::string_view help, uint64_t value) {
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name,
                 help, value);
}

void gauge(std::string& out, std::string_view name, std::string_view help, int64_t value) {
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help,
                 value);
}

struct CounterSpec {
  std::string_view name;
  std::string_view help;
  const std::atomic<uint64_t> WorkerMetrics::*field;
};

// Pooled connections closed and the process's own limits.
constexpr CounterSpec kResourceCounters[] = {
    {"tollgate_upstream_pool_expired_total",
     "Idle upstream connections closed after upstreams[].idle_keepalive_ms.",
     &WorkerMetrics::pool_expired},
    {"tollgate_upstream_pool_unread_discarded_total",
     "Upstream connections closed instead of pooled: bytes were left after the response.",
     &WorkerMetrics::pool_unread_discarded},
    {"tollgate_upstream_pool_probe_discarded_total",
     "Idle upstream connections found closed, or with bytes nobody asked for, when reused.",
     &WorkerMetrics::pool_probe_discarded},
    {"tollgate_upstream_pool_endpoint_retired_total",
     "Upstream connections closed because a reload changed their endpoint.",
     &WorkerMetrics::pool_endpoint_retired},
    {"tollgate_accept_pauses_total",
     "Times accepting paused because the process ran out of file descriptors.",
     &WorkerMetrics::accept_pauses},
    {"tollgate_connections_over_cap_total",
     "Client connections closed at once: server.limits.max_connections_per_worker.",
     &WorkerMetrics::connections_over_cap},
    {"tollgate_log_warnings_suppressed_total",
     "Data-plane warnings withheld by the log rate limit.",
     &WorkerMetrics::log_warnings_suppressed},
};

constexpr meter::Outcome kOutcomes[] = {meter::Outcome::kOk, meter::Outcome::kUpstreamError,
                                        meter::Outcome::kClientDisconnect, meter::Outcome::kTimeout,
                                        meter::Outcome::kRejected};

}  // namespace

void WorkerMetrics::recordEvent(const meter::CostEvent& e) {
  add(calls_by_outcome[static_cast<size_t>(e.outcome)]);
  if (!e.priced && e.outcome != meter::Outcome::kRejected) add(unpriced_calls);
  if (e.usage_source == meter::UsageSource::kEstimated) add(estimated_usage_calls);
  if (e.usage_flags != 0) add(usage_repaired_calls);
  if (!e.attribution.allocated && e.outcome != meter::Outcome::kRejected) add(unallocated_calls);
}

std::string renderPrometheus(const std::vector<const WorkerMetrics*>& shards, const EventSink& sink,
                             std::string_view version) {
  std::string out;
  out.reserve(4096);
  fmt::format_to(std::back_inserter(out),
                 "# HELP tollgate_build_info Build information.\n# TYPE tollgate_build_info gauge\n"
                 "tollgate_build_info{{version=\"{}\"}} 1\n",
                 version);

  out +=
      "# HELP tollgate_responses_total Responses sent to clients, by status class.\n"
      "# TYPE tollgate_responses_total counter\n";
  for (size_t cls = 1; cls <= 5; ++cls) {
    uint64_t n = 0;
    for (const auto* s : shards) n += s->responses_by_class[cls].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "tollgate_responses_total{{code=\"{}xx\"}} {}\n", cls,
                   n);
  }
  out +=
      "# HELP tollgate_calls_total Metered calls, by how they ended.\n"
      "# TYPE tollgate_calls_total counter\n";
  for (const auto outcome : kOutcomes) {
    uint64_t n = 0;
    for (const auto* s : shards) {
      n += s->calls_by_outcome[static_cast<size_t>(outcome)].load(std::memory_order_relaxed);
    }
    fmt::format_to(std::back_inserter(out), "tollgate_calls_total{{outcome=\"{}\"}} {}\n",
                   meter::toString(outcome), n);
  }
  // Tokens and cost by team, project, model, upstream and status: PrometheusMetrics.
  counter(out, "tollgate_unpriced_calls_total", "Calls routed to a model with no price.",
          sum(shards, &WorkerMetrics::unpriced_calls));
  counter(out, "tollgate_estimated_usage_calls_total",
          "Calls whose usage never arrived and was estimated.",
          sum(shards, &WorkerMetrics::estimated_usage_calls));
  counter(out, "tollgate_usage_repaired_total",
          "Calls whose provider usage was refused, clamped or read only in part (usage_flags).",
          sum(shards, &WorkerMetrics::usage_repaired_calls));
  counter(out, "tollgate_upstream_connect_errors_total", "Upstream connections that failed.",
          sum(shards, &WorkerMetrics::upstream_connect_errors));
  counter(out, "tollgate_upstream_timeouts_total", "Upstream calls that timed out.",
          sum(shards, &WorkerMetrics::upstream_timeouts));
  counter(out, "tollgate_upstream_pool_reused_total", "Upstream calls on a pooled connection.",
          sum(shards, &WorkerMetrics::pool_reused));
  counter(out, "tollgate_upstream_pool_connected_total", "Upstream connections opened.",
          sum(shards, &WorkerMetrics::pool_connected));
  counter(out, "tollgate_upstream_stale_retries_total",
          "Requests retried because a pooled connection had been closed by the upstream.",
          sum(shards, &WorkerMetrics::pool_stale_retries));
  counter(out, "tollgate_upstream_interim_dropped_total",
          "Interim (100, 103) upstream answers read and not relayed.",
          sum(shards, &WorkerMetrics::upstream_interim_dropped));
  counter(out, "tollgate_upstream_protocol_errors_total",
          "Upstream answers the gateway cannot relay (101, endless interim answers).",
          sum(shards, &WorkerMetrics::upstream_protocol_errors));
  counter(out, "tollgate_upstream_encoded_responses_total",
          "Upstream answers with a content coding despite Accept-Encoding: identity (booked "
          "from the estimate).",
          sum(shards, &WorkerMetrics::upstream_encoded_responses));
  counter(out, "tollgate_request_trailers_dropped_total",
          "Trailer fields of chunked requests dropped (never taken as headers or forwarded).",
          sum(shards, &WorkerMetrics::request_trailers_dropped));
  counter(out, "tollgate_refusal_events_suppressed_total",
          "Refusals of calls without a valid key not booked as events (over the per-worker rate).",
          sum(shards, &WorkerMetrics::refusal_events_suppressed));
  for (const auto& c : kResourceCounters) counter(out, c.name, c.help, sum(shards, c.field));
  counter(out, "tollgate_detached_coroutine_failures_total",
          "Connection or accept coroutines ended by an exception (a bug; see the error log).",
          DetachedCompletion::failures());
  counter(out, "tollgate_unallocated_calls_total",
          "Calls served without a complete attribution (booked allocated: false).",
          sum(shards, &WorkerMetrics::unallocated_calls));
  counter(out, "tollgate_attribution_warnings_total",
          "Attribution labels ignored or missing on calls let through in warn mode.",
          sum(shards, &WorkerMetrics::attribution_warnings));
  out +=
      "# HELP tollgate_admission_refusals_total Calls refused by the admission controller, by "
      "code.\n# TYPE tollgate_admission_refusals_total counter\n";
  for (size_t code = 0; code < kRefusalCodes; ++code) {
    uint64_t n = 0;
    for (const auto* s : shards) n += s->admission_refusals[code].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "tollgate_admission_refusals_total{{code=\"{}\"}} {}\n",
                   toString(static_cast<RefusalCode>(code)), n);
  }
  int64_t open = 0;
  for (const auto* s : shards) open += s->open_client_connections.load(std::memory_order_relaxed);
  gauge(out, "tollgate_client_connections", "Open client connections.", open);

  const SinkStats st = sink.stats();
  counter(out, "tollgate_events_accepted_total", "Cost events accepted by the sink.", st.accepted);
  counter(out, "tollgate_events_dropped_total", "Cost events the sink could not accept.",
          st.dropped);
  counter(out, "tollgate_events_delivered_total", "Cost events delivered by the sink.",
          st.delivered);
  counter(out, "tollgate_events_failed_total", "Cost events whose delivery failed.", st.failed);
  gauge(out, "tollgate_events_queue_depth", "Cost events accepted and not yet delivered.",
        static_cast<int64_t>(st.queue_depth));
  gauge(out, "tollgate_events_spool_bytes", "Bytes held in the sink's durable spool.",
        static_cast<int64_t>(st.spool_bytes));
  fmt::format_to(std::back_inserter(out),
                 "# HELP tollgate_events_delivery_lag_seconds Age of the oldest cost event "
                 "accepted and not yet delivered.\n# TYPE tollgate_events_delivery_lag_seconds "
                 "gauge\ntollgate_events_delivery_lag_seconds {}\n",
                 std::chrono::duration<double>(st.delivery_lag).count());
  gauge(out, "tollgate_events_pending", "Cost events accepted and not yet acknowledged by Kafka.",
        static_cast<int64_t>(st.pending));
  gauge(out, "tollgate_events_spool_limit_bytes",
        "The spool's disk bound (events.spool.max_bytes).",
        static_cast<int64_t>(st.spool_limit_bytes));
  counter(out, "tollgate_events_spool_replayed_total",
          "Unacknowledged events found in the spool at start and resent.", st.spool_replayed);
  counter(out, "tollgate_events_spool_torn_records_total",
          "Truncated or corrupt spool records detected and skipped.", st.spool_torn_records);
  return out;
}

}  // namespace tollgate::gateway
