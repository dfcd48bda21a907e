// Cost events to a real Apache Kafka: three KRaft nodes (scripts/install_kafka.sh, Java 17),
// replication factor 3, min.insync.replicas 2, the gateway's producer as users run it (no
// property set: idempotent, acks=all, 5 requests in flight), read back by kcat. One cluster
// serves the whole suite (one ctest test, label kafka_real), each test on its own topic.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "ledger/amount.h"
#include "tests/integration/support/call_load.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/kafka_real_cluster.h"
#include "tests/integration/support/stack.h"
#include "tests/integration/support/topic_summary.h"
#include "tests/ledger/ledger_process.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Samples the gateway's pending events every 100 ms, to tell when delivery recovered.
class PendingMonitor {
 public:
  explicit PendingMonitor(const KafkaGateway& gateway)
      : thread_([this, &gateway] {
          while (!stop_.load()) {
            const double pending = gateway.metric("tollgate_events_pending");
            {
              std::lock_guard lock(mutex_);
              samples_.push_back({Clock::now(), pending});
            }
            // A sampling period, not a wait for a condition.
            std::this_thread::sleep_for(100ms);
          }
        }) {}
  ~PendingMonitor() { finish(); }
  void finish() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  // The most events pending at once in [from, to).
  double peak(Clock::time_point from, Clock::time_point to) const {
    std::lock_guard lock(mutex_);
    double p = 0;
    for (const auto& s : samples_) {
      if (s.at >= from && s.at < to) p = std::max(p, s.pending);
    }
    return p;
  }
  // When, after the peak that followed `from`, pending was back to `threshold` or below; nullopt
  // if never.
  std::optional<Clock::time_point> recovered(Clock::time_point from, double threshold) const {
    std::lock_guard lock(mutex_);
    auto peak_at = samples_.end();
    for (auto it = samples_.begin(); it != samples_.end(); ++it) {
      if (it->at >= from && (peak_at == samples_.end() || it->pending > peak_at->pending)) {
        peak_at = it;
      }
    }
    for (auto it = peak_at; it != samples_.end(); ++it) {
      if (it->pending <= threshold) return it->at;
    }
    return std::nullopt;
  }

 private:
  struct Sample {
    Clock::time_point at;
    double pending;
  };
  mutable std::mutex mutex_;
  std::vector<Sample> samples_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// What a fault did, for the report.
struct FaultTimes {
  Clock::time_point start;  // the first broker went away
  Clock::time_point end;    // the last broker was back (started or resumed)
};

class RealKafka : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto began = Clock::now();
    try {
      cluster_ = new KafkaRealCluster(3);
      std::cout << "[ cluster ] 3 KRaft nodes up in " << seconds(Clock::now() - began) << " s\n";
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "the Kafka cluster did not start: " << setup_error_;
  }

