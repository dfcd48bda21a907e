#include "config/time_zone.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

#include "config/civil_date.h"

namespace tollgate::config {

namespace {

uint32_t be32(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

int64_t be64(std::string_view s, size_t at) {
  return static_cast<int64_t>((static_cast<uint64_t>(be32(s, at)) << 32) | be32(s, at + 4));
}

struct Counts {
  uint32_t isut, isstd, leap, time, type, chars;
};

std::optional<Counts> header(std::string_view s, size_t at) {
  if (s.size() < at + 44 || s.substr(at, 4) != "TZif") return std::nullopt;
  return Counts{be32(s, at + 20), be32(s, at + 24), be32(s, at + 28),
                be32(s, at + 32), be32(s, at + 36), be32(s, at + 40)};
}

// Reads "[+-]hh[:mm[:ss]]" at `pos`; POSIX offsets count west of Greenwich as positive.
std::optional<int32_t> posixTime(std::string_view t, size_t& pos) {
  int sign = 1;
  if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) sign = t[pos++] == '-' ? -1 : 1;
  int32_t total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (pos >= t.size() || t[pos] != ':') break;
      ++pos;
    }
    int32_t value = 0;
    size_t digits = 0;
    while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos])) && digits < 3) {
      value = value * 10 + (t[pos++] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    total += value * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  return sign * total;
}

bool skipZoneName(std::string_view t, size_t& pos) {
  const size_t start = pos;
  if (pos < t.size() && t[pos] == '<') {
    const size_t close = t.find('>', pos);
    if (close == std::string_view::npos) return false;
    pos = close + 1;
    return true;
  }
  while (pos < t.size() && std::isalpha(static_cast<unsigned char>(t[pos]))) ++pos;
  return pos - start >= 3;
}

}  // namespace

std::optional<TimeZone::Footer> TimeZone::parseFooter(std::string_view t) {
  Footer footer;
  size_t pos = 0;
  if (!skipZoneName(t, pos)) return std::nullopt;
  const auto std_west = posixTime(t, pos);
  if (!std_west) return std::nullopt;
  footer.std_offset = -*std_west;
  if (pos == t.size()) return footer;
  if (!skipZoneName(t, pos)) return std::nullopt;
  footer.has_dst = true;
  footer.dst_offset = footer.std_offset + 3600;
  if (pos < t.size() && t[pos] != ',') {
    const auto dst_west = posixTime(t, pos);
    if (!dst_west) return std::nullopt;
    footer.dst_offset = -*dst_west;
  }
  auto rule = [&](RuleDate& date) {
    if (pos >= t.size() || t[pos] != ',') return false;
    ++pos;
    if (pos >= t.size() || t[pos] != 'M') return false;  // only the "Mm.w.d" form
    ++pos;
    unsigned fields[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
      if (i > 0) {
        if (pos >= t.size() || t[pos] != '.') return false;
        ++pos;
      }
      size_t digits = 0;
      while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos])) && digits < 2) {
        fields[i] = fields[i] * 10 + static_cast<unsigned>(t[pos++] - '0');
        ++digits;
      }
      if (digits == 0) return false;
    }
    if (fields[0] < 1 || fields[0] > 12 || fields[1] < 1 || fields[1] > 5 || fields[2] > 6) {
      return false;
    }
    date = {fields[0], fields[1], fields[2], 7200};
    if (pos < t.size() && t[pos] == '/') {
      ++pos;
      const auto time = posixTime(t, pos);  // may be negative or above 24h (RFC 8536)
      if (!time) return false;
      date.seconds = *time;
    }
    return true;
  };
  if (!rule(footer.start) || !rule(footer.end) || pos != t.size()) return std::nullopt;
  return footer;
}

