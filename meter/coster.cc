#include "meter/coster.h"

namespace tollgate::meter {

Costed TokenCoster::cost(const CostInput& input, Usage& usage) const {
  Costed out;
  const PriceEntry* entry = prices_.find(input.model, input.variant, input.started_unix_ns);
  if (entry == nullptr) {
    entry = prices_.find(input.model_requested, input.variant, input.started_unix_ns);
  }
  if (entry == nullptr) return out;
  out.usage_flags = clampToContext(*entry, usage);
  out.priced = true;
  out.price_ref = prices_.priceRef(*entry);
  out.cost = computeCost(*entry, usage);
  return out;
}

}  // namespace tollgate::meter
