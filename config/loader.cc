// Loader: the typed readers every section uses (scalars, integers, key paths, ${VAR}).
#include "config/loader.h"

namespace tollgate::config {

void Loader::error(std::string path, std::string message) {
  errors_.push_back({std::move(path), std::move(message)});
}

// A section holding a fixed set of keys. A null section (`server:` alone) keeps every default.
// Returns false when there is nothing to read.
bool Loader::checkSection(const YAML::Node& node, const std::string& path,
                          std::initializer_list<std::string_view> known) {
  if (node.IsNull()) return false;
  if (!node.IsMap()) {
    error(path, "expected a mapping");
    return false;
  }
  forEachEntry(node, path, false,
               [&](const std::string& key, const YAML::Node&, const std::string& key_path) {
                 if (std::find(known.begin(), known.end(), key) == known.end()) {
                   error(key_path, "unknown key");
                 }
               });
  return true;
}

// A map whose keys are data: must be a mapping (or null: empty).
bool Loader::checkDataMap(const YAML::Node& node, const std::string& path,
                          std::string_view expected) {
  if (node.IsNull()) return false;
  if (!node.IsMap()) {
    error(path, "expected " + std::string(expected));
    return false;
  }
  return true;
}

std::optional<YAML::Node> Loader::child(const YAML::Node& map, std::string_view key) {
  const YAML::Node node = map[std::string(key)];
  if (!node.IsDefined()) return std::nullopt;
  return node;
}

// Replaces ${NAME} through the environment; "$${" stands for a literal "${".
std::optional<std::string> Loader::substitute(std::string_view raw, const std::string& path) {
  std::string out;
  out.reserve(raw.size());
  bool ok = true;
  size_t i = 0;
  while (i < raw.size()) {
    if (raw.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (raw.compare(i, 2, "${") != 0) {
      out += raw[i++];
      continue;
    }
    const size_t close = raw.find('}', i + 2);
    if (close == std::string_view::npos) {
      error(path, "unterminated \"${\" (write \"$${\" for a literal \"${\")");
      return std::nullopt;
    }
    const std::string_view name = raw.substr(i + 2, close - i - 2);
    const bool valid_name =
        !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
        std::all_of(name.begin(), name.end(),
                    [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!valid_name) {
      error(path, "invalid environment variable reference \"${" + std::string(name) + "}\"");
      ok = false;
    } else if (auto value = env_ ? env_(name) : std::nullopt) {
      out += *value;
    } else {
      error(path, "environment variable " + std::string(name) + " is not set");
      ok = false;
    }
    i = close + 1;
  }
  if (!ok) return std::nullopt;
  return out;
}

// The text of a scalar after substitution. yaml-cpp keeps a scalar's source text, so "0.60"
// and 0.60 both arrive as "0.60"; typed readers below interpret it.
std::optional<std::string> Loader::scalar(const YAML::Node& node, const std::string& path,
                                          std::string_view expected) {
  if (!node.IsScalar()) {
    error(path, "expected " + std::string(expected));
    return std::nullopt;
  }
  return substitute(node.Scalar(), path);
}

std::optional<std::string> Loader::stringValue(const YAML::Node& node, const std::string& path) {
  return scalar(node, path, "a string");
}

std::optional<std::string> Loader::nonEmptyString(const YAML::Node& node, const std::string& path) {
  auto text = stringValue(node, path);
  if (text && text->empty()) {
    error(path, "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<uint64_t> Loader::integer(const YAML::Node& node, const std::string& path,
                                        uint64_t min, uint64_t max, std::string_view expected) {
  auto text = scalar(node, path, expected);
  if (!text) return std::nullopt;
  const auto value = parseUnsigned(*text);
  if (!value || *value < min || *value > max) {
    error(path, "expected " + std::string(expected));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Loader::boolean(const YAML::Node& node, const std::string& path) {
  static constexpr std::string_view kExpected = "a boolean (true or false)";
  auto text = scalar(node, path, kExpected);
  if (!text) return std::nullopt;
  const std::string lower = lowerAscii(*text);
  if (lower == "true") return true;
  if (lower == "false") return false;
  error(path, "expected " + std::string(kExpected));
  return std::nullopt;
}

std::optional<std::string> Loader::oneOf(const YAML::Node& node, const std::string& path,
                                         std::initializer_list<std::string_view> allowed,
                                         std::string_view message) {
  auto text = stringValue(node, path);
  if (!text) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *text) == allowed.end()) {
    error(path, std::string(message));
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> Loader::headerName(const YAML::Node& node, const std::string& path) {
  auto text = stringValue(node, path);
  if (!text) return std::nullopt;
  if (!isHttpToken(*text)) {
    error(path, "not a valid HTTP header name");
    return std::nullopt;
  }
  return lowerAscii(*text);
}

}  // namespace tollgate::config
