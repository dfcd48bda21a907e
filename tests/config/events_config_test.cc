// events.durability, events.spool, events.open_calls and the Kafka sink keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"

namespace tollgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

const std::string kUpstreams = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
)";

EnvLookup noEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

std::variant<Config, std::vector<ConfigError>> parse(const std::string& events_yaml) {
  return parseConfig(kUpstreams + events_yaml, noEnv());
}

std::vector<std::string> errorsOf(const std::string& events_yaml) {
  auto result = parse(events_yaml);
  std::vector<std::string> out;
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    for (const auto& e : *errors) out.push_back(e.toString());
  }
  return out;
}

TEST(EventsConfig, DefaultsAreSpoolDurabilityAndTeamKey) {
  auto result = parse("");
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  const EventsConfig& events = std::get<Config>(result).events;
  EXPECT_EQ(events.durability, "spool");
  EXPECT_EQ(events.spool.dir, "var/spool");
  EXPECT_EQ(events.spool.max_bytes, 1ull << 30);
  EXPECT_EQ(events.spool.segment_bytes, 64ull << 20);
  EXPECT_EQ(events.spool.fsync_interval, std::chrono::milliseconds(0));
  EXPECT_TRUE(events.spool.mmap);
  EXPECT_EQ(events.kafka.key, "team");
  EXPECT_EQ(events.kafka.flush_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(events.kafka.queue_capacity, 65536u);
}

TEST(EventsConfig, EveryKafkaAndSpoolKeyIsRead) {
  auto result = parse(R"(
events:
  sink: kafka
  durability: memory
  spool: { dir: "/var/lib/tollgate/spool", max_bytes: 1048576, segment_bytes: 65536,
           fsync_interval_ms: 1000, mmap: false }
  kafka:
    brokers: "k1:9092,k2:9092"
    topic: finance.cost
    key: project
    flush_timeout_ms: 2500
    queue_capacity: 1000
    properties: { security.protocol: SASL_SSL, compression.type: lz4 }
)");
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  const EventsConfig& events = std::get<Config>(result).events;
  EXPECT_EQ(events.sink, "kafka");
  EXPECT_EQ(events.durability, "memory");
  EXPECT_EQ(events.spool.dir, "/var/lib/tollgate/spool");
  EXPECT_EQ(events.spool.max_bytes, 1048576u);
  EXPECT_EQ(events.spool.segment_bytes, 65536u);
  EXPECT_EQ(events.spool.fsync_interval, std::chrono::milliseconds(1000));
  EXPECT_FALSE(events.spool.mmap);
  EXPECT_EQ(events.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(events.kafka.topic, "finance.cost");
  EXPECT_EQ(events.kafka.key, "project");
  EXPECT_EQ(events.kafka.flush_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(events.kafka.queue_capacity, 1000u);
  EXPECT_THAT(events.kafka.properties,
              ElementsAre(Pair("security.protocol", "SASL_SSL"), Pair("compression.type", "lz4")));
}

TEST(EventsConfig, UnknownDurabilityIsRejected) {
  EXPECT_THAT(errorsOf("events: { durability: disk }\n"),
              ElementsAre("events.durability: must be spool or memory"));
}

TEST(EventsConfig, UnknownKafkaKeyFieldIsRejected) {
  EXPECT_THAT(errorsOf("events: { kafka: { key: model } }\n"),
              ElementsAre("events.kafka.key: must be one of team, project, cost_center, "
                          "workload_type, environment, none"));
}

TEST(EventsConfig, SpoolBoundSmallerThanASegmentIsRejected) {
  EXPECT_THAT(errorsOf("events: { spool: { max_bytes: 65536, segment_bytes: 131072 } }\n"),
              ElementsAre("events.spool.max_bytes: must be at least events.spool.segment_bytes "
                          "(131072)"));
}

TEST(EventsConfig, SpoolSizesOutOfRangeAreRejected) {
  EXPECT_THAT(errorsOf("events: { spool: { segment_bytes: 100, max_bytes: 2000000000000 } }\n"),
              ElementsAre("events.spool.segment_bytes: expected an integer of bytes from 4096 to "
                          "1073741824",
                          "events.spool.max_bytes: expected an integer of bytes from 4096 to "
                          "1099511627776"));
}

TEST(EventsConfig, EmptySpoolDirAndUnknownSpoolKeyAreRejected) {
  EXPECT_THAT(errorsOf("events: { spool: { dir: \"\", path: x } }\n"),
              ElementsAre("events.spool.path: unknown key", "events.spool.dir: must not be empty"));
}

TEST(EventsConfig, SpoolFsyncIntervalOutOfRangeIsRejected) {
  EXPECT_THAT(errorsOf("events: { spool: { fsync_interval_ms: 60001 } }\n"),
              ElementsAre("events.spool.fsync_interval_ms: expected an integer of milliseconds "
                          "from 0 (never) to 60000"));
}

TEST(EventsConfig, SpoolMmapMustBeABoolean) {
  EXPECT_THAT(errorsOf("events: { spool: { mmap: sometimes } }\n"),
              ElementsAre(testing::StartsWith("events.spool.mmap: ")));
}

TEST(EventsConfig, FlushTimeoutMustBeAnInteger) {
  EXPECT_THAT(errorsOf("events: { kafka: { flush_timeout_ms: soon } }\n"),
              ElementsAre("events.kafka.flush_timeout_ms: expected an integer of milliseconds "
                          "from 0 to 86400000"));
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
