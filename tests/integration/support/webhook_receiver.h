#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/integration/support/raw_upstream.h"

namespace tollgate::testing {

// A webhook endpoint on 127.0.0.1 (a port the OS picks) for the budget-alert tests: it takes
// POSTs, answers the first `failures_per_body` deliveries of each distinct body with 500 (a
// retry sends the same body again; a duplicate alert from another replica would not), and
// records what it accepted with 200.
class WebhookReceiver {
 public:
  struct Delivery {
    std::string content_type;
    std::string body;
  };

  explicit WebhookReceiver(int failures_per_body = 0);

  unsigned short port() const { return server_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/hook"; }

  // Accepted deliveries, in arrival order.
  std::vector<Delivery> accepted() const;
  // Every POST, refused ones included.
  int attempts() const;
  // How many different bodies were posted (refused or not): each alert has its own.
  size_t distinctBodies() const;
  // Polls until at least `count` deliveries were accepted or `timeout` passed.
  bool waitFor(size_t count, std::chrono::milliseconds timeout) const;

 private:
  bool handle(const RawUpstream::Call& call);

  const int failures_per_body_;
  mutable std::mutex mutex_;
  std::map<std::string, int> refused_;  // body -> 500s answered so far
  std::vector<Delivery> accepted_;
  int attempts_ = 0;
  RawUpstream server_;  // last: its threads call handle()
};

}  // namespace tollgate::testing
