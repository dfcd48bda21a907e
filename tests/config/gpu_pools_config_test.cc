// The gpu_pools: section and upstreams[].gpu_pool (issue 20).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"

namespace tollgate::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

EnvLookup noEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

std::string withUpstream(const std::string& pool_key, const std::string& pools) {
  return R"(
upstreams:
  - { name: vllm-llama, dialect: openai, base_url: "http://10.0.0.5:8000", models: ["llama-3.1-70b*"])" +
         pool_key + R"( }
prices:
  "*": { input: "1", output: "2" }
)" + pools;
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv());
  if (std::holds_alternative<Config>(result)) {
    ADD_FAILURE() << "expected errors, the config was accepted";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& e : std::get<std::vector<ConfigError>>(result)) out.push_back(e.toString());
  return out;
}

TEST(GpuPoolsConfigTest, TheIssueExampleIsAcceptedWithItsDefaults) {
  auto result = parseConfig(withUpstream(", gpu_pool: h100-a", R"(
gpu_pools:
  - name: h100-a
    gpus: 8
    gpu_hour_usd: "24.00"          # amortised; exact decimal string
    share: tokens
    idle: separate
)"),
                            noEnv());
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  const Config& c = std::get<Config>(result);
  ASSERT_EQ(c.gpu_pools.size(), 1u);
  const GpuPoolConfig& pool = c.gpu_pools[0];
  EXPECT_EQ(pool.name, "h100-a");
  EXPECT_EQ(pool.gpus, 8u);
  EXPECT_EQ(pool.gpu_hour.pico(), 24 * meter::Money::kPicoPerUsd);
  EXPECT_EQ(static_cast<int64_t>(pool.hourPico()), 192 * meter::Money::kPicoPerUsd);
  EXPECT_EQ(pool.share, "tokens");
  EXPECT_EQ(pool.idle, "separate");
  EXPECT_EQ(pool.prefill_weight, 1u);
  EXPECT_EQ(pool.decode_weight, 1u);
  EXPECT_EQ(c.upstreams[0].gpu_pool, "h100-a");
}

TEST(GpuPoolsConfigTest, WeightsTimeShareProportionalIdleAndComparableModelAreRead) {
  auto result = parseConfig(withUpstream("", R"(
gpu_pools:
  - { name: a100, gpus: 4, gpu_hour_usd: 2.125, share: time, idle: proportional,
      weights: { prefill: 1, decode: 6 }, compare_with: gpt-4o-mini }
)"),
                            noEnv());
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  const GpuPoolConfig& pool = std::get<Config>(result).gpu_pools.at(0);
  EXPECT_EQ(pool.gpu_hour.pico(), 2'125'000'000'000);
  EXPECT_EQ(pool.share, "time");
  EXPECT_EQ(pool.idle, "proportional");
  EXPECT_EQ(pool.prefill_weight, 1u);
  EXPECT_EQ(pool.decode_weight, 6u);
  EXPECT_EQ(pool.compare_with, "gpt-4o-mini");
}

TEST(GpuPoolsConfigTest, AnUpstreamNamingAnUnknownPoolIsAnErrorAtItsKeyPath) {
  EXPECT_THAT(errorsOf(withUpstream(", gpu_pool: h100-b", R"(
gpu_pools:
  - { name: h100-a, gpus: 8, gpu_hour_usd: "24.00" }
)")),
              ElementsAre("upstreams[0].gpu_pool: no pool named \"h100-b\" in gpu_pools"));
  EXPECT_THAT(errorsOf(withUpstream(", gpu_pool: h100-a", "")),
              ElementsAre("upstreams[0].gpu_pool: no pool named \"h100-a\" in gpu_pools"));
}

TEST(GpuPoolsConfigTest, EveryBadFieldIsReportedWithItsPath) {
  const auto errors = errorsOf(withUpstream("", R"(
gpu_pools:
  - { name: h100-a, gpus: 0, gpu_hour_usd: "24.0000000000001", share: tokenz, idle: spread,
      weights: { prefill: 0, decode: 0 }, colour: red }
  - { name: h100-a, gpu_hour_usd: "-1" }
  - { gpus: 2, gpu_hour_usd: "1e3" }
)"));
  EXPECT_THAT(errors, Contains("gpu_pools[0].colour: unknown key"));
  EXPECT_THAT(errors, Contains("gpu_pools[0].gpus: expected an integer from 1 to 100000"));
  EXPECT_THAT(errors, Contains(HasSubstr("gpu_pools[0].gpu_hour_usd: expected a decimal string")));
  EXPECT_THAT(errors, Contains("gpu_pools[0].share: must be tokens or time"));
  EXPECT_THAT(errors, Contains("gpu_pools[0].idle: must be separate or proportional"));
  EXPECT_THAT(errors, Contains("gpu_pools[0].weights: prefill and decode cannot both be 0"));
  EXPECT_THAT(errors, Contains(HasSubstr("gpu_pools[1].name: duplicate pool name \"h100-a\"")));
  EXPECT_THAT(errors, Contains("gpu_pools[1].gpus: is required"));
  EXPECT_THAT(errors, Contains(HasSubstr("gpu_pools[1].gpu_hour_usd: expected")));
  EXPECT_THAT(errors, Contains("gpu_pools[2].name: is required"));
  EXPECT_THAT(errors, Contains(HasSubstr("gpu_pools[2].gpu_hour_usd: expected")));
}

TEST(GpuPoolsConfigTest, TheLedgerReadsOnlyThePoolsOfAGatewayConfig) {
  auto pools = parseGpuPools(R"(
budgets: [{ name: anything, the: ledger, ignores: here }]
gpu_pools:
  - { name: h100-a, gpus: 8, gpu_hour_usd: "24.00" }
)",
                             noEnv());
  ASSERT_TRUE((std::holds_alternative<std::vector<GpuPoolConfig>>(pools)));
  EXPECT_EQ(std::get<std::vector<GpuPoolConfig>>(pools).at(0).name, "h100-a");
  auto bad = parseGpuPools("gpu_pools: [{ name: x, gpus: 8 }]", noEnv());
  ASSERT_TRUE((std::holds_alternative<std::vector<ConfigError>>(bad)));
  EXPECT_EQ(std::get<std::vector<ConfigError>>(bad).at(0).toString(),
            "gpu_pools[0].gpu_hour_usd: is required");
}

}  // namespace
}  // namespace tollgate::config
