#include "gateway/telemetry/prometheus.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/gateway/telemetry/call_fixture.h"

namespace tollgate::gateway {
namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

std::string render(const PrometheusMetrics& metrics) {
  std::string out;
  PrometheusWriter writer(out);
  metrics.render(writer);
  return out;
}

const std::string kLabels =
    R"(team="fraud-platform",project="fraud-detector-v2",model="gpt-4o-mini-2024-07-18",)"
    R"(upstream="openai-main",status="200")";

TEST(PrometheusMetrics, ShardsAreSummedAtScrape) {
  PrometheusMetrics metrics(2, 100);
  testing::CallFixture f;
  metrics.observer(0)->onCallFinished(f.call, f.event);
  metrics.observer(1)->onCallFinished(f.call, f.event);
  const std::string out = render(metrics);
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
  const std::string out = render(metrics);
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
  const std::string out = render(metrics);
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
  const std::string small_scrape = render(metrics);
  for (int i = 0; i < 3; ++i) {
    f.event.model = huge + std::to_string(i);
    f.call.info.model = huge + std::to_string(i);
    metrics.observer(0)->onCallFinished(f.call, f.event);
  }
  const std::string out = render(metrics);
  // Each call's name differs only past the cut: the three share one truncated series.
  const std::string cut = "gpt-" +
                          std::string(kMaxLabelValueBytes - 4 - kTruncatedMark.size(), 'x') +
                          std::string(kTruncatedMark);
  EXPECT_NE(out.find("model=\"" + cut + "\""), std::string::npos);
  EXPECT_NE(out.find("gen_ai_request_model=\"" + cut + "\""), std::string::npos);
  EXPECT_EQ(out.find(std::string(kMaxLabelValueBytes, 'x')), std::string::npos);
  EXPECT_LT(out.size(), small_scrape.size() + 64 * 1024) << out.size();
}

TEST(PrometheusMetrics, UnallocatedSpendAndUpstreamErrorsAreCounted) {
  PrometheusMetrics metrics(1, 100);
  testing::CallFixture f;
  f.event.attribution.allocated = false;
  f.event.outcome = meter::Outcome::kUpstreamError;
  f.call.error_type = "server_error";
  f.call.status = 502;
  metrics.observer(0)->onCallFinished(f.call, f.event);
  const std::string out = render(metrics);
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
  const std::string out = render(metrics);
  const std::string max =
      meter::Money::fromPico(std::numeric_limits<int64_t>::max()).toDecimalString();
  EXPECT_TRUE(contains(out, "tollgate_cost_usd_total{" + kLabels + "} " + max)) << out;
  EXPECT_TRUE(contains(out, "tollgate_unallocated_cost_usd_total " + max)) << out;
}

}  // namespace
}  // namespace tollgate::gateway
