// Loader: the events: section (file and Kafka sinks, the spool).
#include "config/loader.h"

namespace tollgate::config {

void Loader::loadEvents(const YAML::Node& node, EventsConfig& events) {
  if (!checkSection(node, "events", {"sink", "durability", "file", "kafka", "spool", "open_calls"}))
    return;
  if (auto n = child(node, "sink")) {
    if (auto text =
            oneOf(*n, "events.sink", {"file", "kafka", "none"}, "must be file, kafka or none")) {
      events.sink = *text;
    }
  }
  if (auto n = child(node, "durability")) {
    if (auto text =
            oneOf(*n, "events.durability", {"spool", "memory"}, "must be spool or memory")) {
      events.durability = *text;
    }
  }
  if (auto n = child(node, "spool");
      n && checkSection(*n, "events.spool",
                        {"dir", "max_bytes", "segment_bytes", "fsync_interval_ms", "mmap"})) {
    loadSpool(*n, events.spool);
  }
  if (auto n = child(node, "open_calls")) loadOpenCalls(*n, events.open_calls);
  if (auto n = child(node, "file");
      n && checkSection(*n, "events.file", {"path", "queue_capacity"})) {
    if (auto p = child(*n, "path")) {
      if (auto text = nonEmptyString(*p, "events.file.path")) events.file.path = *text;
    }
    if (auto q = child(*n, "queue_capacity")) {
      if (auto v = integer(*q, "events.file.queue_capacity", 1, kMaxQueueCapacity,
                           "a positive integer of events (at most 16777216)")) {
        events.file.queue_capacity = static_cast<size_t>(*v);
      }
    }
  }
  if (auto n = child(node, "kafka"); n && checkSection(*n, "events.kafka",
                                                       {"brokers", "topic", "key", "properties",
                                                        "flush_timeout_ms", "queue_capacity"})) {
    loadKafka(*n, events.kafka);
  }
}

void Loader::loadSpool(const YAML::Node& node, SpoolConfig& spool) {
  if (auto n = child(node, "dir")) {
    if (auto text = nonEmptyString(*n, "events.spool.dir")) spool.dir = *text;
  }
  if (auto n = child(node, "segment_bytes")) {
    if (auto v = integer(*n, "events.spool.segment_bytes", kMinSegmentBytes, kMaxSegmentBytes,
                         "an integer of bytes from 4096 to 1073741824")) {
      spool.segment_bytes = *v;
    }
  }
  if (auto n = child(node, "max_bytes")) {
    if (auto v = integer(*n, "events.spool.max_bytes", kMinSegmentBytes, kMaxSpoolBytes,
                         "an integer of bytes from 4096 to 1099511627776")) {
      spool.max_bytes = *v;
    }
  }
  if (auto n = child(node, "fsync_interval_ms")) {
    if (auto v = integer(*n, "events.spool.fsync_interval_ms", 0, 60000,
                         "an integer of milliseconds from 0 (never) to 60000")) {
      spool.fsync_interval = std::chrono::milliseconds(static_cast<int64_t>(*v));
    }
  }
  if (auto n = child(node, "mmap")) {
    if (auto v = boolean(*n, "events.spool.mmap")) spool.mmap = *v;
  }
  // A segment is the unit of deletion: the bound must hold at least one whole segment.
  if (spool.max_bytes < spool.segment_bytes) {
    error("events.spool.max_bytes", "must be at least events.spool.segment_bytes (" +
                                        std::to_string(spool.segment_bytes) + ")");
  }
}

void Loader::loadKafka(const YAML::Node& node, KafkaSinkConfig& kafka) {
  if (auto n = child(node, "brokers")) {
    if (auto text = nonEmptyString(*n, "events.kafka.brokers")) kafka.brokers = *text;
  }
  if (auto n = child(node, "key")) {
    if (auto text =
            oneOf(*n, "events.kafka.key",
                  {"team", "project", "cost_center", "workload_type", "environment", "none"},
                  "must be one of team, project, cost_center, workload_type, "
                  "environment, none")) {
      kafka.key = *text;
    }
  }
  if (auto n = child(node, "flush_timeout_ms")) {
    if (auto v = integer(*n, "events.kafka.flush_timeout_ms", 0, kMaxTimeoutMs,
                         "an integer of milliseconds from 0 to 86400000")) {
      kafka.flush_timeout = std::chrono::milliseconds(static_cast<int64_t>(*v));
    }
  }
  if (auto n = child(node, "queue_capacity")) {
    if (auto v = integer(*n, "events.kafka.queue_capacity", 1, kMaxQueueCapacity,
                         "a positive integer of events (at most 16777216)")) {
      kafka.queue_capacity = static_cast<size_t>(*v);
    }
  }
  if (auto n = child(node, "topic")) {
    if (auto text = stringValue(*n, "events.kafka.topic")) {
      // Kafka's own rule for topic names.
      const bool valid = !text->empty() && text->size() <= 249 && *text != "." && *text != ".." &&
                         std::all_of(text->begin(), text->end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                         });
      if (valid) {
        kafka.topic = *text;
      } else {
        error("events.kafka.topic", "must be 1 to 249 characters of [A-Za-z0-9._-]");
      }
    }
  }
  if (auto n = child(node, "properties");
      n &&
      checkDataMap(*n, "events.kafka.properties", "a mapping of librdkafka property to value")) {
    forEachEntry(*n, "events.kafka.properties", false,
                 [&](const std::string& key, const YAML::Node& value, const std::string& key_path) {
                   if (key.empty()) {
                     error(key_path, "property name must not be empty");
                     return;
                   }
                   if (auto text = stringValue(value, key_path))
                     kafka.properties.emplace_back(key, *text);
                 });
  }
}

}  // namespace tollgate::config
