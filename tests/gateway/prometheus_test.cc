#include "gateway/prometheus.h"

#include <gtest/gtest.h>

#include <limits>

#include "gateway/event_sink.h"
#include "gateway/metrics.h"
#include "tests/gateway/call_fixture.h"

namespace tollgate::gateway {
namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

const std::string kLabels =
    R"(team="fraud-platform",project="fraud-detector-v2",model="gpt-4o-mini-2024-07-18",)"
    R"(upstream="openai-main",status="200")";

TEST(PrometheusMetrics, ShardsAreSummedAtScrape) {
  PrometheusMetrics metrics(2, 100);
  testing::CallFixture f;
  metrics.observer(0)->onCallFinished(f.call, f.event);
  metrics.observer(1)->onCallFinished(f.call, f.event);
  std::string out;
  metrics.render(out);
  EXPECT_TRUE(contains(out, "tollgate_requests_total{" + kLabels + "} 2")) << out;
  EXPECT_TRUE(contains(out, "tollgate_tokens_total{" + kLabels + R"(,type="input"} 2000)"));
  EXPECT_TRUE(contains(out, "tollgate_tokens_total{" + kLabels + R"(,type="output"} 100)"));
  EXPECT_TRUE(contains(out, "tollgate_tokens_total{" + kLabels + R"(,type="cache_read"} 400)"));
  EXPECT_TRUE(contains(out, "tollgate_tokens_total{" + kLabels + R"(,type="reasoning"} 20)"));
  EXPECT_TRUE(contains(out, "tollgate_cost_usd_total{" + kLabels + "} 0.00033"));
}

TEST(PrometheusMetrics, GenAiHistogramsUsePrometheusNamingAndCumulativeBuckets) {
  PrometheusMetrics metrics(1, 100);
  testing::CallFixture f;
  metrics.observer(0)->onCallFinished(f.call, f.event);
  std::string out;
  metrics.render(out);
  const std::string g =
      R"(gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o-mini")";
  EXPECT_TRUE(contains(out, "# TYPE gen_ai_client_token_usage histogram"));
  // 1000 input tokens: first bucket >= 1000 is 1024.
  EXPECT_TRUE(contains(
      out, "gen_ai_client_token_usage_bucket{" + g + R"(,gen_ai_token_type="input",le="256"} 0)"));
  EXPECT_TRUE(contains(
      out, "gen_ai_client_token_usage_bucket{" + g + R"(,gen_ai_token_type="input",le="1024"} 1)"));
  EXPECT_TRUE(contains(
      out, "gen_ai_client_token_usage_bucket{" + g + R"(,gen_ai_token_type="input",le="+Inf"} 1)"));
  EXPECT_TRUE(
      contains(out, "gen_ai_client_token_usage_sum{" + g + R"(,gen_ai_token_type="output"} 50)"));
  // Upstream call 300 ms: 0.32 bucket; first chunk after 50 ms: 0.08 bucket.
  EXPECT_TRUE(
      contains(out, "gen_ai_client_operation_duration_seconds_bucket{" + g + R"(,le="0.16"} 0)"));
  EXPECT_TRUE(
      contains(out, "gen_ai_client_operation_duration_seconds_bucket{" + g + R"(,le="0.32"} 1)"));
  EXPECT_TRUE(contains(out, "gen_ai_client_operation_duration_seconds_sum{" + g + "} 0.3"));
  EXPECT_TRUE(contains(
      out, "gen_ai_client_operation_time_to_first_chunk_seconds_bucket{" + g + R"(,le="0.04"} 0)"));
  EXPECT_TRUE(contains(
      out, "gen_ai_client_operation_time_to_first_chunk_seconds_bucket{" + g + R"(,le="0.08"} 1)"));
  // 12 ms of overhead.
  EXPECT_TRUE(contains(out, R"(tollgate_gateway_overhead_seconds_bucket{le="0.01"} 0)"));
  EXPECT_TRUE(contains(out, R"(tollgate_gateway_overhead_seconds_bucket{le="0.025"} 1)"));
  EXPECT_TRUE(contains(out, "tollgate_gateway_overhead_seconds_count 1"));
}

TEST(PrometheusMetrics, LabelValuesBeyondTheCapBecomeOther) {
  PrometheusMetrics metrics(2, 2);
  testing::CallFixture f;
  for (const char* team : {"a", "b", "c", "d"}) {
    f.event.attribution.team = team;
    metrics.observer(0)->onCallFinished(f.call, f.event);
  }
  f.event.attribution.team = "b";
  metrics.observer(1)->onCallFinished(f.call, f.event);  // admitted on another worker
  f.event.attribution.team = "e";
  metrics.observer(1)->onCallFinished(f.call, f.event);
  std::string out;
  metrics.render(out);
  const std::string rest =
      R"(",project="fraud-detector-v2",model="gpt-4o-mini-2024-07-18",upstream="openai-main",status="200"} )";
  EXPECT_TRUE(contains(out, "tollgate_requests_total{team=\"a" + rest + "1")) << out;
  EXPECT_TRUE(contains(out, "tollgate_requests_total{team=\"b" + rest + "2"));
  EXPECT_TRUE(contains(out, "tollgate_requests_total{team=\"other" + rest + "3"));
  EXPECT_EQ(out.find("team=\"c\""), std::string::npos);
}