  // N calls through the gateway at a steady ~400 calls/s while `fault` runs on the cluster;
  // then every completed call must have its event on the topic, duplicates byte-identical.
  template <typename Fault>
  void faultUnderLoad(const std::string& name, Fault fault) {
    KafkaRealCluster& cluster = *cluster_;
    const std::string topic = "cost-" + name;
    cluster.createTopic(topic, 3);
    KafkaGateway gateway(cluster.bootstrap(), topic);
    ASSERT_NE(gateway.process().stderrText().find(
                  "kafka producer: idempotent, acks=all, 5 requests in flight per connection"),
              std::string::npos)
        << gateway.process().stderrText();

    PendingMonitor monitor(gateway);
    CallLoad load(gateway, 1'000'000, 4, 10ms);
    ASSERT_TRUE(load.waitCompleted(400, 30s));
    const auto before = Clock::now();
    const FaultTimes times = fault(cluster, topic, load);
    ASSERT_TRUE(cluster.waitHealthy(topic, 120s)) << cluster.logTail(1);
    const auto healthy = Clock::now();
    // Some load on the healed cluster too.
    ASSERT_TRUE(load.waitCompleted(load.completed() + 400, 30s));
    load.stop();
    load.join();
    const auto calls = load.completedIds();
    // The gateway kept serving whatever the brokers did.
    EXPECT_EQ(load.failed(), 0u);
    EXPECT_EQ(gateway.metric("tollgate_events_dropped_total"), 0);
    const auto drain_start = Clock::now();
    ASSERT_TRUE(gateway.waitDelivered(calls.size(), 180s))
        << "pending " << gateway.metric("tollgate_events_pending") << "\n"
        << gateway.process().stderrText().substr(0, 20000);
    const auto drained = Clock::now();
    monitor.finish();

    const TopicSummary summary = TopicSummary::read(cluster.bootstrap(), topic);
    const auto lost = missing(calls, summary.request_ids);
    EXPECT_TRUE(lost.empty()) << lost.size() << " of " << calls.size()
                              << " completed calls have no event, e.g. " << *lost.begin();
    EXPECT_EQ(summary.invalid, 0u);
    EXPECT_TRUE(missing(summary.request_ids, calls).empty()) << "events of no completed call";
    summary.expectDuplicatesShareIds();
    EXPECT_EQ(gateway.admin().get("/readyz").status, 200);

    const double baseline = monitor.peak(before - 2s, times.start);
    const double threshold = std::max(50.0, 2 * baseline);
    // Without a sample at or under the threshold before the drain ended, the drain's end is when.
    const auto recovered = monitor.recovered(times.start, threshold).value_or(drained);
    const std::string log = gateway.process().stderrText();
    std::cout << "[ " << name << " ] completed calls " << calls.size() << ", raw messages "
              << summary.raw << ", distinct events " << summary.values_by_id.size()
              << ", duplicates " << summary.duplicates() << ", missing " << lost.size()
              << ", failed calls " << load.failed() << "; fault lasted "
              << seconds(times.end - times.start) << " s, pending peak "
              << monitor.peak(times.start, drained) << " (baseline " << baseline
              << "), back to <= " << threshold << " pending " << seconds(recovered - times.start)
              << " s after the fault began, " << seconds(recovered - times.end)
              << " s after it ended"
              << "; ISR full " << seconds(healthy - times.end) << " s after the fault ended"
              << "; drained " << seconds(drained - drain_start) << " s after the load stopped"
              << "; 'deliveries failed' in the log: "
              << (log.find("deliveries failed") != std::string::npos ? "yes" : "no") << "\n";
    RecordProperty("completed_calls", static_cast<int>(calls.size()));
    RecordProperty("duplicates", static_cast<int>(summary.duplicates()));
    RecordProperty("missing", static_cast<int>(lost.size()));
  }

  static KafkaRealCluster* cluster_;
  static std::string setup_error_;
};

KafkaRealCluster* RealKafka::cluster_ = nullptr;
std::string RealKafka::setup_error_;

TEST_F(RealKafka, PartitionLeaderKilledAndRestartedLosesNothing) {
  faultUnderLoad(
      "leader-killed", [](KafkaRealCluster& cluster, const std::string& topic, CallLoad& load) {
        FaultTimes t;
        const int leader = cluster.leaderOf(topic, 0);
        EXPECT_GT(leader, 0);
        cluster.kill(leader);
        t.start = Clock::now();
        // The controller gives the partition a new leader once the dead broker's session expires.
        const auto deadline = Clock::now() + 60s;
        int now_leader = leader;
        while ((now_leader == leader || now_leader <= 0) && Clock::now() < deadline) {
          std::this_thread::sleep_for(200ms);  // polling the controller's metadata
          now_leader = cluster.leaderOf(topic, 0);
        }
        EXPECT_NE(now_leader, leader);
        std::cout << "[ leader-killed ] node " << leader << " killed; partition 0 led by node "
                  << now_leader << " after " << seconds(Clock::now() - t.start) << " s\n";
        // The load runs a while on two brokers (min.insync.replicas 2 still met).
        EXPECT_TRUE(load.waitCompleted(load.completed() + 1200, 30s));
        cluster.start(leader);
        t.end = Clock::now();
        return t;
      });
}

TEST_F(RealKafka, PartitionLeaderStoppedFor30SecondsLosesNothing) {
  faultUnderLoad(
      "leader-stopped", [](KafkaRealCluster& cluster, const std::string& topic, CallLoad&) {
        FaultTimes t;
        const int leader = cluster.leaderOf(topic, 0);
        EXPECT_GT(leader, 0);
        cluster.stop(leader);
        t.start = Clock::now();
        // The fault's length: a broker frozen for 30 s (a long GC pause, a stuck disk). Meanwhile
        // the metadata says when the partition got another leader.
        std::optional<double> moved;
        while (Clock::now() < t.start + 30s) {
          std::this_thread::sleep_for(500ms);  // sampling the metadata through the window
          const int now_leader = cluster.leaderOf(topic, 0);
          if (!moved && now_leader > 0 && now_leader != leader)
            moved = seconds(Clock::now() - t.start);
        }
        cluster.resume(leader);
        std::cout << "[ leader-stopped ] node " << leader << " stopped; partition 0 "
                  << (moved ? "led by another node after " + std::to_string(*moved) + " s"
                            : std::string("kept its leader"))
                  << "\n";
        t.end = Clock::now();
        return t;
      });
}

