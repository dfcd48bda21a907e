#include "tests/integration/support/kafka_real_cluster.h"

#include <signal.h>
#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

// The broker's own logs, at INFO, into the node's log file (its stdout).
const char* kLog4j =
    "status = warn\n"
    "appender.out.type = Console\n"
    "appender.out.name = out\n"
    "appender.out.layout.type = PatternLayout\n"
    "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
    "rootLogger.level = info\n"
    "rootLogger.appenderRef.out.ref = out\n";

// The tools (storage format, topics) say only what went wrong.
const char* kToolLog4j =
    "status = warn\n"
    "appender.out.type = Console\n"
    "appender.out.name = out\n"
    "appender.out.layout.type = PatternLayout\n"
    "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
    "rootLogger.level = warn\n"
    "rootLogger.appenderRef.out.ref = out\n";

// A KRaft cluster id: 16 random bytes, base64url without padding.
std::string randomClusterId() {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device rd;
  std::string bytes;
  for (int i = 0; i < 16; ++i) bytes.push_back(static_cast<char>(rd() & 0xff));
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    const size_t chars = std::min<size_t>(4, (bytes.size() - i) * 4 / 3 + 1);
    for (size_t c = 0; c < chars; ++c) out.push_back(kAlphabet[(v >> (18 - 6 * c)) & 63]);
  }
  return out;  // 22 characters
}

std::string readTail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

std::vector<int> ids(simdjson::dom::element list) {
  std::vector<int> out;
  simdjson::dom::array array;
  if (list.get(array) != simdjson::SUCCESS) return out;
  for (auto e : array) {
    int64_t id = -1;
    if (e["id"].get(id) == simdjson::SUCCESS) out.push_back(static_cast<int>(id));
  }
  return out;
}

}  // namespace

std::string kafkaLibsDir(std::string* why) {
  const char* env = std::getenv("TOLLGATE_KAFKA_LIBS");
  std::string dir;
  if (env != nullptr && *env != '\0') {
    dir = env;
  } else {
    const std::filesystem::path root = std::string(TOLLGATE_SOURCE_DIR) + "/.cache/kafka";
    std::error_code ignored;
    for (const auto& e : std::filesystem::directory_iterator(root, ignored)) {
      if (std::filesystem::exists(e.path() / ".complete")) dir = (e.path() / "libs").string();
    }
  }
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec) ||
      std::filesystem::is_empty(dir, ec)) {
    if (why != nullptr) {
      *why = "no Kafka jars (run scripts/setup.sh, which runs scripts/install_kafka.sh)";
    }
    return {};
  }
  return dir;
}

