#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace tollgate::gateway {

// The longest label value exposed, in bytes. A longer one (a model name is whatever the client
// sent) is cut at a UTF-8 character boundary and ends with kTruncatedMark, so the length of a
// scrape is bounded by the number of series, whatever the calls carried. Independent of the
// cardinality cap (metrics.max_label_values), which bounds how many values there are.
inline constexpr size_t kMaxLabelValueBytes = 128;
inline constexpr std::string_view kTruncatedMark = "...[truncated]";

// `value` when it fits kMaxLabelValueBytes; else its cut form, built in `scratch`.
std::string_view boundedLabelValue(std::string_view value, std::string& scratch);

// The one writer of the Prometheus text exposition format (0.0.4) in the gateway: every
// subsystem renders its counters through it, so escaping, label bounds and number formats are
// decided once. A family is announced once (HELP, TYPE), then its samples follow.
class PrometheusWriter {
 public:
  using Label = std::pair<std::string_view, std::string_view>;
  using Labels = std::span<const Label>;

  explicit PrometheusWriter(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help);

  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, int64_t value);
  void sample(std::string_view name, Labels labels, double value);
  // An exact decimal (money), written as given.
  void sampleDecimal(std::string_view name, Labels labels, std::string_view decimal);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
    sample(name, Labels(labels.begin(), labels.size()), value);
  }

  // A family with one unlabelled sample.
  void counter(std::string_view name, std::string_view help, uint64_t value);
  void gauge(std::string_view name, std::string_view help, int64_t value);
  void gauge(std::string_view name, std::string_view help, double value);

  // One histogram's series: `buckets` holds the count of each bucket (not cumulative), with
  // one more entry than `bounds` for the values above every bound.
  void histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> buckets, double sum, uint64_t count);

 private:
  void series(std::string_view name, std::string_view suffix, Labels labels,
              const Label* extra = nullptr);
  void labelValue(std::string_view value);

  std::string& out_;
};

}  // namespace tollgate::gateway
