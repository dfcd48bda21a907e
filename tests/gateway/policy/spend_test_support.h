#pragma once

// Shared by the policy tests: a config with budgets, a movable clock, a price and a recorder
// standing in for the webhook.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/civil_date.h"
#include "gateway/policy/alert_dispatcher.h"
#include "gateway/policy/spend_state.h"

namespace tollgate::gateway::testing {

inline int64_t utcMs(int64_t y, unsigned m, unsigned d, int64_t h = 0) {
  return (config::daysFromCivil(y, m, d) * 86400 + h * 3600) * 1000;
}

// A clock the test moves; shared by every state of a test.
struct TestClock {
  std::atomic<int64_t> now_ms{utcMs(2026, 12, 5, 12)};
  SpendClock clock() {
    return [this] { return now_ms.load(); };
  }
};

// $1 per input token: a call's cost is its input tokens in dollars.
inline meter::PriceEntry dollarPerInputToken() {
  meter::PriceEntry entry;
  entry.pattern = "*";
  entry.price.input = entry.price.cache_read = entry.price.cache_write = 1'000'000'000'000;
  entry.price.cache_write_1h = entry.price.input;
  return entry;
}

inline config::BudgetConfig budgetOf(std::string name, int64_t limit_pico) {
  config::BudgetConfig b;
  b.name = std::move(name);
  b.limit = meter::Money::fromPico(limit_pico);
  return b;
}

inline SpendCall callOf(const meter::PriceEntry* price, int64_t input_tokens,
                        std::optional<int64_t> max_output = 0) {
  SpendCall call;
  call.labels.team = "fraud";
  call.price = price;
  call.input_tokens = input_tokens;
  call.max_output_tokens = max_output;
  return call;
}

// Records the bodies posted to the webhook; fails the first `failures` posts.
class WebhookRecorder {
 public:
  explicit WebhookRecorder(int failures = 0) : failures_(failures) {}

  AlertDispatcher::Post post() {
    return [this](const std::string&, const std::string& content_type, const std::string& body,
                  std::chrono::milliseconds, std::string& error) {
      std::lock_guard lock(mutex_);
      ++attempts_;
      if (failures_ > 0) {
        --failures_;
        error = "injected failure";
        return false;
      }
      content_types_.push_back(content_type);
      bodies_.push_back(body);
      return true;
    };
  }

  std::vector<std::string> bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> contentTypes() const {
    std::lock_guard lock(mutex_);
    return content_types_;
  }
  int attempts() const {
    std::lock_guard lock(mutex_);
    return attempts_;
  }

  // Polls until `count` bodies arrived or `timeout` passed.
  bool waitFor(size_t count, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (bodies().size() >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return bodies().size() >= count;
  }

 private:
  mutable std::mutex mutex_;
  int failures_;
  int attempts_ = 0;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
};

}  // namespace tollgate::gateway::testing
