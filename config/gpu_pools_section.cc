// Loader: the gpu_pools: section and the upstreams' gpu_pool references.
#include <algorithm>
#include <cctype>
#include <map>

#include "config/loader.h"

namespace tollgate::config {
namespace {

// Bounds that keep a pool's cost over a month far inside the ledger's 128-bit sweep
// (docs/gpu-pools.md, "Exact arithmetic").
constexpr uint64_t kMaxGpus = 100'000;
constexpr int64_t kMaxGpuHourPico = 100'000 * meter::Money::kPicoPerUsd;
constexpr uint64_t kMaxTokenWeight = 1'000'000;

bool isPoolName(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '_' || c == '.' || c == '-';
         });
}

}  // namespace

void Loader::loadGpuPools(const YAML::Node& node, std::vector<GpuPoolConfig>& pools) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    error("gpu_pools", "expected a sequence of pools");
    return;
  }
  std::map<std::string, size_t> first_by_name;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("gpu_pools", i);
    const YAML::Node& entry = node[i];
    if (!entry.IsMap()) {
      error(path, "expected a mapping");
      continue;
    }
    checkSection(entry, path,
                 {"name", "gpus", "gpu_hour_usd", "share", "weights", "idle", "compare_with"});
    GpuPoolConfig pool;
    if (auto n = child(entry, "name")) {
      if (auto text = stringValue(*n, path + ".name")) {
        if (!isPoolName(*text)) {
          error(path + ".name", "must be 1 to 64 characters of [A-Za-z0-9_.-]");
        } else if (const auto [it, inserted] = first_by_name.emplace(*text, i); !inserted) {
          error(path + ".name", "duplicate pool name " + quoteKey(*text) + " (already used by " +
                                    indexPath("gpu_pools", it->second) + ")");
        } else {
          pool.name = *text;
        }
      }
    } else {
      error(path + ".name", "is required");
    }
    if (auto n = child(entry, "gpus")) {
      if (auto v = integer(*n, path + ".gpus", 1, kMaxGpus, "an integer from 1 to 100000")) {
        pool.gpus = static_cast<uint32_t>(*v);
      }
    } else {
      error(path + ".gpus", "is required");
    }
    if (auto n = child(entry, "gpu_hour_usd")) {
      static constexpr std::string_view kExpected =
          "a decimal string of USD per GPU-hour, above 0 and at most 100000, with at most 12 "
          "decimal places";
      if (auto text = scalar(*n, path + ".gpu_hour_usd", kExpected)) {
        const auto money = meter::Money::parseUsd(*text);
        if (!money || money->pico() <= 0 || money->pico() > kMaxGpuHourPico) {
          error(path + ".gpu_hour_usd", "expected " + std::string(kExpected));
        } else {
          pool.gpu_hour = *money;
        }
      }
    } else {
      error(path + ".gpu_hour_usd", "is required");
    }
    if (auto n = child(entry, "share")) {
      if (auto text = oneOf(*n, path + ".share", {"tokens", "time"}, "must be tokens or time")) {
        pool.share = *text;
      }
    }
    if (auto n = child(entry, "weights");
        n && checkSection(*n, path + ".weights", {"prefill", "decode"})) {
      const std::pair<std::string_view, uint32_t*> weights[] = {{"prefill", &pool.prefill_weight},
                                                                {"decode", &pool.decode_weight}};
      for (const auto& [key, target] : weights) {
        if (auto w = child(*n, key)) {
          if (auto v = integer(*w, keyPath(path + ".weights", key), 0, kMaxTokenWeight,
                               "an integer from 0 to 1000000")) {
            *target = static_cast<uint32_t>(*v);
          }
        }
      }
      if (pool.prefill_weight == 0 && pool.decode_weight == 0) {
        error(path + ".weights", "prefill and decode cannot both be 0");
      }
    }
    if (auto n = child(entry, "idle")) {
      if (auto text = oneOf(*n, path + ".idle", {"separate", "proportional"},
                            "must be separate or proportional")) {
        pool.idle = *text;
      }
    }
    if (auto n = child(entry, "compare_with")) {
      if (auto text = nonEmptyString(*n, path + ".compare_with")) pool.compare_with = *text;
    }
    pools.push_back(std::move(pool));
  }
}

void Loader::checkUpstreamPools(const YAML::Node& upstreams, const Config& config) {
  if (!upstreams.IsSequence()) return;
  for (size_t i = 0; i < upstreams.size() && i < config.upstreams.size(); ++i) {
    const std::string& pool = config.upstreams[i].gpu_pool;
    if (pool.empty()) continue;
    const bool known = std::any_of(config.gpu_pools.begin(), config.gpu_pools.end(),
                                   [&](const GpuPoolConfig& p) { return p.name == pool; });
    if (!known) {
      error(indexPath("upstreams", i) + ".gpu_pool",
            "no pool named " + quoteKey(pool) + " in gpu_pools");
    }
  }
}

std::variant<std::vector<GpuPoolConfig>, Errors> Loader::loadGpuPoolsOnly(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return Errors{{"", "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg}};
  }
  std::vector<GpuPoolConfig> pools;
  if (root.IsMap()) {
    if (auto node = child(root, "gpu_pools")) loadGpuPools(*node, pools);
  }
  if (!errors_.empty()) return std::move(errors_);
  return pools;
}

std::variant<std::vector<GpuPoolConfig>, std::vector<ConfigError>> parseGpuPools(
    std::string_view yaml_text, const EnvLookup& env) {
  Loader loader(env);
  return loader.loadGpuPoolsOnly(yaml_text);
}

}  // namespace tollgate::config
