#include "gateway/policy/budget_period.h"

#include <cstdio>

#include "config/civil_date.h"

namespace tollgate::gateway {

using config::CivilDate;
using config::civilFromDays;
using config::daysFromCivil;
using config::floorDiv;

BudgetPeriod BudgetPeriod::at(std::string_view kind, const config::TimeZone& zone,
                              int64_t unix_seconds) {
  const int64_t local_day = floorDiv(unix_seconds + zone.offsetAt(unix_seconds), 86400);
  int64_t first = local_day;
  int64_t next = local_day + 1;
  char label[32];
  if (kind == "week") {
    first = local_day - config::mondayBasedWeekday(local_day);
    next = first + 7;
    // ISO 8601: the week belongs to the year of its Thursday.
    const CivilDate thursday = civilFromDays(first + 3);
    const int64_t week = (first + 3 - daysFromCivil(thursday.year, 1, 1)) / 7 + 1;
    std::snprintf(label, sizeof label, "%04lld-W%02lld", static_cast<long long>(thursday.year),
                  static_cast<long long>(week));
  } else if (kind == "month") {
    const CivilDate c = civilFromDays(local_day);
    first = daysFromCivil(c.year, c.month, 1);
    next = c.month == 12 ? daysFromCivil(c.year + 1, 1, 1) : daysFromCivil(c.year, c.month + 1, 1);
    std::snprintf(label, sizeof label, "%04lld-%02u", static_cast<long long>(c.year), c.month);
  } else {
    const CivilDate c = civilFromDays(local_day);
    std::snprintf(label, sizeof label, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                  c.day);
  }
  return {zone.utcOfLocal(first * 86400), zone.utcOfLocal(next * 86400), label};
}

}  // namespace tollgate::gateway
