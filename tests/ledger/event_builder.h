#pragma once

// Builds cost events the way the gateway writes them (meter's own writer), so the ledger's
// tests read the real wire format.

#include <string>

#include "meter/cost_event.h"
#include "meter/price_book.h"

namespace tollgate::ledger::testing {

// 2026-11-02T10:00:00Z (a Monday) in unix nanoseconds.
inline constexpr int64_t kNov2At10Ns = 1'793'613'600'000'000'000;
inline constexpr int64_t kHourNs = 3'600'000'000'000;

struct EventSpec {
  std::string id = "evt-1";
  std::string team = "fraud";
  std::string project = "scoring";
  std::string cost_center = "cc-100";
  std::string workload_type = "inference";
  std::string environment = "prod";
  std::string model = "claude-sonnet-4-5";
  std::string upstream = "anthropic";
  int64_t input_tokens = 1500;
  int64_t output_tokens = 400;
  int64_t cache_read_tokens = 0;
  // USD per 1M tokens as picodollars per token: $3 / $12 per 1M.
  int64_t input_price = 3'000'000;
  int64_t output_price = 12'000'000;
  bool priced = true;
  int64_t end_ns = kNov2At10Ns;
  meter::Outcome outcome = meter::Outcome::kOk;
  std::string gpu_pool;  // a call on a self-hosted GPU pool
  int64_t start_ns = 0;  // 0: one second before end_ns
};

inline meter::CostEvent costEvent(const EventSpec& s) {
  meter::CostEvent e;
  e.id = s.id;
  e.source = "tollgate://test";
  e.request_id = s.id;
  e.trace_id = "0123456789abcdef0123456789abcdef";
  e.attribution = {s.team,        s.project, s.cost_center, s.workload_type,
                   s.environment, {},        "k1",          !s.team.empty()};
  e.upstream = s.upstream;
  e.provider = s.upstream;
  e.operation = "chat";
  e.endpoint = "/v1/messages";
  e.model_requested = s.model;
  e.model = s.model;
  e.status = 200;
  e.outcome = s.outcome;
  e.usage.input_tokens = s.input_tokens;
  e.usage.cache_read_tokens = s.cache_read_tokens;
  e.usage.output_tokens = s.output_tokens;
  e.usage_source = meter::UsageSource::kProvider;
  e.priced = s.priced;
  if (s.priced) {
    meter::Price price;
    price.input = price.cache_read = price.cache_write = s.input_price;
    price.output = price.reasoning = s.output_price;
    e.price_ref = "test/" + s.model;
    e.cost = meter::computeCost(price, e.usage);
  }
  e.start_unix_ns = s.start_ns != 0 ? s.start_ns : s.end_ns - 1'000'000'000;
  e.gpu_pool = s.gpu_pool;
  e.end_unix_ns = s.end_ns;
  return e;
}

// A v2 event (line items) on `s`: 2 web search requests at $10 per 1,000 and advisor usage on
// claude-opus-4-6 (1000 in, 100 out) costing $0.0075, both in the total.
inline meter::CostEvent lineItemEvent(const EventSpec& s) {
  meter::CostEvent event = costEvent(s);
  event.usage[meter::Unit::kWebSearchRequests] = 2;
  meter::Price price;
  price.input = price.cache_read = price.cache_write = s.input_price;
  price.output = price.reasoning = s.output_price;
  price.unit[meter::index(meter::Unit::kWebSearchRequests)] = 10'000'000'000;  // $10 per 1,000
  event.cost = meter::computeCost(price, event.usage);
  meter::OtherModelCharge advisor;
  advisor.usage = {"claude-opus-4-6", meter::Usage{.input_tokens = 1000, .output_tokens = 100}};
  advisor.priced = true;
  advisor.price_ref = "test/claude-opus-4-6";
  advisor.cost.total = meter::Money::fromPico(7'500'000'000);
  event.other_models.push_back(advisor);
  event.cost.other_models = advisor.cost.total;
  event.cost.total += advisor.cost.total;
  return event;
}

inline std::string lineItemEventJson(const EventSpec& s) {
  std::string out;
  meter::appendCloudEventJson(lineItemEvent(s), out);
  return out;
}

inline std::string eventJson(const EventSpec& s) {
  std::string out;
  meter::appendCloudEventJson(costEvent(s), out);
  return out;
}

}  // namespace tollgate::ledger::testing
