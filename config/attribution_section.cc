// Loader: the attribution: and keys: sections.
#include "config/loader.h"

namespace tollgate::config {

void Loader::loadAttribution(const YAML::Node& node, AttributionHeaders& attribution) {
  if (!checkSection(node, "attribution", {"headers", "mode", "required", "tags"})) return;
  const auto headers = child(node, "headers");
  const std::string path = "attribution.headers";
  if (!headers ||
      !checkSection(*headers, path,
                    {"team", "project", "cost_center", "workload_type", "environment", "tags"})) {
    return;
  }
  const std::pair<std::string_view, std::string*> fields[] = {
      {"team", &attribution.team},
      {"project", &attribution.project},
      {"cost_center", &attribution.cost_center},
      {"workload_type", &attribution.workload_type},
      {"environment", &attribution.environment},
      {"tags", &attribution.tags},
  };
  for (const auto& [key, target] : fields) {
    if (auto n = child(*headers, key)) {
      if (auto name = headerName(*n, keyPath(path, key))) *target = *name;
    }
  }
  // One request header feeding two dimensions would silently copy a team into a project.
  for (size_t i = 0; i < std::size(fields); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (*fields[i].second == *fields[j].second) {
        error(keyPath(path, fields[i].first), "header " + *fields[i].second +
                                                  " is already used by " +
                                                  keyPath(path, fields[j].first));
        break;
      }
    }
  }
}

void Loader::loadAttributionPolicy(const YAML::Node& node, AttributionPolicy& policy) {
  if (!node.IsMap()) return;  // reported by loadAttribution
  if (auto n = child(node, "mode")) {
    if (auto text = oneOf(*n, "attribution.mode", {"enforce", "warn"}, "must be enforce or warn")) {
      policy.enforce = *text == "enforce";
    }
  }
  if (auto n = child(node, "required")) {
    const std::string path = "attribution.required";
    policy.required.clear();
    if (!n->IsNull() && !n->IsSequence()) {
      error(path, "expected a sequence of label names");
    } else if (n->IsSequence()) {
      for (size_t i = 0; i < n->size(); ++i) {
        const std::string item_path = indexPath(path, i);
        auto text = oneOf((*n)[i], item_path,
                          {"team", "project", "cost_center", "workload_type", "environment"},
                          "must be one of team, project, cost_center, workload_type, "
                          "environment");
        if (!text) continue;
        if (std::find(policy.required.begin(), policy.required.end(), *text) !=
            policy.required.end()) {
          error(item_path, "duplicate label " + quoteKey(*text));
          continue;
        }
        policy.required.push_back(*text);
      }
    }
  }
  if (auto n = child(node, "tags");
      n &&
      checkSection(*n, "attribution.tags", {"max_count", "max_key_bytes", "max_value_bytes"})) {
    const std::pair<std::string_view, size_t*> fields[] = {
        {"max_count", &policy.tags.max_count},
        {"max_key_bytes", &policy.tags.max_key_bytes},
        {"max_value_bytes", &policy.tags.max_value_bytes},
    };
    for (const auto& [key, target] : fields) {
      if (auto v = child(*n, key)) {
        if (auto value = integer(*v, keyPath("attribution.tags", key), 1, 1024,
                                 "an integer from 1 to 1024")) {
          *target = static_cast<size_t>(*value);
        }
      }
    }
  }
}

std::optional<std::string> Loader::labelValue(const YAML::Node& node, const std::string& path) {
  auto text = stringValue(node, path);
  if (!text) return std::nullopt;
  if (!isValidLabelValue(*text)) {
    error(path, "must be 1 to 64 characters of [A-Za-z0-9._:/-]");
    return std::nullopt;
  }
  return text;
}

void Loader::loadKeys(const YAML::Node& node, std::vector<KeyConfig>& keys) {
  // An empty list would silently open the gateway: removing the section is the way to do that.
  if (node.IsNull() || (node.IsSequence() && node.size() == 0)) {
    error("keys", "must list at least one key (remove the keys section to run open)");
    return;
  }
  if (!node.IsSequence()) {
    error("keys", "expected a sequence of keys");
    return;
  }
  std::map<std::string, size_t> first_by_id;
  std::map<std::string, size_t> first_by_hash;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("keys", i);
    const YAML::Node& entry = node[i];
    if (!entry.IsMap()) {
      error(path, "expected a mapping");
      continue;
    }
    checkSection(entry, path,
                 {"id", "sha256", "team", "cost_center", "projects", "environment", "models"});
    KeyConfig key;
    if (auto n = child(entry, "id")) {
      if (auto text = stringValue(*n, path + ".id")) {
        const bool valid = !text->empty() && text->size() <= 64 &&
                           std::all_of(text->begin(), text->end(), [](unsigned char c) {
                             return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
                           });
        if (!valid) {
          error(path + ".id", "must be 1 to 64 characters of [A-Za-z0-9._:-]");
        } else if (const auto [it, inserted] = first_by_id.emplace(*text, i); !inserted) {
          error(path + ".id", "duplicate key id " + quoteKey(*text) + " (already used by " +
                                  indexPath("keys", it->second) + ")");
        } else {
          key.id = *text;
        }
      }
    } else {
      error(path + ".id", "is required");
    }
    if (auto n = child(entry, "sha256")) {
      if (auto text = stringValue(*n, path + ".sha256")) {
        const std::string hex = lowerAscii(*text);
        const bool valid = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                             return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                           });
        if (!valid) {
          error(path + ".sha256",
                "must be 64 hexadecimal digits (the SHA-256 of the key, never the key)");
        } else if (const auto [it, inserted] = first_by_hash.emplace(hex, i); !inserted) {
          error(path + ".sha256",
                "same key as " + indexPath("keys", it->second) + " (hashes must be unique)");
        } else {
          key.sha256 = hex;
        }
      }
    } else {
      error(path + ".sha256", "is required");
    }
    const std::pair<std::string_view, std::string*> labels[] = {
        {"team", &key.team}, {"cost_center", &key.cost_center}, {"environment", &key.environment}};
    for (const auto& [name, target] : labels) {
      if (auto n = child(entry, name)) {
        if (auto text = labelValue(*n, keyPath(path, name))) *target = *text;
      }
    }
    if (auto n = child(entry, "projects"); n && !n->IsNull()) {
      const std::string list_path = path + ".projects";
      if (!n->IsSequence()) {
        error(list_path, "expected a sequence of project names");
      } else {
        for (size_t p = 0; p < n->size(); ++p) {
          auto text = labelValue((*n)[p], indexPath(list_path, p));
          if (!text) continue;
          if (std::find(key.projects.begin(), key.projects.end(), *text) != key.projects.end()) {
            error(indexPath(list_path, p), "duplicate project " + quoteKey(*text));
            continue;
          }
          key.projects.push_back(*text);
        }
      }
    }
    if (auto n = child(entry, "models"); n && !n->IsNull()) {
      loadModels(*n, path + ".models", key.models);
    }
    keys.push_back(std::move(key));
  }
}

}  // namespace tollgate::config
