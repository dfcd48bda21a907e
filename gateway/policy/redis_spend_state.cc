#include "gateway/policy/redis_spend_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tollgate::gateway {

namespace {

// Money crosses Redis in nanodollars: Lua numbers are doubles, exact to 2^53, which is
// $9M in nanodollars but only $9k in picodollars.
constexpr int64_t kPicoPerNano = 1000;
// A counter the shared state could not fill is asked again after this.
constexpr int64_t kRetryShortMs = 1000;
// open and Redis down: a call's local grants, at most this many rounds.
constexpr int kMaxRounds = 3;

const char* const kSyncScript = R"lua(
local key = KEYS[1]
local replica = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local settled = tonumber(ARGV[4])
local returned = tonumber(ARGV[5])
local want = tonumber(ARGV[6])
local function s(x) return string.format('%.0f', x) end
local all = redis.call('HGETALL', key)
local f = {}
for i = 1, #all, 2 do f[all[i]] = all[i + 1] end
local leased = tonumber(f['leased'] or '0')
for name, value in pairs(f) do
  if string.sub(name, 1, 2) == 'e:' and tonumber(value) < now then
    local r = string.sub(name, 3)
    leased = leased - tonumber(f['l:' .. r] or '0')
    redis.call('HDEL', key, 'e:' .. r, 'l:' .. r)
    f['l:' .. r] = nil
  end
end
local mine = tonumber(f['l:' .. replica] or '0')
local spent = tonumber(f['spent'] or '0') + settled
local back = math.min(mine, settled + returned)
mine = mine - back
leased = math.max(0, leased - back)
local granted = 0
local free = limit - spent - leased
if want > 0 and free > 0 then granted = math.min(want, free) end
mine = mine + granted
leased = leased + granted
redis.call('HSET', key, 'spent', s(spent), 'leased', s(leased), 'l:' .. replica, s(mine),
           'e:' .. replica, s(now + ttl))
redis.call('PEXPIRE', key, ARGV[7])
local crossed = {}
local fired = tonumber(f['fired'] or '0')
local i = 0
for pct in string.gmatch(ARGV[8], '%d+') do
  local bit = 2 ^ i
  if (fired % (2 * bit)) < bit and spent * 100 >= limit * tonumber(pct) then
    fired = fired + bit
    table.insert(crossed, tonumber(pct))
  end
  i = i + 1
end
if #crossed > 0 then redis.call('HSET', key, 'fired', s(fired)) end
return {granted, limit - spent - leased, spent, crossed}
)lua";

int64_t ceilDiv(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

}  // namespace

const char* RedisSpendState::syncScript() { return kSyncScript; }

RedisSpendState::RedisSpendState(std::shared_ptr<const config::Config> config, SpendClock clock,
                                 AlertDispatcher* alerts, Options options)
    : clock_(std::move(clock)),
      alerts_(alerts),
      options_(std::move(options)),
      connection_(config->spend_state.redis.host, config->spend_state.redis.port,
                  config->spend_state.redis.db, config->spend_state.redis.timeout),
      config_(std::move(config)),
      book_(std::make_unique<SpendBook>(*config_, true)) {
  thread_ = std::thread([this] { run(); });
}

RedisSpendState::~RedisSpendState() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

RedisSpendState::Stats RedisSpendState::stats() const {
  return {round_trips_.load(), commands_.load(),    errors_.load(),
          latency_us_.load(),  unavailable_.load(), lease_short_.load()};
}

SpendAdmission RedisSpendState::admit(const SpendCall& call) {
  std::unique_lock lock(mutex_);
  const int64_t now = clock_();
  SpendAdmission admission = book_->admit(call, now);
  if (admission.status != SpendAdmission::Status::kNeedsLease) return admission;
  ++lease_short_;
  if (!available_.load() && config_->spend_state.redis.on_unavailable == "open") {
    // open: the call goes through; its spend is counted here and reported when Redis returns.
    ++unavailable_;
    for (int i = 0; i < kMaxRounds && admission.status == SpendAdmission::Status::kNeedsLease;
         ++i) {
      for (const LeaseWant& want : admission.wants) {
        book_->grant(want, want.amount, want.amount, now + kRetryShortMs);
      }
      admission = book_->admit(call, now);
    }
    return admission;
  }
  // Not decidable now: the lease is asked for and the caller comes back in a second (a rate
  // limit's as 429 rate_limited, a budget's as 503 spend_state_unavailable).
  if (!available_.load()) ++unavailable_;
  const bool rate =
      std::any_of(admission.wants.begin(), admission.wants.end(),
                  [](const LeaseWant& w) { return w.kind != LeaseWant::Kind::kBudget; });
  wants_.insert(wants_.end(), admission.wants.begin(), admission.wants.end());
  admission.wants.clear();
  admission.status =
      rate ? SpendAdmission::Status::kRateLimited : SpendAdmission::Status::kUnavailable;
  admission.retry_after_s = 1;
  lock.unlock();
  wake_.notify_one();
  return admission;
}

