#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "gateway/policy/budget_period.h"
#include "gateway/policy/spend_labels.h"
#include "meter/price_book.h"
#include "meter/usage.h"

namespace tollgate::gateway {

// What the spend engine knows of a call before it is forwarded.
struct SpendCall {
  SpendLabels labels;
  const meter::PriceEntry* price = nullptr;  // nullptr: unpriced (never blocked by money)
  int64_t input_tokens = 0;                  // counted from the request
  // The request's max_tokens / max_output_tokens / max_completion_tokens; none: the
  // configured default_output_tokens.
  std::optional<int64_t> max_output_tokens;
};

// OpenAI's x-ratelimit-* values of the tightest rate limit a call falls under.
struct RateLimitHeaders {
  bool present = false;
  int64_t limit_requests = 0, remaining_requests = 0;
  int64_t limit_tokens = 0, remaining_tokens = 0;
  int64_t reset_ms = 0;  // until the window ends
};

// Which counter a lease request is for (shared state only).
struct LeaseWant {
  enum class Kind { kBudget, kInputTokens, kOutputTokens, kRequests };
  Kind kind = Kind::kBudget;
  size_t rule = 0;     // index into the budgets or rate limits
  int64_t window = 0;  // budget: period start (unix s); rate: window start (unix minute)
  int64_t amount = 0;  // picodollars or tokens or requests wanted beyond the spare
};

struct SpendAdmission {
  // kUnavailable: the shared state could not be reached (a state backend's answer, never the
  // book's).
  enum class Status { kAdmitted, kBudgetExceeded, kRateLimited, kNeedsLease, kUnavailable };
  Status status = Status::kAdmitted;
  uint64_t hold = 0;                  // kAdmitted: settle or release it exactly once
  std::string refused_by;             // the budget or rate limit's name
  int64_t retry_after_s = 0;          // refusals: when to come back
  std::optional<int64_t> max_tokens;  // kAdmitted: forward this max_tokens instead (clamped)
  // kAdmitted: a blocking budget holds money or a rate limit counts output, so the stream's
  // output must be reported (extend); otherwise the relay need not count it.
  bool watches_output = false;
  std::string clamped_by;  // max_tokens: the budget that clamped it (the tightest)
  RateLimitHeaders headers;
  // kNeedsLease (shared books): the leases that are short; refused_by names the first.
  std::vector<LeaseWant> wants;
};

// What a running stream does after its output grew.
struct StreamVerdict {
  enum class Action { kContinue, kCut, kNeedsLease };
  Action action = Action::kContinue;
  std::string cut_by;  // kCut: the budget or rate limit that ran out
  std::vector<LeaseWant> wants;
};

// A threshold of a budget reached in a period: alert once.
struct ThresholdCrossing {
  size_t budget = 0;
  uint32_t percent = 0;
  BudgetPeriod period;
  meter::Money spend;
  meter::Money limit;
  meter::Money forecast;  // linear end-of-period extrapolation of the spend so far
};

// The persistent part of one budget's state (local backend file, reload).
struct BudgetSnapshot {
  std::string name;
  int64_t period_start = 0;
  int64_t settled_pico = 0;
  uint64_t fired_mask = 0;  // bit i: alert_at[i] fired this period
};

// The spend engine: money counters per budget and period, token and request counters per rate
// limit and minute, and the holds of calls in flight. Pure (time comes in as unix
// milliseconds; no I/O, no locks): a state backend serialises calls into it.
//
// Every counter has a `cap`: what this replica may still commit. With `shared` false (the local
// backend) the cap is the limit minus what was settled, so the book alone is exact. With
// `shared` true (Redis) the cap is this replica's lease: what the shared state granted it and
// it has not spent; a counter short of cap asks for more (kNeedsLease, then grant()), and
// what was settled here is reported through takeUnsynced().
class SpendBook {
 public:
  // `config` must outlive the book (it keeps pointers to the rules).
  SpendBook(const config::Config& config, bool shared);

  SpendAdmission admit(const SpendCall& call, int64_t now_ms);

  // The stream of `hold` has relayed `output_tokens` so far (a running total).
  StreamVerdict extend(uint64_t hold, int64_t output_tokens, int64_t now_ms);

  // The call ended: its exact usage and cost replace its hold. Local books return the
  // thresholds this crossed (shared books learn them from the shared state).
  std::vector<ThresholdCrossing> settle(uint64_t hold, const meter::Usage& usage, meter::Money cost,
                                        int64_t now_ms);

  // Drops a hold without booking anything (the call never reached the upstream).
  void release(uint64_t hold);

