#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meter/price_book.h"
#include "meter/usage.h"

namespace tollgate::meter {

// What a finished call is priced from.
struct CostInput {
  std::string_view model;            // the model the answer reports (or the one requested)
  std::string_view model_requested;  // tried when `model` has no price
  std::string_view variant;          // price variant: service tier ("" = standard)
  int64_t started_unix_ns = 0;       // prices in force at the call's start apply
  int64_t ended_unix_ns = 0;
  std::string_view upstream;  // the configured upstream that served it
  // Usage that ran on other models in the call (MeterResult::other_models): each is priced at
  // its own model's price, in the same variant and at the same time.
  std::span<const ModelUsage> other_models = {};
};

// Usage on another model than the call's, as priced (a line item of the cost event).
struct OtherModelCharge {
  ModelUsage usage;
  bool priced = false;
  std::string price_ref;  // empty when not priced
  CostBreakdown cost;
  friend bool operator==(const OtherModelCharge&, const OtherModelCharge&) = default;
};

// What pricing decided. `usage` may have been clamped (usage_flags says so). cost.total is the
// exact sum of its parts, other_models' included.
struct Costed {
  bool priced = false;
  std::string price_ref;  // empty when not priced
  CostBreakdown cost;
  UsageFlags usage_flags = 0;
  std::vector<OtherModelCharge> other_models;  // one per CostInput::other_models, in order
};

// Turns a finished call's usage and timing into money. Pure: no clock, no I/O. The token coster
// prices tokens from the catalog; a GPU-pool coster (self-hosted inference) prices a call by its
// share of the pool's time.
class Coster {
 public:
  virtual ~Coster() = default;
  virtual Costed cost(const CostInput& input, Usage& usage) const = 0;
};

// Prices tokens with a PriceBook: the entry for the answered model (else the requested one) in
// force when the call started, in the call's variant; a count over the entry's context window
// is clamped first. Line items (usage.h, Unit) are priced from the same entry; usage on other
// models at their own entries, listed at no cost (flag unit_unpriced) when they have none, and
// so is a request unit without a price. Unknown billable units are flagged (unknown_units).
class TokenCoster final : public Coster {
 public:
  explicit TokenCoster(const PriceBook& prices) : prices_(prices) {}
  Costed cost(const CostInput& input, Usage& usage) const override;

 private:
  const PriceBook& prices_;
};

}  // namespace tollgate::meter
