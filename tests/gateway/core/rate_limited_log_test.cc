#include "gateway/core/rate_limited_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace tollgate::gateway {
namespace {

using Clock = RateLimitedLog::Clock;

struct CapturedLog {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> logger = [this] {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(text);
    auto l = std::make_shared<spdlog::logger>("test", sink);
    l->set_pattern("%v");
    return l;
  }();
};

TEST(RateLimitedLog, AtMostNPerSecondPerKeyAndTheRestCounted) {
  CapturedLog log;
  std::atomic<uint64_t> total{0};
  RateLimitedLog limited(log.logger, 3, &total);
  const Clock::time_point t0{};
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += limited.admit("accept_failed", t0) ? 1 : 0;
  EXPECT_EQ(admitted, 3);
  // Another key has its own budget.
  EXPECT_TRUE(limited.admit("pool_unread_bytes", t0));
  EXPECT_EQ(limited.suppressed(), 7u);
  EXPECT_EQ(total.load(), 7u);
  EXPECT_EQ(log.text.str(), "");
}

TEST(RateLimitedLog, SuppressedCountIsLoggedWhenTheNextWindowOpens) {
  CapturedLog log;
  RateLimitedLog limited(log.logger, 2);
  const Clock::time_point t0{};
  for (int i = 0; i < 5; ++i) limited.admit("accept_failed", t0);
  EXPECT_FALSE(limited.admit("accept_failed", t0 + std::chrono::milliseconds(999)));
  EXPECT_TRUE(limited.admit("accept_failed", t0 + std::chrono::seconds(1)));
  EXPECT_EQ(log.text.str(),
            "4 warning(s) key=accept_failed suppressed by the log rate limit (2 a second)\n");
  // Nothing withheld in the window that just closed: nothing more to say.
  log.text.str("");
  EXPECT_TRUE(limited.admit("accept_failed", t0 + std::chrono::seconds(3)));
  EXPECT_EQ(log.text.str(), "");
}

TEST(RateLimitedLog, WarnWritesTheMessageWhileUnderTheLimit) {
  CapturedLog log;
  RateLimitedLog limited(log.logger, 1);
  limited.warn("k", "first worker={}", 1);
  limited.warn("k", "second worker={}", 2);
  EXPECT_EQ(log.text.str(), "first worker=1\n");
  EXPECT_EQ(limited.suppressed(), 1u);
}

}  // namespace
}  // namespace tollgate::gateway
