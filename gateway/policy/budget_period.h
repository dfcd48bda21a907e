#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/time_zone.h"

namespace tollgate::gateway {

// One calendar period of a budget: [start, end) in unix seconds, and its name.
struct BudgetPeriod {
  int64_t start = 0;
  int64_t end = 0;
  std::string label;  // "2026-12-05" (day), "2026-W49" (ISO week), "2026-12" (month)

  // The period `kind` (day | week | month; weeks start on Monday) holding the instant
  // `unix_seconds`, in local time of `zone`.
  static BudgetPeriod at(std::string_view kind, const config::TimeZone& zone, int64_t unix_seconds);
};

}  // namespace tollgate::gateway
