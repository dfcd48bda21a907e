// events.open_calls: the open-call journal's keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"

namespace tollgate::config {
namespace {

using ::testing::ElementsAre;

const std::string kUpstreams = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
)";

std::variant<Config, std::vector<ConfigError>> parse(const std::string& events_yaml) {
  return parseConfig(kUpstreams + events_yaml,
                     [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
}

std::vector<std::string> errorsOf(const std::string& events_yaml) {
  auto result = parse(events_yaml);
  std::vector<std::string> out;
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    for (const auto& e : *errors) out.push_back(e.toString());
  }
  return out;
}

TEST(OpenCallsConfig, OnByDefaultForCallsLongerThanThreeSeconds) {
  auto result = parse("");
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  const auto& open_calls = std::get<Config>(result).events.open_calls;
  EXPECT_TRUE(open_calls.enabled);
  EXPECT_EQ(open_calls.after, std::chrono::milliseconds(3000));
  EXPECT_EQ(open_calls.refresh, std::chrono::milliseconds(1000));
  EXPECT_FALSE(open_calls.fsync);
  EXPECT_EQ(open_calls.dir, "");
}

TEST(OpenCallsConfig, EveryKeyIsRead) {
  auto result = parse(
      "events: { open_calls: { enabled: false, after_ms: 500, refresh_ms: 250, fsync: true, "
      "dir: /var/lib/tollgate/open-calls } }\n");
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  const auto& open_calls = std::get<Config>(result).events.open_calls;
  EXPECT_FALSE(open_calls.enabled);
  EXPECT_EQ(open_calls.after, std::chrono::milliseconds(500));
  EXPECT_EQ(open_calls.refresh, std::chrono::milliseconds(250));
  EXPECT_TRUE(open_calls.fsync);
  EXPECT_EQ(open_calls.dir, "/var/lib/tollgate/open-calls");
}

TEST(OpenCallsConfig, ThresholdsBelowATenthOfASecondAreRejected) {
  EXPECT_THAT(errorsOf("events: { open_calls: { after_ms: 10, refresh_ms: 0 } }\n"),
              ElementsAre("events.open_calls.after_ms: expected an integer of milliseconds from "
                          "100 to 3600000",
                          "events.open_calls.refresh_ms: expected an integer of milliseconds "
                          "from 100 to 600000"));
}

TEST(OpenCallsConfig, UnknownKeysAndAnEmptyDirAreRejected) {
  EXPECT_THAT(errorsOf("events: { open_calls: { dir: \"\", every_ms: 5, fsync: often } }\n"),
              ElementsAre("events.open_calls.every_ms: unknown key",
                          testing::StartsWith("events.open_calls.fsync: "),
                          "events.open_calls.dir: must not be empty"));
}

}  // namespace
}  // namespace tollgate::config