StreamVerdict RedisSpendState::extend(uint64_t hold, int64_t output_tokens) {
  std::unique_lock lock(mutex_);
  StreamVerdict verdict = book_->extend(hold, output_tokens, clock_());
  if (verdict.action != StreamVerdict::Action::kNeedsLease) return verdict;
  if (!available_.load() && config_->spend_state.redis.on_unavailable == "closed") {
    // The budget cannot be verified: a blocking budget's stream stops where it is.
    verdict.action = StreamVerdict::Action::kCut;
    verdict.cut_by = "spend_state_unavailable";
    return verdict;
  }
  wants_.insert(wants_.end(), verdict.wants.begin(), verdict.wants.end());
  lock.unlock();
  wake_.notify_one();
  return {};
}

void RedisSpendState::settle(uint64_t hold, const meter::Usage& usage, meter::Money cost) {
  std::lock_guard lock(mutex_);
  book_->settle(hold, usage, cost, clock_());
}

void RedisSpendState::release(uint64_t hold) {
  std::lock_guard lock(mutex_);
  book_->release(hold);
}

void RedisSpendState::reload(std::shared_ptr<const config::Config> config) {
  auto book = std::make_unique<SpendBook>(*config, true);
  std::lock_guard lock(mutex_);
  book->adopt(std::move(*book_), clock_());
  book_ = std::move(book);
  config_ = std::move(config);
  // Wants name rules by index in the old config; the next calls and top-ups ask again.
  wants_.clear();
}

std::vector<SpendBook::BudgetView> RedisSpendState::budgets() const {
  std::lock_guard lock(mutex_);
  return book_->budgets();
}

std::string RedisSpendState::counterKey(const LeaseWant& counter) const {
  const std::string& prefix = config_->spend_state.redis.key_prefix;
  if (counter.kind == LeaseWant::Kind::kBudget) {
    return prefix + "b:" + config_->budgets[counter.rule].name + ":" +
           std::to_string(counter.window);
  }
  const char* dim = counter.kind == LeaseWant::Kind::kInputTokens    ? "in"
                    : counter.kind == LeaseWant::Kind::kOutputTokens ? "out"
                                                                     : "req";
  return prefix + "r:" + config_->rate_limits[counter.rule].name + ":" + dim + ":" +
         std::to_string(counter.window);
}

std::vector<RedisSpendState::Ask> RedisSpendState::collect(int64_t now_ms) {
  std::map<std::string, Ask> asks = std::move(carry_);
  carry_.clear();
  for (const auto& report : book_->takeUnsynced(now_ms)) {
    const std::string key = counterKey(report.counter);
    Ask& ask = asks.try_emplace(key, Ask{report.counter}).first->second;
    if (report.counter.kind == LeaseWant::Kind::kBudget) {
      int64_t& rest = sub_nano_[key];
      rest += report.counter.amount;
      ask.settled += rest / kPicoPerNano;
      rest %= kPicoPerNano;
      ask.returned += report.returned / kPicoPerNano;
    } else {
      ask.settled += report.counter.amount;
      ask.returned += report.returned;
    }
  }
  for (const LeaseWant& want : wants_) {
    const std::string key = counterKey(want);
    Ask& ask = asks.try_emplace(key, Ask{want}).first->second;
    ask.counter = want;
    ask.want = std::max(ask.want, want.kind == LeaseWant::Kind::kBudget
                                      ? ceilDiv(want.amount, kPicoPerNano)
                                      : want.amount);
  }
  wants_.clear();
  std::vector<Ask> out;
  for (auto& [key, ask] : asks) out.push_back(ask);
  return out;
}

