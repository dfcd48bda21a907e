#include "gateway/policy/spend_book.h"

#include <algorithm>
#include <limits>

#include "config/civil_date.h"

namespace tollgate::gateway {

namespace {

constexpr int64_t kMsPerMinute = 60'000;
// A lease is this fraction of the limit (or the shortfall, when larger): small enough that
// replicas idle on a lease keep little from the others, large enough that a replica asks the
// shared state about once per 1/kLeaseDivisor of the limit.
constexpr int64_t kLeaseDivisor = 32;
// A counter the shared state could not fill is not asked again before this.
constexpr int64_t kExhaustedRetryMs = 1'000;

int64_t ceilDiv(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

int64_t slice(int64_t limit, int64_t need) {
  return std::max(need, std::max<int64_t>(1, limit / kLeaseDivisor));
}

}  // namespace

SpendBook::SpendBook(const config::Config& config, bool shared)
    : shared_(shared),
      default_output_tokens_(static_cast<int64_t>(config.spend_state.default_output_tokens)),
      hold_ttl_ms_(config.spend_state.hold_ttl.count()) {
  budgets_.reserve(config.budgets.size());
  for (const auto& budget : config.budgets) {
    budgets_.push_back(BudgetState{&budget, BudgetPeriod{}, Counter{}, 0});
  }
  limits_.reserve(config.rate_limits.size());
  for (const auto& limit : config.rate_limits) {
    limits_.push_back(RateState{&limit, std::numeric_limits<int64_t>::min(), {}, {}, {}});
  }
}

SpendBook::Counter SpendBook::freshCounter(int64_t limit) const {
  Counter counter;
  counter.cap = shared_ ? 0 : limit;
  return counter;
}

void SpendBook::roll(BudgetState& budget, int64_t now_ms) {
  const int64_t now_s = config::floorDiv(now_ms, 1000);
  if (now_s >= budget.period.start && now_s < budget.period.end) return;
  const int64_t old_start = budget.period.start;
  const bool had_period = budget.period.end != 0;
  budget.period = BudgetPeriod::at(budget.config->period, *budget.config->time_zone, now_s);
  Counter fresh = freshCounter(budget.config->limit.pico());
  // Calls in flight keep their holds; they settle into the new period. A shared book's carried
  // holds are covered by nothing in the new period: they take the first grant's room.
  fresh.held = budget.money.held;
  fresh.cap = shared_ ? fresh.held : fresh.cap;
  if (shared_ && had_period && budget.money.unsynced != 0) {
    stale_.push_back({{LeaseWant::Kind::kBudget, static_cast<size_t>(&budget - budgets_.data()),
                       old_start, budget.money.unsynced},
                      0});
  }
  budget.money = fresh;
  budget.fired_mask = 0;
}

void SpendBook::roll(RateState& limit, int64_t now_ms) {
  const int64_t minute = config::floorDiv(now_ms, kMsPerMinute);
  if (minute == limit.window) return;
  const size_t index = static_cast<size_t>(&limit - limits_.data());
  const auto renew = [&](Counter& counter, uint64_t per_minute, LeaseWant::Kind kind) {
    Counter fresh = freshCounter(static_cast<int64_t>(per_minute));
    fresh.held = kind == LeaseWant::Kind::kInputTokens ? counter.held : 0;
    if (shared_) {
      fresh.cap = fresh.held;
      if (counter.unsynced != 0 && limit.window != std::numeric_limits<int64_t>::min()) {
        stale_.push_back({{kind, index, limit.window, counter.unsynced}, 0});
      }
    }
    counter = fresh;
  };
  renew(limit.input, limit.config->input_tokens_per_minute, LeaseWant::Kind::kInputTokens);
  renew(limit.output, limit.config->output_tokens_per_minute, LeaseWant::Kind::kOutputTokens);
  renew(limit.requests, limit.config->requests_per_minute, LeaseWant::Kind::kRequests);
  limit.window = minute;
}

bool SpendBook::mayAskMore(const Counter& counter, int64_t now_ms) const {
  return shared_ && now_ms >= counter.exhausted_until_ms;
}

meter::Money SpendBook::worstCost(const meter::PriceEntry& entry, int64_t input_tokens,
                                  int64_t output_tokens) {
  meter::Usage usage;
  usage.input_tokens = input_tokens;
  usage.output_tokens = output_tokens;
  const meter::Price& p = entry.priceFor(usage);
  meter::Price worst;
  worst.input = std::max({p.input, p.cache_read, p.cache_write, p.cache_write_1h});
  worst.output = std::max(p.output, p.reasoning);
  worst.cache_read = worst.input;
  worst.cache_write = worst.input;
  worst.cache_write_1h = worst.input;
  worst.reasoning = worst.output;
  return meter::computeCost(worst, usage).total;
}

int64_t SpendBook::affordableOutput(const meter::PriceEntry& price, int64_t input_tokens,
                                    int64_t max_output, int64_t available) {
  int64_t low = 0;  // affordable
  int64_t high = max_output;
  if (worstCost(price, input_tokens, 0).pico() > available) return -1;
  while (low < high) {
    const int64_t mid = low + (high - low + 1) / 2;
    if (worstCost(price, input_tokens, mid).pico() <= available) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

void SpendBook::fillHeaders(const RateState& limit, int64_t now_ms,
                            RateLimitHeaders& headers) const {
  const auto& c = *limit.config;
  const auto remaining = [](uint64_t per_minute, const Counter& counter) {
    return std::max<int64_t>(0, static_cast<int64_t>(per_minute) - counter.used - counter.held);
  };
  RateLimitHeaders h;
  h.present = true;
  h.limit_requests = static_cast<int64_t>(c.requests_per_minute);
  h.remaining_requests = remaining(c.requests_per_minute, limit.requests);
  // The tokens pair describes the tighter of the input and output limits.
  const int64_t in_left = remaining(c.input_tokens_per_minute, limit.input);
  const int64_t out_left = remaining(c.output_tokens_per_minute, limit.output);
  const bool use_input =
      c.input_tokens_per_minute != 0 && (c.output_tokens_per_minute == 0 || in_left <= out_left);
  h.limit_tokens =
      static_cast<int64_t>(use_input ? c.input_tokens_per_minute : c.output_tokens_per_minute);
  h.remaining_tokens = use_input ? in_left : out_left;
  h.reset_ms = (limit.window + 1) * kMsPerMinute - now_ms;
  // The first limit wins, unless a later one has less left.
  if (!headers.present || h.remaining_tokens < headers.remaining_tokens ||
      h.remaining_requests < headers.remaining_requests) {
    headers = h;
  }
}

SpendAdmission SpendBook::admit(const SpendCall& call, int64_t now_ms) {
  SpendAdmission result;
  const int64_t max_output = call.max_output_tokens.value_or(default_output_tokens_);
  int64_t output_tokens = max_output;
  std::vector<BudgetHold> budget_holds;
  std::vector<size_t> limits;

  for (size_t i = 0; i < limits_.size(); ++i) {
    RateState& limit = limits_[i];
    if (!scopeMatches(limit.config->scope, call.labels)) continue;
    roll(limit, now_ms);
    fillHeaders(limit, now_ms, result.headers);
    limits.push_back(i);
    const auto& c = *limit.config;
    // Requests and input tokens are taken now; output needs room for at least one token and
    // is counted as it is relayed.
    const struct {
      uint64_t per_minute;
      Counter* counter;
      int64_t need;
      LeaseWant::Kind kind;
    } checks[] = {
        {c.requests_per_minute, &limit.requests, 1, LeaseWant::Kind::kRequests},
        {c.input_tokens_per_minute, &limit.input, call.input_tokens, LeaseWant::Kind::kInputTokens},
        {c.output_tokens_per_minute, &limit.output, 1, LeaseWant::Kind::kOutputTokens}};
    for (const auto& check : checks) {
      if (check.per_minute == 0 || check.counter->available() >= check.need) continue;
      if (mayAskMore(*check.counter, now_ms)) {
        result.wants.push_back({check.kind, i, limit.window,
                                slice(static_cast<int64_t>(check.per_minute),
                                      check.need - check.counter->available())});
        if (result.refused_by.empty()) result.refused_by = c.name;
        continue;
      }
      result.status = SpendAdmission::Status::kRateLimited;
      result.refused_by = c.name;
      result.retry_after_s = ceilDiv((limit.window + 1) * kMsPerMinute - now_ms, 1000);
      result.headers = {};
      fillHeaders(limit, now_ms, result.headers);
      return result;
    }
  }

  for (size_t i = 0; i < budgets_.size(); ++i) {
    BudgetState& budget = budgets_[i];
    if (!scopeMatches(budget.config->scope, call.labels)) continue;
    roll(budget, now_ms);
    // Unpriced and zero-priced (self-hosted) models cost nothing: no money budget blocks them.
    if (call.price == nullptr) continue;
    const bool blocking = budget.config->action == "block";
    int64_t worst = worstCost(*call.price, call.input_tokens, output_tokens).pico();
    if (worst == 0) continue;
    if (blocking && worst > budget.money.available()) {
      if (mayAskMore(budget.money, now_ms)) {
        result.wants.push_back(
            {LeaseWant::Kind::kBudget, i, budget.period.start,
             slice(budget.config->limit.pico(), worst - budget.money.available())});
        if (result.refused_by.empty()) result.refused_by = budget.config->name;
        continue;
      }
      const int64_t affordable = budget.config->clamp_max_tokens
                                     ? affordableOutput(*call.price, call.input_tokens,
                                                        output_tokens, budget.money.available())
                                     : -1;
      if (affordable <= 0) {
        result.status = SpendAdmission::Status::kBudgetExceeded;
        result.refused_by = budget.config->name;
        result.retry_after_s = std::max<int64_t>(1, budget.period.end - now_ms / 1000);
        return result;
      }
      output_tokens = affordable;
      result.max_tokens = affordable;
      result.clamped_by = budget.config->name;
      worst = worstCost(*call.price, call.input_tokens, output_tokens).pico();
    }
    budget_holds.push_back({i, blocking ? worst : 0});
  }
  if (!result.wants.empty()) {
    result.status = SpendAdmission::Status::kNeedsLease;
    result.max_tokens.reset();
    result.clamped_by.clear();
    return result;
  }
  // A clamp by a later budget lowers what the earlier ones hold.
  if (result.max_tokens) {
    for (BudgetHold& held : budget_holds) {
      if (held.amount != 0) {
        held.amount = worstCost(*call.price, call.input_tokens, output_tokens).pico();
      }
    }
  }

  Hold hold;
  hold.price = call.price;
  hold.input_tokens = call.input_tokens;
  hold.output_tokens = output_tokens;
  hold.expires_ms = now_ms + hold_ttl_ms_;
  for (const BudgetHold& held : budget_holds) {
    budgets_[held.budget].money.held += held.amount;
    hold.budgets.push_back(held);
    result.watches_output = result.watches_output || held.amount != 0;
  }
  for (const size_t i : limits) {
    RateState& limit = limits_[i];
    result.watches_output = result.watches_output || limit.config->output_tokens_per_minute != 0;
    if (limit.config->requests_per_minute != 0) limit.requests.held += 1;
    if (limit.config->input_tokens_per_minute != 0) limit.input.held += call.input_tokens;
    hold.limits.push_back({i, call.input_tokens, 0});
  }
  result.hold = next_hold_++;
  holds_.emplace(result.hold, std::move(hold));
  return result;
}

StreamVerdict SpendBook::extend(uint64_t id, int64_t output_tokens, int64_t now_ms) {
  StreamVerdict verdict;
  const auto it = holds_.find(id);
  if (it == holds_.end()) return verdict;
  Hold& hold = it->second;
  hold.expires_ms = now_ms + hold_ttl_ms_;
  for (RateHold& held : hold.limits) {
    RateState& limit = limits_[held.limit];
    roll(limit, now_ms);
    const int64_t delta = output_tokens - held.output;
    if (delta <= 0) continue;
    held.output = output_tokens;
    if (limit.config->output_tokens_per_minute == 0) continue;
    limit.output.held += delta;
    if (limit.output.available() >= 0) continue;
    if (mayAskMore(limit.output, now_ms)) {
      verdict.wants.push_back({LeaseWant::Kind::kOutputTokens, held.limit, limit.window,
                               slice(static_cast<int64_t>(limit.config->output_tokens_per_minute),
                                     -limit.output.available())});
      continue;
    }
    verdict.action = StreamVerdict::Action::kCut;
    verdict.cut_by = limit.config->name;
    return verdict;
  }
  if (output_tokens > hold.output_tokens && hold.price != nullptr) {
    // Past what was held for: grow the holds by a quarter of the default (or what is needed).
    const int64_t target = std::max(output_tokens, hold.output_tokens + default_output_tokens_ / 4);
    const int64_t worst = worstCost(*hold.price, hold.input_tokens, target).pico();
    for (BudgetHold& held : hold.budgets) {
      BudgetState& budget = budgets_[held.budget];
      roll(budget, now_ms);
      if (held.amount == 0 && budget.config->action != "block") continue;
      const int64_t delta = worst - held.amount;
      if (delta <= 0) continue;
      if (delta <= budget.money.available() || hold.overrun_allowed) {
        budget.money.held += delta;
        held.amount = worst;
        continue;
      }
      if (mayAskMore(budget.money, now_ms)) {
        verdict.wants.push_back(
            {LeaseWant::Kind::kBudget, held.budget, budget.period.start,
             slice(budget.config->limit.pico(), delta - budget.money.available())});
        continue;
      }
      if (budget.config->streams == "finish") {
        // The stream completes; what it spends beyond the budget is booked as overrun.
        hold.overrun_allowed = true;
        budget.money.held += delta;
        held.amount = worst;
        continue;
      }
      verdict.action = StreamVerdict::Action::kCut;
      verdict.cut_by = budget.config->name;
      return verdict;
    }
    if (verdict.wants.empty()) hold.output_tokens = target;
  }
  if (!verdict.wants.empty()) verdict.action = StreamVerdict::Action::kNeedsLease;
  return verdict;
}

void SpendBook::checkThresholds(BudgetState& budget, int64_t now_ms,
                                std::vector<ThresholdCrossing>& crossings) {
  const auto& alert_at = budget.config->alert_at;
  const int64_t limit = budget.config->limit.pico();
  for (size_t i = 0; i < alert_at.size() && i < 64; ++i) {
    if (budget.fired_mask & (uint64_t{1} << i)) continue;
    const __int128 threshold = static_cast<__int128>(limit) * alert_at[i];
    if (static_cast<__int128>(budget.money.used) * 100 < threshold) continue;
    budget.fired_mask |= uint64_t{1} << i;
    ThresholdCrossing crossing;
    crossing.budget = static_cast<size_t>(&budget - budgets_.data());
    crossing.percent = alert_at[i];
    crossing.period = budget.period;
    crossing.spend = meter::Money::fromPico(budget.money.used);
    crossing.limit = budget.config->limit;
    const int64_t elapsed_ms = std::max<int64_t>(1000, now_ms - budget.period.start * 1000);
    const int64_t length_ms = (budget.period.end - budget.period.start) * 1000;
    const __int128 forecast = static_cast<__int128>(budget.money.used) * length_ms / elapsed_ms;
    crossing.forecast = meter::Money::fromPico(
        static_cast<int64_t>(std::min<__int128>(forecast, std::numeric_limits<int64_t>::max())));
    crossings.push_back(crossing);
  }
}

std::vector<ThresholdCrossing> SpendBook::settle(uint64_t id, const meter::Usage& usage,
                                                 meter::Money cost, int64_t now_ms) {
  std::vector<ThresholdCrossing> crossings;
  const auto it = holds_.find(id);
  if (it == holds_.end()) return crossings;
  Hold hold = std::move(it->second);
  holds_.erase(it);
  for (const BudgetHold& held : hold.budgets) {
    BudgetState& budget = budgets_[held.budget];
    // The hold was taken in the period current then; a roll carried it into this one.
    roll(budget, now_ms);
    budget.money.held -= held.amount;
    budget.money.cap = saturatingAdd(budget.money.cap, -cost.pico());
    budget.money.used = saturatingAdd(budget.money.used, cost.pico());
    if (shared_) {
      budget.money.unsynced = saturatingAdd(budget.money.unsynced, cost.pico());
    } else {
      checkThresholds(budget, now_ms, crossings);
    }
  }
  for (const RateHold& held : hold.limits) {
    RateState& limit = limits_[held.limit];
    const bool same_window = config::floorDiv(now_ms, kMsPerMinute) == limit.window;
    roll(limit, now_ms);
    const auto book = [&](Counter& counter, uint64_t per_minute, int64_t held_now, int64_t actual) {
      if (per_minute == 0) return;
      counter.held -= held_now;
      counter.cap -= actual;
      counter.used += actual;
      if (shared_) counter.unsynced += actual;
    };
    book(limit.requests, limit.config->requests_per_minute, 1, 1);
    book(limit.input, limit.config->input_tokens_per_minute, held.input, usage.input_tokens);
    // Output was counted in the window it was relayed in; a new window starts from zero.
    book(limit.output, limit.config->output_tokens_per_minute, same_window ? held.output : 0,
         same_window ? usage.output_tokens
                     : std::max<int64_t>(0, usage.output_tokens - held.output));
  }
  return crossings;
}

void SpendBook::release(uint64_t id) {
  const auto it = holds_.find(id);
  if (it == holds_.end()) return;
  for (const BudgetHold& held : it->second.budgets) budgets_[held.budget].money.held -= held.amount;
  for (const RateHold& held : it->second.limits) {
    RateState& limit = limits_[held.limit];
    if (limit.config->requests_per_minute != 0) limit.requests.held -= 1;
    if (limit.config->input_tokens_per_minute != 0) limit.input.held -= held.input;
    if (limit.config->output_tokens_per_minute != 0) limit.output.held -= held.output;
  }
  holds_.erase(it);
}

size_t SpendBook::expireHolds(int64_t now_ms) {
  std::vector<uint64_t> expired;
  for (const auto& [id, hold] : holds_) {
    if (hold.expires_ms <= now_ms) expired.push_back(id);
  }
  for (const uint64_t id : expired) release(id);
  return expired.size();
}

void SpendBook::grant(const LeaseWant& want, int64_t granted, int64_t remaining,
                      int64_t retry_at_ms) {
  Counter* counter = nullptr;
  if (want.kind == LeaseWant::Kind::kBudget) {
    if (want.rule >= budgets_.size() || budgets_[want.rule].period.start != want.window) return;
    counter = &budgets_[want.rule].money;
  } else {
    if (want.rule >= limits_.size() || limits_[want.rule].window != want.window) return;
    RateState& limit = limits_[want.rule];
    counter = want.kind == LeaseWant::Kind::kInputTokens    ? &limit.input
              : want.kind == LeaseWant::Kind::kOutputTokens ? &limit.output
                                                            : &limit.requests;
  }
  counter->cap = saturatingAdd(counter->cap, granted);
  if (granted < want.amount) counter->exhausted_until_ms = retry_at_ms;
  int64_t limit = 0;
  if (want.kind == LeaseWant::Kind::kBudget) {
    limit = budgets_[want.rule].config->limit.pico();
  } else {
    const auto& c = *limits_[want.rule].config;
    limit = static_cast<int64_t>(
        want.kind == LeaseWant::Kind::kInputTokens    ? c.input_tokens_per_minute
        : want.kind == LeaseWant::Kind::kOutputTokens ? c.output_tokens_per_minute
                                                      : c.requests_per_minute);
  }
  counter->low = remaining < std::max<int64_t>(1, limit / kLeaseDivisor);
}

void SpendBook::observeSettled(size_t budget, int64_t period_start, int64_t settled_pico) {
  if (budget >= budgets_.size() || budgets_[budget].period.start != period_start) return;
  Counter& money = budgets_[budget].money;
  // Ours not yet reported are on top of what the shared state has seen.
  money.used = saturatingAdd(settled_pico, money.unsynced);
}

std::vector<LeaseWant> SpendBook::topUps(int64_t now_ms) {
  std::vector<LeaseWant> wants;
  if (!shared_) return wants;
  const auto check = [&](Counter& counter, int64_t limit, LeaseWant::Kind kind, size_t rule,
                         int64_t window) {
    const int64_t one = slice(limit, 0);
    if (limit == 0 || counter.low || !mayAskMore(counter, now_ms) || counter.available() >= one) {
      return;
    }
    wants.push_back({kind, rule, window, one});
  };
  for (size_t i = 0; i < budgets_.size(); ++i) {
    BudgetState& budget = budgets_[i];
    roll(budget, now_ms);
    if (budget.config->action != "block") continue;
    check(budget.money, budget.config->limit.pico(), LeaseWant::Kind::kBudget, i,
          budget.period.start);
  }
  for (size_t i = 0; i < limits_.size(); ++i) {
    RateState& limit = limits_[i];
    roll(limit, now_ms);
    const auto& c = *limit.config;
    check(limit.input, static_cast<int64_t>(c.input_tokens_per_minute),
          LeaseWant::Kind::kInputTokens, i, limit.window);
    check(limit.output, static_cast<int64_t>(c.output_tokens_per_minute),
          LeaseWant::Kind::kOutputTokens, i, limit.window);
    check(limit.requests, static_cast<int64_t>(c.requests_per_minute), LeaseWant::Kind::kRequests,
          i, limit.window);
  }
  return wants;
}

std::vector<SpendBook::Unsynced> SpendBook::takeUnsynced(int64_t now_ms) {
  std::vector<Unsynced> out = std::move(stale_);
  stale_.clear();
  const auto take = [&](Counter& counter, LeaseWant::Kind kind, size_t rule, int64_t window) {
    int64_t returned = 0;
    if (counter.low && counter.available() > 0) {
      returned = counter.available();
      counter.cap -= returned;
    }
    // A counter holding a lease reports even with nothing settled: that renews the lease.
    if (counter.unsynced == 0 && returned == 0 && counter.cap == 0) return;
    out.push_back({{kind, rule, window, counter.unsynced}, returned});
    counter.unsynced = 0;
    // The shared state takes what was settled out of this replica's lease, down to zero: the
    // rest (output counted as a call ends, an input estimate that erred low) is already in its
    // spend. The lease here follows; left negative, it would charge that rest a second time
    // out of the next lease.
    counter.cap = std::max<int64_t>(counter.cap, 0);
  };
  for (size_t i = 0; i < budgets_.size(); ++i) {
    if (budgets_[i].period.end == 0) continue;
    roll(budgets_[i], now_ms);
    take(budgets_[i].money, LeaseWant::Kind::kBudget, i, budgets_[i].period.start);
  }
  for (size_t i = 0; i < limits_.size(); ++i) {
    if (limits_[i].window == std::numeric_limits<int64_t>::min()) continue;
    roll(limits_[i], now_ms);
    const auto& c = *limits_[i].config;
    if (c.input_tokens_per_minute != 0) {
      take(limits_[i].input, LeaseWant::Kind::kInputTokens, i, limits_[i].window);
    }
    if (c.output_tokens_per_minute != 0) {
      take(limits_[i].output, LeaseWant::Kind::kOutputTokens, i, limits_[i].window);
    }
    if (c.requests_per_minute != 0) {
      take(limits_[i].requests, LeaseWant::Kind::kRequests, i, limits_[i].window);
    }
  }
  return out;
}

std::vector<BudgetSnapshot> SpendBook::snapshot() const {
  std::vector<BudgetSnapshot> out;
  for (const BudgetState& budget : budgets_) {
    if (budget.period.end == 0) continue;
    out.push_back({budget.config->name, budget.period.start, budget.money.used, budget.fired_mask});
  }
  return out;
}

void SpendBook::restore(const std::vector<BudgetSnapshot>& snapshots, int64_t now_ms) {
  for (BudgetState& budget : budgets_) {
    roll(budget, now_ms);
    for (const BudgetSnapshot& snap : snapshots) {
      if (snap.name != budget.config->name || snap.period_start != budget.period.start) continue;
      budget.money.used = snap.settled_pico;
      if (!shared_) budget.money.cap = budget.config->limit.pico() - snap.settled_pico;
      budget.fired_mask = snap.fired_mask;
    }
  }
}

void SpendBook::adopt(SpendBook&& old, int64_t now_ms) {
  std::vector<size_t> budget_map(old.budgets_.size(), SIZE_MAX);
  std::vector<size_t> limit_map(old.limits_.size(), SIZE_MAX);
  for (size_t o = 0; o < old.budgets_.size(); ++o) {
    for (size_t n = 0; n < budgets_.size(); ++n) {
      if (old.budgets_[o].config->name == budgets_[n].config->name) budget_map[o] = n;
    }
  }
  for (size_t o = 0; o < old.limits_.size(); ++o) {
    for (size_t n = 0; n < limits_.size(); ++n) {
      if (old.limits_[o].config->name == limits_[n].config->name) limit_map[o] = n;
    }
  }
  restore(old.snapshot(), now_ms);
  for (size_t o = 0; o < old.budgets_.size(); ++o) {
    if (budget_map[o] == SIZE_MAX) continue;
    BudgetState& now = budgets_[budget_map[o]];
    const BudgetState& was = old.budgets_[o];
    if (was.period.start != now.period.start) continue;
    // A changed limit moves the cap by the difference; a lease stays what it was.
    now.money.cap = shared_ ? was.money.cap : now.config->limit.pico() - was.money.used;
    now.money.unsynced = was.money.unsynced;
    now.money.exhausted_until_ms = was.money.exhausted_until_ms;
  }
  for (size_t o = 0; o < old.limits_.size(); ++o) {
    if (limit_map[o] == SIZE_MAX) continue;
    RateState& now = limits_[limit_map[o]];
    const RateState& was = old.limits_[o];
    now.window = was.window;
    now.input = was.input;
    now.output = was.output;
    now.requests = was.requests;
    now.input.held = now.output.held = now.requests.held = 0;
    if (!shared_) {
      now.input.cap = static_cast<int64_t>(now.config->input_tokens_per_minute) - now.input.used;
      now.output.cap = static_cast<int64_t>(now.config->output_tokens_per_minute) - now.output.used;
      now.requests.cap = static_cast<int64_t>(now.config->requests_per_minute) - now.requests.used;
    }
  }
  // The holds of calls in flight move over with the counters they are held on.
  for (auto& [id, hold] : old.holds_) {
    Hold moved = hold;
    moved.budgets.clear();
    moved.limits.clear();
    for (BudgetHold held : hold.budgets) {
      if (budget_map[held.budget] == SIZE_MAX) continue;
      held.budget = budget_map[held.budget];
      budgets_[held.budget].money.held += held.amount;
      moved.budgets.push_back(held);
    }
    for (RateHold held : hold.limits) {
      if (limit_map[held.limit] == SIZE_MAX) continue;
      held.limit = limit_map[held.limit];
      RateState& limit = limits_[held.limit];
      if (limit.config->requests_per_minute != 0) limit.requests.held += 1;
      if (limit.config->input_tokens_per_minute != 0) limit.input.held += held.input;
      if (limit.config->output_tokens_per_minute != 0) limit.output.held += held.output;
      moved.limits.push_back(held);
    }
    holds_.emplace(id, std::move(moved));
  }
  next_hold_ = std::max(next_hold_, old.next_hold_);
  stale_ = std::move(old.stale_);
}

std::vector<SpendBook::BudgetView> SpendBook::budgets() const {
  std::vector<BudgetView> out;
  for (const BudgetState& budget : budgets_) {
    out.push_back({budget.config, budget.period, budget.money.used, budget.money.held});
  }
  return out;
}

}  // namespace tollgate::gateway
