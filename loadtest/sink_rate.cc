// sink_rate: how many cost events per second an event sink sustains on its own, without the
// proxy in front of it. Producer threads (standing in for workers) call tryEmit as fast as the
// sink accepts (a full queue is retried, never counted as lost) until N events are accepted; the
// run ends when the sink reports all N delivered (Kafka: acknowledged by the broker; file:
// written). Prints one RESULT line: events/s accepted, events/s delivered (first emit to last
// delivery) and the process's CPU time per event.
//
// usage: sink_rate --sink kafka|file [--brokers HOST:PORT] [--durability spool|memory]
//                  [--dir DIR] [--events N] [--threads N] [--deadline S]
//                  [--property NAME=VALUE]...   (librdkafka properties, as events.kafka.properties)
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "gateway/file_sink.h"
#include "gateway/kafka_sink.h"
#include "meter/cost_event.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string sink = "kafka";
  std::string brokers;
  std::string durability = "spool";
  std::string dir = "/tmp/sink_rate";
  uint64_t events = 200'000;
  int threads = 1;
  int deadline_s = 120;
  std::vector<std::pair<std::string, std::string>> properties;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "sink_rate: %s\nusage: sink_rate --sink kafka|file [--brokers HOST:PORT] "
               "[--durability spool|memory] [--dir DIR] [--events N] [--threads N] "
               "[--deadline S] [--property NAME=VALUE]...\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage("every option takes a value");
    const std::string value = argv[++i];
    if (arg == "--sink") {
      o.sink = value;
    } else if (arg == "--brokers") {
      o.brokers = value;
    } else if (arg == "--durability") {
      o.durability = value;
    } else if (arg == "--dir") {
      o.dir = value;
    } else if (arg == "--events") {
      o.events = std::stoull(value);
    } else if (arg == "--threads") {
      o.threads = std::stoi(value);
    } else if (arg == "--deadline") {
      o.deadline_s = std::stoi(value);
    } else if (arg == "--property") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) usage("--property takes NAME=VALUE");
      o.properties.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else {
      usage("unknown option");
    }
  }
  if (o.sink != "kafka" && o.sink != "file") usage("--sink is kafka or file");
  if (o.sink == "kafka" && o.brokers.empty()) usage("--sink kafka needs --brokers");
  if (o.events == 0 || o.threads < 1) usage("--events and --threads must be positive");
  return o;
}

// An event shaped like the gateway's for a non-streamed chat call (~1 KB serialized).
tollgate::meter::CostEvent sampleEvent(uint64_t n) {
  tollgate::meter::CostEvent e;
  char id[40];
  std::snprintf(id, sizeof id, "sinkrate-%020llu", static_cast<unsigned long long>(n));
  e.id = id;
  e.request_id = id;
  e.source = "tollgate://sink-rate";
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  e.attribution.team = "team-" + std::to_string(n % 8);
  e.attribution.project = "chat-assistant";
  e.attribution.cost_center = "cc-1234";
  e.attribution.workload_type = "interactive";
  e.attribution.key_id = "key-a";
  e.upstream = "openai";
  e.provider = "openai";
  e.operation = "chat";
  e.endpoint = "/v1/chat/completions";
  e.model_requested = "gpt-4o-mini";
  e.model = "gpt-4o-mini-2024-07-18";
  e.status = 200;
  e.usage.input_tokens = 1200;
  e.usage.output_tokens = 350;
  e.usage.cache_read_tokens = 512;
  e.usage_source = tollgate::meter::UsageSource::kProvider;
  e.priced = true;
  e.price_ref = "catalog:gpt-4o-mini@2026-01-01";
  e.start_unix_ns = 1'790'000'000'000'000'000 + static_cast<int64_t>(n) * 1000;
  e.end_unix_ns = e.start_unix_ns + 850'000'000;
  e.ttft_ms = 310.5;
  e.overhead_us = 42;
  return e;
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  tollgate::config::EventsConfig config;
  config.sink = o.sink;
  config.durability = o.durability;
  config.spool.dir = o.dir + "/spool";
  config.file.path = o.dir + "/events.jsonl";
  config.kafka.brokers = o.brokers;
  config.kafka.flush_timeout = std::chrono::milliseconds(10'000);
  config.kafka.properties = o.properties;

  // A spool left by an earlier run would be replayed and counted: start from nothing.
  std::error_code ignored;
  std::filesystem::remove_all(config.spool.dir, ignored);
  std::filesystem::remove(config.file.path, ignored);

  std::unique_ptr<tollgate::gateway::EventSink> sink;
  try {
    if (o.sink == "kafka") {
      sink = std::make_unique<tollgate::gateway::KafkaSink>(config);
    } else {
      sink = std::make_unique<tollgate::gateway::FileSink>(config.file);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sink_rate: %s\n", e.what());
    return 1;
  }

  // Events are built before the clock starts: what is timed is the sink, not building them.
  std::vector<std::vector<tollgate::meter::CostEvent>> per_thread(o.threads);
  for (uint64_t n = 0; n < o.events; ++n) {
    per_thread[n % o.threads].push_back(sampleEvent(n));
  }

  std::atomic<uint64_t> retries{0};
  const double cpu0 = cpuSeconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(o.deadline_s);
  std::vector<std::thread> producers;
  for (auto& events : per_thread) {
    producers.emplace_back([&] {
      for (auto& e : events) {
        // A full queue is back-pressure here: wait and retry (the gateway would drop and count).
        while (!sink->tryEmit(tollgate::meter::CostEvent(e))) {
          retries.fetch_add(1, std::memory_order_relaxed);
          if (Clock::now() > deadline) return;
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  const auto accepted_at = Clock::now();

  tollgate::gateway::SinkStats stats = sink->stats();
  while (stats.delivered < o.events && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stats = sink->stats();
  }
  const auto delivered_at = Clock::now();
  const double cpu = cpuSeconds() - cpu0;
  const uint64_t left = sink->stop(std::chrono::milliseconds(5'000));

  const double accept_s = std::chrono::duration<double>(accepted_at - start).count();
  const double deliver_s = std::chrono::duration<double>(delivered_at - start).count();
  // Full-queue retries are not drops, but a tryEmit refused once is counted by the sink as
  // dropped: the accepted total is what matters.
  std::printf(
      "RESULT sink=%s durability=%s events=%llu accepted=%llu delivered=%llu left=%llu "
      "accepted_per_s=%.0f delivered_per_s=%.0f cpu_us_per_event=%.2f retries=%llu\n",
      o.sink.c_str(), o.sink == "kafka" ? o.durability.c_str() : "-",
      static_cast<unsigned long long>(o.events), static_cast<unsigned long long>(stats.accepted),
      static_cast<unsigned long long>(stats.delivered), static_cast<unsigned long long>(left),
      static_cast<double>(stats.accepted) / accept_s,
      static_cast<double>(stats.delivered) / deliver_s, cpu * 1e6 / static_cast<double>(o.events),
      static_cast<unsigned long long>(retries.load()));
  return stats.delivered >= o.events ? 0 : 1;
}
