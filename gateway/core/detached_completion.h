#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <string_view>

namespace tollgate::gateway {

// The completion handler of a coroutine started with co_spawn and not awaited by anyone
// (a connection, an accept loop). asio::detached drops an escaping exception without a word;
// this one logs it (logger "gateway", error) and counts it, so such a bug shows in the log and
// in tollgate_detached_coroutine_failures_total.
class DetachedCompletion {
 public:
  // `what` names the coroutine in the log line; a string literal (it is not copied).
  explicit DetachedCompletion(std::string_view what) : what_(what) {}

  void operator()(std::exception_ptr failure) const;

  // Coroutines ended by an exception since the start of the process (all threads).
  static uint64_t failures() { return failures_.load(std::memory_order_relaxed); }

 private:
  std::string_view what_;
  static std::atomic<uint64_t> failures_;
};

}  // namespace tollgate::gateway
