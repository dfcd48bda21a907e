#include "gateway/core/prometheus_writer.h"

#include <fmt/format.h>

namespace tollgate::gateway {

std::string_view boundedLabelValue(std::string_view value, std::string& scratch) {
  if (value.size() <= kMaxLabelValueBytes) return value;
  size_t cut = kMaxLabelValueBytes - kTruncatedMark.size();
  // Never split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  scratch.assign(value.substr(0, cut));
  scratch.append(kTruncatedMark);
  return scratch;
}

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
}

void PrometheusWriter::labelValue(std::string_view raw) {
  std::string scratch;
  const std::string_view value = boundedLabelValue(raw, scratch);
  out_ += '"';
  for (const char c : value) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '"') {
      out_ += "\\\"";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += '"';
}

void PrometheusWriter::series(std::string_view name, std::string_view suffix, Labels labels,
                              const Label* extra) {
  out_ += name;
  out_ += suffix;
  if (labels.empty() && extra == nullptr) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const Label& label) {
    if (!first) out_ += ',';
    first = false;
    out_ += label.first;
    out_ += '=';
    labelValue(label.second);
  };
  for (const auto& label : labels) one(label);
  if (extra != nullptr) one(*extra);
  out_ += '}';
}

void PrometheusWriter::sample(std::string_view name, Labels labels, uint64_t value) {
  series(name, {}, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void PrometheusWriter::sample(std::string_view name, Labels labels, int64_t value) {
  series(name, {}, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void PrometheusWriter::sample(std::string_view name, Labels labels, double value) {
  series(name, {}, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void PrometheusWriter::sampleDecimal(std::string_view name, Labels labels,
                                     std::string_view decimal) {
  series(name, {}, labels);
  out_ += ' ';
  out_ += decimal;
  out_ += '\n';
}

void PrometheusWriter::counter(std::string_view name, std::string_view help, uint64_t value) {
  family(name, "counter", help);
  sample(name, Labels{}, value);
}

void PrometheusWriter::gauge(std::string_view name, std::string_view help, int64_t value) {
  family(name, "gauge", help);
  sample(name, Labels{}, value);
}

void PrometheusWriter::gauge(std::string_view name, std::string_view help, double value) {
  family(name, "gauge", help);
  sample(name, Labels{}, value);
}

void PrometheusWriter::histogram(std::string_view name, Labels labels,
                                 std::span<const double> bounds, std::span<const uint64_t> buckets,
                                 double sum, uint64_t count) {
  uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    le = i < bounds.size() ? fmt::format("{}", bounds[i]) : "+Inf";
    const Label extra{"le", le};
    series(name, "_bucket", labels, &extra);
    fmt::format_to(std::back_inserter(out_), " {}\n", cumulative);
  }
  series(name, "_sum", labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", sum);
  series(name, "_count", labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", count);
}

}  // namespace tollgate::gateway
