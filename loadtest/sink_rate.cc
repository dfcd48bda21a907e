// sink_rate: how many cost events per second an event sink sustains on its own, without the
// proxy in front of it. Producer threads (standing in for workers) call tryEmit as fast as the
// sink accepts (a full queue is retried, never counted as lost) until N events are accepted; the
// run ends when the sink reports all N delivered (Kafka: acknowledged by the broker; file:
// written). With --rate the producers emit that many events/s in all, in one burst a
// millisecond: the gateway's rate on one worker is ~30,000 calls/s, and librdkafka's batches
// (hence its CPU per event) are smaller at that rate than flat out.
//
// Prints one RESULT line: events/s accepted, events/s delivered (first emit to last delivery)
// and CPU time per event:
//   cpu_us_per_event           the whole process
//   producer_cpu_us_per_event  the producer threads in tryEmit: what a worker pays (serializing,
//                              the spool append, the queue); with --rate, the bursts only
//   pacing_cpu_us_per_event    the producers' sleeps between bursts (--rate)
//   sink_cpu_us_per_event      the rest but the main thread's: the sink's threads, librdkafka's
//   main_cpu_us_per_event      the main thread waiting for the deliveries
//   thread_cpu_us_per_event    the sink's threads by name (tg-kafka-sink, tg-kafka-poll,
//                              rdk:broker1, ...; /proc/self/task/*/schedstat)
//
// usage: sink_rate --sink kafka|file [--brokers HOST:PORT] [--durability spool|memory]
//                  [--dir DIR] [--events N] [--threads N] [--rate EVENTS_PER_S] [--deadline S]
//                  [--property NAME=VALUE]...   (librdkafka properties, as events.kafka.properties)
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "gateway/core/thread_name.h"
#include "gateway/events/file_sink.h"
#include "gateway/events/kafka_sink.h"
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
  double rate = 0;  // events/s over all producers; 0: as fast as the sink accepts
  int deadline_s = 120;
  std::vector<std::pair<std::string, std::string>> properties;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "sink_rate: %s\nusage: sink_rate --sink kafka|file [--brokers HOST:PORT] "
               "[--durability spool|memory] [--dir DIR] [--events N] [--threads N] "
               "[--rate EVENTS_PER_S] [--deadline S] [--property NAME=VALUE]...\n",
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
    } else if (arg == "--rate") {
      o.rate = std::stod(value);
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
  if (o.rate < 0) usage("--rate must not be negative");
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

// CPU time of this process's live threads, summed by thread name.
std::map<std::string, double> cpuSecondsByThreadName() {
  std::map<std::string, double> cpu;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
    std::ifstream comm(task.path() / "comm");
    std::ifstream schedstat(task.path() / "schedstat");
    std::string name;
    uint64_t ns = 0;  // first field: time on a CPU
    if (std::getline(comm, name) && schedstat >> ns) cpu[name] += static_cast<double>(ns) / 1e9;
  }
  return cpu;
}

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
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
  std::vector<double> producer_cpu(per_thread.size(), 0.0);         // in tryEmit (bursts)
  std::vector<double> producer_thread_cpu(per_thread.size(), 0.0);  // bursts and pacing
  std::string main_name;                                            // the program's name
  std::getline(std::ifstream("/proc/thread-self/comm"), main_name);
  const std::map<std::string, double> by_thread0 = cpuSecondsByThreadName();
  const double main_cpu0 = threadCpuSeconds();
  const double cpu0 = cpuSeconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(o.deadline_s);
  std::vector<std::thread> producers;
  for (size_t t = 0; t < per_thread.size(); ++t) {
    producers.emplace_back([&, t] {
      // Named apart from the main thread, which builds the events: `perf report --sort comm`.
      tollgate::gateway::nameThisThread("sr-producer");
      std::vector<tollgate::meter::CostEvent>& events = per_thread[t];
      // Emits events [from, to); false past the deadline.
      const auto emit = [&](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i) {
          // A full queue is back-pressure here: wait and retry (the gateway would drop and
          // count). A refused event is left as it was (sinks check capacity before taking it),
          // so it is moved, not copied: a copy's allocations and page faults were a large part
          // of the CPU measured.
          while (!sink->tryEmit(std::move(events[i]))) {
            retries.fetch_add(1, std::memory_order_relaxed);
            if (Clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          }
        }
        return true;
      };
      const double thread_start = threadCpuSeconds();
      if (o.rate == 0) {
        emit(0, events.size());
        producer_cpu[t] = threadCpuSeconds() - thread_start;
      } else {
        const double thread_rate = o.rate / static_cast<double>(per_thread.size());
        size_t sent = 0;
        for (auto tick = start; sent < events.size();) {
          const double due_s = std::chrono::duration<double>(tick - start).count();
          const size_t due = std::min(events.size(), static_cast<size_t>(due_s * thread_rate) + 1);
          const double burst_start = threadCpuSeconds();
          const bool in_time = emit(sent, due);
          producer_cpu[t] += threadCpuSeconds() - burst_start;
          if (!in_time) break;
          sent = due;
          // Scheduled, not measured from now: a late wake-up is caught up by the next burst.
          tick += std::chrono::milliseconds(1);
          std::this_thread::sleep_until(tick);
        }
      }
      producer_thread_cpu[t] = threadCpuSeconds() - thread_start;
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
  const std::map<std::string, double> by_thread = cpuSecondsByThreadName();
  const double main_cpu = threadCpuSeconds() - main_cpu0;
  double producers_cpu = 0;
  double producer_threads_cpu = 0;
  for (size_t t = 0; t < producers.size(); ++t) {
    producers_cpu += producer_cpu[t];
    producer_threads_cpu += producer_thread_cpu[t];
  }
  const uint64_t left = sink->stop(std::chrono::milliseconds(5'000));

  const double accept_s = std::chrono::duration<double>(accepted_at - start).count();
  const double deliver_s = std::chrono::duration<double>(delivered_at - start).count();
  const auto per_event = [&](double seconds) {
    return seconds * 1e6 / static_cast<double>(o.events);
  };
  std::string threads_cpu;
  for (const auto& [name, seconds] : by_thread) {
    const auto before = by_thread0.find(name);
    const double used = seconds - (before == by_thread0.end() ? 0.0 : before->second);
    // The main thread and the producers (ended) are reported above.
    if (name == main_name || per_event(used) < 0.005) continue;
    char item[64];
    std::snprintf(item, sizeof item, "%s%s:%.2f", threads_cpu.empty() ? "" : ",", name.c_str(),
                  per_event(used));
    threads_cpu += item;
  }
  // Full-queue retries are not drops, but a tryEmit refused once is counted by the sink as
  // dropped: the accepted total is what matters.
  std::printf(
      "RESULT sink=%s durability=%s events=%llu accepted=%llu delivered=%llu left=%llu "
      "accepted_per_s=%.0f delivered_per_s=%.0f cpu_us_per_event=%.2f "
      "producer_cpu_us_per_event=%.2f sink_cpu_us_per_event=%.2f main_cpu_us_per_event=%.2f "
      "pacing_cpu_us_per_event=%.2f thread_cpu_us_per_event=%s retries=%llu\n",
      o.sink.c_str(), o.sink == "kafka" ? o.durability.c_str() : "-",
      static_cast<unsigned long long>(o.events), static_cast<unsigned long long>(stats.accepted),
      static_cast<unsigned long long>(stats.delivered), static_cast<unsigned long long>(left),
      static_cast<double>(stats.accepted) / accept_s,
      static_cast<double>(stats.delivered) / deliver_s, per_event(cpu), per_event(producers_cpu),
      per_event(cpu - producer_threads_cpu - main_cpu), per_event(main_cpu),
      per_event(producer_threads_cpu - producers_cpu),
      threads_cpu.empty() ? "-" : threads_cpu.c_str(),
      static_cast<unsigned long long>(retries.load()));
  return stats.delivered >= o.events ? 0 : 1;
}