KafkaRealCluster::KafkaRealCluster(int nodes) {
  std::string why;
  libs_ = kafkaLibsDir(&why);
  if (libs_.empty()) throw std::runtime_error(why);
  dir_.write("log4j2.properties", kLog4j);
  dir_.write("log4j2-tools.properties", kToolLog4j);
  for (int id = 1; id <= nodes; ++id) {
    Node n;
    n.id = id;
    n.broker_port = unusedPort();
    n.controller_port = unusedPort();
    n.config = dir_.file("node-" + std::to_string(id) + ".properties");
    n.log = dir_.file("node-" + std::to_string(id) + ".log");
    nodes_.push_back(std::move(n));
  }
  std::string voters;
  for (const auto& n : nodes_) {
    if (!voters.empty()) voters += ",";
    voters += std::to_string(n.id) + "@127.0.0.1:" + std::to_string(n.controller_port);
    if (!bootstrap_.empty()) bootstrap_ += ",";
    bootstrap_ += "127.0.0.1:" + std::to_string(n.broker_port);
  }
  const int replication = std::min(3, nodes);
  for (const auto& n : nodes_) {
    std::ostringstream p;
    p << "process.roles=broker,controller\n"
      << "node.id=" << n.id << "\n"
      << "controller.quorum.voters=" << voters << "\n"
      << "listeners=PLAINTEXT://127.0.0.1:" << n.broker_port
      << ",CONTROLLER://127.0.0.1:" << n.controller_port << "\n"
      << "advertised.listeners=PLAINTEXT://127.0.0.1:" << n.broker_port << "\n"
      << "controller.listener.names=CONTROLLER\n"
      << "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
      << "inter.broker.listener.name=PLAINTEXT\n"
      << "log.dirs=" << dir_.file("data-" + std::to_string(n.id)) << "\n"
      << "auto.create.topics.enable=false\n"
      << "default.replication.factor=" << replication << "\n"
      << "min.insync.replicas=" << std::min(2, replication) << "\n"
      << "offsets.topic.replication.factor=" << replication << "\n"
      << "offsets.topic.num.partitions=4\n"
      << "transaction.state.log.replication.factor=" << replication << "\n"
      << "transaction.state.log.min.isr=" << std::min(2, replication) << "\n"
      << "transaction.state.log.num.partitions=4\n"
      << "group.initial.rebalance.delay.ms=0\n"
      // Fewer threads than the defaults: three JVMs share a 2-core machine with the tests.
      << "num.network.threads=2\n"
      << "num.io.threads=2\n"
      << "background.threads=2\n"
      << "num.recovery.threads.per.data.dir=1\n";
    dir_.write(std::filesystem::path(n.config).filename().string(), p.str());
  }
  // Format every node's storage with one cluster id, the formats in parallel.
  const std::string cluster_id = randomClusterId();
  std::vector<std::unique_ptr<Process>> formats;
  for (const auto& n : nodes_) {
    formats.push_back(std::make_unique<Process>(
        "kafka-storage-format",
        java("kafka.tools.StorageTool", "format -t " + cluster_id + " -c " + n.config,
             n.log + ".format", "-Xmx128m")));
  }
  for (size_t i = 0; i < formats.size(); ++i) {
    if (formats[i]->wait(60s).value_or(-1) != 0) {
      throw std::runtime_error("kafka storage format failed: " +
                               readTail(nodes_[i].log + ".format", 4000));
    }
  }
  for (const auto& n : nodes_) start(n.id);
  if (!waitBrokers(120s)) {
    throw std::runtime_error("the Kafka nodes did not all register: " + logTail(1));
  }
}

bool KafkaRealCluster::waitBrokers(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Process kcat("kcat", {"/usr/bin/kcat", "-L", "-J", "-m", "2", "-b", bootstrap_});
    const auto line = kcat.readLine(5s);
    kcat.signal(SIGKILL);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array brokers;
    if (line && parser.parse(*line).get(doc) == simdjson::SUCCESS &&
        doc["brokers"].get(brokers) == simdjson::SUCCESS &&
        static_cast<int>(brokers.size()) == nodes()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // The nodes elect a controller and register on their own schedule: poll the metadata.
    std::this_thread::sleep_for(200ms);
  }
}

KafkaRealCluster::~KafkaRealCluster() {
  for (auto& n : nodes_) {
    if (n.process) {
      n.process->signal(SIGKILL);
      n.process->wait(10s);
    }
  }
}

std::vector<std::string> KafkaRealCluster::java(const std::string& main_class,
                                                const std::string& args, const std::string& log,
                                                const std::string& heap) const {
  // exec all the way down: the child's pid is the JVM's, so signals reach the broker itself.
  const std::string command =
      "exec /usr/bin/setpriv --pdeathsig KILL -- java " + heap +
      " -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Djava.awt.headless=true"
      " -Dlog4j2.configurationFile=" +
      dir_.file(main_class == "kafka.Kafka" ? "log4j2.properties" : "log4j2-tools.properties") +
      " -cp '" + libs_ + "/*' " + main_class + " " + args + " >>'" + log + "' 2>&1";
  return {"/bin/sh", "-c", command};
}

KafkaRealCluster::Node& KafkaRealCluster::node(int id) { return nodes_.at(id - 1); }
const KafkaRealCluster::Node& KafkaRealCluster::node(int id) const { return nodes_.at(id - 1); }

