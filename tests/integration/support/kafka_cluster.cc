#include "tests/integration/support/kafka_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tollgate::testing {

KafkaMockCluster::KafkaMockCluster(int brokers, int partitions, std::string topic)
    : topic_(std::move(topic)) {
  process_ = std::make_unique<Process>(
      "kafka_mock_cluster",
      std::vector<std::string>{binDir() + "/kafka_mock_cluster", "--brokers",
                               std::to_string(brokers), "--partitions", std::to_string(partitions),
                               "--replication", std::to_string(std::min(brokers, 3)), "--topic",
                               topic_});
  auto line = process_->waitForLine("kafka_mock_cluster bootstrap ", std::chrono::seconds(10));
  if (!line)
    throw std::runtime_error("kafka_mock_cluster did not start: " + process_->stderrText());
  const auto at = line->find(" control ");
  bootstrap_ = line->substr(0, at);
  control_ = parseHostPort(line->substr(at + 9));
}

std::string KafkaMockCluster::command(const std::string& line) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(control_.port);
  ::inet_pton(AF_INET, control_.host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "error cannot connect to the control port";
  }
  const std::string out = line + "\n";
  std::string reply;
  if (::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') reply += c;
  }
  ::close(fd);
  return reply;
}

std::vector<KafkaRecord> readKafkaTopic(const std::string& bootstrap, const std::string& topic) {
  Process kcat("kcat", {"/usr/bin/kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-J"});
  std::vector<KafkaRecord> out;
  simdjson::dom::parser parser;
  while (auto line = kcat.readLine(std::chrono::seconds(30))) {
    simdjson::dom::element doc;
    if (parser.parse(*line).get(doc) != simdjson::SUCCESS) continue;
    KafkaRecord r;
    int64_t partition = -1;
    if (doc["partition"].get(partition) == simdjson::SUCCESS) {
      r.partition = static_cast<int>(partition);
    }
    if (doc["offset"].get(r.offset) != simdjson::SUCCESS) r.offset = -1;
    std::string_view text;
    if (doc["key"].get(text) == simdjson::SUCCESS) r.key = std::string(text);
    if (doc["payload"].get(text) == simdjson::SUCCESS) r.value = std::string(text);
    simdjson::dom::array headers;
    if (doc["headers"].get(headers) == simdjson::SUCCESS) {
      std::vector<std::string> flat;
      for (auto h : headers) {
        std::string_view s;
        flat.push_back(h.get(s) == simdjson::SUCCESS ? std::string(s) : std::string());
      }
      for (size_t i = 0; i + 1 < flat.size(); i += 2) r.headers.emplace_back(flat[i], flat[i + 1]);
    }
    out.push_back(std::move(r));
  }
  if (kcat.wait(std::chrono::seconds(10)).value_or(-1) != 0) {
    throw std::runtime_error("kcat failed: " + kcat.stderrText());
  }
  return out;
}

KafkaGateway::KafkaGateway(const std::string& bootstrap, const std::string& topic,
                           KafkaGatewayOptions options) {
  spool_dir_ = dir_.file("spool");
  spool_tmpfs_bytes_ = options.spool_tmpfs_bytes;
  std::vector<std::string> mock_args = {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"};
  if (!options.mock_records) mock_args.push_back("--no-record");
  mock_process_ = std::make_unique<Process>("mock_upstream", mock_args);
  auto line = mock_process_->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
  if (!line)
    throw std::runtime_error("mock_upstream did not start: " + mock_process_->stderrText());
  mock_ = parseHostPort(*line);
  const HostPort& mock = mock_;
  std::ostringstream yaml;
  yaml << "server:\n"
          "  listen: \"127.0.0.1:0\"\n"
          "  admin_listen: \"127.0.0.1:0\"\n"
          "  workers: "
       << options.workers
       << "\n"
          "  instance_id: kafka-itest\n"
          "  timeouts: { shutdown_drain_ms: 5000 }\n"
          "upstreams:\n"
          "  - name: mock\n"
          "    dialect: openai\n"
          "    base_url: \"http://127.0.0.1:"
       << mock.port
       << "\"\n"
          "    models: [\"gpt-*\"]\n"
          "prices:\n"
          "  \"gpt-4o-mini*\": { input: \"0.15\", cache_read: \"0.075\", output: \"0.60\" }\n"
          "price_version: \"itest-1\"\n"
          "events:\n"
          "  sink: kafka\n"
          "  durability: "
       << options.durability
       << "\n"
          "  spool:\n"
          "    dir: \""
       << spool_dir_
       << "\"\n"
          "    segment_bytes: "
       << options.segment_bytes << "\n"
       << (options.max_bytes != 0 ? "    max_bytes: " + std::to_string(options.max_bytes) + "\n"
                                  : std::string())
       << (options.spool_mmap ? "" : "    mmap: false\n")
       << "  kafka:\n"
          "    brokers: \""
       << bootstrap
       << "\"\n"
          "    topic: \""
       << topic
       << "\"\n"
          "    flush_timeout_ms: 3000\n"
       << options.extra_kafka_yaml << options.extra_events_yaml
       << "logging:\n"
          "  level: info\n";
  dir_.write("tollgate.yaml", yaml.str());
  start();
}

KafkaGateway::~KafkaGateway() {
  if (gateway_process_ && gateway_process_->running()) terminate();
}

void KafkaGateway::start() {
  std::vector<std::string> argv = {binDir() + "/tollgate", "--config", dir_.file("tollgate.yaml")};
  if (spool_tmpfs_bytes_ != 0) {
    std::filesystem::create_directories(spool_dir_);
    // exec keeps the pid: signals and prlimit reach the gateway itself.
    argv = {"/usr/bin/unshare", "-rm", "/bin/sh", "-c",
            "mount -t tmpfs -o size=" + std::to_string(spool_tmpfs_bytes_) + " tollgate-spool '" +
                spool_dir_ + "' && exec '" + argv[0] + "' --config '" + argv[2] + "'"};
  }
  gateway_process_ = std::make_unique<Process>("tollgate", argv);
  auto line = gateway_process_->waitForLine("tollgate listening on ", std::chrono::seconds(10));
  if (!line) throw std::runtime_error("tollgate did not start: " + gateway_process_->stderrText());
  const auto admin_at = line->find(" admin ");
  gateway_ = parseHostPort(line->substr(0, admin_at));
  admin_ = parseHostPort(line->substr(admin_at + 7));
}

void KafkaGateway::kill() {
  gateway_process_->signal(SIGKILL);
  gateway_process_->wait(std::chrono::seconds(10));
}

std::optional<int> KafkaGateway::terminate() {
  gateway_process_->signal(SIGTERM);
  return gateway_process_->wait(std::chrono::seconds(20));
}

double KafkaGateway::metric(const std::string& name) const {
  const std::string body = admin().get("/metrics", std::chrono::seconds(5)).body;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      return std::stod(line.substr(name.size() + 1));
    }
  }
  return -1;
}

bool KafkaGateway::waitDelivered(uint64_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const double delivered = metric("tollgate_events_delivered_total");
    const double pending = metric("tollgate_events_pending");
    if (delivered >= static_cast<double>(count) && pending == 0) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // The sink delivers on its own threads; poll its counters until it is done.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string chatBody() {
  return R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello kafka"}]})";
}

std::string readSourceFile(const std::string& relative_path) {
  std::ifstream in(std::string(TOLLGATE_SOURCE_DIR) + "/" + relative_path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace tollgate::testing
