#include "gateway/server/metrics_page.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"
#include "gateway/upstream/upstream_pools.h"

namespace tollgate::gateway {
namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

class FakeSink : public EventSink {
 public:
  bool tryEmit(meter::CostEvent&&) override { return true; }
  bool ready() const override { return true; }
  uint64_t stop(std::chrono::milliseconds) override { return 0; }
  SinkStats stats() const override {
    SinkStats s;
    s.queue_depth = 7;
    s.spool_bytes = 4096;
    s.delivery_lag = std::chrono::milliseconds(1500);
    return s;
  }
};

std::string render(const std::vector<const WorkerMetrics*>& shards, const EventSink& sink) {
  std::string out;
  PrometheusWriter writer(out);
  renderWorkerMetrics(shards, sink.stats(), "1.2.3", writer);
  return out;
}

TEST(RenderWorkerMetrics, BuildInfoCarriesTheVersion) {
  WorkerMetrics shard;
  const std::string out = render({&shard}, FakeSink());
  EXPECT_TRUE(contains(out, "tollgate_build_info{version=\"1.2.3\"} 1")) << out;
}

TEST(RenderWorkerMetrics, SinkQueueSpoolAndLagAreGauges) {
  WorkerMetrics shard;
  FakeSink sink;
  const std::string out = render({&shard}, sink);
  EXPECT_TRUE(contains(out, "tollgate_events_queue_depth 7"));
  EXPECT_TRUE(contains(out, "tollgate_events_spool_bytes 4096"));
  EXPECT_TRUE(contains(out, "# TYPE tollgate_events_delivery_lag_seconds gauge"));
  EXPECT_TRUE(contains(out, "tollgate_events_delivery_lag_seconds 1.5"));
}

TEST(RenderWorkerMetrics, CallsWithUsageFlagsAreCountedAsRepaired) {
  WorkerMetrics shard;
  meter::CostEvent event;
  shard.recordEvent(event);
  event.usage_flags = meter::kUsageCountRefused | meter::kUsageBodyWindowed;
  shard.recordEvent(event);
  event.usage_flags = meter::kUsageOverContext;
  shard.recordEvent(event);
  FakeSink sink;
  const std::string out = render({&shard}, sink);
  EXPECT_TRUE(contains(out, "# TYPE tollgate_usage_repaired_total counter"));
  EXPECT_TRUE(contains(out, "tollgate_usage_repaired_total 2"));
}

config::Config twoUpstreams() {
  auto result = config::parseConfig(R"(
upstreams:
  - name: pool
    dialect: openai
    models: ["pool-*"]
    endpoints:
      - {url: "http://127.0.0.1:9001"}
      - {url: "http://127.0.0.1:9002", headers: {authorization: "Bearer a"}}
      - {url: "http://127.0.0.1:9002", headers: {authorization: "Bearer b"}}
  - name: single
    dialect: openai
    models: ["*"]
    base_url: "http://127.0.0.1:9003"
)",
                                    [](std::string_view) { return std::optional<std::string>(); });
  return std::get<config::Config>(std::move(result));
}

TEST(RenderEndpointMetrics, EachEndpointIsOneSeriesPerFamilyLabelledUpstreamAndEndpoint) {
  const auto config = twoUpstreams();
  const auto now = std::chrono::steady_clock::now();
  EndpointMetrics metrics(1);
  UpstreamPools pools(config, now, 1, nullptr, &metrics, 0);
  pools.pool(0).endpoints.onStart(1);
  pools.pool(0).endpoints.onMovedOn(0, true);
  std::string out;
  PrometheusWriter writer(out);
  renderEndpointMetrics(metrics, config, now, writer);
  // The URL names the endpoint; one listed twice (two keys) also carries its index.
  EXPECT_TRUE(contains(out,
                       "tollgate_upstream_endpoint_outstanding{upstream=\"pool\","
                       "endpoint=\"http://127.0.0.1:9002#1\"} 1"))
      << out;
  EXPECT_TRUE(contains(out,
                       "tollgate_upstream_endpoint_outstanding{upstream=\"pool\","
                       "endpoint=\"http://127.0.0.1:9002#2\"} 0"));
  EXPECT_TRUE(contains(out,
                       "tollgate_upstream_endpoint_fallbacks_total{upstream=\"pool\","
                       "endpoint=\"http://127.0.0.1:9001\"} 1"));
  EXPECT_TRUE(contains(out,
                       "tollgate_upstream_endpoint_state{upstream=\"single\","
                       "endpoint=\"http://127.0.0.1:9003\",state=\"healthy\"} 1"));
  EXPECT_TRUE(contains(out,
                       "tollgate_upstream_endpoint_state{upstream=\"single\","
                       "endpoint=\"http://127.0.0.1:9003\",state=\"ejected\"} 0"));
  EXPECT_TRUE(contains(out,
                       "tollgate_upstream_endpoint_latency_seconds{upstream=\"pool\","
                       "endpoint=\"http://127.0.0.1:9001\"} 0.1"));
  // Each family is announced once, before its samples.
  for (const char* family : {"outstanding", "latency_seconds", "state", "ejections_total",
                             "retried_total", "fallbacks_total"}) {
    const std::string type = std::string("# TYPE tollgate_upstream_endpoint_") + family + " ";
    const auto first = out.find(type);
    EXPECT_NE(first, std::string::npos) << family;
    EXPECT_EQ(out.find(type, first + 1), std::string::npos) << family;
  }
}

TEST(RenderEndpointMetrics, NothingIsRenderedBeforeAWorkerCarriesAnEndpoint) {
  const auto config = twoUpstreams();
  EndpointMetrics metrics(2);
  std::string out;
  PrometheusWriter writer(out);
  renderEndpointMetrics(metrics, config, std::chrono::steady_clock::now(), writer);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace tollgate::gateway
