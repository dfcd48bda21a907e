#include "meter/call_pricing.h"

namespace tollgate::meter {

void priceCall(const PriceBook& book, const PriceEntry* entry, std::string_view variant,
               int64_t at_unix_ns, const MeterResult* result, CostEvent& event) {
  if (event.usage.unknown_units != 0) event.usage_flags |= kUsageUnknownUnits;
  if (entry != nullptr) {
    const Price& price = entry->priceFor(event.usage);
    event.cost = computeCost(price, event.usage);
    event.usage_flags |= unpricedUnits(price, event.usage);
  }
  event.other_models.clear();
  if (result == nullptr) return;
  event.provider_cost = result->provider_cost;
  event.other_models.reserve(result->other_models.size());
  for (const ModelUsage& other : result->other_models) {
    OtherModelCharge charge;
    charge.usage = other;
    if (const PriceEntry* other_entry = book.find(other.model, variant, at_unix_ns)) {
      event.usage_flags |= clampToContext(*other_entry, charge.usage.usage);
      const Price& price = other_entry->priceFor(charge.usage.usage);
      charge.priced = true;
      charge.price_ref = book.priceRef(*other_entry);
      charge.cost = computeCost(price, charge.usage.usage);
      event.usage_flags |= unpricedUnits(price, charge.usage.usage);
      event.cost.other_models += charge.cost.total;
      event.cost.total += charge.cost.total;
    } else {
      event.usage_flags |= kUsageUnitUnpriced;
    }
    event.other_models.push_back(std::move(charge));
  }
}

}  // namespace tollgate::meter
