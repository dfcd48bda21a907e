#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "gateway/policy/spend_book.h"

namespace tollgate::gateway {

// The spend clock: unix milliseconds. Injectable so that tests can move time (periods,
// windows, hold expiry) without waiting.
using SpendClock = std::function<int64_t()>;
SpendClock systemSpendClock();

// Where budgets' spend, holds and rate-limit windows live, for every worker of a gateway:
// `local` (this process; LocalSpendState) or `redis` (shared by replicas; RedisSpendState).
// Thread-safe.
class SpendState {
 public:
  virtual ~SpendState() = default;

  // Decides from what this replica holds and never waits (a worker thread calls it). A shared
  // state short of a budget's lease asks for it in the background and answers kUnavailable
  // with Retry-After 1 (or, Redis down and on_unavailable: open, admits).
  virtual SpendAdmission admit(const SpendCall& call) = 0;

  // Never waits: a shared state short of a lease lets the stream continue and asks in the
  // background (the overrun bound in docs/budgets.md counts this).
  virtual StreamVerdict extend(uint64_t hold, int64_t output_tokens) = 0;

  virtual void settle(uint64_t hold, const meter::Usage& usage, meter::Money cost) = 0;
  virtual void release(uint64_t hold) = 0;

  // SIGHUP: the new rules; spend, holds and fired alerts carry over by name.
  virtual void reload(std::shared_ptr<const config::Config> config) = 0;

  virtual std::vector<SpendBook::BudgetView> budgets() const = 0;
};

}  // namespace tollgate::gateway
