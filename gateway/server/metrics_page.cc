#include "gateway/server/metrics_page.h"

#include <algorithm>
#include <array>
#include <string>

#include "gateway/core/detached_completion.h"
#include "meter/money.h"

namespace tollgate::gateway {
namespace {

uint64_t sum(const std::vector<const WorkerMetrics*>& shards,
             const std::atomic<uint64_t> WorkerMetrics::*field) {
  uint64_t total = 0;
  for (const auto* s : shards) total += (s->*field).load(std::memory_order_relaxed);
  return total;
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

constexpr meter::Outcome kOutcomes[] = {
    meter::Outcome::kOk,       meter::Outcome::kUpstreamError, meter::Outcome::kClientDisconnect,
    meter::Outcome::kTimeout,  meter::Outcome::kRejected,      meter::Outcome::kInterrupted,
    meter::Outcome::kBudgetCut};
static_assert(std::size(kOutcomes) == meter::kOutcomeCount, "every outcome has its series");

}  // namespace

void renderWorkerMetrics(const std::vector<const WorkerMetrics*>& shards, const SinkStats& st,
                         std::string_view version, PrometheusWriter& out) {
  out.family("tollgate_build_info", "gauge", "Build information.");
  out.sample("tollgate_build_info", {{"version", version}}, uint64_t{1});

  out.family("tollgate_responses_total", "counter", "Responses sent to clients, by status class.");
  constexpr std::string_view kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t cls = 1; cls <= 5; ++cls) {
    uint64_t n = 0;
    for (const auto* s : shards) n += s->responses_by_class[cls].load(std::memory_order_relaxed);
    out.sample("tollgate_responses_total", {{"code", kClasses[cls]}}, n);
  }
  out.family("tollgate_calls_total", "counter", "Metered calls, by how they ended.");
  for (const auto outcome : kOutcomes) {
    uint64_t n = 0;
    for (const auto* s : shards) {
      n += s->calls_by_outcome[static_cast<size_t>(outcome)].load(std::memory_order_relaxed);
    }
    out.sample("tollgate_calls_total", {{"outcome", meter::toString(outcome)}}, n);
  }
  // Tokens and cost by team, project, model, upstream and status: PrometheusMetrics.
  out.counter("tollgate_unpriced_calls_total", "Calls routed to a model with no price.",
              sum(shards, &WorkerMetrics::unpriced_calls));
  out.counter("tollgate_estimated_usage_calls_total",
              "Calls whose usage never arrived and was estimated.",
              sum(shards, &WorkerMetrics::estimated_usage_calls));
  out.counter("tollgate_usage_repaired_total",
              "Calls whose provider usage was refused, clamped or read only in part (usage_flags).",
              sum(shards, &WorkerMetrics::usage_repaired_calls));
  out.counter("tollgate_upstream_connect_errors_total", "Upstream connections that failed.",
              sum(shards, &WorkerMetrics::upstream_connect_errors));
  out.counter("tollgate_upstream_timeouts_total", "Upstream calls that timed out.",
              sum(shards, &WorkerMetrics::upstream_timeouts));
  out.counter("tollgate_upstream_pool_reused_total", "Upstream calls on a pooled connection.",
              sum(shards, &WorkerMetrics::pool_reused));
  out.counter("tollgate_upstream_pool_connected_total", "Upstream connections opened.",
              sum(shards, &WorkerMetrics::pool_connected));
  out.counter("tollgate_upstream_stale_retries_total",
              "Requests retried because a pooled connection had been closed by the upstream.",
              sum(shards, &WorkerMetrics::pool_stale_retries));
  out.counter("tollgate_upstream_endpoint_retries_total",
              "Attempts moved to another endpoint of the same upstream (nothing relayed yet).",
              sum(shards, &WorkerMetrics::upstream_endpoint_retries));
  out.counter("tollgate_upstream_fallbacks_total", "Attempts moved to a fallback upstream.",
              sum(shards, &WorkerMetrics::upstream_fallbacks));
  out.counter("tollgate_upstream_retries_denied_total",
              "Retries the retry budget or max_attempts refused.",
              sum(shards, &WorkerMetrics::upstream_retries_denied));
  out.counter("tollgate_upstream_ejections_total",
              "Endpoints taken out by passive outlier detection (per worker).",
              sum(shards, &WorkerMetrics::upstream_ejections));
  out.counter("tollgate_upstream_overloaded_total",
              "Calls answered 503 upstream_overloaded (every endpoint at max_outstanding).",
              sum(shards, &WorkerMetrics::upstream_overloaded));
  out.counter("tollgate_upstream_interim_dropped_total",
              "Interim (100, 103) upstream answers read and not relayed.",
              sum(shards, &WorkerMetrics::upstream_interim_dropped));
  out.counter("tollgate_upstream_protocol_errors_total",
              "Upstream answers the gateway cannot relay (101, endless interim answers).",
              sum(shards, &WorkerMetrics::upstream_protocol_errors));
  out.counter("tollgate_upstream_encoded_responses_total",
              "Upstream answers with a content coding despite Accept-Encoding: identity (booked "
              "from the estimate).",
              sum(shards, &WorkerMetrics::upstream_encoded_responses));
  out.counter("tollgate_request_trailers_dropped_total",
              "Trailer fields of chunked requests dropped (never taken as headers or forwarded).",
              sum(shards, &WorkerMetrics::request_trailers_dropped));
  out.counter(
      "tollgate_refusal_events_suppressed_total",
      "Refusals of calls without a valid key not booked as events (over the per-worker rate).",
      sum(shards, &WorkerMetrics::refusal_events_suppressed));
  for (const auto& c : kResourceCounters) out.counter(c.name, c.help, sum(shards, c.field));
  out.counter("tollgate_detached_coroutine_failures_total",
              "Connection or accept coroutines ended by an exception (a bug; see the error log).",
              DetachedCompletion::failures());
  out.counter("tollgate_unallocated_calls_total",
              "Calls served without a complete attribution (booked allocated: false).",
              sum(shards, &WorkerMetrics::unallocated_calls));
  out.counter("tollgate_attribution_warnings_total",
              "Attribution labels ignored or missing on calls let through in warn mode.",
              sum(shards, &WorkerMetrics::attribution_warnings));
  out.family("tollgate_admission_refusals_total", "counter",
             "Calls refused by the admission controller, by code.");
  for (size_t code = 0; code < kRefusalCodes; ++code) {
    uint64_t n = 0;
    for (const auto* s : shards) n += s->admission_refusals[code].load(std::memory_order_relaxed);
    out.sample("tollgate_admission_refusals_total",
               {{"code", toString(static_cast<RefusalCode>(code))}}, n);
  }
  int64_t open = 0;
  for (const auto* s : shards) open += s->open_client_connections.load(std::memory_order_relaxed);
  out.gauge("tollgate_client_connections", "Open client connections.", open);

