// The telemetry:, metrics: and access_log: sections (issue 6).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"
#include "tests/config/section_parse.h"

namespace tollgate::config {
namespace {

using ::testing::ElementsAre;

Config parseValid(const std::string& yaml) { return testing::parseSection(yaml); }

std::vector<std::string> errorsOf(const std::string& yaml) { return testing::sectionErrors(yaml); }

TEST(TelemetryConfigTest, DefaultsLeaveTracingOffAndAccessLogOff) {
  const Config c = parseValid("");
  EXPECT_EQ(c.telemetry.otlp_endpoint, "");
  EXPECT_EQ(c.telemetry.sample_ratio, 1.0);
  EXPECT_EQ(c.telemetry.service_name, "tollgate");
  EXPECT_EQ(c.telemetry.queue_size, 8192u);
  EXPECT_EQ(c.telemetry.batch_size, 512u);
  EXPECT_EQ(c.telemetry.export_interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.metrics.max_label_values, 100u);
  EXPECT_FALSE(c.access_log.enabled);
  EXPECT_EQ(c.access_log.format, "json");
  EXPECT_EQ(c.access_log.path, "-");
}

TEST(TelemetryConfigTest, EveryKeyIsRead) {
  const Config c = parseValid(R"(
telemetry:
  otlp_endpoint: "http://otel-collector:4318"
  sample_ratio: 0.25
  service_name: gateway-eu
  queue_size: 100
  batch_size: 10
  export_interval_ms: 250
metrics:
  max_label_values: 7
access_log:
  enabled: true
  format: kv
  path: /var/log/tollgate/access.log
)");
  EXPECT_EQ(c.telemetry.otlp_endpoint, "http://otel-collector:4318");
  EXPECT_EQ(c.telemetry.otlp_host, "otel-collector");
  EXPECT_EQ(c.telemetry.otlp_port, 4318);
  EXPECT_EQ(c.telemetry.otlp_path, "/v1/traces");
  EXPECT_EQ(c.telemetry.sample_ratio, 0.25);
  EXPECT_EQ(c.telemetry.service_name, "gateway-eu");
  EXPECT_EQ(c.telemetry.queue_size, 100u);
  EXPECT_EQ(c.telemetry.batch_size, 10u);
  EXPECT_EQ(c.telemetry.export_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(c.metrics.max_label_values, 7u);
  EXPECT_TRUE(c.access_log.enabled);
  EXPECT_EQ(c.access_log.format, "kv");
  EXPECT_EQ(c.access_log.path, "/var/log/tollgate/access.log");
}

TEST(TelemetryConfigTest, EndpointPrefixAndDefaultPortAreKept) {
  const Config c = parseValid("telemetry:\n  otlp_endpoint: \"http://[::1]/otel/\"\n");
  EXPECT_EQ(c.telemetry.otlp_host, "::1");
  EXPECT_EQ(c.telemetry.otlp_port, 80);
  EXPECT_EQ(c.telemetry.otlp_path, "/otel/v1/traces");
}

TEST(TelemetryConfigTest, SampleRatioBoundsAreInclusive) {
  EXPECT_EQ(parseValid("telemetry:\n  sample_ratio: 0\n").telemetry.sample_ratio, 0.0);
  EXPECT_EQ(parseValid("telemetry:\n  sample_ratio: 1\n").telemetry.sample_ratio, 1.0);
}

TEST(TelemetryConfigTest, BadValuesNameTheirKeyPath) {
  EXPECT_THAT(
      errorsOf(R"(
telemetry:
  otlp_endpoint: "https://collector:4318"
  sample_ratio: 1.5
  service_name: ""
  queue_size: 0
  batch_size: 70000
  export_interval_ms: -1
  exporter: grpc
metrics:
  max_label_values: 0
access_log:
  enabled: maybe
  format: xml
)"),
      ElementsAre(
          "telemetry.exporter: unknown key",
          "telemetry.otlp_endpoint: must start with http:// (run an OpenTelemetry Collector for "
          "TLS)",
          "telemetry.sample_ratio: expected a number from 0 to 1",
          "telemetry.service_name: must not be empty",
          "telemetry.queue_size: expected a positive integer of spans (at most 16777216)",
          "telemetry.batch_size: expected a positive integer of spans (at most 65536)",
          "telemetry.export_interval_ms: expected a positive integer of milliseconds (at most "
          "86400000)",
          "metrics.max_label_values: expected a positive integer (at most 10000)",
          "access_log.enabled: expected a boolean (true or false)",
          "access_log.format: must be json or kv"));
}

TEST(TelemetryConfigTest, SampleRatioRejectsSignsAndExponents) {
  EXPECT_THAT(errorsOf("telemetry:\n  sample_ratio: 1e-1\n"),
              ElementsAre("telemetry.sample_ratio: expected a number from 0 to 1"));
  EXPECT_THAT(errorsOf("telemetry:\n  sample_ratio: -0\n"),
              ElementsAre("telemetry.sample_ratio: expected a number from 0 to 1"));
}

TEST(TelemetryConfigTest, EndpointWithoutHostIsRejected) {
  EXPECT_THAT(errorsOf("telemetry:\n  otlp_endpoint: \"collector:4318\"\n"),
              ElementsAre("telemetry.otlp_endpoint: must start with http:// or https://"));
}

}  // namespace
}  // namespace tollgate::config
