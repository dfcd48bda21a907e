#include "gateway/upstream/vllm_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tollgate::gateway {
namespace {

// The value of a sample line "name{label="v",...} value [timestamp]" after its name.
std::optional<double> sampleValue(std::string_view rest) {
  if (!rest.empty() && rest.front() == '{') {
    bool quoted = false;
    size_t i = 1;
    for (; i < rest.size(); ++i) {
      const char c = rest[i];
      if (quoted && c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == '}') {
        break;
      }
    }
    if (i >= rest.size()) return std::nullopt;
    rest.remove_prefix(i + 1);
  }
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) return std::nullopt;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  const size_t end = std::min(rest.find_first_of(" \t\r"), rest.size());
  double value = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + end, value);
  if (ec != std::errc() || ptr != rest.data() + end) return std::nullopt;
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<VllmLoad> parseVllmMetrics(std::string_view text) {
  static constexpr std::string_view kWaiting = "vllm:num_requests_waiting";
  static constexpr std::string_view kGpuCache = "vllm:gpu_cache_usage_perc";
  static constexpr std::string_view kKvCache = "vllm:kv_cache_usage_perc";
  VllmLoad load;
  bool found = false;
  while (!text.empty()) {
    const size_t eol = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(std::min(eol + 1, text.size()));
    if (line.empty() || line.front() == '#') continue;
    for (std::string_view name : {kWaiting, kGpuCache, kKvCache}) {
      if (!line.starts_with(name)) continue;
      const auto value = sampleValue(line.substr(name.size()));
      if (!value) break;
      found = true;
      if (name == kWaiting) {
        load.requests_waiting += *value;
      } else {
        load.kv_cache_usage = std::max(load.kv_cache_usage, std::min(*value, 1.0));
      }
      break;
    }
  }
  if (!found) return std::nullopt;
  return load;
}

}  // namespace tollgate::gateway
