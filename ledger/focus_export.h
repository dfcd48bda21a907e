#pragma once

#include <string>

#include "ledger/ledger_config.h"
#include "ledger/report.h"

namespace tollgate::ledger {

// The report period as a FOCUS 1.2 cost and usage CSV (docs/ledger.md, "FOCUS mapping"):
// the 21 mandatory columns, the conditional ones the ledger can fill (ConsumedQuantity,
// ConsumedUnit, SkuId, SkuMeter, Resource*, ChargeFrequency, Tags) and x_ columns for the
// attribution labels. One row per charge period (an hour for metered usage, the line's own
// period for imported lines), SKU (provider/model/token kind) and label set. Costs keep every
// picodollar; quantities are exact.
std::string formatFocus(const LedgerData& data, const Report& report, const FocusSettings& focus);

// The FOCUS columns in the order written.
const std::vector<std::string>& focusColumns();

}  // namespace tollgate::ledger
