#pragma once

#include <string>

#include "ledger/report.h"
#include "ledger/repricer.h"

namespace tollgate::ledger {

// The report as one JSON object (contract.md: period, total_usd, rows, unit_costs,
// review_metrics; docs/ledger.md lists every field). Money is an exact decimal string.
// With `reprice`, a "reprice" object shows the old and new cost side by side.
std::string formatJson(const Report& report, const RepriceResult* reprice = nullptr);

}  // namespace tollgate::ledger
