#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::ledger {

// UTC calendar arithmetic for hour buckets and report periods (proleptic Gregorian).
// An hour is counted as unix seconds / 3600.

int64_t daysFromCivil(int64_t year, unsigned month, unsigned day);

// The hour an RFC 3339 time falls in ("2026-11-22T14:42:30.123456Z", offsets allowed).
std::optional<int64_t> hourOfRfc3339(std::string_view text);
// The same time as unix microseconds (the cost event's resolution; finer digits dropped).
std::optional<int64_t> microsOfRfc3339(std::string_view text);
// A "YYYY-MM-DD" date as the unix hour of its midnight UTC.
std::optional<int64_t> hourOfDate(std::string_view text);

// "2026-11-22T14:00:00Z"
std::string formatHour(int64_t hour);
// "2026-11-22"
std::string formatDay(int64_t hour);
// ISO 8601 week of the hour's day: "2026-W47".
std::string isoWeek(int64_t hour);

// A report period: [start_hour, end_hour).
struct Period {
  std::string name;  // as given: "2026-11"
  int64_t start_hour = 0;
  int64_t end_hour = 0;
};

// "YYYY-MM" (a calendar month, UTC). nullopt when malformed.
std::optional<Period> parsePeriod(std::string_view text);

}  // namespace tollgate::ledger
