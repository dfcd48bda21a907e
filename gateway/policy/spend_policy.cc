#include "gateway/policy/spend_policy.h"

#include <unistd.h>

#include <chrono>
#include <random>

#include "gateway/net/webhook_client.h"
#include "gateway/policy/local_spend_state.h"
#include "gateway/policy/redis_spend_state.h"

namespace tollgate::gateway {

namespace {

// What the call holds between onRequest and onFinished.
struct SpendHold final : PolicyCallState {
  explicit SpendHold(uint64_t h) : hold(h) {}
  uint64_t hold;
};

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
                                                 size_t chain_index, SpendClock clock) {
  if (config->budgets.empty() && config->rate_limits.empty()) return nullptr;
  AlertDispatcher::Options options;
  options.webhook = config->alerts.webhook;
  options.source = "tollgate://" + config->server.instance_id;
  auto alerts = std::make_unique<AlertDispatcher>(options, net::postWebhook);
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
  return std::make_shared<SpendPolicy>(config, chain_index, std::move(alerts), std::move(state));
}

SpendPolicy::SpendPolicy(std::shared_ptr<const config::Config> config, size_t chain_index,
                         std::unique_ptr<AlertDispatcher> alerts, std::unique_ptr<SpendState> state)
    : index_(chain_index),
      alerts_(std::move(alerts)),
      state_(std::move(state)),
      prices_(priceBookOf(*config)) {}

SpendPolicy::~SpendPolicy() {
  state_.reset();  // the state's thread may still send alerts: stop it first
}

std::shared_ptr<const meter::PriceBook> SpendPolicy::prices() const {
  std::lock_guard lock(mutex_);
  return prices_;
}

void SpendPolicy::reload(std::shared_ptr<const config::Config> config) {
  auto prices = priceBookOf(*config);
  {
    std::lock_guard lock(mutex_);
    prices_ = std::move(prices);
  }
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
  if (admission.status != SpendAdmission::Status::kAdmitted) return refusalFor(admission);
  if (admission.max_tokens) {
    // The clamp needs the forwarded body rewritten, which the chain cannot do yet: the call is
    // refused rather than forwarded with an output its hold does not cover.
    state_->release(admission.hold);
    SpendAdmission refused;
    refused.status = SpendAdmission::Status::kBudgetExceeded;
    refused.refused_by = "clamp_max_tokens";
    refused.retry_after_s = 1;
    return refusalFor(refused);
  }
  CallPolicyChain::slot(call, index_) = std::make_unique<SpendHold>(admission.hold);
  return std::nullopt;
}

void SpendPolicy::onFinished(PolicyCall& call, const meter::CostEvent& event) {
  if (call.state.size() <= index_) return;
  auto* held = dynamic_cast<SpendHold*>(call.state[index_].get());
  if (held == nullptr) return;
  if (event.outcome == meter::Outcome::kRejected) {
    state_->release(held->hold);  // a later policy refused it: nothing was spent
  } else {
    state_->settle(held->hold, event.usage, event.priced ? event.cost.total : meter::Money());
  }
  call.state[index_].reset();
}

}  // namespace tollgate::gateway
