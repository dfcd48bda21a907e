#include "ledger/calendar.h"

#include <charconv>
#include <cstdio>

namespace tollgate::ledger {
namespace {

bool readInt(std::string_view text, size_t pos, size_t len, int64_t& out) {
  if (pos + len > text.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return true;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days.
Civil civilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {m <= 2 ? y + 1 : y, m, d};
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool validDate(int64_t y, int64_t m, int64_t d) {
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

}  // namespace

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> hourOfDate(std::string_view text) {
  int64_t y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !readInt(text, 0, 4, y) ||
      !readInt(text, 5, 2, m) || !readInt(text, 8, 2, d) || !validDate(y, m, d)) {
    return std::nullopt;
  }
  return daysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 24;
}

std::optional<int64_t> microsOfRfc3339(std::string_view text) {
  int64_t h = 0, mi = 0, s = 0;
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':' || !readInt(text, 11, 2, h) || !readInt(text, 14, 2, mi) ||
      !readInt(text, 17, 2, s) || h > 23 || mi > 59 || s > 60) {
    return std::nullopt;
  }
  auto day = hourOfDate(text.substr(0, 10));
  if (!day) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (text[pos] == '.') {
    ++pos;
    const size_t digits = pos;
    // Digits past the sixth (below a microsecond) are read and dropped.
    int64_t scale = 100'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == digits) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  const std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset_minutes = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int64_t oh = 0, om = 0;
    if (!readInt(zone, 1, 2, oh) || !readInt(zone, 4, 2, om)) return std::nullopt;
    offset_minutes = (oh * 60 + om) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const int64_t utc_minutes = *day * 60 + h * 60 + mi - offset_minutes;
  return (utc_minutes * 60 + s) * 1'000'000 + micros;
}

std::optional<int64_t> hourOfRfc3339(std::string_view text) {
  const auto micros = microsOfRfc3339(text);
  if (!micros) return std::nullopt;
  return floorDiv(*micros, 3'600'000'000);
}

std::string formatHour(int64_t hour) {
  const Civil c = civilFromDays(floorDiv(hour, 24));
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:00:00Z", static_cast<long long>(c.year),
                c.month, c.day, static_cast<long long>(hour - floorDiv(hour, 24) * 24));
  return buf;
}

std::string formatDay(int64_t hour) { return formatHour(hour).substr(0, 10); }

std::string isoWeek(int64_t hour) {
  const int64_t days = floorDiv(hour, 24);
  // 1970-01-01 was a Thursday; ISO weekday 1 = Monday.
  const int64_t weekday = ((days % 7) + 7 + 3) % 7 + 1;
  const int64_t thursday = days - weekday + 4;  // the week's Thursday decides its year
  const Civil c = civilFromDays(thursday);
  const int64_t week = (thursday - daysFromCivil(c.year, 1, 1)) / 7 + 1;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-W%02lld", static_cast<long long>(c.year),
                static_cast<long long>(week));
  return buf;
}

std::optional<Period> parsePeriod(std::string_view text) {
  int64_t y = 0, m = 0;
  if (text.size() != 7 || text[4] != '-' || !readInt(text, 0, 4, y) || !readInt(text, 5, 2, m) ||
      m < 1 || m > 12) {
    return std::nullopt;
  }
  const int64_t start = daysFromCivil(y, static_cast<unsigned>(m), 1) * 24;
  const int64_t end =
      (m == 12 ? daysFromCivil(y + 1, 1, 1) : daysFromCivil(y, static_cast<unsigned>(m + 1), 1)) *
      24;
  return Period{std::string(text), start, end};
}

}  // namespace tollgate::ledger
