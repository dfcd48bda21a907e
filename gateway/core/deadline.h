#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

#include "gateway/core/io.h"

namespace tollgate::gateway {

class Deadline;

// A worker's I/O timeouts, kept the way nginx keeps its own: arming a deadline stores a time,
// and one timer per worker sweeps the armed deadlines every kTick, cancelling the socket
// operations of those that have passed. Beast's tcp_stream instead starts an Asio timer for every
// read and write and cancels it when the operation completes (a timer-queue insert and removal,
// a clock read and an extra handler run per operation; ~4 % of a proxied call's CPU in the
// profile). The price is resolution: a timeout fires between its time and one tick later.
//
// Worker thread only. Deadlines register themselves for their whole life; the sweeper ticks
// while at least one is armed.
class DeadlineSweeper {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kTick{20};

  explicit DeadlineSweeper(const boost::asio::any_io_executor& executor);
  DeadlineSweeper(const DeadlineSweeper&) = delete;
  DeadlineSweeper& operator=(const DeadlineSweeper&) = delete;
  ~DeadlineSweeper();

  // Releases the timer while its io_context still exists; deadlines may still unregister
  // afterwards (sessions destroyed with the io_context) but are no longer swept.
  void stop();

  // CLOCK_MONOTONIC_COARSE (a few ns through the vDSO; millisecond-grained): arming and sweeping
  // compare times from this clock only.
  static int64_t nowMillis();

  size_t registered() const { return registered_; }
  size_t armed() const { return armed_; }
  uint64_t fired() const { return fired_; }

 private:
  friend class Deadline;
  void link(Deadline& d);
  void unlink(Deadline& d);
  void onArmed();
  void onDisarmed() { --armed_; }
  void scheduleTick();
  void sweep();

  std::optional<boost::asio::steady_timer> timer_;
  Deadline* head_ = nullptr;
  size_t registered_ = 0;
  size_t armed_ = 0;
  uint64_t fired_ = 0;
  bool ticking_ = false;
};

// One socket's current I/O deadline. When it passes, the socket's pending operations are
// cancelled (they complete with operation_aborted; the socket stays open so that the caller can
// still answer, a 408 say) and expired() is true until the deadline is armed again.
class Deadline {
 public:
  Deadline(DeadlineSweeper& sweeper, Socket& socket);
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  ~Deadline();

  // Arms (or re-arms) the deadline `timeout` from now and clears expired().
  void expiresAfter(std::chrono::milliseconds timeout);
  // Disarms; expired() keeps its value.
  void clear();
  bool expired() const { return expired_; }
  bool armed() const { return due_ms_ != kNever; }

 private:
  friend class DeadlineSweeper;
  static constexpr int64_t kNever = INT64_MAX;
  void fire();

  DeadlineSweeper& sweeper_;
  Socket& socket_;
  int64_t due_ms_ = kNever;
  bool expired_ = false;
  Deadline* prev_ = nullptr;
  Deadline* next_ = nullptr;
};

}  // namespace tollgate::gateway
