#include "gateway/core/rate_limited_log.h"

namespace tollgate::gateway {

RateLimitedLog::RateLimitedLog(std::shared_ptr<spdlog::logger> logger, uint32_t per_second,
                               std::atomic<uint64_t>* suppressed_total)
    : logger_(std::move(logger)), per_second_(per_second), suppressed_total_(suppressed_total) {}

bool RateLimitedLog::admit(std::string_view key, Clock::time_point now) {
  auto it = windows_.find(key);
  if (it == windows_.end()) it = windows_.emplace(std::string(key), Window{now}).first;
  Window& w = it->second;
  if (now - w.start >= std::chrono::seconds(1)) {
    if (w.withheld > 0 && logger_) {
      logger_->warn("{} warning(s) key={} suppressed by the log rate limit ({} a second)",
                    w.withheld, it->first, per_second_);
    }
    w = Window{now};
  }
  if (w.written < per_second_) {
    ++w.written;
    return true;
  }
  ++w.withheld;
  ++suppressed_;
  if (suppressed_total_) suppressed_total_->fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace tollgate::gateway
