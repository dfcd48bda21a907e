#include "gateway/metrics.h"

#include <fmt/format.h>

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
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name,
                 help, value);
}

constexpr meter::Outcome kOutcomes[] = {meter::Outcome::kOk, meter::Outcome::kUpstreamError,
                                        meter::Outcome::kClientDisconnect,
                                        meter::Outcome::kTimeout, meter::Outcome::kRejected};

}  // namespace

void WorkerMetrics::recordEvent(const meter::CostEvent& e) {
  add(calls_by_outcome[static_cast<size_t>(e.outcome)]);
  add(input_tokens, static_cast<uint64_t>(e.usage.input_tokens));
  add(output_tokens, static_cast<uint64_t>(e.usage.output_tokens));
  add(cache_read_tokens, static_cast<uint64_t>(e.usage.cache_read_tokens));
  add(cache_write_tokens, static_cast<uint64_t>(e.usage.cache_write_tokens));
  add(reasoning_tokens, static_cast<uint64_t>(e.usage.reasoning_tokens));
  cost_pico.fetch_add(e.cost.total.pico(), std::memory_order_relaxed);
  if (!e.priced && e.outcome != meter::Outcome::kRejected) add(unpriced_calls);
  if (e.usage_source == meter::UsageSource::kEstimated) add(estimated_usage_calls);
}

std::string renderPrometheus(const std::vector<const WorkerMetrics*>& shards,
                             const EventSink& sink, std::string_view version) {
  std::string out;
  out.reserve(4096);
  fmt::format_to(std::back_inserter(out),
                 "# HELP tollgate_build_info Build information.\n# TYPE tollgate_build_info gauge\n"
                 "tollgate_build_info{{version=\"{}\"}} 1\n",
                 version);

  out += "# HELP tollgate_responses_total Responses sent to clients, by status class.\n"
         "# TYPE tollgate_responses_total counter\n";
  for (size_t cls = 1; cls <= 5; ++cls) {
    uint64_t n = 0;
    for (const auto* s : shards) n += s->responses_by_class[cls].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "tollgate_responses_total{{code=\"{}xx\"}} {}\n", cls,
                   n);
  }
  out += "# HELP tollgate_calls_total Metered calls, by how they ended.\n"
         "# TYPE tollgate_calls_total counter\n";
  for (const auto outcome : kOutcomes) {
    uint64_t n = 0;
    for (const auto* s : shards) {
      n += s->calls_by_outcome[static_cast<size_t>(outcome)].load(std::memory_order_relaxed);
    }
    fmt::format_to(std::back_inserter(out), "tollgate_calls_total{{outcome=\"{}\"}} {}\n",
                   meter::toString(outcome), n);
  }
  out += "# HELP tollgate_tokens_total Tokens metered, by type (cache and reasoning are parts).\n"
         "# TYPE tollgate_tokens_total counter\n";
  const std::pair<const char*, const std::atomic<uint64_t> WorkerMetrics::*> tokens[] = {
      {"input", &WorkerMetrics::input_tokens},
      {"output", &WorkerMetrics::output_tokens},
      {"cache_read", &WorkerMetrics::cache_read_tokens},
      {"cache_write", &WorkerMetrics::cache_write_tokens},
      {"reasoning", &WorkerMetrics::reasoning_tokens}};
  for (const auto& [type, field] : tokens) {
    fmt::format_to(std::back_inserter(out), "tollgate_tokens_total{{type=\"{}\"}} {}\n", type,
                   sum(shards, field));
  }
  int64_t pico = 0;
  for (const auto* s : shards) pico += s->cost_pico.load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(out),
                 "# HELP tollgate_cost_usd_total Priced cost of metered calls, in USD.\n"
                 "# TYPE tollgate_cost_usd_total counter\ntollgate_cost_usd_total {}\n",
                 meter::Money::fromPico(pico).toDecimalString());
  counter(out, "tollgate_unpriced_calls_total", "Calls routed to a model with no price.",
          sum(shards, &WorkerMetrics::unpriced_calls));
  counter(out, "tollgate_estimated_usage_calls_total",
          "Calls whose usage never arrived and was estimated.",
          sum(shards, &WorkerMetrics::estimated_usage_calls));
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
  return out;
}

}  // namespace tollgate::gateway