  // Releases holds older than the hold TTL; returns how many.
  size_t expireHolds(int64_t now_ms);

  // Shared books: adds what the shared state granted for `want` (possibly less than asked),
  // with the shared state's `remaining` after the grant. A short grant marks the counter
  // exhausted until `retry_at_ms`; a low remaining makes takeUnsynced return the spare.
  void grant(const LeaseWant& want, int64_t granted, int64_t remaining, int64_t retry_at_ms);
  // Shared books: the leases to ask for ahead of need: every counter holding less than one
  // slice (1/32 of its limit), unless the shared state is running low or was short.
  std::vector<LeaseWant> topUps(int64_t now_ms);
  // Shared books: the period's spend as the shared state reports it.
  void observeSettled(size_t budget, int64_t period_start, int64_t settled_pico);

  // Shared books: per counter, what was settled here since the last call and the spare lease
  // given back; every counter holding a lease is listed (reporting renews the lease).
  struct Unsynced {
    LeaseWant counter;     // amount: settled here since the last report
    int64_t returned = 0;  // spare lease given back (the shared state runs low)
  };
  std::vector<Unsynced> takeUnsynced(int64_t now_ms);

  std::vector<BudgetSnapshot> snapshot() const;
  // Restores what a snapshot of the same budgets (by name) held in the current periods.
  void restore(const std::vector<BudgetSnapshot>& snapshots, int64_t now_ms);
  // Reload: adopts the counters (by name) and holds of the book this one replaces.
  void adopt(SpendBook&& old, int64_t now_ms);

  // Metrics.
  struct BudgetView {
    const config::BudgetConfig* config;
    BudgetPeriod period;
    int64_t settled_pico, held_pico;
  };
  std::vector<BudgetView> budgets() const;
  size_t openHolds() const { return holds_.size(); }

  // The worst-case cost of a call: input at the dearest input price (cache writes cost more),
  // output at the dearest output price, for `output_tokens`.
  static meter::Money worstCost(const meter::PriceEntry& price, int64_t input_tokens,
                                int64_t output_tokens);

 private:
  struct Counter {
    int64_t cap = 0;                 // may still commit (see the class comment)
    int64_t held = 0;                // holds outstanding
    int64_t used = 0;                // settled in this window (as known here)
    int64_t unsynced = 0;            // shared: settled here, not yet reported
    int64_t exhausted_until_ms = 0;  // shared: the shared state had no more until then
    bool low = false;                // shared: the shared state's remaining is below a slice
    int64_t available() const { return cap - held; }
  };
  struct BudgetState {
    const config::BudgetConfig* config;
    BudgetPeriod period;
    Counter money;
    uint64_t fired_mask = 0;
  };
  struct RateState {
    const config::RateLimitConfig* config;
    int64_t window = 0;  // unix minute
    Counter input, output, requests;
  };
  struct BudgetHold {
    size_t budget;
    int64_t amount;  // picodollars held
  };
  struct RateHold {
    size_t limit;
    int64_t input;   // tokens held
    int64_t output;  // tokens counted as relayed
  };
  struct Hold {
    std::vector<BudgetHold> budgets;
    std::vector<RateHold> limits;
    const meter::PriceEntry* price = nullptr;
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;  // held for (budgets) and counted as relayed
    int64_t expires_ms = 0;
    bool overrun_allowed = false;  // a streams: finish budget ran out under it
  };

  void roll(BudgetState& budget, int64_t now_ms);
  void roll(RateState& limit, int64_t now_ms);
  Counter freshCounter(int64_t limit) const;
  // Output tokens the available money buys after the input (binary search over exact costs).
  static int64_t affordableOutput(const meter::PriceEntry& price, int64_t input_tokens,
                                  int64_t max_output, int64_t available);
  bool mayAskMore(const Counter& counter, int64_t now_ms) const;
  void fillHeaders(const RateState& limit, int64_t now_ms, RateLimitHeaders& headers) const;
  void checkThresholds(BudgetState& budget, int64_t now_ms,
                       std::vector<ThresholdCrossing>& crossings);

  bool shared_;
  int64_t default_output_tokens_;
  int64_t hold_ttl_ms_;
  std::vector<BudgetState> budgets_;
  std::vector<RateState> limits_;
  std::unordered_map<uint64_t, Hold> holds_;
  uint64_t next_hold_ = 1;
  // Settled here in a window that has since ended, not yet reported (shared).
  std::vector<Unsynced> stale_;
};

}  // namespace tollgate::gateway
