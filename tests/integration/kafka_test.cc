// Cost events to Kafka: the gateway against loadtest's kafka_mock_cluster (librdkafka's mock
// brokers in their own process), read back by kcat as an independent consumer.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/support/call_load.h"
#include "tests/integration/support/json_schema.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/stack.h"
#include "tests/integration/support/topic_summary.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

const std::string kChat = "/v1/chat/completions";

TopicSummary readTopic(const KafkaMockCluster& cluster) {
  return TopicSummary::read(cluster.bootstrap(), cluster.topic());
}

TEST(KafkaSink, EveryCallGivesExactlyOneValidKeyedEvent) {
  KafkaMockCluster cluster;
  KafkaGateway gateway(cluster);
  CallLoad load(gateway, 200, 4);
  load.join();
  const auto calls = load.completedIds();
  ASSERT_EQ(calls.size(), 200u);
  ASSERT_TRUE(gateway.waitDelivered(200, 30s)) << gateway.process().stderrText();

  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.raw, 200u);
  EXPECT_EQ(topic.values_by_id.size(), 200u);
  EXPECT_EQ(topic.invalid, 0u);
  EXPECT_EQ(topic.request_ids, calls);
}

// librdkafka's own queue holds 5 messages: most events find it full, so the sink leaves them to
// the spool backlog reader while newer ones keep arriving through the queue. Each record must
// still be produced exactly once and in full.
TEST(KafkaSink, ProducerQueueFullFallsBackToTheSpoolAndSendsEachEventOnce) {
  KafkaMockCluster cluster;
  KafkaGatewayOptions options;
  options.extra_kafka_yaml =
      "    properties:\n      queue.buffering.max.messages: \"5\"\n      linger.ms: \"20\"\n";
  KafkaGateway gateway(cluster, options);
  CallLoad load(gateway, 400, 4);
  load.join();
  const auto calls = load.completedIds();
  ASSERT_EQ(calls.size(), 400u);
  ASSERT_TRUE(gateway.waitDelivered(400, 40s)) << gateway.process().stderrText();

  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.raw, 400u);  // no record produced twice
  EXPECT_EQ(topic.request_ids, calls);
  EXPECT_EQ(gateway.metric("tollgate_events_dropped_total"), 0);
}

TEST(KafkaSink, EventsOfOneTeamShareAPartition) {
  KafkaMockCluster cluster;
  KafkaGateway gateway(cluster);
  CallLoad load(gateway, 50, 2);
  load.join();
  ASSERT_TRUE(gateway.waitDelivered(50, 30s));
  std::map<std::string, std::set<int>> partitions;
  for (const auto& r : cluster.readAll()) partitions[r.key].insert(r.partition);
  EXPECT_EQ(partitions.size(), 5u);
  for (const auto& [team, ps] : partitions) EXPECT_EQ(ps.size(), 1u) << team;
}

TEST(KafkaSink, SchemaValidatorRejectsAnEventThatBreaksTheSchema) {
  const JsonSchemaValidator schema(readSourceFile("docs/cost-event.schema.json"));
  EXPECT_FALSE(schema.validate(R"({"specversion":"1.0"})").empty());
  EXPECT_FALSE(schema
                   .validate(R"({"specversion":"1.0","id":"x","source":"tollgate://a",)"
                             R"("type":"dev.tollgate.llm.usage.v2","subject":"t",)"
                             R"("time":"2026-11-22T14:42:30.123456Z",)"
                             R"("datacontenttype":"application/json","data":{}})")
                   .empty());
}

