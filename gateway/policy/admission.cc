#include "gateway/policy/admission.h"

#include <algorithm>
#include <array>

#include "gateway/http/http_fields.h"
#include "meter/glob.h"

namespace tollgate::gateway {
namespace {

constexpr std::string_view kUnallocated = "unallocated";
constexpr std::string_view kLabelRule = "1 to 64 characters of [A-Za-z0-9._:/-]";

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '-';
}

bool allLabelChars(std::string_view s) { return std::all_of(s.begin(), s.end(), isLabelChar); }

// The token of "Bearer <token>" (scheme case-insensitive); empty for any other scheme.
std::string_view bearerToken(std::string_view authorization) {
  authorization = trimmed(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t')) {
    return {};
  }
  return trimmed(authorization.substr(kScheme.size()));
}

// One attribution dimension: its name in config and events, the header carrying it, where the
// result goes.
struct Dimension {
  std::string_view label;
  const std::string* header;
  std::string meter::Attribution::*field;
};

Refusal refuse(int status, RefusalCode code, std::string message,
               const meter::Attribution& attribution) {
  Refusal r;
  r.status = status;
  r.code = code;
  r.message = std::move(message);
  r.attribution = attribution;
  if (r.attribution.team.empty()) r.attribution.team = std::string(kUnallocated);
  return r;
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

}  // namespace

AdmissionController::AdmissionController(const config::Config& config)
    : config_(config), keys_(config.keys) {}

std::variant<Admitted, Refusal> AdmissionController::admit(const Fields& head) const {
  const auto& policy = config_.attribution_policy;
  const auto& names = config_.attribution_headers;
  Admitted out;
  meter::Attribution& who = out.attribution;

  if (!keys_.empty()) {
    // Every line of every credential field counts: a gateway key in a second x-api-key line is
    // found (and its field removed) as surely as one in the first.
    constexpr std::string_view kCredentialFields[] = {"authorization", "x-api-key",
                                                      "x-goog-api-key", "api-key"};
    bool presented = false;
    for (const auto header : kCredentialFields) {
      bool holds_key = false;
      for (auto [it, end] = head.equal_range(header); it != end; ++it) {
        const std::string_view token =
            header == "authorization" ? bearerToken(it->value()) : trimmed(it->value());
        if (token.empty()) continue;
        presented = true;
        const config::KeyConfig* key = keys_.find(token);
        if (key == nullptr) continue;  // maybe the client's provider key (passthrough_auth)
        if (out.key != nullptr && out.key != key) {
          return refuse(401, RefusalCode::kInvalidApiKey,
                        "the request carries two different gateway keys", who);
        }
        out.key = key;
        holds_key = true;
      }
      if (holds_key) out.key_headers.emplace_back(header);
    }
    if (!presented) {
      return refuse(401, RefusalCode::kMissingApiKey,
                    "a gateway API key is required (Authorization: Bearer, x-api-key, "
                    "x-goog-api-key or api-key)",
                    who);
    }
    if (out.key == nullptr) {
      return refuse(401, RefusalCode::kInvalidApiKey, "the API key is not valid for this gateway",
                    who);
    }
    who.key_id = out.key->id;
    who.team = out.key->team;
    who.cost_center = out.key->cost_center;
    who.environment = out.key->environment;
    if (!out.key->projects.empty()) who.project = out.key->projects.front();
  }
  const config::KeyConfig* key = out.key;

  // A header value the policy cannot use: refused in enforce mode, ignored (and said) in warn.
  auto unusable = [&](RefusalCode code, std::string message) -> std::optional<Refusal> {
    if (policy.enforce) return refuse(400, code, std::move(message), who);
    out.warnings.push_back(std::move(message));
    return std::nullopt;
  };

  const Dimension dimensions[] = {
      {"team", &names.team, &meter::Attribution::team},
      {"project", &names.project, &meter::Attribution::project},
      {"cost_center", &names.cost_center, &meter::Attribution::cost_center},
      {"workload_type", &names.workload_type, &meter::Attribution::workload_type},
      {"environment", &names.environment, &meter::Attribution::environment},
  };
  for (const auto& d : dimensions) {
    const std::string_view value = trimmed(head[*d.header]);
    if (value.empty()) continue;
    if (!config::isValidLabelValue(value)) {
      if (auto r = unusable(RefusalCode::kInvalidLabel,
                            *d.header + ": must be " + std::string(kLabelRule))) {
        return *r;
      }
      continue;
    }
    if (d.label == "workload_type" &&
        std::find(std::begin(kWorkloadTypes), std::end(kWorkloadTypes), value) ==
            std::end(kWorkloadTypes)) {
      if (auto r =
              unusable(RefusalCode::kInvalidLabel,
                       *d.header + ": must be one of training, inference, notebook, evaluation, "
                                   "batch")) {
        return *r;
      }
      continue;
    }
    std::string& target = who.*d.field;
    if (key != nullptr && d.label == "project" && !key->projects.empty()) {
      if (std::find(key->projects.begin(), key->projects.end(), value) == key->projects.end()) {
        return refuse(403, RefusalCode::kLabelNotAllowed,
                      *d.header + ": the key '" + key->id + "' allows only the projects " +
                          joined(key->projects),
                      who);
      }
      target = std::string(value);
      continue;
    }
    // The key fixed this label: a header may repeat it, never change it.
    if (key != nullptr && !target.empty() && target != value) {
      return refuse(403, RefusalCode::kLabelConflict,
                    *d.header + ": contradicts the " + std::string(d.label) + " '" + target +
                        "' fixed by the key '" + key->id + "'",
                    who);
    }
    target = std::string(value);
  }

  // x-tags: "k=v,k2=v2"
  const std::string_view tags = head[names.tags];
  size_t i = 0;
  while (i < tags.size()) {
    size_t j = tags.find(',', i);
    if (j == std::string_view::npos) j = tags.size();
    const std::string_view pair = trimmed(tags.substr(i, j - i));
    i = j + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view k = eq == std::string_view::npos ? pair : trimmed(pair.substr(0, eq));
    const std::string_view v =
        eq == std::string_view::npos ? std::string_view{} : trimmed(pair.substr(eq + 1));
    std::optional<Refusal> r;
    if (eq == std::string_view::npos || k.empty() || !allLabelChars(k) || !allLabelChars(v)) {
      r = unusable(RefusalCode::kInvalidTag,
                   names.tags + ": each tag must be key=value, both of [A-Za-z0-9._:/-]");
    } else if (k.size() > policy.tags.max_key_bytes || v.size() > policy.tags.max_value_bytes) {
      r = unusable(RefusalCode::kTagTooLong, names.tags + ": tag keys are limited to " +
                                                 std::to_string(policy.tags.max_key_bytes) +
                                                 " bytes and values to " +
                                                 std::to_string(policy.tags.max_value_bytes));
    } else if (std::any_of(who.tags.begin(), who.tags.end(),
                           [&](const auto& t) { return t.first == k; })) {
      r = unusable(RefusalCode::kInvalidTag, names.tags + ": a tag key is given twice");
    } else if (who.tags.size() >= policy.tags.max_count) {
      r = unusable(RefusalCode::kTooManyTags,
                   names.tags + ": at most " + std::to_string(policy.tags.max_count) + " tags");
    } else {
      who.tags.emplace_back(std::string(k), std::string(v));
      continue;
    }
    if (r) return *r;
  }

  for (const auto& label : policy.required) {
    const auto d = std::find_if(std::begin(dimensions), std::end(dimensions),
                                [&](const Dimension& dim) { return dim.label == label; });
    if (d == std::end(dimensions) || !(who.*d->field).empty()) continue;
    if (policy.enforce) {
      return refuse(
          400, RefusalCode::kMissingLabel,
          "the required label " + label + " is missing (send the " + *d->header + " header)", who);
    }
    if (out.missing_label.empty()) out.missing_label = label;
    out.warnings.push_back(*d->header + ": required label " + label + " is missing");
  }
  // warn mode: the call goes through, booked where finance sees it as unallocated.
  who.allocated = out.missing_label.empty();
  if (!who.allocated) who.team = std::string(kUnallocated);
  return out;
}

std::optional<Refusal> AdmissionController::checkModel(const config::KeyConfig* key,
                                                       const meter::Attribution& attribution,
                                                       std::string_view model) const {
  if (key == nullptr || key->models.empty()) return std::nullopt;
  for (const auto& pattern : key->models) {
    if (meter::globMatch(pattern, model)) return std::nullopt;
  }
  return refuse(403, RefusalCode::kModelNotAllowed,
                "the key '" + key->id + "' may not call the model '" + std::string(model) + "'",
                attribution);
}

}  // namespace tollgate::gateway
