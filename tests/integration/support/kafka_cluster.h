#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/support/http_client.h"
#include "tests/integration/support/process.h"

namespace tollgate::testing {

// One message read back from a topic.
struct KafkaRecord {
  int partition = -1;
  int64_t offset = -1;
  std::string key;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string value;
};

// Every message of a topic, read by kcat as an independent consumer (-C -e -J).
std::vector<KafkaRecord> readKafkaTopic(const std::string& bootstrap, const std::string& topic);

// loadtest's kafka_mock_cluster as a child process: brokers on loopback, the topic created, and
// its control channel.
class KafkaMockCluster {
 public:
  explicit KafkaMockCluster(int brokers = 3, int partitions = 4, std::string topic = "llm.cost.v1");
  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& topic() const { return topic_; }

  // Sends one control command ("down all", "errors produce NOT_ENOUGH_REPLICAS*5", ...) and
  // returns the reply line.
  std::string command(const std::string& line);

  // Every message of the topic (readKafkaTopic).
  std::vector<KafkaRecord> readAll() const { return readKafkaTopic(bootstrap_, topic_); }

 private:
  std::string topic_;
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
  HostPort control_;
};

struct KafkaGatewayOptions {
  std::string durability = "spool";
  std::string extra_kafka_yaml;  // more keys under events.kafka (indented by 4)
  uint64_t segment_bytes = 65536;
  uint64_t max_bytes = 0;  // events.spool.max_bytes; 0 leaves the default
  unsigned workers = 2;
  bool spool_mmap = true;  // events.spool.mmap
  // When set, the spool directory is a tmpfs of this size, mounted in a mount namespace of the
  // gateway's own (unshare -rm: no root needed, gone with the process): a disk that fills. Each
  // start() mounts an empty one.
  uint64_t spool_tmpfs_bytes = 0;
  std::string extra_events_yaml;  // more keys under events (indented by 2)
  bool mock_records = false;      // the mock records its calls (GET /mock/calls)
};

// The mock upstream and a gateway whose cost events go to a Kafka cluster (a KafkaMockCluster, or
// any brokers). The gateway can be killed and started again on the same spool directory.
class KafkaGateway {
 public:
  KafkaGateway(const KafkaMockCluster& cluster, KafkaGatewayOptions options = {})
      : KafkaGateway(cluster.bootstrap(), cluster.topic(), std::move(options)) {}
  KafkaGateway(const std::string& bootstrap, const std::string& topic,
               KafkaGatewayOptions options = {});
  ~KafkaGateway();

  void start();
  void kill();                     // SIGKILL, then reaps the process
  std::optional<int> terminate();  // SIGTERM; the exit status

  HttpClient client() const { return HttpClient(gateway_.host, gateway_.port); }
  const HostPort& address() const { return gateway_; }
  HttpClient admin() const { return HttpClient(admin_.host, admin_.port); }
  HttpClient mockClient() const { return HttpClient(mock_.host, mock_.port); }
  Process& process() { return *gateway_process_; }
  const std::string& spoolDir() const { return spool_dir_; }

  // A metric's value from /metrics (the first sample of that name); -1 when absent.
  double metric(const std::string& name) const;
  // Waits until the sink has delivered at least `count` events and nothing is pending.
  bool waitDelivered(uint64_t count, std::chrono::milliseconds timeout) const;

 private:
  TempDir dir_;
  std::string spool_dir_;
  uint64_t spool_tmpfs_bytes_ = 0;
  std::unique_ptr<Process> mock_process_;
  std::unique_ptr<Process> gateway_process_;
  HostPort mock_;
  HostPort gateway_;
  HostPort admin_;
};

// The body of a small non-streamed chat call.
std::string chatBody();

// Reads a file of the source tree (e.g. "docs/cost-event.schema.json").
std::string readSourceFile(const std::string& relative_path);

}  // namespace tollgate::testing
