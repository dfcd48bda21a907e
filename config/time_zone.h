#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::config {

// A time zone's UTC offsets, read from a compiled IANA zone file (TZif, RFC 8536), because
// GCC 12's libstdc++ has no std::chrono::zoned_time. Times after the file's last transition
// use the file's POSIX TZ footer when it holds a daylight rule of the common "Mm.w.d" form,
// else the last transition's offset.
class TimeZone {
 public:
  // UTC: offset 0 at every instant.
  TimeZone() = default;

  // Parses TZif data (version 2 or later: 64-bit transition times). nullopt when malformed.
  static std::optional<TimeZone> parse(std::string_view name, std::string_view tzif);

  // Reads `<dir>/<name>` (dir: /usr/share/zoneinfo). `error` says why on failure.
  static std::optional<TimeZone> load(std::string_view name, std::string& error,
                                      const std::string& dir = "/usr/share/zoneinfo");

  const std::string& name() const { return name_; }

  // Seconds to add to UTC to get local time at the instant `unix_seconds`.
  int32_t offsetAt(int64_t unix_seconds) const;

  // The UTC instant of a local wall-clock time (seconds since the epoch as if local were UTC).
  // A local time skipped by a DST gap is shifted forward by the gap (as mktime does); a
  // repeated one maps to its first occurrence.
  int64_t utcOfLocal(int64_t local_seconds) const;

 private:
  // A daylight rule of a POSIX TZ string: "Mm.w.d[/time]".
  struct RuleDate {
    unsigned month = 0;    // 1..12
    unsigned week = 0;     // 1..5 (5: the last)
    unsigned weekday = 0;  // 0 Sunday .. 6
    int32_t seconds = 7200;
  };
  struct Footer {
    int32_t std_offset = 0;
    bool has_dst = false;
    int32_t dst_offset = 0;
    RuleDate start;
    RuleDate end;
  };
  static std::optional<Footer> parseFooter(std::string_view text);
  int32_t footerOffsetAt(int64_t unix_seconds) const;

  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // ascending
  std::vector<int32_t> offsets_;      // offset in force from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
  std::optional<Footer> footer_;
};

}  // namespace tollgate::config
