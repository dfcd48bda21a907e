#pragma once

#include <string>

#include "ledger/report.h"
#include "ledger/repricer.h"

namespace tollgate::ledger {

// A plain-text statement for a terminal: showback rows, chargeback, unit costs and the five
// review metrics; with `reprice`, the repriced metered cost beside the booked one.
std::string formatTable(const Report& report, const RepriceResult* reprice = nullptr);

// The showback rows as CSV (RFC 4180): the `by` labels, then cost_usd and the counts.
std::string formatCsv(const Report& report);

// Quotes a CSV field when it needs it.
std::string csvField(std::string_view value);

}  // namespace tollgate::ledger
