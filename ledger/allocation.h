#pragma once

#include <string>
#include <vector>

#include "ledger/import_line.h"
#include "ledger/ledger_config.h"

namespace tollgate::ledger {

// An imported line, or the part of one an allocation rule gave to one label value.
struct AllocatedLine {
  const ImportLine* source = nullptr;
  LabelValues labels;  // the line's labels, with the rule's split_by label set
  Amount amount;
  std::string rule;                               // the rule that split it; "" = booked as imported
  Decimal share_pct = Decimal::fromInteger(100);  // the line's percent this part carries
};

// Applies the first matching rule to each line. The parts of a line add up to the line's
// amount exactly: each part is rounded down to the picodollar and the picodollars left over go
// one each to the parts with the largest remainders (ties: config order). Lines no rule
// matches are kept whole, with their own labels: nothing is spread silently.
std::vector<AllocatedLine> allocate(const std::vector<ImportLine>& lines,
                                    const std::vector<AllocationRule>& rules);

// Splits `amount` by `shares` (percent, adding up to 100) as described above.
std::vector<Amount> splitExactly(Amount amount, const std::vector<Decimal>& shares);

}  // namespace tollgate::ledger
