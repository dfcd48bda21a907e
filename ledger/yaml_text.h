#pragma once

// YAML text to a node for the ledger's readers (its config, the gateway config's sections,
// price catalogs); included by .cc files only.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace tollgate::ledger {

// nullopt with one error (empty path) when the text is not YAML.
inline std::optional<YAML::Node> loadYamlText(std::string_view text,
                                              std::vector<config::ConfigError>& errors) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors.push_back({"", std::string("YAML: ") + e.what()});
    return std::nullopt;
  }
}

}  // namespace tollgate::ledger
