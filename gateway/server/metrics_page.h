#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "gateway/core/prometheus_writer.h"
#include "gateway/core/worker_metrics.h"
#include "gateway/events/event_sink.h"
#include "gateway/upstream/endpoint_metrics.h"

namespace tollgate::gateway {

// Renders all workers' counter shards and the sink's counters (the families every gateway has,
// whatever its telemetry settings).
void renderWorkerMetrics(const std::vector<const WorkerMetrics*>& shards, const SinkStats& sink,
                         std::string_view version, PrometheusWriter& out);

// Renders the per-endpoint families (tollgate_upstream_endpoint_*) of the endpoints `live`
// configures, labelled {upstream, endpoint}; `endpoint` is the endpoint's URL, followed by
// "#<index>" when the upstream lists that URL more than once (two API keys of one provider).
void renderEndpointMetrics(const EndpointMetrics& metrics, const config::Config& live,
                           std::chrono::steady_clock::time_point now, PrometheusWriter& out);

}  // namespace tollgate::gateway
