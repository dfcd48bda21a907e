#include "gateway/upstream/upstream_pools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using ::testing::ElementsAre;
using testing::kT0;
using testing::loadConfig;
using ::testing::Pair;
using testing::seconds;

const std::string kConfig = R"(
upstreams:
  - name: pool
    dialect: openai
    models: ["*"]
    headers: {authorization: "Bearer shared"}
    outlier_detection: {consecutive_connect_failures: 1, max_ejected_percent: 50}
    endpoints:
      - base_url: "http://127.0.0.1:9001/v1"
      - base_url: "http://127.0.0.1:9002"
        headers: {authorization: "Bearer own"}
    fallbacks: [spare]
  - name: spare
    dialect: openai
    base_url: "http://127.0.0.1:9003"
    models: ["*"]
)";

TEST(UpstreamPools, EachEndpointIsAnUpstreamViewWithItsAddressHeadersAndIdentity) {
  const auto config = loadConfig(kConfig);
  UpstreamPools pools(config, kT0, 1);
  const auto& views = pools.pool(0).views;
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].port, 9001);
  EXPECT_EQ(views[0].base_path, "/v1");
  EXPECT_EQ(views[1].port, 9002);
  EXPECT_EQ(views[1].host_header, "127.0.0.1:9002");
  EXPECT_THAT(views[1].headers, ElementsAre(Pair("authorization", "Bearer own")));
  EXPECT_EQ(views[1].endpoint_id, config.upstreams[0].endpoints[1].endpoint_id);
  EXPECT_EQ(views[1].name, "pool");
  EXPECT_EQ(pools.indexOf(config.upstreams[1]), 1u);
  ASSERT_EQ(pools.pool(0).fallbacks.size(), 1u);
  EXPECT_EQ(pools.pool(0).fallbacks[0].upstream, 1u);
}

TEST(UpstreamPools, AReloadKeepsTheStateOfEndpointsItStillHas) {
  const auto before = loadConfig(kConfig);
  UpstreamPools old(before, kT0, 1);
  auto& set = old.pool(0).endpoints;
  set.onStart(1);
  ASSERT_TRUE(set.onFinish(1, AttemptResult::kConnectError, std::nullopt, kT0));
  set.onStart(0);
  set.onFinish(0, AttemptResult::kSuccess, std::chrono::milliseconds(900), kT0);

  // The second endpoint moves to another port: a new endpoint, fresh state.
  std::string yaml = kConfig;
  yaml.replace(yaml.find("9002"), 4, "9004");
  const auto after = loadConfig(yaml);
  UpstreamPools reloaded(after, kT0 + seconds(1), 1, &old);
  const auto& fresh = reloaded.pool(0).endpoints;
  EXPECT_DOUBLE_EQ(fresh.endpoint(0).latency.estimate(kT0), 900e6);
  EXPECT_EQ(fresh.endpoint(0).outstanding, 0u);
  EXPECT_EQ(fresh.ejectedCount(kT0 + seconds(1)), 0u);

  UpstreamPools same(before, kT0 + seconds(1), 1, &old);
  EXPECT_EQ(same.pool(0).endpoints.ejectedCount(kT0 + seconds(1)), 1u);
}

}  // namespace
}  // namespace tollgate::gateway
