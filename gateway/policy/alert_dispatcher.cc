#include "gateway/policy/alert_dispatcher.h"

#include <algorithm>

namespace tollgate::gateway {

AlertDispatcher::AlertDispatcher(Options options, Post post, Extra extra)
    : options_(std::move(options)), post_(std::move(post)), extra_(std::move(extra)) {
  thread_ = std::thread([this] { run(); });
}

AlertDispatcher::~AlertDispatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  dropped_ += queue_.size();
}

void AlertDispatcher::send(BudgetAlert alert) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.max_queue) {
      ++dropped_;
      return;
    }
    queue_.push_back({std::move(alert), 0, std::chrono::steady_clock::now()});
  }
  wake_.notify_one();
}

AlertDispatcher::Stats AlertDispatcher::stats() const {
  return {sent_.load(), failed_attempts_.load(), given_up_.load(), dropped_.load()};
}

void AlertDispatcher::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_) return;
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto next =
        std::min_element(queue_.begin(), queue_.end(),
                         [](const Pending& a, const Pending& b) { return a.due < b.due; });
    if (next->due > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, next->due);
      continue;
    }
    Pending pending = std::move(*next);
    queue_.erase(next);
    lock.unlock();
    if (pending.attempts == 0 && extra_) extra_(pending.alert);
    bool delivered = options_.webhook.url.empty();
    if (!delivered) {
      const bool cloudevents = options_.webhook.format == "cloudevents";
      const std::string body =
          cloudevents ? pending.alert.toCloudEvent(options_.source) : pending.alert.toSlackJson();
      std::string error;
      delivered = post_(options_.webhook.url,
                        cloudevents ? "application/cloudevents+json" : "application/json", body,
                        options_.webhook.timeout, error);
    }
    ++pending.attempts;
    lock.lock();
    if (delivered) {
      ++sent_;
      continue;
    }
    ++failed_attempts_;
    if (pending.attempts >= options_.webhook.max_attempts) {
      ++given_up_;
      continue;
    }
    const auto delay = std::min<std::chrono::milliseconds>(
        options_.backoff * (int64_t{1} << std::min<uint32_t>(pending.attempts - 1, 16)),
        std::chrono::minutes(1));
    pending.due = std::chrono::steady_clock::now() + delay;
    queue_.push_back(std::move(pending));
  }
}

}  // namespace tollgate::gateway
