#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/ledger_config.h"
#include "ledger/report.h"
#include "meter/price_book.h"

namespace tollgate::ledger {

// A price catalog in the gateway config's own keys (`prices:`, `price_version:`,
// `price_defaults:`; a whole gateway config also works: its other keys are ignored), parsed by
// config/'s loader so that a catalog means exactly what it means to the gateway.
std::variant<std::shared_ptr<const meter::PriceBook>, ConfigErrors> parsePriceCatalog(
    std::string_view yaml_text);

struct RepriceRow {
  std::vector<std::string> labels;  // one value per `by` label
  Amount old_cost;
  Amount new_cost;
};

// The period's metered usage priced again with another catalog, beside what was booked.
// Exact: the rollups keep token counts per kind and a price is linear in them, so pricing a
// bucket's sums equals summing its calls' prices, except for an entry with long-context tiers
// (the tier depends on each call's input), priced at the entry's base price, and a bucket whose
// cost exceeds one Money (9.2 million USD in an hour for one label set), which saturates: both
// are counted in `inexact_buckets`. Imported lines are not repriced. v2's line items are
// repriced too: the bucket's unit counts at the catalog's unit prices (token units in place of
// the text price of the tokens they are part of), and each other model's usage at that model's
// entry.
struct RepriceResult {
  std::string catalog_version;
  Amount old_total;
  Amount new_total;
  int64_t events_unpriced_new = 0;  // no entry for their model in the new catalog
  // Calls' usage on another model that has no entry in the new catalog (priced at 0).
  int64_t other_model_calls_unpriced_new = 0;
  int64_t inexact_buckets = 0;
  std::vector<RepriceRow> rows;  // by `by`, in label order
};

RepriceResult reprice(const LedgerData& data, const meter::PriceBook& book,
                      const std::vector<Label>& by);

}  // namespace tollgate::ledger
