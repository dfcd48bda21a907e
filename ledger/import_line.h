#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/amount.h"
#include "ledger/decimal.h"
#include "ledger/labels.h"

namespace tollgate::ledger {

// An external cost line that never passed through the gateway (contract.md, import CSV):
// training GPU-hours, egress, a blended invoice, a reserved-capacity commitment.
struct ImportLine {
  int64_t period_start_hour = 0;  // period_start's midnight, UTC
  int64_t period_end_hour = 0;    // period_end's midnight, exclusive (as FOCUS periods)
  std::string description;
  std::string category;  // training | egress | invoice | commitment | other
  Amount amount;         // amount_usd, or quantity x rate_usd exactly
  std::optional<Decimal> quantity;
  std::string unit;
  std::optional<Decimal> rate;
  LabelValues labels;  // the five attribution labels; the call labels stay empty
  Decimal runs_completed;
  // The line's fields joined canonically: importing the same line twice books it once.
  std::string fingerprint;
};

struct ImportError {
  size_t line = 0;  // 1-based line of the CSV file
  std::string message;
  std::string toString() const { return "line " + std::to_string(line) + ": " + message; }
};

struct ImportResult {
  std::vector<ImportLine> lines;
  std::vector<ImportError> errors;  // any error: nothing of the file is to be booked
};

// Parses the CSV (RFC 4180 quoting; a header row naming the contract's columns, in any
// order; blank lines ignored).
ImportResult parseImportCsv(std::string_view text);

inline constexpr std::string_view kImportColumns[] = {
    "period_start", "period_end",    "description", "category",      "amount_usd",
    "quantity",     "unit",          "rate_usd",    "team",          "project",
    "cost_center",  "workload_type", "environment", "runs_completed"};

}  // namespace tollgate::ledger
