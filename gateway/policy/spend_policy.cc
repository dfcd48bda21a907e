#include "gateway/policy/spend_policy.h"

#include <unistd.h>

#include <chrono>
#include <random>

#include "gateway/net/webhook_client.h"
#include "gateway/policy/local_spend_state.h"
#include "gateway/policy/redis_spend_state.h"
#include "meter/output_cap_rewrite.h"

namespace tollgate::gateway {

namespace {

// What the call holds between onRequest and onFinished.
struct SpendHold final : PolicyCallState {
  explicit SpendHold(uint64_t h) : hold(h) {}
  uint64_t hold;
  // The call's earlier attempts (retries, fallbacks): settled with its last event.
  bool attempted = false;
  meter::Usage usage;
  meter::Money cost;
};

void addUsage(const meter::Usage& from, meter::Usage& to) {
  to.input_tokens += from.input_tokens;
  to.cache_read_tokens += from.cache_read_tokens;
  to.cache_write_tokens += from.cache_write_tokens;
  to.output_tokens += from.output_tokens;
  to.reasoning_tokens += from.reasoning_tokens;
  to.cache_write_1h_tokens += from.cache_write_1h_tokens;
  for (size_t i = 0; i < to.units.size(); ++i) to.units[i] += from.units[i];
  to.unknown_units += from.unknown_units;
}

meter::Money eventCost(const meter::CostEvent& event) {
  return event.priced ? event.cost.total : meter::Money();
}

std::shared_ptr<const meter::PriceBook> priceBookOf(const config::Config& config) {
  return std::make_shared<const meter::PriceBook>(config.price_catalog_version, config.prices,
                                                  config.default_prices);
}

// OpenAI's own format: "1s", "6m0s", "59.5s" is written as whole seconds, rounded up.
std::string resetText(int64_t ms) {
  const int64_t seconds = ms <= 0 ? 0 : (ms + 999) / 1000;
  if (seconds < 60) return std::to_string(seconds) + "s";
  return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
}

}  // namespace

std::shared_ptr<SpendPolicy> SpendPolicy::create(std::shared_ptr<const config::Config> config,
                                                 size_t chain_index, SpendClock clock,
                                                 std::shared_ptr<AlertChannel> channel) {
  if (config->budgets.empty() && config->rate_limits.empty()) return nullptr;
  AlertDispatcher::Options options;
  options.webhook = config->alerts.webhook;
  options.source = "tollgate://" + config->server.instance_id;
  AlertDispatcher::Extra extra;
  if (channel) {
    extra = [channel, source = options.source](const BudgetAlert& alert) {
      channel->publish(alert, alert.toCloudEvent(source));
    };
  }
  auto alerts = std::make_unique<AlertDispatcher>(options, net::postWebhook, std::move(extra));
  std::unique_ptr<SpendState> state;
  if (config->spend_state.backend == "redis") {
    RedisSpendState::Options redis;
    // Unique per process, not per host: two replicas on one host must not share a lease.
    redis.replica_id = config->server.instance_id + "/" + std::to_string(::getpid()) + "/" +
                       std::to_string(std::random_device{}());
    state = std::make_unique<RedisSpendState>(config, std::move(clock), alerts.get(), redis);
  } else {
    state = std::make_unique<LocalSpendState>(config, std::move(clock), alerts.get());
  }
  return std::make_shared<SpendPolicy>(config, chain_index, std::move(alerts), std::move(state),
                                       std::move(channel));
}

SpendPolicy::SpendPolicy(std::shared_ptr<const config::Config> config, size_t chain_index,
                         std::unique_ptr<AlertDispatcher> alerts, std::unique_ptr<SpendState> state,
                         std::shared_ptr<AlertChannel> channel)
    : index_(chain_index),
      channel_(std::move(channel)),
      alerts_(std::move(alerts)),
      state_(std::move(state)),
      prices_(priceBookOf(*config)) {}

SpendPolicy::~SpendPolicy() {
  state_.reset();  // the state's thread may still send alerts: stop it first
}

std::shared_ptr<const meter::PriceBook> SpendPolicy::prices() const { return prices_.load(); }

void SpendPolicy::reload(std::shared_ptr<const config::Config> config) {
  prices_.store(priceBookOf(*config));
  state_->reload(std::move(config));
}

std::optional<PolicyRefusal> SpendPolicy::onHead(const Fields&, PolicyCall&) {
  return std::nullopt;
}

std::optional<PolicyRefusal> SpendPolicy::refusalFor(const SpendAdmission& admission) {
  using Status = SpendAdmission::Status;
  PolicyRefusal refusal;
  refusal.limit_name = admission.refused_by;
  auto& headers = refusal.error.headers;
  headers.emplace_back("retry-after",
                       std::to_string(std::max<int64_t>(1, admission.retry_after_s)));
  switch (admission.status) {
    case Status::kAdmitted:
    case Status::kNeedsLease:
      return std::nullopt;
    case Status::kBudgetExceeded:
      // Shaped like OpenAI's exhausted quota: the SDKs surface it as a rate-limit error and,
      // told not to retry, do not hammer a budget that will not come back this period.
      refusal.error.status = 429;
      refusal.error.code = "budget_exceeded";
      refusal.error.message = "You exceeded the budget " + admission.refused_by +
                              " of this gateway for the current period. It resets in " +
                              resetText(admission.retry_after_s * 1000) + ".";
      headers.emplace_back("x-should-retry", "false");
      break;
    case Status::kRateLimited:
      refusal.error.status = 429;
      refusal.error.code = "rate_limited";
      refusal.error.message = "Rate limit " + admission.refused_by + " reached. Retry in " +
                              resetText(admission.retry_after_s * 1000) + ".";
      break;
    case Status::kUnavailable:
      refusal.error.status = 503;
      refusal.error.code = "spend_state_unavailable";
      refusal.error.message =
          "The gateway cannot verify the budget " + admission.refused_by + " right now.";
      break;
  }
  if (admission.headers.present) {
    const RateLimitHeaders& h = admission.headers;
    if (h.limit_requests != 0) {
      headers.emplace_back("x-ratelimit-limit-requests", std::to_string(h.limit_requests));
      headers.emplace_back("x-ratelimit-remaining-requests", std::to_string(h.remaining_requests));
      headers.emplace_back("x-ratelimit-reset-requests", resetText(h.reset_ms));
    }
    if (h.limit_tokens != 0) {
      headers.emplace_back("x-ratelimit-limit-tokens", std::to_string(h.limit_tokens));
      headers.emplace_back("x-ratelimit-remaining-tokens", std::to_string(h.remaining_tokens));
      headers.emplace_back("x-ratelimit-reset-tokens", resetText(h.reset_ms));
    }
  }
  return refusal;
}

std::optional<PolicyRefusal> SpendPolicy::onRequest(PolicyCall& call) {
  if (call.request == nullptr) return std::nullopt;
  const auto book = prices();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  SpendCall spend;
  const meter::Attribution& a = *call.attribution;
  spend.labels = {a.team, a.project, a.cost_center, a.environment, a.workload_type, a.key_id};
  spend.price = book->find(call.request->model, call.request->service_tier, now_ns);
  spend.input_tokens = call.request->estimated_input_tokens;
  spend.max_output_tokens = call.request->max_output_tokens;
  SpendAdmission admission = state_->admit(spend);
  if (admission.status != SpendAdmission::Status::kAdmitted) {
    auto refusal = refusalFor(admission);
    if (refusal) countRefusal(refusal->error.code);
    return refusal;
  }
  const bool rewritable = call.dialect != nullptr &&
                          meter::hasOutputCapField(call.dialect->name(), call.request->operation);
  if (admission.max_tokens && rewritable) {
    call.max_output_tokens = admission.max_tokens;
    call.clamped_by = admission.clamped_by;
  } else if (admission.max_tokens) {
    // A request without an output cap the gateway can write (Bedrock, Ollama) is refused rather
    // than forwarded with an output its hold does not cover.
    state_->release(admission.hold);
    SpendAdmission refused;
    refused.status = SpendAdmission::Status::kBudgetExceeded;
    refused.refused_by = admission.clamped_by;
    refused.retry_after_s = 1;
    countRefusal("budget_exceeded");
    return refusalFor(refused);
  }
  CallPolicyChain::slot(call, index_) = std::make_unique<SpendHold>(admission.hold);
  call.watches_output = call.watches_output || admission.watches_output;
  return std::nullopt;
}

std::optional<OutputCut> SpendPolicy::onOutput(PolicyCall& call, int64_t output_tokens_so_far) {
  if (call.state.size() <= index_) return std::nullopt;
  const auto* held = static_cast<const SpendHold*>(call.state[index_].get());
  if (held == nullptr) return std::nullopt;
  StreamVerdict verdict = state_->extend(held->hold, output_tokens_so_far);
  if (verdict.action != StreamVerdict::Action::kCut) return std::nullopt;
  OutputCut cut;
  bool budget = false;
  for (const auto& view : state_->budgets()) budget = budget || view.config->name == verdict.cut_by;
  if (budget) {
    cut.code = "budget_exceeded";
    cut.message = "The gateway ended this stream: the budget " + verdict.cut_by +
                  " ran out during the answer, which is incomplete.";
  } else {
    cut.code = "rate_limited";
    cut.message = "The gateway ended this stream: the output rate limit " + verdict.cut_by +
                  " ran out during the answer, which is incomplete.";
  }
  {
    std::lock_guard lock(cuts_mutex_);
    ++cuts_[verdict.cut_by];
  }
  cut.limit_name = std::move(verdict.cut_by);
  return cut;
}

void SpendPolicy::onFinished(PolicyCall& call, const meter::CostEvent& event) {
  if (call.state.size() <= index_) return;
  auto* held = dynamic_cast<SpendHold*>(call.state[index_].get());
  if (held == nullptr) return;
  if (event.outcome == meter::Outcome::kRejected && !held->attempted) {
    state_->release(held->hold);  // a later policy refused it: nothing was spent
    holds_released_.fetch_add(1, std::memory_order_relaxed);
  } else {
    addUsage(event.usage, held->usage);
    state_->settle(held->hold, held->usage, held->cost + eventCost(event));
    holds_settled_.fetch_add(1, std::memory_order_relaxed);
  }
  call.state[index_].reset();
}

void SpendPolicy::onAttempt(PolicyCall& call, const meter::CostEvent& event) {
  if (call.state.size() <= index_) return;
  auto* held = dynamic_cast<SpendHold*>(call.state[index_].get());
  if (held == nullptr) return;
  held->attempted = true;
  addUsage(event.usage, held->usage);
  held->cost += eventCost(event);
}

namespace {

constexpr std::string_view kSpendRefusalCodes[] = {"budget_exceeded", "rate_limited",
                                                   "spend_state_unavailable"};

}  // namespace

void SpendPolicy::countRefusal(std::string_view code) {
  for (size_t i = 0; i < refusals_.size(); ++i) {
    if (kSpendRefusalCodes[i] == code) refusals_[i].fetch_add(1, std::memory_order_relaxed);
  }
}

void SpendPolicy::renderMetrics(PrometheusWriter& out) const {
  const auto budgets = state_->budgets();
  out.family("tollgate_budget_spend_usd", "gauge",
             "Settled spend of each budget in its current period, in USD.");
  for (const auto& b : budgets) {
    out.sampleDecimal("tollgate_budget_spend_usd", {{{"budget", b.config->name}}},
                      meter::Money::fromPico(b.settled_pico).toDecimalString());
  }
  out.family("tollgate_budget_held_usd", "gauge",
             "Worst-case cost held for calls in flight against each budget, in USD.");
  for (const auto& b : budgets) {
    out.sampleDecimal("tollgate_budget_held_usd", {{{"budget", b.config->name}}},
                      meter::Money::fromPico(b.held_pico).toDecimalString());
  }
  out.family("tollgate_budget_limit_usd", "gauge", "Each budget's limit per period, in USD.");
  for (const auto& b : budgets) {
    out.sampleDecimal("tollgate_budget_limit_usd", {{{"budget", b.config->name}}},
                      b.config->limit.toDecimalString());
  }
  out.family("tollgate_spend_refusals_total", "counter",
             "Calls refused by spend control, by code.");
  for (size_t i = 0; i < refusals_.size(); ++i) {
    out.sample("tollgate_spend_refusals_total", {{"code", kSpendRefusalCodes[i]}},
               refusals_[i].load(std::memory_order_relaxed));
  }
  out.family("tollgate_spend_stream_cuts_total", "counter",
             "Streams ended while they ran, by the budget or output rate limit that ran out.");
  {
    std::lock_guard lock(cuts_mutex_);
    for (const auto& [name, count] : cuts_) {
      out.sample("tollgate_spend_stream_cuts_total", {{"limit", name}}, count);
    }
  }
  out.counter("tollgate_spend_holds_settled_total", "Holds settled to a finished call's cost.",
              holds_settled_.load(std::memory_order_relaxed));
  out.counter("tollgate_spend_holds_released_total",
              "Holds released unspent (the call was refused after its hold was placed).",
              holds_released_.load(std::memory_order_relaxed));
  if (alerts_) {
    const auto a = alerts_->stats();
    out.counter("tollgate_budget_alerts_sent_total", "Budget threshold alerts delivered.", a.sent);
    out.counter("tollgate_budget_alerts_failed_total",
                "Budget threshold alerts given up on or dropped (every attempt failed, or the "
                "queue was full).",
                a.given_up + a.dropped);
    out.counter("tollgate_budget_alert_attempts_failed_total",
                "Failed delivery attempts of budget alerts (each retried with backoff).",
                a.failed_attempts);
  }
  if (channel_) {
    const auto c = channel_->stats();
    out.counter("tollgate_budget_alerts_kafka_delivered_total",
                "Budget alerts acknowledged by Kafka (alerts.kafka_topic).", c.delivered);
    out.counter("tollgate_budget_alerts_kafka_failed_total",
                "Budget alerts Kafka refused or did not acknowledge in time.", c.failed);
  }
  if (const auto* redis = dynamic_cast<const RedisSpendState*>(state_.get())) {
    const auto r = redis->stats();
    out.counter("tollgate_spend_redis_round_trips_total", "Round trips to Redis (pipelined).",
                r.round_trips);
    out.counter("tollgate_spend_redis_commands_total", "Commands sent to Redis.", r.commands);
    out.counter("tollgate_spend_redis_errors_total",
                "Redis round trips that failed (connection, timeout).", r.errors);
    out.family("tollgate_spend_redis_round_trip_seconds_total", "counter",
               "Time spent in successful Redis round trips, in seconds (divide by the round "
               "trips for the mean).");
    out.sample("tollgate_spend_redis_round_trip_seconds_total", PrometheusWriter::Labels{},
               static_cast<double>(r.latency_us_sum) / 1e6);
    out.counter("tollgate_spend_unavailable_decisions_total",
                "Admissions decided without Redis (spend_state.redis.on_unavailable).",
                r.unavailable);
    out.gauge("tollgate_spend_redis_available", "1 while Redis answers, else 0.",
              int64_t{redis->available() ? 1 : 0});
  }
}

}  // namespace tollgate::gateway
