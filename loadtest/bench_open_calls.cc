// What the open-call journal costs a long call: one timer tick over N journaled calls whose
// output moved (each gets a progress record: encoded, then one write(2) for the whole tick),
// reported per call per tick; and the open record and the close of one call. Fixed clocks, so
// no call waits for after_ms: the first tick journals every call.
//   bench_open_calls --benchmark_min_time=1 --benchmark_repetitions=3
// The journal lives under $TMPDIR (default /tmp).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gateway/core/deadline.h"
#include "gateway/events/open_call_tracker.h"

namespace {

using tollgate::gateway::OpenCallEntry;
using tollgate::gateway::OpenCallJournal;
using tollgate::gateway::OpenCallTracker;

std::string tempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                     "/tollgate-bench-open-calls-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

// A call as a session describes it: labels of typical size, output growing between ticks.
class Call final : public OpenCallTracker::Call {
 public:
  explicit Call(int i) : id_("0af7651916cd43dd8448eb211c8" + std::to_string(10000 + i)) {}
  void describe(OpenCallEntry& e) const override {
    e.id = id_;
    e.source = "tollgate://gw-eu-1";
    e.request_id = id_;
    e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    e.attribution.team = "fraud-platform";
    e.attribution.project = "scoring";
    e.attribution.cost_center = "cc-4411";
    e.attribution.workload_type = "inference";
    e.attribution.environment = "prod";
    e.attribution.key_id = "fraud-prod";
    e.upstream = "openai";
    e.provider = "openai";
    e.operation = "chat";
    e.endpoint = "/v1/chat/completions";
    e.model_requested = "gpt-4o-mini";
    e.stream = true;
    e.start_unix_ns = 1'764'000'000'000'000'000;
    e.input_estimate = 1200;
    e.status = 200;
    e.model = "gpt-4o-mini-2024-07-18";
    e.output_bytes = output_bytes;
  }
  int64_t output_bytes = 0;

 private:
  std::string id_;
};

void BM_TickPerJournaledCall(benchmark::State& state) {
  const std::string dir = tempDir();
  boost::asio::io_context ioc;
  const int n = static_cast<int>(state.range(0));
  {
    auto journal = std::make_unique<OpenCallJournal>(OpenCallJournal::Options{dir, false}, 1, 0);
    OpenCallTracker tracker(ioc.get_executor(), std::move(journal), {});
    std::vector<std::unique_ptr<Call>> calls;
    std::vector<std::unique_ptr<OpenCallTracker::Handle>> handles;
    for (int i = 0; i < n; ++i) {
      calls.push_back(std::make_unique<Call>(i));
      handles.push_back(std::make_unique<OpenCallTracker::Handle>());
      handles.back()->begin(&tracker, *calls.back());
    }
    const int64_t later = tollgate::gateway::DeadlineSweeper::nowMillis() + 3'600'000;
    tracker.tick(later, 1);  // every call journaled (its open)
    int64_t t = 2;
    for (auto _ : state) {
      for (auto& c : calls) c->output_bytes += 40;
      tracker.tick(later, t++);
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["compactions"] = static_cast<double>(tracker.stats().compactions);
    for (auto& h : handles) h->end();
    tracker.stop();
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_TickPerJournaledCall)->Arg(1)->Arg(200)->Arg(2000);

// A long call's own records: its open (at the threshold) and its close (after its event).
void BM_OpenAndClose(benchmark::State& state) {
  const std::string dir = tempDir();
  boost::asio::io_context ioc;
  {
    auto journal = std::make_unique<OpenCallJournal>(OpenCallJournal::Options{dir, false}, 1, 0);
    OpenCallTracker tracker(ioc.get_executor(), std::move(journal), {});
    Call call(0);
    const int64_t later = tollgate::gateway::DeadlineSweeper::nowMillis() + 3'600'000;
    for (auto _ : state) {
      OpenCallTracker::Handle handle;
      handle.begin(&tracker, call);
      tracker.tick(later, 1);
      handle.end();
    }
    tracker.stop();
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OpenAndClose);

}  // namespace

BENCHMARK_MAIN();
