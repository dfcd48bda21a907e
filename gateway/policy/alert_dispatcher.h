#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.h"
#include "gateway/policy/budget_alert.h"

namespace tollgate::gateway {

// Delivers budget alerts to the webhook from its own thread, with retries and exponential
// backoff. send() never blocks a call (a mutex and a bounded queue); a full queue drops the
// alert, counted. Deduplication is the state backend's: each alert reaches send() once.
class AlertDispatcher {
 public:
  // The HTTP POST (net::postWebhook; tests substitute their own).
  using Post = std::function<bool(const std::string& url, const std::string& content_type,
                                  const std::string& body, std::chrono::milliseconds timeout,
                                  std::string& error)>;
  // Any other channel (the Kafka alerts topic): called once per alert from the thread.
  using Extra = std::function<void(const BudgetAlert&)>;

  struct Options {
    config::AlertWebhookConfig webhook;
    std::string source = "tollgate://gateway";  // the CloudEvent source
    std::chrono::milliseconds backoff{1000};    // first retry delay; doubled, at most a minute
    size_t max_queue = 4096;
  };

  AlertDispatcher(Options options, Post post, Extra extra = nullptr);
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void send(BudgetAlert alert);

  struct Stats {
    uint64_t sent = 0;
    uint64_t failed_attempts = 0;
    uint64_t given_up = 0;  // every attempt failed
    uint64_t dropped = 0;   // the queue was full, or the gateway stopped before delivery
  };
  Stats stats() const;

 private:
  struct Pending {
    BudgetAlert alert;
    uint32_t attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void run();

  Options options_;
  Post post_;
  Extra extra_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> sent_{0}, failed_attempts_{0}, given_up_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace tollgate::gateway
