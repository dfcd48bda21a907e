#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "gateway/core/gateway_error.h"
#include "gateway/core/prometheus_writer.h"
#include "gateway/core/refusal_code.h"
#include "gateway/http/fields_arena.h"
#include "meter/cost_event.h"
#include "meter/dialect.h"

namespace tollgate::gateway {

// Why a policy refused a call: the answer (status, stable code, message, extra fields such as
// Retry-After) and how the refusal is booked.
struct PolicyRefusal {
  GatewayError error;
  // Counted in tollgate_admission_refusals_total{code} when set.
  std::optional<RefusalCode> code;
  // The caller proved no identity (no key or a wrong one): its refusal events are sampled at a
  // bounded rate so that it cannot fill the disk or the topic.
  bool unauthenticated = false;
  // The budget or rate limit that refused the call, for its cost event ("" for admission).
  std::string limit_name;
};

// Why a policy ends a stream that is already running (a budget or an output rate limit ran
// out): the session ends the stream in its dialect with this and books `outcome: budget_cut`.
struct OutputCut {
  std::string limit_name;  // the budget or rate limit that ran out
  std::string code;        // budget_exceeded | rate_limited, as a refusal would say
  std::string message;     // for the caller, in the dialect's final event
};

// Something a policy keeps for one call between its hooks (a budget hold, a rate-limit
// reservation). Owned by the call; destroyed when the call ends.
class PolicyCallState {
 public:
  virtual ~PolicyCallState() = default;
};

// What the policies know and decide about one call. Filled in order: the head's hooks set who
// pays; the request is known from onRequest on; the event from onFinished.
struct PolicyCall {
  // Who pays: the call's own attribution (the event's, later), written by admission. Never
  // null while hooks run.
  meter::Attribution* attribution = nullptr;
  const config::KeyConfig* key = nullptr;  // the gateway key used; nullptr in open mode
  // Request fields that held the gateway key: removed before the request goes anywhere.
  std::vector<std::string> key_headers;
  // Warn mode: labels ignored or missing, one "<header>: <why>" each (debug log, metric).
  std::vector<std::string> warnings;
  std::string_view endpoint;                    // the path, without the query
  const meter::RequestInfo* request = nullptr;  // model, stream, max tokens: set for onRequest
  const meter::Dialect* dialect = nullptr;
  // Spend control's clamp (a budget's clamp_max_tokens): the output cap to forward instead of
  // the request's, which the session writes into the body, and the budget that set it.
  std::optional<int64_t> max_output_tokens;
  std::string clamped_by;
  // Per-call state of the chain's policies, by their index in the chain; sized on first use
  // (a chain whose policies keep nothing per call allocates nothing).
  std::vector<std::unique_ptr<PolicyCallState>> state;
  // Set by a policy that reads the relayed output (onOutput): a call that nobody watches pays
  // nothing per relayed chunk.
  bool watches_output = false;
};

// One link of the chain every call passes: admission first (the key and the labels), then spend
// control (budgets and rate limits). Hooks run on the call's worker thread and must not block:
// a policy decides from what it holds (shared spend state is leased ahead, off the call path).
class CallPolicy {
 public:
  virtual ~CallPolicy() = default;

  // On the request head, before the body is read: a refusal here never reads the body.
  virtual std::optional<PolicyRefusal> onHead(const Fields& head, PolicyCall& call) = 0;
  // On the parsed request (call.request set): model allow-lists, holds of worst-case cost.
  virtual std::optional<PolicyRefusal> onRequest(PolicyCall& call) = 0;
  // While the answer is relayed (only for a call whose watches_output a policy set): the output
  // so far, in tokens (the provider's running count or the estimate of the relayed text). A cut
  // ends the stream after the current event.
  virtual std::optional<OutputCut> onOutput(PolicyCall&, int64_t /*output_tokens_so_far*/) {
    return std::nullopt;
  }
  // The call has ended and its cost event is built (refused calls too): settle what was held.
  virtual void onFinished(PolicyCall& call, const meter::CostEvent& event) = 0;
  // An attempt of the call that another attempt follows (a retry or fallback, docs/upstreams.md)
  // has its own event: what it cost is spent too, settled with the call's last event.
  virtual void onAttempt(PolicyCall&, const meter::CostEvent&) {}
  // Its own metric families, when /metrics is scraped (the admin thread: read atomics or lock).
  virtual void renderMetrics(PrometheusWriter&) const {}
};

// The policies of one configuration snapshot, in the order they run. The first refusal wins;
// later links are not asked.
class CallPolicyChain {
 public:
  void add(std::shared_ptr<CallPolicy> policy) {
    if (policy) links_.push_back(std::move(policy));
  }

  std::optional<PolicyRefusal> onHead(const Fields& head, PolicyCall& call) const {
    for (const auto& link : links_) {
      if (auto refusal = link->onHead(head, call)) return refusal;
    }
    return std::nullopt;
  }

  std::optional<PolicyRefusal> onRequest(PolicyCall& call) const {
    for (const auto& link : links_) {
      if (auto refusal = link->onRequest(call)) return refusal;
    }
    return std::nullopt;
  }

  std::optional<OutputCut> onOutput(PolicyCall& call, int64_t output_tokens_so_far) const {
    for (const auto& link : links_) {
      if (auto cut = link->onOutput(call, output_tokens_so_far)) return cut;
    }
    return std::nullopt;
  }

  void onFinished(PolicyCall& call, const meter::CostEvent& event) const {
    for (const auto& link : links_) link->onFinished(call, event);
  }

  void onAttempt(PolicyCall& call, const meter::CostEvent& event) const {
    for (const auto& link : links_) link->onAttempt(call, event);
  }

  void renderMetrics(PrometheusWriter& out) const {
    for (const auto& link : links_) link->renderMetrics(out);
  }

  size_t size() const { return links_.size(); }

  // The per-call state slot of the policy at `index` in its chain (a policy that keeps state
  // learns its index when it is added: size() before add).
  static std::unique_ptr<PolicyCallState>& slot(PolicyCall& call, size_t index) {
    if (call.state.size() <= index) call.state.resize(index + 1);
    return call.state[index];
  }

 private:
  std::vector<std::shared_ptr<CallPolicy>> links_;
};

}  // namespace tollgate::gateway
