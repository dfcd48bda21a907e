#pragma once

#include <string>

#include "ledger/report.h"

namespace tollgate::ledger {

// The report as one JSON object (contract.md: period, total_usd, rows, unit_costs,
// review_metrics; docs/ledger.md lists every field). Money is an exact decimal string.
std::string formatJson(const Report& report);

}  // namespace tollgate::ledger
