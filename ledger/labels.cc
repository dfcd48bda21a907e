#include "ledger/labels.h"

namespace tollgate::ledger {
namespace {

constexpr std::array<std::string_view, kLabelCount> kNames = {
    "team",  "project",  "cost_center", "workload_type", "environment",
    "model", "upstream", "provider",    "outcome"};

}  // namespace

std::string_view labelName(Label label) { return kNames[static_cast<size_t>(label)]; }

std::optional<Label> labelFromName(std::string_view name) {
  for (size_t i = 0; i < kLabelCount; ++i) {
    if (kNames[i] == name) return static_cast<Label>(i);
  }
  return std::nullopt;
}

}  // namespace tollgate::ledger
