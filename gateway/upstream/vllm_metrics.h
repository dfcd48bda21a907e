#pragma once

#include <optional>
#include <string_view>

namespace tollgate::gateway {

// The load figures of a vLLM server, read from its Prometheus text exposition (/metrics).
struct VllmLoad {
  double requests_waiting = 0;  // vllm:num_requests_waiting, summed over label sets
  double kv_cache_usage = 0;    // vllm:gpu_cache_usage_perc (v0) or kv_cache_usage_perc (v1),
                                // 0..1, the largest over label sets
};

// nullopt when the text holds neither figure (not a vLLM server, or a broken scrape). Malformed
// lines are skipped; negative, NaN and infinite values are ignored.
std::optional<VllmLoad> parseVllmMetrics(std::string_view text);

}  // namespace tollgate::gateway