TEST(PrometheusMetrics, LongModelNameIsTruncatedInEverySeries) {
  PrometheusMetrics metrics(1, 100);
  testing::CallFixture f;
  const std::string huge = "gpt-" + std::string(256 * 1024, 'x');
  std::string small_scrape;
  metrics.render(small_scrape);
  for (int i = 0; i < 3; ++i) {
    f.event.model = huge + std::to_string(i);
    f.call.info.model = huge + std::to_string(i);
    metrics.observer(0)->onCallFinished(f.call, f.event);
  }
  std::string out;
  metrics.render(out);
  // Each call's name differs only past the cut: the three share one truncated series.
  const std::string cut = "gpt-" +
                          std::string(kMaxLabelValueBytes - 4 - kTruncatedMark.size(), 'x') +
                          std::string(kTruncatedMark);
  EXPECT_NE(out.find("model=\"" + cut + "\""), std::string::npos);
  EXPECT_NE(out.find("gen_ai_request_model=\"" + cut + "\""), std::string::npos);
  EXPECT_EQ(out.find(std::string(kMaxLabelValueBytes, 'x')), std::string::npos);
  EXPECT_LT(out.size(), small_scrape.size() + 64 * 1024) << out.size();
}

TEST(BoundedLabelValue, CutsAtACharacterBoundaryAndMarksTheCut) {
  std::string scratch;
  EXPECT_EQ(boundedLabelValue("short", scratch), "short");
  const std::string exact(kMaxLabelValueBytes, 'a');
  EXPECT_EQ(boundedLabelValue(exact, scratch), exact);
  // A 3-byte character straddling the cut is dropped whole.
  const size_t keep = kMaxLabelValueBytes - kTruncatedMark.size();
  const std::string straddling = std::string(keep - 1, 'a') + "\xE2\x82\xAC" + std::string(64, 't');
  const std::string_view cut = boundedLabelValue(straddling, scratch);
  EXPECT_EQ(cut, std::string(keep - 1, 'a') + std::string(kTruncatedMark));
  EXPECT_LE(cut.size(), kMaxLabelValueBytes);
  // Idempotent: a cut value is not cut again.
  const std::string once(cut);
  std::string again;
  EXPECT_EQ(boundedLabelValue(once, again), once);
}

TEST(PrometheusMetrics, UnallocatedSpendAndUpstreamErrorsAreCounted) {
  PrometheusMetrics metrics(1, 100);
  testing::CallFixture f;
  f.event.attribution.allocated = false;
  f.event.outcome = meter::Outcome::kUpstreamError;
  f.call.error_type = "server_error";
  f.call.status = 502;
  metrics.observer(0)->onCallFinished(f.call, f.event);
  std::string out;
  metrics.render(out);
  EXPECT_TRUE(contains(out, "tollgate_unallocated_cost_usd_total 0.000165"));
  EXPECT_TRUE(contains(
      out,
      R"(tollgate_upstream_errors_total{upstream="openai-main",error_type="server_error"} 1)"));
}

// Absurd bookings (each near the int64 limit of picodollars) once pushed the cost counter
// negative by signed overflow, and made the sanitizer build abort: the sums saturate.
TEST(PrometheusMetrics, CostTotalsSaturateInsteadOfWrappingNegative) {
  PrometheusMetrics metrics(2, 100);
  testing::CallFixture f;
  f.event.attribution.allocated = false;
  f.event.cost.total = meter::Money::fromPico(std::numeric_limits<int64_t>::max() - 1);
  for (int shard = 0; shard < 2; ++shard) {
    for (int call = 0; call < 2; ++call) metrics.observer(shard)->onCallFinished(f.call, f.event);
  }
  std::string out;
  metrics.render(out);
  const std::string max =
      meter::Money::fromPico(std::numeric_limits<int64_t>::max()).toDecimalString();
  EXPECT_TRUE(contains(out, "tollgate_cost_usd_total{" + kLabels + "} " + max)) << out;
  EXPECT_TRUE(contains(out, "tollgate_unallocated_cost_usd_total " + max)) << out;
}

TEST(PromLabelValue, EscapesBackslashQuoteAndNewline) {
  std::string out;
  appendPromLabelValue("a\\b\"c\nd", out);
  EXPECT_EQ(out, R"("a\\b\"c\nd")");
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

TEST(RenderPrometheus, SinkQueueSpoolAndLagAreGauges) {
  WorkerMetrics shard;
  FakeSink sink;
  const std::string out = renderPrometheus({&shard}, sink, "1.2.3");
  EXPECT_TRUE(contains(out, "tollgate_events_queue_depth 7"));
  EXPECT_TRUE(contains(out, "tollgate_events_spool_bytes 4096"));
  EXPECT_TRUE(contains(out, "# TYPE tollgate_events_delivery_lag_seconds gauge"));
  EXPECT_TRUE(contains(out, "tollgate_events_delivery_lag_seconds 1.5"));
}

TEST(RenderPrometheus, CallsWithUsageFlagsAreCountedAsRepaired) {
  WorkerMetrics shard;
  meter::CostEvent event;
  shard.recordEvent(event);
  event.usage_flags = meter::kUsageCountRefused | meter::kUsageBodyWindowed;
  shard.recordEvent(event);
  event.usage_flags = meter::kUsageOverContext;
  shard.recordEvent(event);
  FakeSink sink;
  const std::string out = renderPrometheus({&shard}, sink, "1.2.3");
  EXPECT_TRUE(contains(out, "# TYPE tollgate_usage_repaired_total counter"));
  EXPECT_TRUE(contains(out, "tollgate_usage_repaired_total 2"));
}

}  // namespace
}  // namespace tollgate::gateway
