#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_loader.h"
#include "gateway/upstream/random_source.h"

namespace tollgate::gateway::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A fixed start for fake time: tests move it forward themselves.
inline const Clock::time_point kT0 = Clock::time_point(std::chrono::hours(1000));

// Returns the values it was given, in order, then zeros.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::deque<uint64_t> values = {}) : values_(std::move(values)) {}

  uint64_t next() override {
    if (values_.empty()) return 0;
    const uint64_t v = values_.front();
    values_.pop_front();
    return v;
  }

  // The raw value whose below(bound) is `index`.
  static uint64_t choosing(uint64_t index, uint64_t bound) {
    return static_cast<uint64_t>(((static_cast<unsigned __int128>(index) << 64) + (1ull << 63)) /
                                 bound);
  }

 private:
  std::deque<uint64_t> values_;
};

// An upstream named `name` with one endpoint per weight.
inline config::UpstreamConfig poolOf(const std::string& name, std::vector<uint32_t> weights) {
  config::UpstreamConfig upstream;
  upstream.name = name;
  upstream.dialect = "openai";
  upstream.models = {"*"};
  for (size_t i = 0; i < weights.size(); ++i) {
    config::UpstreamEndpoint endpoint;
    endpoint.base_url = "http://10.0.0." + std::to_string(i + 1);
    endpoint.weight = weights[i];
    upstream.endpoints.push_back(endpoint);
  }
  return upstream;
}

// Parses YAML expected to be valid (no environment); fails the test otherwise.
inline config::Config loadConfig(const std::string& yaml) {
  auto result = config::parseConfig(
      yaml, [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  if (auto* errors = std::get_if<std::vector<config::ConfigError>>(&result)) {
    ADD_FAILURE() << errors->front().toString();
    return {};
  }
  return std::get<config::Config>(std::move(result));
}

}  // namespace tollgate::gateway::testing
