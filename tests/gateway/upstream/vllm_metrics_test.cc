#include "gateway/upstream/vllm_metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tollgate::gateway {
namespace {

std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(TOLLGATE_TESTDATA_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(VllmMetrics, SumsTheQueueAndTakesTheFullestCacheOverEngines) {
  const auto load = parseVllmMetrics(readFixture("vllm_metrics.txt"));
  ASSERT_TRUE(load.has_value());
  EXPECT_DOUBLE_EQ(load->requests_waiting, 7.0);
  EXPECT_DOUBLE_EQ(load->kv_cache_usage, 0.65);
}

TEST(VllmMetrics, ReadsTheV1CacheGaugeAndUnlabelledSamples) {
  const auto load = parseVllmMetrics(
      "vllm:kv_cache_usage_perc 0.25 1712345678000\r\nvllm:num_requests_waiting 2\n");
  ASSERT_TRUE(load.has_value());
  EXPECT_DOUBLE_EQ(load->kv_cache_usage, 0.25);
  EXPECT_DOUBLE_EQ(load->requests_waiting, 2.0);
}

TEST(VllmMetrics, ALabelValueHoldingABraceDoesNotEndTheLabels) {
  const auto load = parseVllmMetrics("vllm:num_requests_waiting{model_name=\"a}\\\"b\"} 5\n");
  ASSERT_TRUE(load.has_value());
  EXPECT_DOUBLE_EQ(load->requests_waiting, 5.0);
}

TEST(VllmMetrics, BadValuesAreSkipped) {
  const auto load = parseVllmMetrics(
      "vllm:num_requests_waiting NaN\nvllm:num_requests_waiting -3\n"
      "vllm:num_requests_waiting{x=\"1\" 4\nvllm:num_requests_waiting 1x\n"
      "vllm:gpu_cache_usage_perc +Inf\nvllm:gpu_cache_usage_perc 1.7\n");
  ASSERT_TRUE(load.has_value());
  EXPECT_DOUBLE_EQ(load->requests_waiting, 0.0);
  EXPECT_DOUBLE_EQ(load->kv_cache_usage, 1.0);  // clamped
}

TEST(VllmMetrics, TextWithoutEitherGaugeIsNoSignal) {
  EXPECT_FALSE(parseVllmMetrics("").has_value());
  EXPECT_FALSE(parseVllmMetrics("# HELP x\nhttp_requests_total 5\n").has_value());
  EXPECT_FALSE(parseVllmMetrics("<html>Not Found</html>").has_value());
}

}  // namespace
}  // namespace tollgate::gateway
