// kafka_mock_cluster: librdkafka's in-process mock Kafka cluster as a standalone process, for
// tests and benchmarks on one machine. N brokers on loopback, topics created up front, and a
// line-based TCP control channel to take brokers down and up and to inject request errors.
//
// usage: kafka_mock_cluster [--brokers N] [--topic NAME] [--partitions P] [--replication R]
//                           [--control HOST:PORT]
// Prints one line once ready:
//   kafka_mock_cluster bootstrap <host:port,...> control <host:port>
// Control commands, one per line; each is answered "ok" or "error <why>":
//   down <broker id|all>            close the broker's connections and refuse new ones
//   up <broker id|all>              accept connections again
//   errors <api> <ERR>[*N] ...      the next requests of <api> (produce, fetch, metadata,
//                                   init_producer_id or a numeric ApiKey) fail with these errors,
//                                   in order, on whichever broker gets them; ERR is a librdkafka
//                                   error name without its prefix (NOT_ENOUGH_REPLICAS,
//                                   _TRANSPORT closes the connection)
//   clear <api>                     forget the errors not yet used
//   rtt <broker id|all> <ms>        add a round-trip delay
//   topic <name> <partitions> <replication>
//   ping | quit
// Example from a shell: exec 3<>/dev/tcp/127.0.0.1/PORT; echo "down all" >&3; read -u 3 reply
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Options {
  int brokers = 3;
  std::string topic = "llm.cost.v1";
  int partitions = 4;
  int replication = 3;
  std::string control_host = "127.0.0.1";
  uint16_t control_port = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "kafka_mock_cluster: %s\nusage: kafka_mock_cluster [--brokers N] [--topic NAME] "
               "[--partitions P] [--replication R] [--control HOST:PORT]\n",
               why);
  std::exit(2);
}

int toInt(const char* text, int min, int max, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > max) usage(what);
  return static_cast<int>(v);
}

std::optional<int16_t> apiKey(const std::string& name) {
  if (name == "produce") return 0;
  if (name == "fetch") return 1;
  if (name == "list_offsets") return 2;
  if (name == "metadata") return 3;
  if (name == "init_producer_id") return 22;
  char* end = nullptr;
  const long v = std::strtol(name.c_str(), &end, 10);
  if (end == name.c_str() || *end != '\0' || v < 0 || v > 100) return std::nullopt;
  return static_cast<int16_t>(v);
}

std::optional<rd_kafka_resp_err_t> errorByName(const std::string& name) {
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && name == descs[i].name) return descs[i].code;
  }
  return std::nullopt;
}

class Controller {
 public:
  Controller(rd_kafka_mock_cluster_t* cluster, int brokers)
      : cluster_(cluster), brokers_(brokers) {}

