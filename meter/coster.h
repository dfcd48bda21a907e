#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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
};

// What pricing decided. `usage` may have been clamped (usage_flags says so).
struct Costed {
  bool priced = false;
  std::string price_ref;  // empty when not priced
  CostBreakdown cost;
  UsageFlags usage_flags = 0;
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
// is clamped first.
class TokenCoster final : public Coster {
 public:
  explicit TokenCoster(const PriceBook& prices) : prices_(prices) {}
  Costed cost(const CostInput& input, Usage& usage) const override;

 private:
  const PriceBook& prices_;
};

}  // namespace tollgate::meter
