#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "meter/cost_event.h"
#include "meter/dialect.h"
#include "meter/price_book.h"
#include "meter/usage.h"

namespace tollgate::meter {

// Prices every line item of a call into `event`: its own usage (event.usage, already clamped)
// at `entry` (nullptr: the call is not priced, and its line items are listed at no cost), and
// each usage on another model of `result` (nullptr: the call was not metered) at that model's
// entry in `book` (same variant and time), listed in event.other_models and added to
// cost.other_models. The provider's own cost figure is copied beside. cost.total stays the exact
// sum of the parts. Adds kUsageUnitUnpriced to event.usage_flags when a counted unit has no price.
void priceCall(const PriceBook& book, const PriceEntry* entry, std::string_view variant,
               int64_t at_unix_ns, const MeterResult* result, CostEvent& event);

}  // namespace tollgate::meter
