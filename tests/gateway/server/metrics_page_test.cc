#include "gateway/server/metrics_page.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace tollgate::gateway
