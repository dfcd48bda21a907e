#include "gateway/core/deadline.h"

#include <time.h>

namespace tollgate::gateway {

DeadlineSweeper::DeadlineSweeper(const boost::asio::any_io_executor& executor)
    : timer_(std::in_place, executor) {}

DeadlineSweeper::~DeadlineSweeper() { stop(); }

void DeadlineSweeper::stop() {
  timer_.reset();
  ticking_ = true;  // never schedule again
}

namespace {

// The coarse clock lags real time by up to its resolution (a scheduler tick, 1 to 10 ms): a
// deadline adds it, so that it never passes early.
int64_t coarseGrainMillis() {
  timespec res{};
  if (::clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return 10;
  return static_cast<int64_t>(res.tv_sec) * 1000 + (res.tv_nsec + 999'999) / 1'000'000;
}

const int64_t kGrainMillis = coarseGrainMillis();

}  // namespace

int64_t DeadlineSweeper::nowMillis() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void DeadlineSweeper::link(Deadline& d) {
  d.prev_ = nullptr;
  d.next_ = head_;
  if (head_ != nullptr) head_->prev_ = &d;
  head_ = &d;
  ++registered_;
}

void DeadlineSweeper::unlink(Deadline& d) {
  if (d.prev_ != nullptr) {
    d.prev_->next_ = d.next_;
  } else {
    head_ = d.next_;
  }
  if (d.next_ != nullptr) d.next_->prev_ = d.prev_;
  d.prev_ = d.next_ = nullptr;
  --registered_;
}

void DeadlineSweeper::onArmed() {
  ++armed_;
  if (!ticking_) scheduleTick();
}

void DeadlineSweeper::scheduleTick() {
  ticking_ = true;
  timer_->expires_after(kTick);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the sweeper is going away, touch nothing
    sweep();
  });
}

void DeadlineSweeper::sweep() {
  const int64_t now = nowMillis();
  // fire() cancels socket operations; their handlers run later, never inside this loop, so the
  // list cannot change under it.
  for (Deadline* d = head_; d != nullptr; d = d->next_) {
    if (d->due_ms_ <= now) {
      d->fire();
      ++fired_;
    }
  }
  if (armed_ > 0) {
    scheduleTick();
  } else {
    ticking_ = false;
  }
}

Deadline::Deadline(DeadlineSweeper& sweeper, Socket& socket) : sweeper_(sweeper), socket_(socket) {
  sweeper_.link(*this);
}

Deadline::~Deadline() {
  if (armed()) sweeper_.onDisarmed();
  sweeper_.unlink(*this);
}

void Deadline::expiresAfter(std::chrono::milliseconds timeout) {
  const bool was_armed = armed();
  due_ms_ = DeadlineSweeper::nowMillis() + timeout.count() + kGrainMillis;
  expired_ = false;
  if (!was_armed) sweeper_.onArmed();
}

void Deadline::clear() {
  if (!armed()) return;
  due_ms_ = kNever;
  sweeper_.onDisarmed();
}

void Deadline::fire() {
  due_ms_ = kNever;
  sweeper_.onDisarmed();
  expired_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

}  // namespace tollgate::gateway
