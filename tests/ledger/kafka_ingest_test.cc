// tollgate-ledger ingest from the cost topic as a consumer group, against loadtest's
// kafka_mock_cluster (librdkafka's mock brokers) on loopback: the same exactly-once promise as
// the file source, with offsets committed to Kafka only after the store.

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>

#include "ledger/amount.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/event_builder.h"
#include "tests/ledger/ledger_process.h"

namespace tollgate::ledger {
namespace {

using namespace std::chrono_literals;
using tollgate::testing::KafkaMockCluster;
using tollgate::testing::Process;
using tollgate::testing::TempDir;

using testing::ledgerBin;

// Produces the lines (key = team) and waits until the brokers acknowledged all of them.
void produce(const KafkaMockCluster& cluster, const std::vector<std::string>& lines) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(
      rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstrap().c_str(), err, sizeof err),
      RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string key = "team-" + std::to_string(i % 5);
    rd_kafka_resp_err_t e;
    do {
      e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(cluster.topic().c_str()),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(lines[i].data()), lines[i].size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(rk, 100);
    } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  EXPECT_EQ(rd_kafka_flush(rk, 30'000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

TEST(KafkaIngest, TwoKillsMidIngestWithResentEventsLoseAndDoubleNothing) {
  KafkaMockCluster cluster(1, 3, "ledger.cost");
  TempDir dir;
  // Small enough for the mock brokers' retention (5 MB per partition), which would otherwise
  // delete events before they are read (KafkaIngest.EventsDeletedBeforeBookingStopTheIngest).
  constexpr int kDistinct = 4'000;
  std::vector<std::string> lines;
  Amount expected;
  for (int i = 0; i < kDistinct; ++i) {
    testing::EventSpec spec;
    spec.id = "k-" + std::to_string(i);
    spec.team = "team-" + std::to_string(i % 5);
    spec.input_tokens = 100 + i % 997;
    spec.input_price = 150'001 + i % 11;
    spec.end_ns = testing::kNov2At10Ns + (i % 300) * testing::kHourNs;
    const auto event = testing::costEvent(spec);
    expected += Amount::fromMoney(event.cost.total);
    std::string line;
    meter::appendCloudEventJson(event, line);
    lines.push_back(std::move(line));
    // The gateway's spool resends what the brokers had in fact stored before its crash.
    if (i % 500 == 499) {
      for (int k = 0; k < 50; ++k) lines.push_back(lines[lines.size() - 1 - 2 * k]);
    }
  }
  produce(cluster, lines);
  dir.write("ledger.yaml", "source:\n  kafka: { brokers: \"" + cluster.bootstrap() +
                               "\", topic: \"ledger.cost\", group: \"finance\",\n"
                               // A killed member holds its partitions until its session times
                               // out: the restarted one waits that long for them.
                               "    properties: { session.timeout.ms: \"3000\", "
                               "heartbeat.interval.ms: \"500\" } }\n"
                               "  batch_events: 100\nstore: { sqlite: \"" +
                               dir.file("ledger.db") + "\" }\n");
  const std::string summary = testing::ingestKilledTwiceThenToTheEnd(dir.file("ledger.yaml"), 60s);
  EXPECT_NE(summary.find("partitions_at_end=3"), std::string::npos) << summary;
  const auto totals = testing::reportTotals(dir.file("ledger.yaml"), "2026-11");
  EXPECT_EQ(totals.total_usd, expected.toDecimalString());
  EXPECT_EQ(totals.events, kDistinct);

  // Everything is booked: a further run reads nothing new from the stored positions.
  Process again("tollgate-ledger", {ledgerBin(), "ingest", "--config", dir.file("ledger.yaml")});
  auto last = again.waitForLine("ingested", 60s);
  ASSERT_TRUE(last) << again.stderrText();
  EXPECT_NE(last->find("lines=0 "), std::string::npos) << *last;
  EXPECT_EQ(again.wait(30s), 0);
}

TEST(KafkaIngest, MoreMembersThanPartitionsAllFinishAndBookEachEventOnce) {
  KafkaMockCluster cluster(1, 1, "ledger.cost");
  std::vector<std::string> lines;
  Amount expected;
  for (int i = 0; i < 2'000; ++i) {
    testing::EventSpec spec;
    spec.id = "one-" + std::to_string(i);
    const auto event = testing::costEvent(spec);
    expected += Amount::fromMoney(event.cost.total);
    std::string line;
    meter::appendCloudEventJson(event, line);
    lines.push_back(std::move(line));
  }
  produce(cluster, lines);
  TempDir dir;
  dir.write("ledger.yaml",
            "source: { kafka: { brokers: \"" + cluster.bootstrap() +
                "\", topic: \"ledger.cost\", properties: { session.timeout.ms: "
                "\"3000\", heartbeat.interval.ms: \"500\" } } }\nstore: { sqlite: \"" +
                dir.file("ledger.db") + "\" }\n");
  // Two members, one partition: one reads it, the other is left with nothing and exits.
  Process a("ledger-a", {ledgerBin(), "ingest", "--config", dir.file("ledger.yaml")});
  Process b("ledger-b", {ledgerBin(), "ingest", "--config", dir.file("ledger.yaml")});
  EXPECT_EQ(a.wait(60s), 0) << a.stderrText();
  EXPECT_EQ(b.wait(60s), 0) << b.stderrText();
  const auto totals = testing::reportTotals(dir.file("ledger.yaml"), "2026-11");
  EXPECT_EQ(totals.total_usd, expected.toDecimalString());
  EXPECT_EQ(totals.events, 2'000);
}

TEST(KafkaIngest, EventsDeletedBeforeBookingStopTheIngest) {
  KafkaMockCluster cluster(1, 1, "ledger.cost");
  // 8,000 events of ~1 kB into one partition: past the mock's 5 MB, the oldest are deleted.
  std::vector<std::string> lines;
  for (int i = 0; i < 8'000; ++i) {
    testing::EventSpec spec;
    spec.id = "old-" + std::to_string(i);
    lines.push_back(testing::eventJson(spec));
  }
  produce(cluster, lines);
  TempDir dir;
  // The mock brokers keep a member that left until its session times out: keep that short.
  dir.write("ledger.yaml",
            "source: { kafka: { brokers: \"" + cluster.bootstrap() +
                "\", topic: \"ledger.cost\", properties: { session.timeout.ms: "
                "\"3000\", heartbeat.interval.ms: \"500\" } } }\nstore: { sqlite: \"" +
                dir.file("ledger.db") + "\" }\n");
  // A store that had booked the first event only: its next offset, 1, has been deleted.
  {
    Process first("tollgate-ledger", {ledgerBin(), "ingest", "--config", dir.file("ledger.yaml")});
    ASSERT_EQ(first.wait(60s), 0) << first.stderrText();
  }
  // The first run read from the log's start, so it booked what was left; now make the store
  // claim less was booked than the log has lost, as after a long outage of the ledger.
  Process sql("sqlite3", {"/usr/bin/sqlite3", dir.file("ledger.db"),
                          "UPDATE source_position SET position = 1"});
  ASSERT_EQ(sql.wait(10s), 0) << sql.stderrText();
  Process again("tollgate-ledger", {ledgerBin(), "ingest", "--config", dir.file("ledger.yaml")});
  EXPECT_EQ(again.wait(60s), 4);
  EXPECT_NE(again.stderrText().find("no longer in the log"), std::string::npos)
      << again.stderrText();
}

}  // namespace
}  // namespace tollgate::ledger
