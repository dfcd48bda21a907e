#include "gateway/telemetry/prometheus.h"

#include <fmt/format.h>

#include <map>

#include "meter/money.h"

namespace tollgate::gateway {

// ---- LabelValues ----

LabelValues::LabelValues(size_t cap) : cap_(cap) { names_.push_back("other"); }

uint32_t LabelValues::resolve(std::string_view raw) {
  std::string scratch;
  const std::string_view value = boundedLabelValue(raw, scratch);
  // Once full the table never changes again: it is read without the lock.
  if (full_.load(std::memory_order_acquire)) {
    const auto it = ids_.find(std::string(value));
    return it == ids_.end() ? kOther : it->second;
  }
  std::lock_guard lock(mu_);
  const std::string key(value);
  if (const auto it = ids_.find(key); it != ids_.end()) return it->second;
  if (key == "other") return kOther;
  if (ids_.size() >= cap_) {
    full_.store(true, std::memory_order_release);
    return kOther;
  }
  const auto id = static_cast<uint32_t>(names_.size());
  names_.push_back(key);
  ids_.emplace(key, id);
  if (ids_.size() >= cap_) full_.store(true, std::memory_order_release);
  return id;
}

std::string LabelValues::name(uint32_t id) const {
  std::lock_guard lock(mu_);
  return id < names_.size() ? names_[id] : names_[kOther];
}

size_t LabelValues::admitted() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

// Out of line: a call observes five histograms, and five inlined copies of this were most of
// the shard's part of a call's instruction-cache lines.
template <size_t N>
[[gnu::noinline]] void Histogram<N>::observe(const std::array<double, N>& bounds, double value) {
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  // One writer per shard (its worker): load + store is enough, and cheaper than the locked
  // read-modify-write of fetch_add or a CAS loop. The scraper only loads.
  buckets[i].store(buckets[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sum.store(sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
}

namespace {

template <size_t K>
struct KeyHash {
  size_t operator()(const std::array<uint32_t, K>& key) const {
    uint64_t h = 1469598103934665603ull;
    for (const uint32_t v : key) h = (h ^ v) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

// Lets the label caches be searched with a string_view (no std::string built per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

constexpr size_t kTokenTypes = 5;
constexpr const char* kTokenTypeNames[kTokenTypes] = {"input", "output", "cache_read",
                                                      "cache_write", "reasoning"};

struct CallSeries {
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, kTokenTypes> tokens{};
  std::atomic<int64_t> cost_pico{0};
};

struct GenAiSeries {
  Histogram<14> input_tokens;
  Histogram<14> output_tokens;
  Histogram<14> duration;
  Histogram<14> time_to_first_chunk;
};

template <typename T>
void bump(std::atomic<T>& a, T n) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
// Picodollars add as Money does: saturating, so absurd bookings never wrap the total negative.
void bump(std::atomic<int64_t>& a, meter::Money n) {
  a.store((meter::Money::fromPico(a.load(std::memory_order_relaxed)) + n).pico(),
          std::memory_order_relaxed);
}

double seconds(CallRecord::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

class PrometheusMetrics::WorkerShard : public CallObserver {
 public:
  using CallKey = std::array<uint32_t, 5>;   // team, project, model, upstream, status
  using GenAiKey = std::array<uint32_t, 3>;  // operation, provider, request model
  using ErrorKey = std::array<uint32_t, 2>;  // upstream, error type

  explicit WorkerShard(const std::array<std::unique_ptr<LabelValues>, kLabelCount>& labels)
      : labels_(labels) {}

  void onCallFinished(const CallRecord& call, const meter::CostEvent& event) override {
    const CallKey key = {id(kTeam, event.attribution.team), id(kProject, event.attribution.project),
                         id(kModel, event.model), id(kUpstream, event.upstream),
                         id(kStatus, statusText(call.status))};
    CallSeries& s = series(calls_, key);
    bump<uint64_t>(s.requests, 1);
    const auto& u = event.usage;
    const int64_t tokens[kTokenTypes] = {u.input_tokens, u.output_tokens, u.cache_read_tokens,
                                         u.cache_write_tokens, u.reasoning_tokens};
    for (size_t t = 0; t < kTokenTypes; ++t) {
      if (tokens[t] > 0) bump<uint64_t>(s.tokens[t], static_cast<uint64_t>(tokens[t]));
    }
    bump(s.cost_pico, event.cost.total);

    if (!event.attribution.allocated) {
      bump(unallocated_pico_, event.cost.total);
    }
    overhead_.observe(kOverheadBuckets, static_cast<double>(event.overhead_us) / 1e6);

    if (call.upstream == nullptr || call.upstream_start == CallRecord::Clock::time_point{}) return;
    if (event.outcome == meter::Outcome::kUpstreamError ||
        event.outcome == meter::Outcome::kTimeout) {
      bump<uint64_t>(
          series(errors_, ErrorKey{id(kUpstream, event.upstream), id(kErrorType, call.error_type)}),
          1);
    }
    const GenAiKey gkey = {id(kOperation, call.info.operation),
                           id(kProvider, genAiProvider(call.upstream->dialect)),
                           id(kModel, call.info.model)};
    GenAiSeries& g = series(genai_, gkey);
    if (call.upstream_end >= call.upstream_start) {
      g.duration.observe(kDurationBuckets, seconds(call.upstream_end - call.upstream_start));
    }
    if (call.info.stream && call.has_first_byte && call.first_byte >= call.upstream_start) {
      g.time_to_first_chunk.observe(kDurationBuckets,
                                    seconds(call.first_byte - call.upstream_start));
    }
    if (call.metered && event.usage_source != meter::UsageSource::kNone) {
      g.input_tokens.observe(kTokenBuckets, static_cast<double>(u.input_tokens));
      g.output_tokens.observe(kTokenBuckets, static_cast<double>(u.output_tokens));
    }
  }

  // Series maps grow on the worker under mu_; the scraper iterates them under mu_. Values are
  // atomics, so the worker updates them without the lock.
  mutable std::mutex mu_;
  std::unordered_map<CallKey, std::unique_ptr<CallSeries>, KeyHash<5>> calls_;
  std::unordered_map<GenAiKey, std::unique_ptr<GenAiSeries>, KeyHash<3>> genai_;
  std::unordered_map<ErrorKey, std::unique_ptr<std::atomic<uint64_t>>, KeyHash<2>> errors_;
  std::atomic<int64_t> unallocated_pico_{0};
  Histogram<12> overhead_;

 private:
  static std::string_view genAiProvider(std::string_view dialect) {
    return dialect == "gemini" ? "gcp.gemini" : dialect;
  }

  std::string_view statusText(int status) {
    status_buf_ = std::to_string(status);
    return status_buf_;
  }

  uint32_t id(Label label, std::string_view raw) {
    // Cut before the caches are searched: they then hold bounded strings only.
    const std::string_view value = boundedLabelValue(raw, bounded_);
    // Consecutive calls mostly repeat a label's value (the same upstream, status, team): the
    // last one is compared before the table is hashed.
    auto& last = last_[label];
    if (last.id != kNone && last.value == value) return last.id;
    auto& cache = cache_[label];
    uint32_t resolved;
    if (const auto it = cache.find(value); it != cache.end()) {
      resolved = it->second;
    } else {
      resolved = labels_[label]->resolve(value);
      // Only admitted values are cached: their number is capped, "other" values are not.
      if (resolved == LabelValues::kOther) return resolved;
      cache.emplace(std::string(value), resolved);
    }
    last.value.assign(value);
    last.id = resolved;
    return resolved;
  }

  template <typename Map, typename Key, typename Value = typename Map::mapped_type::element_type>
  Value& series(Map& map, const Key& key) {
    if (auto it = map.find(key); it != map.end()) return *it->second;
    std::lock_guard lock(mu_);
    return *map.emplace(key, std::make_unique<Value>()).first->second;
  }

  const std::array<std::unique_ptr<LabelValues>, kLabelCount>& labels_;
  std::array<std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>, kLabelCount>
      cache_;
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Last {
    std::string value;
    uint32_t id = kNone;
  };
  std::array<Last, kLabelCount> last_;
  std::string status_buf_;
  std::string bounded_;
};

PrometheusMetrics::PrometheusMetrics(size_t workers, size_t max_label_values) {
  for (auto& l : labels_) l = std::make_unique<LabelValues>(max_label_values);
  for (size_t i = 0; i < workers; ++i) shards_.push_back(std::make_unique<WorkerShard>(labels_));
}

PrometheusMetrics::~PrometheusMetrics() = default;

CallObserver* PrometheusMetrics::observer(size_t worker) { return shards_.at(worker).get(); }

namespace {

template <size_t N>
struct HistTotals {
  std::array<uint64_t, N + 1> buckets{};
  uint64_t count = 0;
  double sum = 0;

  void add(const Histogram<N>& h) {
    for (size_t i = 0; i <= N; ++i) buckets[i] += h.buckets[i].load(std::memory_order_relaxed);
    count += h.count.load(std::memory_order_relaxed);
    sum += h.sum.load(std::memory_order_relaxed);
  }
};

using LabelPairs = std::vector<PrometheusWriter::Label>;

template <size_t N>
void appendHistogram(PrometheusWriter& out, std::string_view name, const LabelPairs& labels,
                     const std::array<double, N>& bounds, const HistTotals<N>& h) {
  out.histogram(name, labels, bounds, h.buckets, h.sum, h.count);
}

struct CallTotals {
  uint64_t requests = 0;
  std::array<uint64_t, kTokenTypes> tokens{};
  meter::Money cost;
};

struct GenAiTotals {
  HistTotals<14> input_tokens, output_tokens, duration, time_to_first_chunk;
};

}  // namespace

void PrometheusMetrics::render(PrometheusWriter& out) const {
  std::map<std::array<std::string, 5>, CallTotals> calls;
  std::map<std::array<std::string, 3>, GenAiTotals> genai;
  std::map<std::array<std::string, 2>, uint64_t> errors;
  HistTotals<12> overhead;
  meter::Money unallocated;
  auto name = [&](Label label, uint32_t id) { return labels_[label]->name(id); };
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu_);
    for (const auto& [k, s] : shard->calls_) {
      auto& t = calls[{name(kTeam, k[0]), name(kProject, k[1]), name(kModel, k[2]),
                       name(kUpstream, k[3]), name(kStatus, k[4])}];
      t.requests += s->requests.load(std::memory_order_relaxed);
      for (size_t i = 0; i < kTokenTypes; ++i)
        t.tokens[i] += s->tokens[i].load(std::memory_order_relaxed);
      t.cost += meter::Money::fromPico(s->cost_pico.load(std::memory_order_relaxed));
    }
    for (const auto& [k, g] : shard->genai_) {
      auto& t = genai[{name(kOperation, k[0]), name(kProvider, k[1]), name(kModel, k[2])}];
      t.input_tokens.add(g->input_tokens);
      t.output_tokens.add(g->output_tokens);
      t.duration.add(g->duration);
      t.time_to_first_chunk.add(g->time_to_first_chunk);
    }
    for (const auto& [k, n] : shard->errors_) {
      errors[{name(kUpstream, k[0]), name(kErrorType, k[1])}] += n->load(std::memory_order_relaxed);
    }
    overhead.add(shard->overhead_);
    unallocated += meter::Money::fromPico(shard->unallocated_pico_.load(std::memory_order_relaxed));
  }

  auto callLabels = [](const std::array<std::string, 5>& k) {
    return LabelPairs{
        {"team", k[0]}, {"project", k[1]}, {"model", k[2]}, {"upstream", k[3]}, {"status", k[4]}};
  };
  out.family("tollgate_requests_total", "counter",
             "Calls finished, by team, project, model, upstream and HTTP status.");
  for (const auto& [k, t] : calls) {
    out.sample("tollgate_requests_total", callLabels(k), t.requests);
  }
  out.family("tollgate_tokens_total", "counter",
             "Tokens metered, by type (cache and reasoning tokens are parts of input and output).");
  for (const auto& [k, t] : calls) {
    for (size_t i = 0; i < kTokenTypes; ++i) {
      auto labels = callLabels(k);
      labels.emplace_back("type", kTokenTypeNames[i]);
      out.sample("tollgate_tokens_total", labels, t.tokens[i]);
    }
  }
  out.family("tollgate_cost_usd_total", "counter",
             "Priced cost of calls in USD (exact decimal of integer picodollars).");
  for (const auto& [k, t] : calls) {
    out.sampleDecimal("tollgate_cost_usd_total", callLabels(k), t.cost.toDecimalString());
  }
  out.family("tollgate_unallocated_cost_usd_total", "counter",
             "Priced cost of calls served without a complete attribution, in USD.");
  out.sampleDecimal("tollgate_unallocated_cost_usd_total", {}, unallocated.toDecimalString());
  out.family("tollgate_upstream_errors_total", "counter",
             "Upstream calls that failed or timed out, by upstream and error type.");
  for (const auto& [k, n] : errors) {
    out.sample("tollgate_upstream_errors_total", {{"upstream", k[0]}, {"error_type", k[1]}}, n);
  }
  out.family("tollgate_gateway_overhead_seconds", "histogram",
             "Time each call spent in the gateway itself (total minus the upstream's time).");
  appendHistogram(out, "tollgate_gateway_overhead_seconds", {}, kOverheadBuckets, overhead);

  auto genaiLabels = [](const std::array<std::string, 3>& k) {
    return LabelPairs{{"gen_ai_operation_name", k[0]},
                      {"gen_ai_provider_name", k[1]},
                      {"gen_ai_request_model", k[2]}};
  };
  out.family("gen_ai_client_token_usage", "histogram",
             "Tokens used per upstream call, by gen_ai_token_type (input or output).");
  for (const auto& [k, t] : genai) {
    for (const auto& [type, h] :
         {std::pair{"input", &t.input_tokens}, std::pair{"output", &t.output_tokens}}) {
      if (h->count == 0) continue;
      auto labels = genaiLabels(k);
      labels.emplace_back("gen_ai_token_type", type);
      appendHistogram(out, "gen_ai_client_token_usage", labels, kTokenBuckets, *h);
    }
  }
  out.family("gen_ai_client_operation_duration_seconds", "histogram",
             "Duration of upstream calls, request sent to last byte.");
  for (const auto& [k, t] : genai) {
    if (t.duration.count == 0) continue;
    appendHistogram(out, "gen_ai_client_operation_duration_seconds", genaiLabels(k),
                    kDurationBuckets, t.duration);
  }
  out.family("gen_ai_client_operation_time_to_first_chunk_seconds", "histogram",
             "Time from sending a streaming upstream call to its first response chunk.");
  for (const auto& [k, t] : genai) {
    if (t.time_to_first_chunk.count == 0) continue;
    appendHistogram(out, "gen_ai_client_operation_time_to_first_chunk_seconds", genaiLabels(k),
                    kDurationBuckets, t.time_to_first_chunk);
  }
}

}  // namespace tollgate::gateway
