#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/policy/alert_dispatcher.h"
#include "gateway/policy/redis_connection.h"
#include "gateway/policy/spend_book.h"
#include "gateway/policy/spend_state.h"

namespace tollgate::gateway {

// Spend state shared by replicas through Redis (spend_state.backend: redis; docs/budgets.md).
//
// Each counter (a budget in its period, a rate limit dimension in its minute) is one Redis hash
// holding the settled total, the sum of leases and each replica's lease with its expiry. One
// Lua script (so no check-then-increment race) reports what a replica settled, takes back what
// it returns, sweeps the leases of replicas that stopped renewing them, grants a new lease out
// of what is left under the limit, and marks alert thresholds crossed (each exactly once).
// Replicas spend their leases locally (SpendBook with shared = true) and top them up ahead of
// need: Redis sees one pipelined round trip per flush interval from each replica, whatever the
// call rate.
// Redis runs on this class's own thread, never on a worker, each round trip bounded by
// spend_state.redis.timeout_ms.
class RedisSpendState final : public SpendState {
 public:
  struct Options {
    std::string replica_id;  // unique per replica (the instance id)
    std::chrono::milliseconds flush_interval{200};
    // A replica that stops renewing its leases (crashed, cut off) loses them after this.
    std::chrono::milliseconds lease_ttl{10'000};
  };

  RedisSpendState(std::shared_ptr<const config::Config> config, SpendClock clock,
                  AlertDispatcher* alerts, Options options);
  ~RedisSpendState() override;

  SpendAdmission admit(const SpendCall& call) override;
  StreamVerdict extend(uint64_t hold, int64_t output_tokens) override;
  void settle(uint64_t hold, const meter::Usage& usage, meter::Money cost) override;
  void release(uint64_t hold) override;
  void reload(std::shared_ptr<const config::Config> config) override;
  std::vector<SpendBook::BudgetView> budgets() const override;

  struct Stats {
    uint64_t round_trips = 0;
    uint64_t commands = 0;
    uint64_t errors = 0;          // round trips that failed (connection, timeout)
    uint64_t latency_us_sum = 0;  // of the successful round trips
    uint64_t unavailable = 0;     // admissions decided without Redis (per on_unavailable)
    uint64_t lease_short = 0;     // admissions that found a budget's lease short
  };
  Stats stats() const;
  bool available() const { return available_.load(); }

  // The Lua script (docs and tests read it).
  static const char* syncScript();

 private:
  // What one round trip says to one counter.
  struct Ask {
    LeaseWant counter;
    int64_t settled = 0;   // units settled here (nanodollars for money)
    int64_t returned = 0;  // units given back
    int64_t want = 0;      // units wanted
  };

  void run();
  // Builds the asks from the book (under the lock).
  std::vector<Ask> collect(int64_t now_ms);
  std::string counterKey(const LeaseWant& counter) const;

  SpendClock clock_;
  AlertDispatcher* alerts_;
  Options options_;
  RedisConnection connection_;
  std::string script_sha_;

  mutable std::mutex mutex_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<SpendBook> book_;
  std::vector<LeaseWant> wants_;
  // Settled amounts a failed round trip did not deliver, by counter key; and the picodollars
  // below a nanodollar that have not been reported yet.
  std::map<std::string, Ask> carry_;
  std::map<std::string, int64_t> sub_nano_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> available_{true};
  std::atomic<uint64_t> round_trips_{0}, commands_{0}, errors_{0}, latency_us_{0}, unavailable_{0},
      lease_short_{0};
  std::thread thread_;
};

}  // namespace tollgate::gateway
