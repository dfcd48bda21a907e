// keys:, attribution policy and upstreams[].passthrough_auth.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace tollgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kHashA = "749ce0db1827db657a7e2060ae27f665f6c3b3f00b320c2aa92236e29f51b5c7";
const std::string kHashB = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

const std::string kUpstreams = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
)";

std::optional<std::string> noEnv(std::string_view) { return std::nullopt; }

Config parseValid(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    std::string all;
    for (const auto& e : *errors) all += e.toString() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << all;
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  auto result = parseConfig(yaml, noEnv);
  if (std::holds_alternative<Config>(result)) {
    ADD_FAILURE() << "expected errors, the config was accepted";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& e : std::get<std::vector<ConfigError>>(result)) out.push_back(e.toString());
  return out;
}

TEST(KeysConfigTest, WithoutKeysTheGatewayIsOpenAndPolicyIsWarnOnTeam) {
  const Config config = parseValid(kUpstreams);
  EXPECT_THAT(config.keys, IsEmpty());
  EXPECT_FALSE(config.attribution_policy.enforce);
  EXPECT_THAT(config.attribution_policy.required, ElementsAre("team"));
  EXPECT_EQ(config.attribution_policy.tags.max_count, 16u);
  EXPECT_EQ(config.attribution_policy.tags.max_key_bytes, 64u);
  EXPECT_EQ(config.attribution_policy.tags.max_value_bytes, 128u);
  EXPECT_FALSE(config.upstreams[0].passthrough_auth);
}

TEST(KeysConfigTest, KeysAndPolicyAreReadFieldByField) {
  const Config config = parseValid(kUpstreams + R"(
keys:
  - id: fraud-prod
    sha256: ")" + kHashA + R"("
    team: fraud-platform
    cost_center: cc-4815
    projects: [fraud-detector-v2, fraud-batch]
    environment: prod
    models: ["gpt-4o*", "claude-*"]
  - id: search-dev
    sha256: ")" + std::string("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD") +
                                   R"("
attribution:
  mode: enforce
  required: [team, project, workload_type]
  tags: { max_count: 4, max_key_bytes: 8, max_value_bytes: 16 }
  headers: { team: x-billing-team }
)");
  ASSERT_EQ(config.keys.size(), 2u);
  const KeyConfig& a = config.keys[0];
  EXPECT_EQ(a.id, "fraud-prod");
  EXPECT_EQ(a.sha256, kHashA);
  EXPECT_EQ(a.team, "fraud-platform");
  EXPECT_EQ(a.cost_center, "cc-4815");
  EXPECT_THAT(a.projects, ElementsAre("fraud-detector-v2", "fraud-batch"));
  EXPECT_EQ(a.environment, "prod");
  EXPECT_THAT(a.models, ElementsAre("gpt-4o*", "claude-*"));
  const KeyConfig& b = config.keys[1];
  EXPECT_EQ(b.sha256, kHashB);  // stored lower-case
  EXPECT_EQ(b.team, "");
  EXPECT_THAT(b.projects, IsEmpty());
  EXPECT_THAT(b.models, IsEmpty());
  EXPECT_TRUE(config.attribution_policy.enforce);
  EXPECT_THAT(config.attribution_policy.required, ElementsAre("team", "project", "workload_type"));
  EXPECT_EQ(config.attribution_policy.tags.max_count, 4u);
  EXPECT_EQ(config.attribution_policy.tags.max_key_bytes, 8u);
  EXPECT_EQ(config.attribution_policy.tags.max_value_bytes, 16u);
  EXPECT_EQ(config.attribution_headers.team, "x-billing-team");
}

TEST(KeysConfigTest, RequiredMayBeEmptyAndModeWarn) {
  const Config config = parseValid(kUpstreams + "attribution:\n  mode: warn\n  required: []\n");
  EXPECT_FALSE(config.attribution_policy.enforce);
  EXPECT_THAT(config.attribution_policy.required, IsEmpty());
}

TEST(KeysConfigTest, PassthroughAuthIsAnUpstreamBoolean) {
  const Config config = parseValid(R"(
upstreams:
  - name: own-keys
    dialect: openai
    base_url: "https://api.openai.com"
    models: ["*"]
    passthrough_auth: true
)");
  EXPECT_TRUE(config.upstreams[0].passthrough_auth);
  EXPECT_THAT(errorsOf(R"(
upstreams:
  - name: own-keys
    dialect: openai
    base_url: "https://api.openai.com"
    models: ["*"]
    passthrough_auth: maybe
)"),
              ElementsAre("upstreams[0].passthrough_auth: expected a boolean (true or false)"));
}

TEST(KeysConfigTest, AnEmptyKeysSectionIsAnErrorNotAnOpenGateway) {
  EXPECT_THAT(errorsOf(kUpstreams + "keys: []\n"),
              ElementsAre("keys: must list at least one key (remove the keys section to run "
                          "open)"));
  EXPECT_THAT(errorsOf(kUpstreams + "keys:\n"),
              ElementsAre("keys: must list at least one key (remove the keys section to run "
                          "open)"));
}

TEST(KeysConfigTest, EveryKeyProblemIsReportedWithItsPath) {
  const auto errors = errorsOf(kUpstreams + R"(
keys:
  - id: a
    sha256: ")" + kHashA + R"("
    team: "fraud platform"
    projects: [ok, "bad project", ok]
    models: ["gpt-[4"]
    secret: "sk-in-the-file"
  - id: a
    sha256: ")" + kHashA + R"("
  - id: "bad id!"
    sha256: "not-a-hash"
  - team: t
  - just-a-string
)");
  EXPECT_THAT(
      errors,
      ElementsAre(
          "keys[0].secret: unknown key",
          "keys[0].team: must be 1 to 64 characters of [A-Za-z0-9._:/-]",
          "keys[0].projects[1]: must be 1 to 64 characters of [A-Za-z0-9._:/-]",
          "keys[0].projects[2]: duplicate project \"ok\"",
          "keys[0].models[0]: invalid glob: unterminated '[' at offset 4",
          "keys[1].id: duplicate key id \"a\" (already used by keys[0])",
          "keys[1].sha256: same key as keys[0] (hashes must be unique)",
          "keys[2].id: must be 1 to 64 characters of [A-Za-z0-9._:-]",
          "keys[2].sha256: must be 64 hexadecimal digits (the SHA-256 of the key, never the key)",
          "keys[3].id: is required", "keys[3].sha256: is required", "keys[4]: expected a mapping"));
}

TEST(KeysConfigTest, PolicyProblemsAreReportedWithTheirPath) {
  EXPECT_THAT(errorsOf(kUpstreams + R"(
attribution:
  mode: strict
  required: [team, owner, team]
  tags: { max_count: 0, max_bytes: 3 }
)"),
              ElementsAre("attribution.mode: must be enforce or warn",
                          "attribution.required[1]: must be one of team, project, cost_center, "
                          "workload_type, environment",
                          "attribution.required[2]: duplicate label \"team\"",
                          "attribution.tags.max_bytes: unknown key",
                          "attribution.tags.max_count: expected an integer from 1 to 1024"));
  EXPECT_THAT(errorsOf(kUpstreams + "attribution:\n  required: team\n"),
              ElementsAre("attribution.required: expected a sequence of label names"));
}

}  // namespace
}  // namespace tollgate::config
