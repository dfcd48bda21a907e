#pragma once

#include <string_view>
#include <vector>

#include "gateway/core/prometheus_writer.h"
#include "gateway/core/worker_metrics.h"
#include "gateway/events/event_sink.h"

namespace tollgate::gateway {

// Renders all workers' counter shards and the sink's counters (the families every gateway has,
// whatever its telemetry settings).
void renderWorkerMetrics(const std::vector<const WorkerMetrics*>& shards, const SinkStats& sink,
                         std::string_view version, PrometheusWriter& out);

}  // namespace tollgate::gateway