TEST_F(RealKafka, AllBrokersDownFor20SecondsLosesNothing) {
  faultUnderLoad("all-down", [](KafkaRealCluster& cluster, const std::string&, CallLoad&) {
    FaultTimes t;
    for (int node = 1; node <= cluster.nodes(); ++node) cluster.kill(node);
    t.start = Clock::now();
    // The fault's length: the whole cluster away for 20 s.
    std::this_thread::sleep_for(20s);
    for (int node = 1; node <= cluster.nodes(); ++node) cluster.start(node);
    t.end = Clock::now();
    return t;
  });
}

// tollgate-ledger as a consumer group of the real cluster (group coordinator, committed offsets):
// the gateway's events plus resent copies of some of them (what the spool replays after a
// crash) are booked once each, the total exact to the picodollar.
TEST_F(RealKafka, LedgerIngestsTheRealTopicWithResentCopiesExactly) {
  KafkaRealCluster& cluster = *cluster_;
  const std::string topic = "cost-ledger";
  cluster.createTopic(topic, 3);
  KafkaGateway gateway(cluster.bootstrap(), topic);
  CallLoad load(gateway, 2000, 4);
  load.join();
  ASSERT_EQ(load.completedIds().size(), 2000u);
  ASSERT_TRUE(gateway.waitDelivered(2000, 60s)) << gateway.process().stderrText();

  const TopicSummary first = TopicSummary::read(cluster.bootstrap(), topic);
  ASSERT_EQ(first.values_by_id.size(), 2000u);
  // Every tenth event again, keyed by its team as the gateway keys it.
  TempDir dir;
  std::string resend;
  ledger::Amount expected;
  std::string period;
  int i = 0;
  for (const auto& [id, copies] : first.values_by_id) {
    Json event(copies.front());
    const auto total = ledger::Amount::parseUsd(event.str("/data/cost/total"));
    ASSERT_TRUE(total) << copies.front();
    expected += *total;
    const std::string month = event.str("/time").substr(0, 7);
    if (period.empty()) period = month;
    ASSERT_EQ(month, period) << "the events straddle a month: run the test again";
    if (i++ % 10 == 0) resend += event.str("/data/team") + "\t" + copies.front() + "\n";
  }
  dir.write("resend.txt", resend);
  Process kcat("kcat", {"/usr/bin/kcat", "-P", "-b", cluster.bootstrap(), "-t", topic, "-K", "\t",
                        "-H", "content-type=application/cloudevents+json; charset=UTF-8", "-l",
                        dir.file("resend.txt")});
  ASSERT_EQ(kcat.wait(60s).value_or(-1), 0) << kcat.stderrText();
  const TopicSummary topic_now = TopicSummary::read(cluster.bootstrap(), topic);
  ASSERT_EQ(topic_now.raw, 2200u);
  topic_now.expectDuplicatesShareIds();

  dir.write("ledger.yaml", "source:\n  kafka: { brokers: \"" + cluster.bootstrap() +
                               "\", topic: \"" + topic +
                               "\", group: \"finance\" }\n"
                               "  batch_events: 500\nstore: { sqlite: \"" +
                               dir.file("ledger.db") + "\" }\n");
  Process ingest("tollgate-ledger",
                 {ledger::testing::ledgerBin(), "ingest", "--config", dir.file("ledger.yaml")});
  const auto summary = ingest.waitForLine("ingested", 120s);
  ASSERT_TRUE(summary) << ingest.stderrText();
  EXPECT_EQ(ingest.wait(30s), 0) << ingest.stderrText();
  std::cout << "[ ledger ] ingested" << *summary << "\n";
  const auto totals = ledger::testing::reportTotals(dir.file("ledger.yaml"), period);
  EXPECT_EQ(totals.total_usd, expected.toDecimalString());
  EXPECT_EQ(totals.events, 2000);
}

}  // namespace
}  // namespace tollgate::testing
