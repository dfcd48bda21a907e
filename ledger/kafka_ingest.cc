#include "ledger/kafka_ingest.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "ledger/cost_event_parser.h"

namespace tollgate::ledger {
namespace {

// How long a consumer waits for its first assignment before it gives up (the brokers are down,
// or the group has more members than the topic has partitions).
constexpr auto kAssignmentTimeout = std::chrono::seconds(60);
constexpr int kPollMs = 200;
// How long a member stays with no partition assigned before it concludes it has none to read.
constexpr int kUnassignedExitMs = 10'000;

struct ConsumerDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// What the rebalance callback and the loop share.
struct Session {
  Store* store = nullptr;
  std::string topic;
  std::set<int32_t> assigned;
  std::set<int32_t> at_end;
  std::function<bool()> flush;  // books the pending batch; false on a store error
  std::string error;
  bool assigned_once = false;
};

std::string sourceName(const std::string& topic, int32_t partition) {
  return "kafka:" + topic + ":" + std::to_string(partition);
}

void onRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                 void* opaque) {
  auto* s = static_cast<Session*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // The group's committed offsets, for partitions the store has never booked.
    rd_kafka_committed(rk, parts, 10'000);
    for (int i = 0; i < parts->cnt; ++i) {
      auto& p = parts->elems[i];
      std::string error;
      auto stored = s->store->sourcePosition(sourceName(p.topic, p.partition), error);
      if (!stored) {
        s->error = "store: " + error;
      } else if (*stored > 0) {
        p.offset = *stored;
      } else if (p.offset < 0) {
        // Neither booked nor committed: a new group reads the partition from its start.
        p.offset = RD_KAFKA_OFFSET_BEGINNING;
      }
      s->assigned.insert(p.partition);
      s->at_end.erase(p.partition);
    }
    s->assigned_once = true;
    rd_kafka_assign(rk, parts);
  } else {
    // Book what was read from these partitions before another member takes them over.
    if (s->flush && !s->flush()) s->error = "store commit during rebalance failed";
    for (int i = 0; i < parts->cnt; ++i) {
      s->assigned.erase(parts->elems[i].partition);
      s->at_end.erase(parts->elems[i].partition);
    }
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace

std::optional<IngestStats> KafkaIngest::run(std::string& error,
                                            const FileIngest::BatchCallback& on_batch,
                                            const FileIngest::MalformedCallback& on_malformed) {
  const KafkaSourceConfig& kafka = *config_.kafka;
  Session session;
  session.store = &store_;
  session.topic = kafka.topic;

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& name, const std::string& value, const std::string& where) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      error = where + ": " + err;
      return false;
    }
    return true;
  };
  // auto.offset.reset=error: a position that is out of range means events were deleted (by
  // retention) before they were booked, which must stop the ingest rather than be skipped.
  // source.kafka.properties may set it to earliest to accept that loss knowingly.
  bool ok = set("bootstrap.servers", kafka.brokers, "source.kafka.brokers") &&
            set("group.id", kafka.group, "source.kafka.group") &&
            set("auto.offset.reset", "error", "source.kafka") &&
            set("enable.partition.eof", "true", "source.kafka");
  for (const auto& [name, value] : kafka.properties) {
    ok = ok && set(name, value, "source.kafka.properties." + name);
  }
  // Offsets are committed by hand after the store: never by librdkafka on its own.
  ok = ok && set("enable.auto.commit", "false", "source.kafka") &&
       set("enable.auto.offset.store", "false", "source.kafka");
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return std::nullopt;
  }
  rd_kafka_conf_set_rebalance_cb(conf, &onRebalance);
  rd_kafka_conf_set_opaque(conf, &session);
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> rk(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    error = std::string("cannot create the Kafka consumer: ") + err;
    return std::nullopt;
  }
  rd_kafka_poll_set_consumer(rk.get());
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), kafka.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(rk.get(), topics.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("subscribe ") + kafka.topic + ": " + rd_kafka_err2str(e);
    return std::nullopt;
  }

  IngestStats stats;
  CostEventParser parser;
  std::vector<CostRecord> records;
  std::vector<std::string> raw_lines;
  std::map<int32_t, int64_t> next_offsets;  // of the pending batch
  size_t batch_messages = 0;

  session.flush = [&]() -> bool {
    if (batch_messages == 0) return true;
    std::vector<Store::SourcePosition> positions;
    for (const auto& [partition, offset] : next_offsets) {
      positions.emplace_back(sourceName(kafka.topic, partition), offset);
    }
    std::vector<std::string_view> raw(raw_lines.begin(), raw_lines.end());
    auto result = store_.commitBatch(positions, records, raw, error);
    if (!result) return false;
    // The store has it: now the group may move on. A failure here only means the next member
    // starts from the store's positions, which it does anyway.
    PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
    for (const auto& [partition, offset] : next_offsets) {
      rd_kafka_topic_partition_list_add(offsets.get(), kafka.topic.c_str(), partition)->offset =
          offset;
    }
    rd_kafka_commit(rk.get(), offsets.get(), 0);
    stats.booked += result->booked;
    stats.duplicates += result->duplicates;
    ++stats.batches;
    records.clear();
    raw_lines.clear();
    next_offsets.clear();
    batch_messages = 0;
    if (on_batch) on_batch(stats);
    return true;
  };

  const auto started = std::chrono::steady_clock::now();
  int unassigned_polls = 0;  // empty polls in a row while nothing is assigned
  while (true) {
    if (!session.error.empty()) {
      error = session.error + (error.empty() ? "" : ": " + error);
      break;
    }
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk.get(), kPollMs);
    if (msg == nullptr) {
      if (!session.flush()) break;
      const auto now = std::chrono::steady_clock::now();
      if (!session.assigned_once && now - started > kAssignmentTimeout) {
        error = "no partition of " + kafka.topic + " was assigned within 60 s";
        break;
      }
      // A member with nothing assigned (more members than partitions) has nothing to read;
      // a rebalance leaves it empty only for a moment.
      if (!session.assigned_once || !session.assigned.empty()) {
        unassigned_polls = 0;
      } else if (++unassigned_polls * kPollMs > kUnassignedExitMs) {
        rd_kafka_consumer_close(rk.get());
        return stats;
      }
      continue;
    }
    std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> guard(
        msg, &rd_kafka_message_destroy);
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      session.at_end.insert(msg->partition);
      if (session.assigned_once && session.at_end.size() >= session.assigned.size()) {
        if (!session.flush()) break;
        stats.position = static_cast<int64_t>(session.at_end.size());
        rd_kafka_consumer_close(rk.get());
        return stats;
      }
      continue;
    }
    if (msg->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
      error = "partition " + std::to_string(msg->partition) + " of " + kafka.topic +
              ": the next offset to book is no longer in the log (deleted by retention before "
              "the ledger read it?): " +
              rd_kafka_message_errstr(msg);
      break;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      char fatal[256];
      if (rd_kafka_fatal_error(rk.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = std::string("Kafka: ") + fatal;
        break;
      }
      // Transient (a broker down, a rebalance): librdkafka retries on its own.
      continue;
    }
    session.at_end.erase(msg->partition);
    const std::string_view value(static_cast<const char*>(msg->payload), msg->len);
    ++stats.lines;
    ++batch_messages;
    next_offsets[msg->partition] = msg->offset + 1;
    auto parsed = parser.parse(value);
    if (parsed.status == ParseStatus::kRecord) {
      records.push_back(std::move(parsed.record));
      if (config_.keep_raw) raw_lines.emplace_back(value);
    } else if (parsed.status == ParseStatus::kOtherType) {
      ++stats.other_types;
    } else {
      ++stats.malformed;
      if (on_malformed) on_malformed(msg->offset, parsed.error);
    }
    if (batch_messages >= config_.batch_events && !session.flush()) break;
  }
  rd_kafka_consumer_close(rk.get());
  if (error.empty()) error = "Kafka ingest stopped";
  return std::nullopt;
}

}  // namespace tollgate::ledger
