#pragma once

#include <string>

#include "ledger/report.h"

namespace tollgate::ledger {

// The report as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched):
// spend by team per day, the unit-cost trend by week, the unallocated share, budget variance
// and the five review metrics, then the chargeback and showback tables. Figures shown are the
// report's exact decimals (chart labels round to the cent; their tooltips are exact).
std::string formatHtml(const LedgerData& data, const Report& report);

}  // namespace tollgate::ledger
