#include "tests/integration/support/call_load.h"

namespace tollgate::testing {

using namespace std::chrono_literals;

CallLoad::CallLoad(const KafkaGateway& gateway, size_t total, unsigned threads,
                   std::chrono::microseconds pace)
    : results_(total) {
  for (unsigned t = 0; t < threads; ++t) {
    threads_.emplace_back([this, &gateway, pace] {
      HttpClient client = gateway.client();
      auto next_start = std::chrono::steady_clock::now();
      for (;;) {
        if (pace.count() > 0) {
          // Pacing the load, not waiting for a condition.
          std::this_thread::sleep_until(next_start);
          next_start += pace;
        }
        const size_t i = next_.fetch_add(1);
        if (i >= results_.size() || stop_.load()) return;
        const Headers headers = {{"x-team", "team-" + std::to_string(i % 5)},
                                 {"x-project", "kafka-itest"}};
        HttpResponse res = client.post("/v1/chat/completions", chatBody(), headers, 10s);
        CallResult& r = results_[i];
        r.status = res.status;
        r.complete = res.complete && res.error.empty();
        r.request_id = res.header("x-request-id");
        r.done = std::chrono::steady_clock::now();
        if (!r.complete) return;
        completed_.fetch_add(1);
      }
    });
  }
}

bool CallLoad::waitCompleted(size_t n, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (completed_.load() < n) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);  // polling the client threads' progress
  }
  return true;
}

void CallLoad::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::set<std::string> CallLoad::completedIds() const {
  std::set<std::string> ids;
  for (const auto& r : results_) {
    if (r.complete && r.status == 200) ids.insert(r.request_id);
  }
  return ids;
}

std::set<std::string> CallLoad::completedIdsBefore(
    std::chrono::steady_clock::time_point before) const {
  std::set<std::string> ids;
  for (const auto& r : results_) {
    if (r.complete && r.status == 200 && r.done <= before) ids.insert(r.request_id);
  }
  return ids;
}

size_t CallLoad::failed() const {
  const size_t started = std::min(next_.load(), results_.size());
  size_t n = 0;
  for (size_t i = 0; i < started; ++i) {
    const auto& r = results_[i];
    if (r.done != std::chrono::steady_clock::time_point{} && !(r.complete && r.status == 200)) ++n;
  }
  return n;
}

}  // namespace tollgate::testing
