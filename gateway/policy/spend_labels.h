#pragma once

#include <string_view>

#include "config/config.h"

namespace tollgate::gateway {

// The labels of one call that budgets and rate limits are scoped by (views into the call's
// own strings, valid while the call is being decided).
struct SpendLabels {
  std::string_view team;
  std::string_view project;
  std::string_view cost_center;
  std::string_view environment;
  std::string_view workload_type;
  std::string_view key_id;
};

// Every label the scope names equals the call's; an empty scope covers every call.
inline bool scopeMatches(const config::SpendScope& scope, const SpendLabels& labels) {
  auto same = [](const std::string& wanted, std::string_view actual) {
    return wanted.empty() || wanted == actual;
  };
  return same(scope.team, labels.team) && same(scope.project, labels.project) &&
         same(scope.cost_center, labels.cost_center) &&
         same(scope.environment, labels.environment) &&
         same(scope.workload_type, labels.workload_type) && same(scope.key_id, labels.key_id);
}

}  // namespace tollgate::gateway
