#pragma once

// Parsing one section under a fixed minimal upstream, for the section tests of tests/config.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "config/config_loader.h"

namespace tollgate::config::testing {

inline const std::string kMinimalUpstreams = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
prices:
  "*": { input: "1", output: "2" }
)";

inline EnvLookup noEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

// `yaml` plus the minimal upstreams, expected valid; fails the test with every error otherwise.
inline Config parseSection(const std::string& yaml) {
  auto result = parseConfig(yaml + kMinimalUpstreams, noEnv());
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    std::string text;
    for (const auto& e : *errors) text += e.toString() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << text;
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

// The toString() of every error of `yaml` plus the minimal upstreams, expected invalid.
inline std::vector<std::string> sectionErrors(const std::string& yaml) {
  auto result = parseConfig(yaml + kMinimalUpstreams, noEnv());
  if (std::holds_alternative<Config>(result)) {
    ADD_FAILURE() << "expected errors, the config was accepted";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& e : std::get<std::vector<ConfigError>>(result)) out.push_back(e.toString());
  return out;
}

}  // namespace tollgate::config::testing
