#include "gateway/server/reload.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <string>

#include "gateway/proxy/runtime.h"

namespace tollgate::gateway {
namespace {

constexpr std::string_view kYaml = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
prices:
  "gpt-4o-mini*": { input: "0.15", output: "0.60" }
)";

config::Config parse(std::string_view yaml) {
  auto parsed = config::parseConfig(yaml, [](std::string_view) { return std::nullopt; });
  EXPECT_EQ(parsed.index(), 0u);
  return std::get<0>(std::move(parsed));
}

// A long-lived policy (spend control's shape): must survive every reload.
class KeptPolicy : public CallPolicy {
 public:
  std::optional<PolicyRefusal> onHead(const Fields&, PolicyCall&) override { return {}; }
  std::optional<PolicyRefusal> onRequest(PolicyCall&) override { return {}; }
  void onFinished(PolicyCall&, const meter::CostEvent&) override {}
};

class ReloadTest : public ::testing::Test {
 protected:
  ReloadTest() {
    if (!spdlog::get("config")) spdlog::create<spdlog::sinks::null_sink_st>("config");
    RuntimeServices services;
    services.policies.push_back(kept_);
    holder_ = std::make_unique<RuntimeHolder>(std::make_shared<const Runtime>(
        std::make_shared<const config::Config>(parse(kYaml)), services));
  }

  std::string next_yaml_ = std::string(kYaml);
  std::shared_ptr<KeptPolicy> kept_ = std::make_shared<KeptPolicy>();
  std::unique_ptr<RuntimeHolder> holder_;
  ConfigReloader reloader_{[this] {
                             return config::parseConfig(
                                 next_yaml_, [](std::string_view) { return std::nullopt; });
                           },
                           "test"};
};

TEST_F(ReloadTest, NewConfigurationIsSwappedInAndLongLivedPoliciesAreKept) {
  const auto before = holder_->load();
  next_yaml_ = std::string(kYaml) + "  \"tollgate-test-model*\": { input: \"2\", output: \"8\" }\n";
  ASSERT_TRUE(reloader_.reload(*holder_));
  const auto after = holder_->load();
  EXPECT_NE(before, after);
  EXPECT_NE(after->prices.find("tollgate-test-model-1"), nullptr);
  EXPECT_EQ(before->prices.find("tollgate-test-model-1"),
            nullptr);  // calls in flight keep their snapshot
  ASSERT_EQ(after->services.policies.size(), 1u);
  EXPECT_EQ(after->services.policies[0], kept_);
  EXPECT_EQ(after->policies.size(), 2u);  // admission, then the kept policy
  EXPECT_EQ(reloader_.succeeded(), 1u);
}

TEST_F(ReloadTest, ConfigurationThatDoesNotLoadIsRefusedAndTheRunningOneStays) {
  const auto before = holder_->load();
  next_yaml_ = "upstreams: 12\n";
  EXPECT_FALSE(reloader_.reload(*holder_));
  EXPECT_EQ(holder_->load(), before);
  EXPECT_EQ(reloader_.failed(), 1u);
  std::string out;
  PrometheusWriter writer(out);
  reloader_.renderMetrics(writer);
  EXPECT_NE(out.find("tollgate_config_reloads_total{result=\"error\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("tollgate_config_reloads_total{result=\"ok\"} 0\n"), std::string::npos);
}

TEST_F(ReloadTest, UnusableTlsSettingIsRefusedByTheRuntimeItself) {
  const auto before = holder_->load();
  next_yaml_ = std::string(kYaml);
  next_yaml_.replace(next_yaml_.find("http://"), 7, "https://");
  next_yaml_.insert(next_yaml_.find("    models: [\"*\"]"),
                    "    tls: { ca_file: \"" TOLLGATE_TESTDATA_DIR "/not-a-ca.pem\" }\n");
  EXPECT_FALSE(reloader_.reload(*holder_));
  EXPECT_EQ(holder_->load(), before);
}

}  // namespace
}  // namespace tollgate::gateway