  out.counter("tollgate_events_accepted_total", "Cost events accepted by the sink.", st.accepted);
  out.counter("tollgate_events_dropped_total", "Cost events the sink could not accept.",
              st.dropped);
  out.counter("tollgate_events_delivered_total", "Cost events delivered by the sink.",
              st.delivered);
  out.counter("tollgate_events_failed_total", "Cost events whose delivery failed.", st.failed);
  out.gauge("tollgate_events_queue_depth", "Cost events accepted and not yet delivered.",
            static_cast<int64_t>(st.queue_depth));
  out.gauge("tollgate_events_spool_bytes", "Bytes held in the sink's durable spool.",
            static_cast<int64_t>(st.spool_bytes));
  out.gauge("tollgate_events_delivery_lag_seconds",
            "Age of the oldest cost event accepted and not yet delivered.",
            std::chrono::duration<double>(st.delivery_lag).count());
  out.gauge("tollgate_events_pending", "Cost events accepted and not yet acknowledged by Kafka.",
            static_cast<int64_t>(st.pending));
  out.gauge("tollgate_events_spool_limit_bytes", "The spool's disk bound (events.spool.max_bytes).",
            static_cast<int64_t>(st.spool_limit_bytes));
  out.counter("tollgate_events_spool_replayed_total",
              "Unacknowledged events found in the spool at start and resent.", st.spool_replayed);
  out.counter("tollgate_events_spool_torn_records_total",
              "Truncated or corrupt spool records detected and skipped.", st.spool_torn_records);
}

void renderEndpointMetrics(const EndpointMetrics& metrics, const config::Config& live,
                           std::chrono::steady_clock::time_point now, PrometheusWriter& out) {
  struct Series {
    std::string_view upstream;
    std::string endpoint;
    EndpointMetrics::Row row;
  };
  std::vector<Series> rows;
  for (const auto& upstream : live.upstreams) {
    const auto& endpoints = upstream.endpoints;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      auto row = metrics.read(upstream.name, endpoints[i].endpoint_id, now);
      if (!row) continue;
      std::string label = endpoints[i].base_url;
      const auto same_url = [&](const config::UpstreamEndpoint& e) {
        return e.base_url == endpoints[i].base_url;
      };
      if (std::count_if(endpoints.begin(), endpoints.end(), same_url) > 1) {
        label += "#" + std::to_string(i);
      }
      rows.push_back({upstream.name, std::move(label), *row});
    }
  }
  if (rows.empty()) return;
  const auto labels = [](const Series& s) {
    return std::array<PrometheusWriter::Label, 2>{
        {{"upstream", s.upstream}, {"endpoint", s.endpoint}}};
  };
  out.family("tollgate_upstream_endpoint_outstanding", "gauge",
             "Calls in flight to the endpoint, over all workers.");
  for (const auto& s : rows) {
    out.sample("tollgate_upstream_endpoint_outstanding", labels(s), s.row.outstanding);
  }
  out.family("tollgate_upstream_endpoint_latency_seconds", "gauge",
             "The balancer's peak-EWMA estimate of the time to first byte (highest over workers).");
  for (const auto& s : rows) {
    out.sample("tollgate_upstream_endpoint_latency_seconds", labels(s), s.row.latency_seconds);
  }
  out.family("tollgate_upstream_endpoint_state", "gauge",
             "Workers whose view of the endpoint is healthy, ejected (outlier detection) or "
             "unhealthy (active checks).");
  for (const auto& s : rows) {
    const auto l = labels(s);
    const std::pair<std::string_view, size_t> states[] = {
        {"healthy", s.row.healthy}, {"ejected", s.row.ejected}, {"unhealthy", s.row.unhealthy}};
    for (const auto& [state, workers] : states) {
      const std::array<PrometheusWriter::Label, 3> with_state{{l[0], l[1], {"state", state}}};
      out.sample("tollgate_upstream_endpoint_state", with_state, uint64_t{workers});
    }
  }
  struct CounterFamily {
    std::string_view name;
    std::string_view help;
    uint64_t EndpointMetrics::Row::*field;
  };
  constexpr CounterFamily kCounters[] = {
      {"tollgate_upstream_endpoint_ejections_total",
       "Ejections of the endpoint by passive outlier detection (each worker its own).",
       &EndpointMetrics::Row::ejections},
      {"tollgate_upstream_endpoint_retried_total",
       "Attempts that failed on the endpoint and were retried on another endpoint.",
       &EndpointMetrics::Row::retried},
      {"tollgate_upstream_endpoint_fallbacks_total",
       "Attempts that failed on the endpoint and went to a fallback upstream.",
       &EndpointMetrics::Row::fallbacks},
  };
  for (const auto& c : kCounters) {
    out.family(c.name, "counter", c.help);
    for (const auto& s : rows) out.sample(c.name, labels(s), s.row.*c.field);
  }
}

}  // namespace tollgate::gateway
