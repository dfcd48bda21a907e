// An upstream's pool keys: endpoints, balancer, health, outlier_detection, max_outstanding,
// retry_on, max_attempts, ttft_timeout_ms, retry_budget, fallbacks, load_signal.
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
using ::testing::IsEmpty;
using ::testing::Pair;

EnvLookup noEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv());
  std::vector<std::string> out;
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    for (const auto& e : *errors) out.push_back(e.toString());
  }
  return out;
}

Config parseValid(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv());
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    std::string all;
    for (const auto& e : *errors) all += e.toString() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << all;
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

// One openai upstream "pool" whose extra keys are `fields` (each line indented by 4 spaces).
std::string poolWith(const std::string& fields) {
  return "upstreams:\n  - name: pool\n    dialect: openai\n    models: [\"*\"]\n" + fields;
}

const std::string kThreeEndpoints = R"(    headers: {authorization: "Bearer shared"}
    endpoints:
      - url: "http://10.0.0.1:8000/v1"
      - {url: "http://10.0.0.2:8000", weight: 3}
      - base_url: "https://api.example.com"
        headers: {authorization: "Bearer second-key", x-region: eu}
)";

TEST(UpstreamPoolConfig, PlainBaseUrlIsOneEndpointWithDefaults) {
  const Config config = parseValid(poolWith("    base_url: \"http://127.0.0.1:9100/v1\"\n"));
  ASSERT_EQ(config.upstreams.size(), 1u);
  const UpstreamConfig& u = config.upstreams[0];
  ASSERT_EQ(u.endpoints.size(), 1u);
  EXPECT_EQ(u.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(u.endpoints[0].port, 9100);
  EXPECT_EQ(u.endpoints[0].base_path, "/v1");
  EXPECT_EQ(u.endpoints[0].weight, 1u);
  EXPECT_EQ(u.endpoints[0].endpoint_id, u.endpoint_id);
  EXPECT_EQ(u.balancer, "p2c_ewma");
  EXPECT_FALSE(u.health.enabled);
  EXPECT_FALSE(u.load_signal.enabled);
  EXPECT_EQ(u.max_outstanding, 0u);
  EXPECT_EQ(u.max_attempts, 3u);
  EXPECT_EQ(u.retry_on, kAllUpstreamFailures);
  EXPECT_EQ(u.ttft_timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(u.retry_budget.ratio_ppm, 200'000u);
  EXPECT_EQ(u.outlier_detection.consecutive_connect_failures, 3u);
  EXPECT_EQ(u.outlier_detection.max_ejected_percent, 50u);
  EXPECT_THAT(u.fallbacks, IsEmpty());
}

TEST(UpstreamPoolConfig, EndpointsMergeTheirOwnHeadersOverTheUpstreams) {
  const Config config = parseValid(poolWith(kThreeEndpoints));
  const UpstreamConfig& u = config.upstreams[0];
  ASSERT_EQ(u.endpoints.size(), 3u);
  EXPECT_EQ(u.endpoints[0].base_path, "/v1");
  EXPECT_EQ(u.endpoints[1].weight, 3u);
  EXPECT_EQ(u.endpoints[2].scheme, "https");
  EXPECT_EQ(u.endpoints[2].port, 443);
  EXPECT_THAT(u.endpoints[0].headers, ElementsAre(Pair("authorization", "Bearer shared")));
  EXPECT_THAT(u.endpoints[2].headers,
              ElementsAre(Pair("authorization", "Bearer second-key"), Pair("x-region", "eu")));
  // Three identities: pooled connections of one endpoint never serve another.
  EXPECT_NE(u.endpoints[0].endpoint_id, u.endpoints[1].endpoint_id);
  EXPECT_NE(u.endpoints[1].endpoint_id, u.endpoints[2].endpoint_id);
  // The single-endpoint fields are the first endpoint's.
  EXPECT_EQ(u.host, "10.0.0.1");
  EXPECT_EQ(u.endpoint_id, u.endpoints[0].endpoint_id);
}

TEST(UpstreamPoolConfig, SameUrlWithAnotherKeyIsAnotherEndpoint) {
  const Config config = parseValid(poolWith(R"(    endpoints:
      - base_url: "https://api.openai.com"
        headers: {authorization: "Bearer key-a"}
      - base_url: "https://api.openai.com"
        headers: {authorization: "Bearer key-b"}
)"));
  ASSERT_EQ(config.upstreams[0].endpoints.size(), 2u);
  EXPECT_NE(config.upstreams[0].endpoints[0].endpoint_id,
            config.upstreams[0].endpoints[1].endpoint_id);
}

TEST(UpstreamPoolConfig, RepeatedEndpointIsRefused) {
  EXPECT_THAT(errorsOf(poolWith(R"(    endpoints:
      - base_url: "http://10.0.0.1"
      - base_url: "http://10.0.0.1"
)")),
              ElementsAre("upstreams[0].endpoints[1]: repeats upstreams[0].endpoints[0] (same "
                          "url and headers); give it a larger weight instead"));
}

TEST(UpstreamPoolConfig, BaseUrlAndEndpointsTogetherAreRefused) {
  EXPECT_THAT(errorsOf(poolWith("    base_url: \"http://a\"\n    endpoints:\n      - base_url: "
                                "\"http://b\"\n")),
              ElementsAre("upstreams[0].endpoints: give either base_url or endpoints, not both"));
}

TEST(UpstreamPoolConfig, NeitherBaseUrlNorEndpointsIsRefused) {
  EXPECT_THAT(errorsOf(poolWith("")), ElementsAre("upstreams[0].base_url: is required"));
}

TEST(UpstreamPoolConfig, BadEndpointFieldsNameTheirPaths) {
  EXPECT_THAT(errorsOf(poolWith(R"(    endpoints:
      - base_url: "ftp://x"
      - base_url: "http://y"
        weight: 0
        colour: red
      - "http://z"
)")),
              ElementsAre("upstreams[0].endpoints[0].base_url: must start with http:// or https://",
                          "upstreams[0].endpoints[1].colour: unknown key",
                          "upstreams[0].endpoints[1].weight: expected an integer from 1 to 10000",
                          "upstreams[0].endpoints[2]: expected a mapping with url (and "
                          "weight, headers)"));
}

TEST(UpstreamPoolConfig, EveryPoolKeyIsRead) {
  const Config config = parseValid(poolWith(kThreeEndpoints + R"(    balancer: weighted
    health: {path: /ready, interval_ms: 2000, timeout_ms: 500, unhealthy_after: 2, healthy_after: 4}
    outlier_detection:
      consecutive_connect_failures: 2
      consecutive_5xx: 0
      base_ejection_ms: 1000
      max_ejection_ms: 8000
      max_ejected_percent: 34
    max_outstanding: 64
    retry_on: [connect_error, ttft_timeout]
    max_attempts: 4
    ttft_timeout_ms: 1500
    retry_budget: {ratio: 0.25, min_per_second: 3, window_ms: 5000}
    load_signal: {kind: vllm, path: /metrics, interval_ms: 250}
)"));
  const UpstreamConfig& u = config.upstreams[0];
  EXPECT_EQ(u.balancer, "weighted");
  EXPECT_TRUE(u.health.enabled);
  EXPECT_EQ(u.health.path, "/ready");
  EXPECT_EQ(u.health.interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(u.health.timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(u.health.unhealthy_after, 2u);
  EXPECT_EQ(u.health.healthy_after, 4u);
  EXPECT_EQ(u.outlier_detection.consecutive_connect_failures, 2u);
  EXPECT_EQ(u.outlier_detection.consecutive_5xx, 0u);
  EXPECT_EQ(u.outlier_detection.base_ejection, std::chrono::milliseconds(1000));
  EXPECT_EQ(u.outlier_detection.max_ejection, std::chrono::milliseconds(8000));
  EXPECT_EQ(u.outlier_detection.max_ejected_percent, 34u);
  EXPECT_EQ(u.max_outstanding, 64u);
  EXPECT_EQ(u.retry_on, kFailConnectError | kFailTtftTimeout);
  EXPECT_EQ(u.max_attempts, 4u);
  EXPECT_EQ(u.ttft_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(u.retry_budget.ratio_ppm, 250'000u);
  EXPECT_EQ(u.retry_budget.min_per_second, 3u);
  EXPECT_EQ(u.retry_budget.window, std::chrono::milliseconds(5000));
  EXPECT_TRUE(u.load_signal.enabled);
  EXPECT_EQ(u.load_signal.interval, std::chrono::milliseconds(250));
}

TEST(UpstreamPoolConfig, BadPoolValuesNameTheirPaths) {
  const auto errors = errorsOf(poolWith(R"(    base_url: "http://a"
    balancer: random
    health: {path: ready, interval_ms: 10}
    outlier_detection: {base_ejection_ms: 5000, max_ejection_ms: 1000, max_ejected_percent: 101}
    retry_on: [connect_error, 404, connect_error]
    max_attempts: 0
    retry_budget: {ratio: 1.5}
    load_signal: {kind: tgi}
)"));
  EXPECT_THAT(errors,
              ElementsAre("upstreams[0].balancer: must be one of p2c_ewma, least_outstanding, "
                          "round_robin, weighted",
                          "upstreams[0].health.path: must start with / and hold no spaces, control "
                          "characters or #",
                          "upstreams[0].health.interval_ms: expected an integer of milliseconds "
                          "from 100 to 86400000",
                          "upstreams[0].outlier_detection.max_ejection_ms: must not be below "
                          "base_ejection_ms",
                          "upstreams[0].outlier_detection.max_ejected_percent: expected an integer "
                          "from 0 to 100",
                          "upstreams[0].retry_on[1]: must be one of connect_error, 429, 5xx, "
                          "ttft_timeout",
                          "upstreams[0].retry_on[2]: listed twice",
                          "upstreams[0].max_attempts: expected an integer from 1 to 10",
                          "upstreams[0].retry_budget.ratio: expected a decimal from 0 to 1 with at "
                          "most 6 decimal places",
                          "upstreams[0].load_signal.kind: must be vllm"));
}

const std::string kFallbackPair = R"(upstreams:
  - name: openai
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["gpt-*"]
    fallbacks:
      - upstream: claude-compat
        model: claude-sonnet-4-5
        on: [429, ttft_timeout]
      - backup
  - name: claude-compat
    dialect: openai
    base_url: "http://127.0.0.1:9101"
    models: ["claude-*"]
  - name: backup
    dialect: openai
    base_url: "http://127.0.0.1:9102"
    models: ["*"]
)";

TEST(UpstreamPoolConfig, ContractExampleWithUrlAndFallbackOnIsRead) {
  const Config config = parseValid(R"(upstreams:
  - name: vllm-llama
    dialect: openai
    endpoints:
      - { url: "http://10.0.0.5:8000", weight: 1 }
      - { url: "http://10.0.0.6:8000", weight: 1, headers: { authorization: "Bearer k2" } }
    balancer: p2c_ewma
    health: { path: "/health", interval_ms: 2000, unhealthy_after: 3, healthy_after: 2 }
    max_outstanding: 256
    ttft_timeout_ms: 10000
    fallbacks: [anthropic-backup]
    fallback_on: [connect_error, "429", 5xx]
    models: ["llama-3.1-70b*"]
  - name: anthropic-backup
    dialect: openai
    base_url: "https://api.anthropic.com/v1"
    models: ["*"]
)");
  const UpstreamConfig& u = config.upstreams[0];
  ASSERT_EQ(u.endpoints.size(), 2u);
  EXPECT_EQ(u.endpoints[1].host, "10.0.0.6");
  EXPECT_THAT(u.endpoints[1].headers, ElementsAre(Pair("authorization", "Bearer k2")));
  EXPECT_EQ(u.health.interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(u.max_outstanding, 256u);
  EXPECT_EQ(u.ttft_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(u.fallback_on, kFailConnectError | kFail429 | kFail5xx);
  ASSERT_EQ(u.fallbacks.size(), 1u);
  EXPECT_EQ(u.fallbacks[0].upstream, "anthropic-backup");
  EXPECT_EQ(u.fallbacks[0].on, kFailConnectError | kFail429 | kFail5xx);
}

TEST(UpstreamPoolConfig, AnEndpointWithBothUrlAndBaseUrlIsRefused) {
  EXPECT_THAT(
      errorsOf(poolWith("    endpoints:\n      - {url: \"http://a\", base_url: \"http://b\"}\n")),
      ElementsAre("upstreams[0].endpoints[0].base_url: give either url or base_url, not both"));
  EXPECT_THAT(errorsOf(poolWith("    endpoints:\n      - {weight: 2}\n")),
              ElementsAre("upstreams[0].endpoints[0].url: is required"));
}

TEST(UpstreamPoolConfig, FallbacksAreReadInOrder) {
  const Config config = parseValid(kFallbackPair);
  const auto& fallbacks = config.upstreams[0].fallbacks;
  ASSERT_EQ(fallbacks.size(), 2u);
  EXPECT_EQ(fallbacks[0].upstream, "claude-compat");
  EXPECT_EQ(fallbacks[0].model, "claude-sonnet-4-5");
  EXPECT_EQ(fallbacks[0].on, kFail429 | kFailTtftTimeout);
  EXPECT_EQ(fallbacks[1].upstream, "backup");
  EXPECT_EQ(fallbacks[1].model, "");
  EXPECT_EQ(fallbacks[1].on, kAllUpstreamFailures);
}

TEST(UpstreamPoolConfig, FallbackToAnUnknownUpstreamIsRefused) {
  EXPECT_THAT(errorsOf(poolWith("    base_url: \"http://a\"\n    fallbacks: [nowhere]\n")),
              ElementsAre("upstreams[0].fallbacks[0]: names no upstream (\"nowhere\")"));
}

TEST(UpstreamPoolConfig, FallbackToItselfIsRefused) {
  EXPECT_THAT(errorsOf(poolWith("    base_url: \"http://a\"\n    fallbacks: [pool]\n")),
              ElementsAre("upstreams[0].fallbacks[0]: an upstream cannot fall back to itself "
                          "(its endpoints already retry)"));
}

TEST(UpstreamPoolConfig, FallbackModelTheTargetDoesNotServeIsRefused) {
  std::string yaml = kFallbackPair;
  yaml.replace(yaml.find("claude-sonnet-4-5"), 17, "gemini-2.5-pro");
  EXPECT_THAT(errorsOf(yaml), ElementsAre("upstreams[0].fallbacks[0].model: model "
                                          "\"gemini-2.5-pro\" is not served by \"claude-compat\" "
                                          "(no glob of its models matches)"));
}

TEST(UpstreamPoolConfig, FallbackOfAnotherDialectIsRefused) {
  const auto errors = errorsOf(R"(upstreams:
  - name: a
    dialect: openai
    base_url: "http://a"
    models: ["*"]
    fallbacks: [b]
  - name: b
    dialect: anthropic
    base_url: "http://b"
    models: ["*"]
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("upstreams[0].fallbacks[0]: falls back to \"b\" of dialect "
                                   "anthropic, not openai"));
}

TEST(UpstreamPoolConfig, FallbackCycleIsRefusedNamingItsPath) {
  EXPECT_THAT(errorsOf(R"(upstreams:
  - name: a
    dialect: openai
    base_url: "http://a"
    models: ["*"]
    fallbacks: [b]
  - name: b
    dialect: openai
    base_url: "http://b"
    models: ["*"]
    fallbacks: [c]
  - name: c
    dialect: openai
    base_url: "http://c"
    models: ["*"]
    fallbacks: [{upstream: a, on: [5xx]}]
)"),
              ElementsAre("upstreams[2].fallbacks[0]: fallbacks form a cycle: a -> b -> c -> a"));
}

TEST(UpstreamPoolConfig, FallbackChainWithoutCycleIsAccepted) {
  const Config config = parseValid(R"(upstreams:
  - name: a
    dialect: openai
    base_url: "http://a"
    models: ["*"]
    fallbacks: [b, c]
  - name: b
    dialect: openai
    base_url: "http://b"
    models: ["*"]
    fallbacks: [c]
  - name: c
    dialect: openai
    base_url: "http://c"
    models: ["*"]
)");
  EXPECT_THAT(config.upstreams[1].fallbacks,
              Contains(::testing::Field(&UpstreamFallback::upstream, "c")));
}

TEST(UpstreamPoolConfig, BadFallbackEntriesNameTheirPaths) {
  EXPECT_THAT(errorsOf(poolWith(R"(    base_url: "http://a"
    fallbacks:
      - {model: x}
      - [a]
      - {upstream: pool, on: [timeout]}
)")),
              ElementsAre("upstreams[0].fallbacks[0].upstream: is required",
                          "upstreams[0].fallbacks[1]: expected an upstream name or a mapping "
                          "{upstream, model, on}",
                          "upstreams[0].fallbacks[2].on[0]: must be one of connect_error, 429, "
                          "5xx, ttft_timeout"));
}

TEST(UpstreamPoolConfig, PoolKeysAreAllActedOnSoNoneIsWarnedAbout) {
  std::string yaml = poolWith(kThreeEndpoints);
  yaml += "    ttft_timeout_ms: 500\n";
  const Config pooled = parseValid(yaml);
  for (const auto& warning : pooled.warnings)
    EXPECT_THAT(warning, ::testing::Not(HasSubstr("not acted on")));
  const Config fallbacks = parseValid(kFallbackPair);
  for (const auto& warning : fallbacks.warnings)
    EXPECT_THAT(warning, ::testing::Not(HasSubstr("not acted on")));
}

TEST(UpstreamPoolConfig, AFallbackModelOnADialectWithTheModelInThePathIsRefused) {
  const auto errors = errorsOf(R"(upstreams:
  - name: a
    dialect: gemini
    base_url: "http://a"
    models: ["gemini-2.5-pro"]
    fallbacks: [{upstream: b, model: gemini-2.5-flash}]
  - name: b
    dialect: gemini
    base_url: "http://b"
    models: ["gemini-*"]
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("upstreams[0].fallbacks[0].model: a fallback to another model "
                                   "needs a dialect that names the model in the body"));
}

}  // namespace
}  // namespace tollgate::config
