#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.h"
#include "gateway/core/snapshot_holder.h"
#include "gateway/policy/alert_channel.h"
#include "gateway/policy/alert_dispatcher.h"
#include "gateway/policy/call_policy.h"
#include "gateway/policy/spend_state.h"
#include "meter/price_book.h"

namespace tollgate::gateway {

// Spend control in the CallPolicy chain (docs/budgets.md): on the parsed request, a hold of the
// call's worst-case cost against every matching budget and rate limit, or a refusal (429
// budget_exceeded / rate_limited, 503 spend_state_unavailable) in the caller's dialect; when
// the call ends, the hold is settled to the event's exact cost. Outlives configuration
// snapshots (RuntimeServices): spend, holds and fired alerts survive a reload.
class SpendPolicy final : public CallPolicy {
 public:
  // nullptr when the configuration has neither budgets nor rate limits. `chain_index` is the
  // policy's place in the chain (its per-call state slot). `channel`: where alerts go besides
  // the webhook (the Kafka alerts topic with the Kafka sink), or nullptr.
  static std::shared_ptr<SpendPolicy> create(std::shared_ptr<const config::Config> config,
                                             size_t chain_index, SpendClock clock,
                                             std::shared_ptr<AlertChannel> channel = nullptr);

  SpendPolicy(std::shared_ptr<const config::Config> config, size_t chain_index,
              std::unique_ptr<AlertDispatcher> alerts, std::unique_ptr<SpendState> state,
              std::shared_ptr<AlertChannel> channel = nullptr);
  ~SpendPolicy() override;

  std::optional<PolicyRefusal> onHead(const Fields& head, PolicyCall& call) override;
  std::optional<PolicyRefusal> onRequest(PolicyCall& call) override;
  // A stream's output grows its hold (SpendState::extend): cut when a blocking budget with
  // `streams: cut` or an output rate limit cannot cover it.
  std::optional<OutputCut> onOutput(PolicyCall& call, int64_t output_tokens_so_far) override;
  void onFinished(PolicyCall& call, const meter::CostEvent& event) override;
  // An earlier attempt's cost joins the call's hold and is settled with its last event, so a
  // budget sees every attempt a provider may bill, exactly once.
  void onAttempt(PolicyCall& call, const meter::CostEvent& event) override;
  // Spend and limit per budget, refusals by code, holds, cuts, alerts, and Redis round trips.
  void renderMetrics(PrometheusWriter& out) const override;

  // SIGHUP: the new rules and prices; spend, holds and fired alerts carry over.
  void reload(std::shared_ptr<const config::Config> config);

  SpendState& state() { return *state_; }

  // The refusal a decision turns into (dialect-neutral: the session writes the body).
  static std::optional<PolicyRefusal> refusalFor(const SpendAdmission& admission);

 private:
  std::shared_ptr<const meter::PriceBook> prices() const;
  void countRefusal(std::string_view code);

  size_t index_;
  std::shared_ptr<AlertChannel> channel_;    // before alerts_: the dispatcher publishes to it
  std::unique_ptr<AlertDispatcher> alerts_;  // before state_: the state sends to it
  std::unique_ptr<SpendState> state_;
  // Refusals by code (budget_exceeded, rate_limited, spend_state_unavailable) and holds.
  std::array<std::atomic<uint64_t>, 3> refusals_{};
  std::atomic<uint64_t> holds_settled_{0};
  std::atomic<uint64_t> holds_released_{0};
  // Read by every call, swapped by a reload: an atomic snapshot, no lock on the call path.
  SnapshotHolder<meter::PriceBook> prices_;
  mutable std::mutex cuts_mutex_;
  std::map<std::string, uint64_t, std::less<>> cuts_;  // streams cut, by budget or limit
};

}  // namespace tollgate::gateway
