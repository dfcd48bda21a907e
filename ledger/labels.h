#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::ledger {

// The dimensions a cost is booked under. Metered calls fill all of them; imported lines fill
// the five attribution labels and leave the call ones empty.
enum class Label : uint8_t {
  kTeam,
  kProject,
  kCostCenter,
  kWorkloadType,
  kEnvironment,
  kModel,
  kUpstream,
  kProvider,
  kOutcome,
};
inline constexpr size_t kLabelCount = 9;
inline constexpr size_t kAttributionLabelCount = 5;  // team .. environment

using LabelValues = std::array<std::string, kLabelCount>;

// The name as in events, configs and `--by`: "team", "cost_center", ...
std::string_view labelName(Label label);
std::optional<Label> labelFromName(std::string_view name);

inline const std::string& labelOf(const LabelValues& values, Label label) {
  return values[static_cast<size_t>(label)];
}
inline std::string& labelOf(LabelValues& values, Label label) {
  return values[static_cast<size_t>(label)];
}

}  // namespace tollgate::ledger
