// Loader: the logging:, telemetry:, metrics: and access_log: sections.
#include "config/loader.h"

namespace tollgate::config {

void Loader::loadLogging(const YAML::Node& node, LoggingConfig& logging) {
  if (!checkSection(node, "logging", {"level"})) return;
  if (auto n = child(node, "level")) {
    if (auto text = oneOf(*n, "logging.level", {"trace", "debug", "info", "warn", "error", "off"},
                          "must be one of trace, debug, info, warn, error, off")) {
      logging.level = *text;
    }
  }
}

void Loader::loadTelemetry(const YAML::Node& node, TelemetryConfig& telemetry) {
  if (!checkSection(node, "telemetry",
                    {"otlp_endpoint", "sample_ratio", "service_name", "queue_size", "batch_size",
                     "export_interval_ms"})) {
    return;
  }
  if (auto n = child(node, "otlp_endpoint")) {
    if (auto text = stringValue(*n, "telemetry.otlp_endpoint"); text && !text->empty()) {
      // The exporter speaks plain HTTP: a collector normally runs beside the gateway.
      UpstreamConfig parsed;
      const size_t before = errors_.size();
      if (lowerAscii(text->substr(0, 8)) == "https://") {
        error("telemetry.otlp_endpoint",
              "must start with http:// (run an OpenTelemetry Collector for TLS)");
      } else {
        parseBaseUrl(*text, "telemetry.otlp_endpoint", parsed);
      }
      if (errors_.size() == before) {
        telemetry.otlp_endpoint = *text;
        telemetry.otlp_host = parsed.host;
        telemetry.otlp_port = parsed.port;
        telemetry.otlp_path = parsed.base_path + "/v1/traces";
      }
    }
  }
  if (auto n = child(node, "sample_ratio")) {
    static constexpr std::string_view kExpected = "a number from 0 to 1";
    if (auto text = scalar(*n, "telemetry.sample_ratio", kExpected)) {
      char* end = nullptr;
      errno = 0;
      const double ratio = std::strtod(text->c_str(), &end);
      const bool digits_only =
          !text->empty() && std::all_of(text->begin(), text->end(), [](unsigned char c) {
            return std::isdigit(c) || c == '.';
          });
      if (!digits_only || errno != 0 || end != text->c_str() + text->size() || ratio < 0.0 ||
          ratio > 1.0) {
        error("telemetry.sample_ratio", "expected " + std::string(kExpected));
      } else {
        telemetry.sample_ratio = ratio;
      }
    }
  }
  if (auto n = child(node, "service_name")) {
    if (auto text = nonEmptyString(*n, "telemetry.service_name")) telemetry.service_name = *text;
  }
  if (auto n = child(node, "queue_size")) {
    if (auto v = integer(*n, "telemetry.queue_size", 1, kMaxQueueCapacity,
                         "a positive integer of spans (at most 16777216)")) {
      telemetry.queue_size = static_cast<size_t>(*v);
    }
  }
  if (auto n = child(node, "batch_size")) {
    if (auto v = integer(*n, "telemetry.batch_size", 1, kMaxSpanBatch,
                         "a positive integer of spans (at most 65536)")) {
      telemetry.batch_size = static_cast<size_t>(*v);
    }
  }
  if (auto n = child(node, "export_interval_ms")) {
    if (auto v = integer(*n, "telemetry.export_interval_ms", 1, kMaxTimeoutMs,
                         "a positive integer of milliseconds (at most 86400000)")) {
      telemetry.export_interval = std::chrono::milliseconds(*v);
    }
  }
}

void Loader::loadMetrics(const YAML::Node& node, MetricsConfig& metrics) {
  if (!checkSection(node, "metrics", {"max_label_values"})) return;
  if (auto n = child(node, "max_label_values")) {
    if (auto v = integer(*n, "metrics.max_label_values", 1, kMaxLabelValues,
                         "a positive integer (at most 10000)")) {
      metrics.max_label_values = static_cast<size_t>(*v);
    }
  }
}

void Loader::loadAccessLog(const YAML::Node& node, AccessLogConfig& access_log) {
  if (!checkSection(node, "access_log", {"enabled", "format", "path"})) return;
  if (auto n = child(node, "enabled")) {
    if (auto v = boolean(*n, "access_log.enabled")) access_log.enabled = *v;
  }
  if (auto n = child(node, "format")) {
    if (auto text = oneOf(*n, "access_log.format", {"json", "kv"}, "must be json or kv")) {
      access_log.format = *text;
    }
  }
  if (auto n = child(node, "path")) {
    if (auto text = nonEmptyString(*n, "access_log.path")) access_log.path = *text;
  }
}

}  // namespace tollgate::config
