#include "gateway/policy/file_clock.h"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace tollgate::gateway {

std::optional<int64_t> FileClock::parse(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 3 || (dot != std::string_view::npos && fraction.empty())) {
    return std::nullopt;
  }
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  // Up to year 9999: the milliseconds below cannot overflow.
  if (ec != std::errc() || end != whole.data() + whole.size() || seconds < 0 ||
      seconds > 253'402'300'799) {
    return std::nullopt;
  }
  int64_t millis = 0;
  for (size_t i = 0; i < 3; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    millis = millis * 10 + (c - '0');
  }
  return seconds * 1000 + millis;
}

FileClock::FileClock(std::string path) : path_(std::move(path)) {
  const auto now = read(stamp_);
  if (!now) {
    throw std::runtime_error("--test-clock-file " + path_ +
                             ": cannot read a unix time (seconds, up to 3 decimals) from it");
  }
  now_ms_ = *now;
}

std::optional<int64_t> FileClock::read(Stamp& stamp) const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return std::nullopt;
  stamp = {st.st_ino, st.st_size, st.st_mtim};
  std::ifstream in(path_, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(text);
}

int64_t FileClock::nowMs() {
  std::lock_guard lock(mutex_);
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return now_ms_;
  if (Stamp{st.st_ino, st.st_size, st.st_mtim} == stamp_) return now_ms_;
  Stamp stamp;
  // A half-written file (the writer did not rename it into place) is read again next time.
  if (const auto now = read(stamp)) {
    stamp_ = stamp;
    now_ms_ = *now;
  }
  return now_ms_;
}

}  // namespace tollgate::gateway
