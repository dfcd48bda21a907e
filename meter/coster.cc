#include "meter/coster.h"

namespace tollgate::meter {

Costed TokenCoster::cost(const CostInput& input, Usage& usage) const {
  Costed out;
  if (usage.unknown_units != 0) out.usage_flags |= kUsageUnknownUnits;
  const PriceEntry* entry = prices_.find(input.model, input.variant, input.started_unix_ns);
  if (entry == nullptr) {
    entry = prices_.find(input.model_requested, input.variant, input.started_unix_ns);
  }
  if (entry != nullptr) {
    out.usage_flags |= clampToContext(*entry, usage);
    out.priced = true;
    out.price_ref = prices_.priceRef(*entry);
    const Price& price = entry->priceFor(usage);
    out.cost = computeCost(price, usage);
    out.usage_flags |= unpricedUnits(price, usage);
  }
  out.other_models.reserve(input.other_models.size());
  for (const ModelUsage& other : input.other_models) {
    OtherModelCharge charge;
    charge.usage = other;
    const PriceEntry* other_entry = prices_.find(other.model, input.variant, input.started_unix_ns);
    if (other_entry == nullptr) {
      out.usage_flags |= kUsageUnitUnpriced;
      out.other_models.push_back(std::move(charge));
      continue;
    }
    out.usage_flags |= clampToContext(*other_entry, charge.usage.usage);
    const Price& price = other_entry->priceFor(charge.usage.usage);
    charge.priced = true;
    charge.price_ref = prices_.priceRef(*other_entry);
    charge.cost = computeCost(price, charge.usage.usage);
    out.usage_flags |= unpricedUnits(price, charge.usage.usage);
    out.cost.other_models += charge.cost.total;
    out.cost.total += charge.cost.total;
    out.other_models.push_back(std::move(charge));
  }
  return out;
}

}  // namespace tollgate::meter