TEST(KafkaSink, AllBrokersDownDuringLoadThenUpLosesNothing) {
  KafkaMockCluster cluster;
  KafkaGatewayOptions options;
  // Short local timeout: messages given to librdkafka during the outage fail and must come back
  // from the spool, not from librdkafka's own retries.
  options.extra_kafka_yaml = "    properties:\n      message.timeout.ms: \"1500\"\n";
  KafkaGateway gateway(cluster, options);
  CallLoad load(gateway, 300, 3);
  ASSERT_TRUE(load.waitCompleted(100, 20s));
  ASSERT_EQ(cluster.command("down all"), "ok");
  load.join();
  // The gateway served every call at full speed and stayed ready: the spool absorbed the events.
  const auto calls = load.completedIds();
  ASSERT_EQ(calls.size(), 300u);
  EXPECT_EQ(gateway.admin().get("/readyz").status, 200);
  EXPECT_GT(gateway.metric("tollgate_events_pending"), 0);

  // Wait for librdkafka to give up on what it held, so the resend path is exercised.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (gateway.process().stderrText().find("deliveries failed") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no delivery failed while down";
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(cluster.command("up all"), "ok");
  ASSERT_TRUE(gateway.waitDelivered(300, 40s)) << gateway.process().stderrText();

  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.values_by_id.size(), 300u);
  EXPECT_EQ(topic.request_ids, calls);
  topic.expectDuplicatesShareIds();
  std::cout << "[ brokers down ] raw messages " << topic.raw << ", distinct ids "
            << topic.values_by_id.size() << ", duplicates " << topic.duplicates() << "\n";
}

TEST(KafkaSink, InjectedProduceErrorsLoseNothing) {
  KafkaMockCluster cluster;
  KafkaGatewayOptions options;
  // One request in flight per connection. librdkafka 2.0's mock checks idempotent sequence
  // numbers only for transactional producers: with pipelining it appends the batch after a
  // failed one, where a real broker answers OUT_OF_ORDER_SEQUENCE_NUMBER, and the producer
  // apparently takes the failed batch as stored (measured: 2 to 4 of 200 missing, every one
  // acknowledged). With one request in flight the retry path is what is tested.
  options.extra_kafka_yaml =
      "    properties:\n      max.in.flight.requests.per.connection: \"1\"\n";
  KafkaGateway gateway(cluster, options);
  // Errors a broker returns without having appended the batch. NOT_ENOUGH_REPLICAS_AFTER_APPEND
  // is left out: a real broker returns it after the append, the mock without appending.
  ASSERT_EQ(cluster.command("errors produce NOT_ENOUGH_REPLICAS*8 _TRANSPORT*3 "
                            "NOT_ENOUGH_REPLICAS*4 _TRANSPORT*2 REQUEST_TIMED_OUT*2"),
            "ok");
  CallLoad load(gateway, 200, 4);
  load.join();
  const auto calls = load.completedIds();
  ASSERT_EQ(calls.size(), 200u);
  ASSERT_TRUE(gateway.waitDelivered(200, 40s)) << gateway.process().stderrText();
  // The injected transport errors did reach the producer (its connections were cut).
  EXPECT_NE(gateway.process().stderrText().find("_TRANSPORT"), std::string::npos);

  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.values_by_id.size(), 200u);
  EXPECT_EQ(topic.request_ids, calls);
  topic.expectDuplicatesShareIds();
  std::cout << "[ produce errors ] raw messages " << topic.raw << ", duplicates "
            << topic.duplicates() << "\n";
}