void RedisSpendState::run() {
  std::unique_lock lock(mutex_);
  bool first = true;  // leases are taken at once, before the first call needs them
  while (!stopping_) {
    if (wants_.empty() && !first) {
      // Wake at each minute's start too: a rate window's leases are taken as it opens.
      const int64_t now = clock_();
      const int64_t to_minute = 60'000 - ((now % 60'000) + 60'000) % 60'000;
      const auto wait =
          config_->rate_limits.empty()
              ? options_.flush_interval
              : std::min(options_.flush_interval, std::chrono::milliseconds(to_minute));
      wake_.wait_for(lock, wait);
    }
    first = false;
    if (stopping_) return;
    const int64_t now = clock_();
    book_->expireHolds(now);
    for (const LeaseWant& want : book_->topUps(now)) wants_.push_back(want);
    std::vector<Ask> asks = collect(now);
    const auto config = config_;
    lock.unlock();

    std::vector<std::vector<std::string>> commands;
    const auto& redis = config->spend_state.redis;
    for (const Ask& ask : asks) {
      int64_t limit = 0;
      int64_t key_ttl_ms = 180'000;
      std::string thresholds;
      if (ask.counter.kind == LeaseWant::Kind::kBudget) {
        const auto& budget = config->budgets[ask.counter.rule];
        limit = budget.limit.pico() / kPicoPerNano;
        const BudgetPeriod period =
            BudgetPeriod::at(budget.period, *budget.time_zone, ask.counter.window);
        key_ttl_ms = (period.end - period.start) * 1000 + 86'400'000;
        for (const uint32_t pct : budget.alert_at) thresholds += std::to_string(pct) + " ";
      } else {
        const auto& c = config->rate_limits[ask.counter.rule];
        limit = static_cast<int64_t>(
            ask.counter.kind == LeaseWant::Kind::kInputTokens    ? c.input_tokens_per_minute
            : ask.counter.kind == LeaseWant::Kind::kOutputTokens ? c.output_tokens_per_minute
                                                                 : c.requests_per_minute);
      }
      commands.push_back({"EVALSHA", script_sha_, "1", counterKey(ask.counter), options_.replica_id,
                          std::to_string(options_.lease_ttl.count()), std::to_string(limit),
                          std::to_string(ask.settled), std::to_string(ask.returned),
                          std::to_string(ask.want), std::to_string(key_ttl_ms), thresholds});
    }
    std::optional<std::vector<RedisReply>> replies;
    const auto started = std::chrono::steady_clock::now();
    if (!commands.empty() || !available_.load()) {
      if (script_sha_.empty() || !connection_.connected()) {
        script_sha_.clear();
        const auto loaded = connection_.pipeline({{"SCRIPT", "LOAD", kSyncScript}});
        if (loaded && (*loaded)[0].type == RedisReply::Type::kString) {
          script_sha_ = (*loaded)[0].text;
          for (auto& command : commands) command[1] = script_sha_;
        }
      }
      if (!script_sha_.empty()) {
        replies = commands.empty()
                      ? std::optional<std::vector<RedisReply>>(std::vector<RedisReply>{})
                      : connection_.pipeline(commands);
      }
      ++round_trips_;
      commands_ += commands.size();
    } else {
      replies = std::vector<RedisReply>{};
    }
    const bool ok = replies.has_value();
    if (ok && !commands.empty()) {
      latency_us_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count());
    }
    if (!ok) {
      ++errors_;
      if (available_.exchange(false)) {
        spdlog::warn("spend state: redis unavailable ({}); on_unavailable: {}", connection_.error(),
                     redis.on_unavailable);
      }
    } else if (!available_.exchange(true)) {
      spdlog::info("spend state: redis available again");
    }

    std::vector<BudgetAlert> alerts;
    lock.lock();
    const bool same_config = config == config_;
    const int64_t after = clock_();
    for (size_t i = 0; i < asks.size(); ++i) {
      const Ask& ask = asks[i];
      const RedisReply* reply = ok ? &(*replies)[i] : nullptr;
      const bool good = reply != nullptr && reply->type == RedisReply::Type::kArray &&
                        reply->elements.size() == 4;
      if (!good) {
        if (reply != nullptr) {
          ++errors_;
          spdlog::warn("spend state: redis script: {}", reply->text);
        }
        // Delivered again next time (the settled amounts must not be lost).
        Ask again = ask;
        again.want = 0;
        if (same_config && (again.settled != 0 || again.returned != 0)) {
          carry_.emplace(counterKey(ask.counter), again);
        }
        continue;
      }
      if (!same_config) continue;
      const int64_t granted = reply->elements[0].integer;
      const int64_t remaining = reply->elements[1].integer;
      const bool money = ask.counter.kind == LeaseWant::Kind::kBudget;
      const int64_t unit = money ? kPicoPerNano : 1;
      LeaseWant asked = ask.counter;
      asked.amount = ask.want * unit;
      book_->grant(asked, granted * unit, remaining * unit, after + kRetryShortMs);
      if (!money) continue;
      const int64_t spent = reply->elements[2].integer * kPicoPerNano;
      book_->observeSettled(ask.counter.rule, ask.counter.window, spent);
      const auto& budget = config_->budgets[ask.counter.rule];
      const BudgetPeriod period =
          BudgetPeriod::at(budget.period, *budget.time_zone, ask.counter.window);
      for (const RedisReply& pct : reply->elements[3].elements) {
        const int64_t elapsed = std::max<int64_t>(1000, after - period.start * 1000);
        const __int128 forecast =
            static_cast<__int128>(spent) * (period.end - period.start) * 1000 / elapsed;
        alerts.push_back({budget.name, budget.scope, budget.period, period,
                          static_cast<uint32_t>(pct.integer), meter::Money::fromPico(spent),
                          budget.limit,
                          meter::Money::fromPico(static_cast<int64_t>(
                              std::min<__int128>(forecast, std::numeric_limits<int64_t>::max()))),
                          after});
      }
    }
    lock.unlock();
    if (alerts_ != nullptr) {
      for (BudgetAlert& alert : alerts) alerts_->send(std::move(alert));
    }
    lock.lock();
  }
}

}  // namespace tollgate::gateway
