#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/support/process.h"

namespace tollgate::testing {

// One partition as the cluster's metadata describes it (kcat -L).
struct PartitionState {
  int partition = -1;
  int leader = -1;  // node id; -1 while there is none
  std::vector<int> replicas;
  std::vector<int> isr;
};

// A real Apache Kafka cluster on loopback: `nodes` JVMs in KRaft mode, each a combined
// controller and broker (node ids 1..nodes), from the jars scripts/install_kafka.sh put under
// .cache/kafka/<version>/libs (TOLLGATE_KAFKA_LIBS overrides the directory). Topics get
// replication factor min(3, nodes) and min.insync.replicas 2.
//
// No JVM outlives the test process: each is started through `setpriv --pdeathsig KILL`, so the
// kernel kills it when the test dies however it dies (an abort or a crash included), and the
// destructor kills them all.
class KafkaRealCluster {
 public:
  explicit KafkaRealCluster(int nodes = 3);
  ~KafkaRealCluster();
  KafkaRealCluster(const KafkaRealCluster&) = delete;
  KafkaRealCluster& operator=(const KafkaRealCluster&) = delete;

  // "127.0.0.1:p1,127.0.0.1:p2,..." (every node's broker listener).
  const std::string& bootstrap() const { return bootstrap_; }
  int nodes() const { return static_cast<int>(nodes_.size()); }

  // Creates a topic (Kafka's TopicCommand) and waits until every partition has a leader and a
  // full ISR.
  void createTopic(const std::string& topic, int partitions);

  // The topic's partitions from a running node's metadata; empty when no node answered.
  std::vector<PartitionState> describe(const std::string& topic) const;
  // The leader of one partition, or -1.
  int leaderOf(const std::string& topic, int partition) const;
  // Waits until every node is registered as a broker.
  bool waitBrokers(std::chrono::milliseconds timeout) const;
  // Waits until every partition has a leader and all `nodes()` replicas in its ISR.
  bool waitHealthy(const std::string& topic, std::chrono::milliseconds timeout) const;

  void kill(int node);    // SIGKILL, then reaps the JVM
  void stop(int node);    // SIGSTOP: the JVM stays, silent
  void resume(int node);  // SIGCONT
  // Starts a killed node again on its data directory and ports.
  void start(int node);
  bool running(int node) const;

  // The last `bytes` of a node's log, for failure messages.
  std::string logTail(int node, size_t bytes = 4000) const;

 private:
  struct Node {
    int id = 0;
    unsigned short broker_port = 0;
    unsigned short controller_port = 0;
    std::string config;
    std::string log;
    std::unique_ptr<Process> process;
  };
  Node& node(int id);
  const Node& node(int id) const;
  std::vector<std::string> java(const std::string& main_class, const std::string& args,
                                const std::string& log, const std::string& heap) const;

  TempDir dir_;
  std::string libs_;
  std::string bootstrap_;
  std::vector<Node> nodes_;
};

// The directory of the Kafka jars, or empty with `why` set when they are not installed.
std::string kafkaLibsDir(std::string* why);

}  // namespace tollgate::testing