std::optional<TimeZone> TimeZone::parse(std::string_view name, std::string_view s) {
  const auto v1 = header(s, 0);
  if (!v1 || s[4] < '2') return std::nullopt;
  const size_t v1_size = 44 + static_cast<size_t>(v1->time) * 5 + v1->type * 6 + v1->chars +
                         static_cast<size_t>(v1->leap) * 8 + v1->isstd + v1->isut;
  const auto c = header(s, v1_size);
  if (!c || c->type == 0) return std::nullopt;
  size_t at = v1_size + 44;
  const size_t data = static_cast<size_t>(c->time) * 9 + c->type * 6 + c->chars +
                      static_cast<size_t>(c->leap) * 12 + c->isstd + c->isut;
  if (s.size() < at + data) return std::nullopt;
  TimeZone zone;
  zone.name_ = std::string(name);
  std::vector<uint8_t> indexes(c->time);
  zone.transitions_.resize(c->time);
  for (uint32_t i = 0; i < c->time; ++i) zone.transitions_[i] = be64(s, at + i * 8);
  at += static_cast<size_t>(c->time) * 8;
  for (uint32_t i = 0; i < c->time; ++i) {
    indexes[i] = static_cast<uint8_t>(s[at + i]);
    if (indexes[i] >= c->type) return std::nullopt;
  }
  at += c->time;
  std::vector<int32_t> type_offsets(c->type);
  for (uint32_t i = 0; i < c->type; ++i) {
    type_offsets[i] = static_cast<int32_t>(be32(s, at + i * 6));
  }
  if (!std::is_sorted(zone.transitions_.begin(), zone.transitions_.end())) return std::nullopt;
  zone.offsets_.reserve(c->time);
  for (const uint8_t index : indexes) zone.offsets_.push_back(type_offsets[index]);
  zone.initial_offset_ = type_offsets[0];
  at += data - static_cast<size_t>(c->time) * 9;
  // The footer: "\n<POSIX TZ>\n".
  if (at < s.size() && s[at] == '\n') {
    const size_t end = s.find('\n', at + 1);
    if (end != std::string_view::npos && end > at + 1) {
      zone.footer_ = parseFooter(s.substr(at + 1, end - at - 1));
    }
  }
  return zone;
}

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string& error,
                                       const std::string& dir) {
  if (name == "UTC" || name == "Etc/UTC") return TimeZone{};
  const bool safe = !name.empty() && name.find("..") == std::string_view::npos &&
                    name.front() != '/' &&
                    std::all_of(name.begin(), name.end(), [](unsigned char ch) {
                      return std::isalnum(ch) || ch == '/' || ch == '_' || ch == '-' || ch == '+';
                    });
  if (!safe) {
    error = "not an IANA time zone name (e.g. Europe/Berlin)";
    return std::nullopt;
  }
  std::ifstream in(dir + "/" + std::string(name), std::ios::binary);
  if (!in) {
    error = "unknown time zone (no " + dir + "/" + std::string(name) + ")";
    return std::nullopt;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto zone = parse(name, bytes);
  if (!zone) error = "unreadable time zone file " + dir + "/" + std::string(name);
  return zone;
}

int32_t TimeZone::footerOffsetAt(int64_t t) const {
  const Footer& f = *footer_;
  if (!f.has_dst) return f.std_offset;
  auto instant = [&](int64_t year, const RuleDate& r, int32_t offset_before) {
    // The w-th weekday d of month m (week 5: the last one), at r.seconds local time.
    const int64_t first = daysFromCivil(year, r.month, 1);
    const int64_t first_weekday = (mondayBasedWeekday(first) + 1) % 7;  // 0 = Sunday
    int64_t day = first + ((static_cast<int64_t>(r.weekday) - first_weekday + 7) % 7) +
                  7 * (static_cast<int64_t>(r.week) - 1);
    const unsigned next_month = r.month == 12 ? 1 : r.month + 1;
    const int64_t month_end = daysFromCivil(r.month == 12 ? year + 1 : year, next_month, 1);
    while (day >= month_end) day -= 7;
    return day * 86400 + r.seconds - offset_before;
  };
  const int64_t year = civilFromDays(floorDiv(t + f.std_offset, 86400)).year;
  const int64_t start = instant(year, f.start, f.std_offset);
  const int64_t end = instant(year, f.end, f.dst_offset);
  const bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
  return dst ? f.dst_offset : f.std_offset;
}

int32_t TimeZone::offsetAt(int64_t t) const {
  if (transitions_.empty() && !footer_) return initial_offset_;
  if (footer_ && (transitions_.empty() || t >= transitions_.back())) return footerOffsetAt(t);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

int64_t TimeZone::utcOfLocal(int64_t local) const {
  // No zone changes its offset twice within two days, so the offsets a day before and a day
  // after are the only candidates.
  const int64_t before = local - offsetAt(local - 86400);
  const int64_t after = local - offsetAt(local + 86400);
  const bool before_ok = before + offsetAt(before) == local;
  const bool after_ok = after + offsetAt(after) == local;
  if (before_ok && after_ok) return std::min(before, after);
  if (after_ok) return after;
  // Valid with the earlier offset, or in a gap: shifted forward by the gap (as mktime does).
  return before;
}

}  // namespace tollgate::config
