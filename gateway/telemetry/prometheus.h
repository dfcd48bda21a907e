#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/core/call_record.h"
#include "gateway/core/prometheus_writer.h"

namespace tollgate::gateway {

// The admitted values of one label. The first `cap` distinct values keep their name; later
// ones are reported as "other", so a client sending random team names cannot grow the scrape
// without bound. Shared by all workers; each worker caches what it has resolved, so the lock is
// taken only the first time a worker meets a value while the label is below its cap.
class LabelValues {
 public:
  static constexpr uint32_t kOther = 0;

  explicit LabelValues(size_t cap);

  uint32_t resolve(std::string_view value);
  std::string name(uint32_t id) const;
  size_t admitted() const;

 private:
  size_t cap_;
  mutable std::mutex mu_;
  std::vector<std::string> names_;  // index = id; [0] = "other"
  std::unordered_map<std::string, uint32_t> ids_;
  std::atomic<bool> full_{false};
};

// Fixed-bucket histogram written by one thread (relaxed atomics), read by the scraper.
template <size_t N>
struct Histogram {
  std::array<std::atomic<uint64_t>, N + 1> buckets{};  // last = above every bound
  std::atomic<uint64_t> count{0};
  std::atomic<double> sum{0.0};

  void observe(const std::array<double, N>& bounds, double value);
};

// Detailed call metrics: counters by team, project, model, upstream and status, and the GenAI
// histograms. Per-worker shards (WorkerShard is a CallObserver bound to one worker thread),
// summed when /metrics is scraped.
class PrometheusMetrics {
 public:
  static constexpr std::array<double, 14> kTokenBuckets = {
      1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};
  static constexpr std::array<double, 14> kDurationBuckets = {
      0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
  static constexpr std::array<double, 12> kOverheadBuckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25};

  PrometheusMetrics(size_t workers, size_t max_label_values);
  ~PrometheusMetrics();

  CallObserver* observer(size_t worker);
  // Appends every family this class owns, in the text exposition format 0.0.4.
  void render(PrometheusWriter& out) const;

 private:
  class WorkerShard;
  enum Label {
    kTeam,
    kProject,
    kModel,
    kUpstream,
    kStatus,
    kOperation,
    kProvider,
    kErrorType,
    kLabelCount
  };

  std::array<std::unique_ptr<LabelValues>, kLabelCount> labels_;
  std::vector<std::unique_ptr<WorkerShard>> shards_;
};

}  // namespace tollgate::gateway
