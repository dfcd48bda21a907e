#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tollgate::gateway {

// Warnings of the data plane, at most `per_second` a second per message key: a peer that fails
// every call, or a process out of file descriptors, must not turn the log into the bottleneck.
// Withheld warnings are counted; the count is logged (once per key) with the next warning
// written under that key. One instance per worker thread: no lock.
class RateLimitedLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr uint32_t kDefaultPerSecond = 5;

  // `suppressed_total`, when given, counts every withheld warning (a metric).
  explicit RateLimitedLog(std::shared_ptr<spdlog::logger> logger,
                          uint32_t per_second = kDefaultPerSecond,
                          std::atomic<uint64_t>* suppressed_total = nullptr);

  // `key` names the kind of warning (a fixed string such as "accept_failed", never data from a
  // peer: the keys are held for the life of the process).
  template <typename... Args>
  void warn(std::string_view key, spdlog::format_string_t<Args...> format, Args&&... args) {
    if (admit(key, Clock::now()) && logger_) logger_->warn(format, std::forward<Args>(args)...);
  }

  // Whether a warning under `key` may be written at `now`. Opening a new one-second window after
  // warnings were withheld first logs how many were.
  bool admit(std::string_view key, Clock::time_point now);

  uint64_t suppressed() const { return suppressed_; }

 private:
  struct Window {
    Clock::time_point start;
    uint32_t written = 0;
    uint64_t withheld = 0;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::shared_ptr<spdlog::logger> logger_;
  uint32_t per_second_;
  std::atomic<uint64_t>* suppressed_total_;
  uint64_t suppressed_ = 0;
  std::unordered_map<std::string, Window, KeyHash, std::equal_to<>> windows_;
};

}  // namespace tollgate::gateway
