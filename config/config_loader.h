#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace tollgate::config {

// One validation error: the key path it concerns ("upstreams[1].base_url",
// "prices.\"gpt-4o*\".input") and what is wrong.
struct ConfigError {
  std::string path;
  std::string message;
  std::string toString() const { return path.empty() ? message : path + ": " + message; }
};

// Looks up an environment variable for ${NAME} substitution; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup processEnv();

// Parses and validates YAML text. Every problem found is reported (not only the first), each
// naming its key path. `${NAME}` inside scalar values is replaced through `env`; a missing
// variable is an error naming it and the key path. Unknown keys are errors.
std::variant<Config, std::vector<ConfigError>> parseConfig(std::string_view yaml_text,
                                                           const EnvLookup& env);

// Only the `gpu_pools:` section of a gateway config, validated as the gateway validates it
// (the ledger reads its pools this way; the rest of the file is the gateway's business).
std::variant<std::vector<GpuPoolConfig>, std::vector<ConfigError>> parseGpuPools(
    std::string_view yaml_text, const EnvLookup& env);

// Reads the file then parseConfig. A file that cannot be read is one error with an empty path.
std::variant<Config, std::vector<ConfigError>> loadConfigFile(const std::string& path,
                                                              const EnvLookup& env);

}  // namespace tollgate::config
