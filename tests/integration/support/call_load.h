#pragma once

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/kafka_cluster.h"

namespace tollgate::testing {

struct CallResult {
  bool complete = false;  // the whole response arrived
  int status = 0;
  std::string request_id;
  std::chrono::steady_clock::time_point done{};
};

// Calls the gateway (small non-streamed chats, teams team-0..team-4) from several connections
// until `total` calls are made or stop() is called; a thread stops at its first transport error
// (the gateway went away). With a `pace`, each thread starts at most one call per `pace`, so a
// long fault sees a steady load instead of as many calls as the machine can make.
class CallLoad {
 public:
  CallLoad(const KafkaGateway& gateway, size_t total, unsigned threads,
           std::chrono::microseconds pace = std::chrono::microseconds(0));
  ~CallLoad() { join(); }
  CallLoad(const CallLoad&) = delete;
  CallLoad& operator=(const CallLoad&) = delete;

  bool waitCompleted(size_t n, std::chrono::milliseconds timeout) const;
  void stop() { stop_.store(true); }
  void join();
  // Request ids of the calls whose response was received completely with status 200.
  std::set<std::string> completedIds() const;
  // The same, for calls that completed no later than `before`.
  std::set<std::string> completedIdsBefore(std::chrono::steady_clock::time_point before) const;
  size_t completed() const { return completed_.load(); }
  // Calls that did not end with a complete 200 (transport errors included); after join().
  size_t failed() const;

 private:
  std::vector<CallResult> results_;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> completed_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace tollgate::testing
