#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meter/coster.h"
#include "meter/price_book.h"
#include "meter/usage.h"

namespace tollgate::meter {

// How a call ended (contract.md, "The cost event").
// kInterrupted: the gateway died during the call; booked at its next start from the call's
// open-call record, with estimated usage (docs/events.md, "Calls the gateway dies in").
// kBudgetCut: a blocking budget (streams: cut) or an output rate limit ran out while the answer
// streamed; the gateway ended the stream in its dialect, with the usage up to the cut.
enum class Outcome {
  kOk,
  kUpstreamError,
  kClientDisconnect,
  kTimeout,
  kRejected,
  kInterrupted,
  kBudgetCut
};
// How many outcomes there are: arrays indexed by outcome are sized by it (keep it after the last).
inline constexpr size_t kOutcomeCount = static_cast<size_t>(Outcome::kBudgetCut) + 1;
std::string_view toString(Outcome outcome);

// Who pays for a call.
struct Attribution {
  std::string team;
  std::string project;
  std::string cost_center;
  std::string workload_type;
  std::string environment;
  std::vector<std::pair<std::string, std::string>> tags;  // x-tags, in header order
  std::string key_id;
  bool allocated = true;
};

// `from` moved into `into`, out of line: an inlined move assignment of Attribution is six
// inlined string moves, and a call moves its attribution twice (admission, the event).
void moveAttribution(Attribution& from, Attribution& into);

// Everything one cost event says. Times are handed in (meter/ never reads a clock):
// unix nanoseconds, UTC.
struct CostEvent {
  std::string id;      // CloudEvents id: unique and stable, the consumers' dedupe key
  std::string source;  // "tollgate://<instance>"
  std::string request_id;
  std::string trace_id;  // 32 lowercase hex
  Attribution attribution;
  std::string upstream;
  std::string provider;
  std::string operation;  // chat | text_completion | embeddings | responses | ...
  std::string endpoint;   // "/v1/chat/completions"
  std::string model_requested;
  std::string model;  // as answered by the upstream (model_requested when unknown)
  bool stream = false;
  int status = 0;  // HTTP status the client received
  Outcome outcome = Outcome::kOk;
  // Spend control (docs/budgets.md): the budget or rate limit that refused the call (outcome
  // rejected) or clamped its output cap; written as "limit" only when set.
  std::string limit;
  // The output cap forwarded in place of the request's (a budget's clamp_max_tokens); written
  // as "max_tokens_clamped" only when set.
  std::optional<int64_t> max_tokens_clamped;
  Usage usage;
  UsageSource usage_source = UsageSource::kNone;
  UsageFlags usage_flags = 0;  // written as "usage_flags" only when not empty
  bool priced = false;
  std::string price_ref;  // empty when not priced
  CostBreakdown cost;
  std::vector<OtherModelCharge> other_models;  // line items on other models
  std::optional<Money> provider_cost;          // the provider's own figure (MeterResult)
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  double ttft_ms = 0.0;     // time to first response byte from upstream; 0 when none
  int64_t overhead_us = 0;  // time spent in the gateway itself
  // A call on a self-hosted GPU pool (upstreams[].gpu_pool): written as "gpu_pool" only then,
  // with this replica's live estimate of the call's GPU cost (meter/gpu_pool_estimate.h).
  std::string gpu_pool;
  Money gpu_cost_estimate;
  // One of several attempts of a call (docs/upstreams.md, "Cost events per attempt"): 1-based;
  // 0 is a call's only attempt, written without "attempt", "final" and "upstream_endpoint" so
  // that the events of ordinary calls stay byte for byte what they were.
  uint32_t attempt = 0;
  bool final_attempt = true;  // the call's last event (its answer, or the gateway's refusal)
  // The pool endpoint the attempt used: its index in the upstream's endpoints and its host.
  uint32_t upstream_endpoint_index = 0;
  std::string upstream_endpoint_host;
};

inline constexpr std::string_view kCostEventType = "dev.tollgate.llm.usage.v1";
// The same event with line items (docs/events.md, "Version 2"): written only for a call that has
// some (usesLineItems), so that every other event stays byte for byte a v1 event.
inline constexpr std::string_view kCostEventTypeV2 = "dev.tollgate.llm.usage.v2";

// Whether the event needs v2: a unit line item, unknown billable units, usage on another model
// or a provider's own cost figure.
bool usesLineItems(const CostEvent& event);

// Appends the event as one line of CloudEvents 1.0 structured JSON (no trailing newline),
// field for field as contract.md shows it (v2 when usesLineItems). Strings are escaped per
// RFC 8259.
void appendCloudEventJson(const CostEvent& event, std::string& out);
// The same text in a buffer of the calling thread, valid until that thread's next call: for a
// sink that copies it anyway (into a Kafka message) and need not append it to a string first.
std::string_view cloudEventJson(const CostEvent& event);

// RFC 3339 UTC with microseconds: "2026-11-22T14:42:30.123456Z".
void appendRfc3339(int64_t unix_ns, std::string& out);

}  // namespace tollgate::meter
