#pragma once

#include <cstdint>

namespace tollgate::meter {

// The time-integral of one replica's calls in flight on one GPU pool (call-nanoseconds), so
// that a finishing call can tell how many calls it shared the pool with on average. Times are
// handed in (monotonic nanoseconds); not thread-safe: the gateway holds it under a lock.
class GpuPoolConcurrency {
 public:
  // A call starts: returns the integral now, to hand back to end().
  __int128 begin(int64_t now_ns) {
    advance(now_ns);
    ++running_;
    return integral_;
  }

  // The call that began with `mark` ends: returns the integral over its lifetime, which counts
  // the call itself (equal to its duration when it ran alone).
  __int128 end(int64_t now_ns, __int128 mark) {
    advance(now_ns);
    if (running_ > 0) --running_;
    return integral_ - mark;
  }

  int64_t running() const { return running_; }

 private:
  void advance(int64_t now_ns) {
    if (now_ns > last_ns_) {
      integral_ += static_cast<__int128>(running_) * (now_ns - last_ns_);
      last_ns_ = now_ns;
    }
  }

  int64_t running_ = 0;
  int64_t last_ns_ = 0;
  __int128 integral_ = 0;
};

}  // namespace tollgate::meter