  // Runs one command line; returns the reply ("ok", "error ...") and sets quit on "quit".
  std::string run(const std::string& line, bool& quit) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd.empty() || cmd == "ping") return "ok";
    if (cmd == "quit") {
      quit = true;
      return "ok";
    }
    if (cmd == "down" || cmd == "up") {
      std::string which;
      in >> which;
      auto ids = brokerIds(which);
      if (ids.empty()) return "error unknown broker '" + which + "'";
      for (int id : ids) {
        const auto err = cmd == "down" ? rd_kafka_mock_broker_set_down(cluster_, id)
                                       : rd_kafka_mock_broker_set_up(cluster_, id);
        if (err) return std::string("error ") + rd_kafka_err2str(err);
      }
      return "ok";
    }
    if (cmd == "rtt") {
      std::string which;
      int ms = -1;
      in >> which >> ms;
      auto ids = brokerIds(which);
      if (ids.empty() || ms < 0) return "error usage: rtt <broker id|all> <ms>";
      for (int id : ids) rd_kafka_mock_broker_set_rtt(cluster_, id, ms);
      return "ok";
    }
    if (cmd == "errors" || cmd == "clear") {
      std::string api_name;
      in >> api_name;
      const auto api = apiKey(api_name);
      if (!api) return "error unknown api '" + api_name + "'";
      if (cmd == "clear") {
        rd_kafka_mock_clear_request_errors(cluster_, *api);
        return "ok";
      }
      std::vector<rd_kafka_resp_err_t> errors;
      for (std::string item; in >> item;) {
        int repeat = 1;
        const size_t star = item.find('*');
        if (star != std::string::npos) {
          repeat = std::atoi(item.c_str() + star + 1);
          item.resize(star);
        }
        const auto err = errorByName(item);
        if (!err || repeat < 1 || repeat > 100000) return "error unknown error '" + item + "'";
        errors.insert(errors.end(), static_cast<size_t>(repeat), *err);
      }
      if (errors.empty()) return "error usage: errors <api> <ERR>[*N] ...";
      rd_kafka_mock_push_request_errors_array(cluster_, *api, errors.size(), errors.data());
      return "ok";
    }
    if (cmd == "topic") {
      std::string name;
      int partitions = 0, replication = 0;
      in >> name >> partitions >> replication;
      if (name.empty() || partitions < 1 || replication < 1) {
        return "error usage: topic <name> <partitions> <replication>";
      }
      const auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication);
      if (err) return std::string("error ") + rd_kafka_err2str(err);
      return "ok";
    }
    return "error unknown command '" + cmd + "'";
  }

 private:
  std::vector<int> brokerIds(const std::string& which) const {
    if (which == "all") {
      std::vector<int> ids;
      for (int id = 1; id <= brokers_; ++id) ids.push_back(id);
      return ids;
    }
    char* end = nullptr;
    const long id = std::strtol(which.c_str(), &end, 10);
    if (which.empty() || *end != '\0' || id < 1 || id > brokers_) return {};
    return {static_cast<int>(id)};
  }

  rd_kafka_mock_cluster_t* cluster_;
  int brokers_;
};

// Serves control connections one at a time until "quit".
void serveControl(int listener, Controller& controller) {
  for (bool quit = false; !quit;) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::string pending;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t eol;
      while ((eol = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, eol);
        pending.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string reply = controller.run(line, quit) + "\n";
        std::fprintf(stderr, "kafka_mock_cluster: %s -> %s", line.c_str(), reply.c_str());
        if (::write(fd, reply.data(), reply.size()) < 0) break;
      }
      if (quit) break;
    }
    ::close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--brokers") {
      options.brokers = toInt(value, 1, 16, "--brokers: 1 to 16");
    } else if (arg == "--topic") {
      options.topic = value;
    } else if (arg == "--partitions") {
      options.partitions = toInt(value, 1, 1000, "--partitions: 1 to 1000");
    } else if (arg == "--replication") {
      options.replication = toInt(value, 1, 16, "--replication: 1 to 16");
    } else if (arg == "--control") {
      const std::string text = value;
      const size_t colon = text.rfind(':');
      if (colon == std::string::npos) usage("--control: HOST:PORT");
      options.control_host = text.substr(0, colon);
      options.control_port = static_cast<uint16_t>(
          toInt(text.c_str() + colon + 1, 0, 65535, "--control: port 0 to 65535"));
    } else {
      usage(("unknown argument " + arg).c_str());
    }
  }
  if (options.replication > options.brokers) usage("--replication exceeds --brokers");
  std::signal(SIGPIPE, SIG_IGN);

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "kafka_mock_cluster: %s\n", err);
    return 1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "kafka_mock_cluster: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, options.brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "kafka_mock_cluster: cannot create the mock cluster\n");
    return 1;
  }
  if (const auto e = rd_kafka_mock_topic_create(cluster, options.topic.c_str(), options.partitions,
                                                options.replication)) {
    std::fprintf(stderr, "kafka_mock_cluster: topic %s: %s\n", options.topic.c_str(),
                 rd_kafka_err2str(e));
    return 1;
  }

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options.control_port);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::inet_pton(AF_INET, options.control_host.c_str(), &addr.sin_addr) != 1 ||
      ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0) {
    std::fprintf(stderr, "kafka_mock_cluster: control %s:%u: %s\n", options.control_host.c_str(),
                 options.control_port, std::strerror(errno));
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  std::printf("kafka_mock_cluster bootstrap %s control %s:%u\n",
              rd_kafka_mock_cluster_bootstraps(cluster), options.control_host.c_str(),
              ntohs(addr.sin_port));
  std::fflush(stdout);

  Controller controller(cluster, options.brokers);
  serveControl(listener, controller);
  ::close(listener);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