// SIGKILL under load, then a restart: every call whose response the client received completely
// has its event on the topic. A call's event is appended to the spool by the worker before the
// last byte of its response is written (docs/events.md), so there is no window to tolerate.
void killUnderLoadThenRestart(bool brokers_down, const char* label,
                              KafkaGatewayOptions options = {}) {
  KafkaMockCluster cluster;
  KafkaGateway gateway(cluster, options);
  CallLoad load(gateway, 1'000'000, 3);
  ASSERT_TRUE(load.waitCompleted(100, 20s));
  EXPECT_NE(gateway.process().stderrText().find(options.spool_mmap
                                                    ? "appends copy into preallocated, mapped"
                                                    : "appends with write(2)"),
            std::string::npos);
  // With the brokers away the events exist only in the spool when the process dies; with them
  // up, the last ones are in flight (produced, not yet acknowledged).
  if (brokers_down) {
    ASSERT_EQ(cluster.command("down all"), "ok");
  }
  ASSERT_TRUE(load.waitCompleted(600, 20s));
  gateway.kill();
  load.stop();
  load.join();
  const auto calls = load.completedIds();
  ASSERT_GE(calls.size(), 600u);

  if (brokers_down) {
    ASSERT_EQ(cluster.command("up all"), "ok");
  }
  gateway.start();
  // Done when the restarted gateway has nothing pending: the spool's backlog was acknowledged.
  ASSERT_TRUE(gateway.waitDelivered(1, 40s)) << gateway.process().stderrText();

  const TopicSummary topic = readTopic(cluster);
  const auto lost = missing(calls, topic.request_ids);
  EXPECT_TRUE(lost.empty()) << lost.size() << " of " << calls.size()
                            << " completed calls have no event, e.g. " << *lost.begin();
  topic.expectDuplicatesShareIds();
  std::cout << "[ sigkill, brokers " << label << " ] completed calls " << calls.size()
            << ", distinct events " << topic.values_by_id.size()
            << ", completed calls without an event " << lost.size() << ", raw messages "
            << topic.raw << ", duplicates " << topic.duplicates() << "\n";
}

TEST(KafkaSink, SigkillWithBrokersDownThenRestartDeliversEveryCompletedCall) {
  killUnderLoadThenRestart(true, "down");
}

TEST(KafkaSink, SigkillWithEventsInFlightThenRestartDeliversEveryCompletedCall) {
  killUnderLoadThenRestart(false, "up");
}

// The same guarantee with events.spool.mmap: false (one write(2) per append).
TEST(KafkaSink, SigkillWithBrokersDownOnTheWritePathDeliversEveryCompletedCall) {
  KafkaGatewayOptions options;
  options.spool_mmap = false;
  killUnderLoadThenRestart(true, "down, write path", options);
}

TEST(KafkaSink, TruncatedSpoolTailIsCountedAndTheRestDelivered) {
  KafkaMockCluster cluster;
  KafkaGateway gateway(cluster);
  ASSERT_EQ(cluster.command("down all"), "ok");
  CallLoad load(gateway, 50, 2);
  load.join();
  const auto calls = load.completedIds();
  ASSERT_EQ(calls.size(), 50u);
  // A graceful stop with no broker leaves every event in the spool.
  ASSERT_EQ(gateway.terminate().value_or(-1), 0);

  std::filesystem::path last;
  for (const auto& e : std::filesystem::directory_iterator(gateway.spoolDir())) {
    const auto name = e.path().filename().string();
    if (name.rfind("segment-", 0) == 0 && std::filesystem::file_size(e.path()) > 0 &&
        (last.empty() || name > last.filename().string())) {
      last = e.path();
    }
  }
  ASSERT_FALSE(last.empty());
  std::filesystem::resize_file(last, std::filesystem::file_size(last) - 7);

  gateway.start();
  EXPECT_EQ(gateway.metric("tollgate_events_spool_torn_records_total"), 1);
  EXPECT_EQ(gateway.metric("tollgate_events_spool_replayed_total"), 49);
  ASSERT_EQ(cluster.command("up all"), "ok");
  ASSERT_TRUE(gateway.waitDelivered(49, 40s)) << gateway.process().stderrText();

  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.values_by_id.size(), 49u);
  EXPECT_EQ(missing(topic.request_ids, calls).size(), 0u);  // all of them genuine calls
  EXPECT_EQ(missing(calls, topic.request_ids).size(), 1u);  // only the torn one is gone
}

