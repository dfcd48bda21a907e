#pragma once

#include <string>

#include "ledger/report.h"

namespace tollgate::ledger {

// A plain-text statement for a terminal: showback rows, chargeback, unit costs and the five
// review metrics.
std::string formatTable(const Report& report);

// The showback rows as CSV (RFC 4180): the `by` labels, then cost_usd and the counts.
std::string formatCsv(const Report& report);

// Quotes a CSV field when it needs it.
std::string csvField(std::string_view value);

}  // namespace tollgate::ledger
