// Spool::append of one ~1 KiB event (a serialized CostEvent is ~1.1 KB), as the gateway's
// workers call it: write(2) and a copy into a mapped segment, side by side. Records are
// acknowledged 1,024 at a time, so segments (the default 64 MiB) fill, roll over and are
// deleted as in a gateway whose brokers keep up: creating, sealing and deleting segments is in
// the figures, amortized. `faults` is minor page faults per append.
//   bench_spool --benchmark_min_time=2 --benchmark_repetitions=3
// The spool lives under $TMPDIR (default /tmp): pick the filesystem to measure with it.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gateway/events/spool.h"

namespace {

using tollgate::gateway::Spool;
using tollgate::gateway::SpoolOptions;

std::string tempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tollgate-bench-spool-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

// ~1 KiB of JSON, the size of a serialized CostEvent.
std::string eventValue() {
  std::string value = R"({"specversion":"1.0","type":"tollgate.cost","data":{)";
  while (value.size() < 1020) value += R"("field":"0123456789abcdef",)";
  return value + "}}";
}

long minorFaults() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// With `prefault` the spool is prefaulted 256 KiB every 64 appends, as the Kafka sink's thread
// does each round; BM_Append counts that work in the time (the CPU is spent either way),
// BM_AppendLatency times the appends alone (in the gateway prefault() runs on another thread).
constexpr int kPrefaultEvery = 64;
constexpr uint64_t kPrefaultBytes = 256 << 10;

void BM_Append(benchmark::State& state, bool force_write, bool prefault) {
  const std::string dir = tempDir();
  if (dir.empty()) {
    state.SkipWithError("cannot create a directory under $TMPDIR");
    return;
  }
  const std::string key = "acme/team-7/key-42";
  const std::string value = eventValue();
  const Spool::Entry entry{key, value};
  {
    SpoolOptions options;
    options.dir = dir;
    options.force_write = force_write;
    Spool spool(options);
    std::vector<uint64_t> seqs;
    seqs.reserve(1024);
    const long faults_before = minorFaults();
    int n = 0;
    for (auto _ : state) {
      if (prefault && n++ % kPrefaultEvery == 0) spool.prefault(kPrefaultBytes);
      uint64_t seq = 0;
      if (spool.append({&entry, 1}, 1'700'000'000'000, seq) != Spool::AppendResult::kOk) {
        state.SkipWithError("append failed");
        break;
      }
      seqs.push_back(seq);
      if (seqs.size() == seqs.capacity()) {
        spool.ack(seqs);
        seqs.clear();
      }
    }
    state.counters["faults"] = benchmark::Counter(
        static_cast<double>(minorFaults() - faults_before), benchmark::Counter::kAvgIterations);
    state.counters["mapped"] = spool.stats().mapped ? 1 : 0;
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(Spool::kHeaderBytes + key.size() + value.size()));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The same appends timed one by one: the rare slow ones (a segment created, or sealed) are the
// request path's tail latency. Fixed at 300,000 appends: 4 to 5 segments of 64 MiB.
void BM_AppendLatency(benchmark::State& state, bool force_write, bool prefault) {
  const std::string dir = tempDir();
  if (dir.empty()) {
    state.SkipWithError("cannot create a directory under $TMPDIR");
    return;
  }
  const std::string key = "acme/team-7/key-42";
  const std::string value = eventValue();
  const Spool::Entry entry{key, value};
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(state.max_iterations));
  {
    SpoolOptions options;
    options.dir = dir;
    options.force_write = force_write;
    Spool spool(options);
    std::vector<uint64_t> seqs;
    seqs.reserve(1024);
    int n = 0;
    for (auto _ : state) {
      if (prefault && n++ % kPrefaultEvery == 0) spool.prefault(kPrefaultBytes);
      uint64_t seq = 0;
      const auto start = std::chrono::steady_clock::now();
      const auto result = spool.append({&entry, 1}, 1'700'000'000'000, seq);
      micros.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
      if (result != Spool::AppendResult::kOk) {
        state.SkipWithError("append failed");
        break;
      }
      seqs.push_back(seq);
      if (seqs.size() == seqs.capacity()) {
        spool.ack(seqs);
        seqs.clear();
      }
    }
  }
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) {
    return micros.empty() ? 0.0 : micros[static_cast<size_t>(q * (micros.size() - 1))];
  };
  state.counters["p50_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
  state.counters["p999_us"] = at(0.999);
  state.counters["max_us"] = at(1.0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BENCHMARK_CAPTURE(BM_Append, write, true, false);
BENCHMARK_CAPTURE(BM_Append, mapped, false, false);
BENCHMARK_CAPTURE(BM_Append, mapped_prefaulted, false, true);
BENCHMARK_CAPTURE(BM_AppendLatency, write, true, false)->Iterations(300'000);
BENCHMARK_CAPTURE(BM_AppendLatency, mapped, false, false)->Iterations(300'000);
BENCHMARK_CAPTURE(BM_AppendLatency, mapped_prefaulted, false, true)->Iterations(300'000);

}  // namespace

BENCHMARK_MAIN();