void KafkaRealCluster::start(int id) {
  Node& n = node(id);
  n.process = std::make_unique<Process>("kafka-" + std::to_string(id),
                                        java("kafka.Kafka", n.config, n.log, "-Xmx256m -Xms64m"));
}

void KafkaRealCluster::kill(int id) {
  Node& n = node(id);
  n.process->signal(SIGKILL);
  n.process->wait(10s);
}

void KafkaRealCluster::stop(int id) { node(id).process->signal(SIGSTOP); }
void KafkaRealCluster::resume(int id) { node(id).process->signal(SIGCONT); }

bool KafkaRealCluster::running(int id) const {
  const Node& n = node(id);
  return n.process && n.process->running();
}

std::string KafkaRealCluster::logTail(int id, size_t bytes) const {
  return readTail(node(id).log, bytes);
}

void KafkaRealCluster::createTopic(const std::string& topic, int partitions) {
  const int replication = std::min(3, nodes());
  Process tool(
      "kafka-topics",
      java("org.apache.kafka.tools.TopicCommand",
           "--bootstrap-server " + bootstrap_ + " --create --topic " + topic + " --partitions " +
               std::to_string(partitions) + " --replication-factor " + std::to_string(replication) +
               " --config min.insync.replicas=" + std::to_string(std::min(2, replication)),
           dir_.file("topics.log"), "-Xmx128m"));
  if (tool.wait(90s).value_or(-1) != 0) {
    throw std::runtime_error("cannot create topic " + topic + ": " +
                             readTail(dir_.file("topics.log"), 4000));
  }
  if (!waitHealthy(topic, 60s)) {
    throw std::runtime_error("topic " + topic + " did not get a full ISR: " + logTail(1));
  }
}

std::vector<PartitionState> KafkaRealCluster::describe(const std::string& topic) const {
  // Ask the running nodes only: a stopped one would hold kcat until its metadata timeout.
  std::string brokers;
  for (const auto& n : nodes_) {
    if (!n.process || !n.process->running()) continue;
    std::ifstream stat("/proc/" + std::to_string(n.process->pid()) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'T') continue;
    if (!brokers.empty()) brokers += ",";
    brokers += "127.0.0.1:" + std::to_string(n.broker_port);
  }
  std::vector<PartitionState> out;
  if (brokers.empty()) return out;
  Process kcat("kcat", {"/usr/bin/kcat", "-L", "-J", "-m", "5", "-b", brokers, "-t", topic});
  const auto line = kcat.readLine(10s);
  kcat.signal(SIGKILL);
  if (!line) return out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*line).get(doc) != simdjson::SUCCESS) return out;
  simdjson::dom::array topics;
  if (doc["topics"].get(topics) != simdjson::SUCCESS) return out;
  for (auto t : topics) {
    std::string_view name;
    if (t["topic"].get(name) != simdjson::SUCCESS || name != topic) continue;
    simdjson::dom::array partitions;
    if (t["partitions"].get(partitions) != simdjson::SUCCESS) continue;
    for (auto p : partitions) {
      PartitionState s;
      int64_t v = -1;
      if (p["partition"].get(v) == simdjson::SUCCESS) s.partition = static_cast<int>(v);
      if (p["leader"].get(v) == simdjson::SUCCESS) s.leader = static_cast<int>(v);
      s.replicas = ids(p["replicas"]);
      s.isr = ids(p["isrs"]);
      out.push_back(std::move(s));
    }
  }
  return out;
}

int KafkaRealCluster::leaderOf(const std::string& topic, int partition) const {
  for (const auto& p : describe(topic)) {
    if (p.partition == partition) return p.leader;
  }
  return -1;
}

bool KafkaRealCluster::waitHealthy(const std::string& topic,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto partitions = describe(topic);
    bool healthy = !partitions.empty();
    for (const auto& p : partitions) {
      healthy = healthy && p.leader > 0 && static_cast<int>(p.isr.size()) == nodes();
    }
    if (healthy) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // The controller moves leaders and grows ISRs on its own schedule: poll its metadata.
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace tollgate::testing