// At events.spool.max_bytes the spool takes no more: new events wait in memory (bounded by
// events.kafka.queue_capacity), /readyz says not ready, the log says why, and the request path
// does not slow down. Once Kafka acknowledges the backlog, the waiting events are spooled and
// delivered too.
TEST(KafkaSink, SpoolAtItsBoundKeepsEventsInMemoryAndDeliversThemLater) {
  KafkaMockCluster cluster;
  KafkaGatewayOptions options;
  options.segment_bytes = 4096;
  options.max_bytes = 16384;  // about 12 events
  KafkaGateway gateway(cluster, options);
  ASSERT_EQ(cluster.command("down all"), "ok");
  CallLoad load(gateway, 60, 2);
  load.join();
  const auto calls = load.completedIds();
  ASSERT_EQ(calls.size(), 60u);

  EXPECT_LE(gateway.metric("tollgate_events_spool_bytes"), 16384);
  EXPECT_GT(gateway.metric("tollgate_events_spool_bytes"), 8192);
  EXPECT_EQ(gateway.metric("tollgate_events_pending"), 60);
  EXPECT_EQ(gateway.metric("tollgate_events_dropped_total"), 0);
  EXPECT_EQ(gateway.admin().get("/readyz").status, 503);
  // The sink thread logs it on its next round.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (gateway.process().stderrText().find("spool full") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(gateway.process().stderrText().find("spool full"), std::string::npos);

  ASSERT_EQ(cluster.command("up all"), "ok");
  ASSERT_TRUE(gateway.waitDelivered(60, 40s)) << gateway.process().stderrText();
  EXPECT_EQ(gateway.admin().get("/readyz").status, 200);
  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.request_ids, calls);
  topic.expectDuplicatesShareIds();
}

TEST(KafkaSink, MemoryDurabilityDeliversWithoutASpool) {
  KafkaMockCluster cluster;
  KafkaGatewayOptions options;
  options.durability = "memory";
  KafkaGateway gateway(cluster, options);
  CallLoad load(gateway, 100, 2);
  load.join();
  ASSERT_TRUE(gateway.waitDelivered(100, 30s));
  EXPECT_EQ(gateway.metric("tollgate_events_spool_bytes"), 0);
  // No spool segment: the directory holds at most the open-call journal (events.open_calls.dir
  // defaults to <spool.dir>/open-calls with the Kafka sink, whatever the durability).
  if (std::filesystem::exists(gateway.spoolDir())) {
    for (const auto& entry : std::filesystem::directory_iterator(gateway.spoolDir())) {
      EXPECT_EQ(entry.path().filename(), "open-calls") << entry.path();
    }
  }
  const TopicSummary topic = readTopic(cluster);
  EXPECT_EQ(topic.request_ids, load.completedIds());
}

// An event goes to librdkafka without a copy: its bytes become librdkafka's when it takes them,
// and stay the sink's when it refuses them (here each event is larger than message.max.bytes).
// Each refusal counts as one failure, and the gateway keeps serving (a double free or a leak
// shows in the sanitizer build).
TEST(KafkaSink, EventsRefusedByTheProducerAreCountedFailedOnce) {
  KafkaMockCluster cluster;
  KafkaGatewayOptions options;
  options.durability = "memory";
  // librdkafka's smallest bound; an event with its key and header takes more.
  options.extra_kafka_yaml = "    properties:\n      message.max.bytes: \"1000\"\n";
  KafkaGateway gateway(cluster, options);
  CallLoad load(gateway, 40, 2);
  load.join();
  ASSERT_EQ(load.completedIds().size(), 40u);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (gateway.metric("tollgate_events_failed_total") < 40 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);  // the sink thread produces on its own schedule
  }
  EXPECT_EQ(gateway.metric("tollgate_events_failed_total"), 40);
  EXPECT_EQ(gateway.metric("tollgate_events_delivered_total"), 0);
  EXPECT_EQ(gateway.metric("tollgate_events_pending"), 0);
  EXPECT_TRUE(cluster.readAll().empty());
  EXPECT_EQ(gateway.client().post(kChat, chatBody(), {}, 10s).status, 200);
  EXPECT_EQ(gateway.terminate(), 0) << gateway.process().stderrText();
}

}  // namespace
}  // namespace tollgate::testing
