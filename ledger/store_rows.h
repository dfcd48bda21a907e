#pragma once

// Reading the stores' rows back: both stores select the rollup and imported columns in the
// same order, and hand each row through an accessor with text(col), int64(col) and
// isNull(col). Costs come back as integer picodollar text.

#include <string>

#include "ledger/import_line.h"
#include "ledger/rollup.h"

namespace tollgate::ledger {

// The order of the columns after the key: events .. reasoning_tokens, then the five costs.
template <class Row>
bool readRollupTotals(const Row& row, int first, RollupTotals& t) {
  int64_t* counts[] = {&t.events,        &t.inferences,        &t.unpriced_events,
                       &t.input_tokens,  &t.cache_read_tokens, &t.cache_write_tokens,
                       &t.output_tokens, &t.reasoning_tokens};
  for (int i = 0; i < 8; ++i) *counts[i] = row.int64(first + i);
  Amount* costs[] = {&t.cost_input, &t.cost_cache_read, &t.cost_cache_write, &t.cost_output,
                     &t.cost_total};
  for (int i = 0; i < 5; ++i) {
    auto amount = Amount::parsePicoString(row.text(first + 8 + i));
    if (!amount) return false;
    *costs[i] = *amount;
  }
  return true;
}

// A rollup_line_item row from column `first` on: item, model, quantity, the five token counts,
// cost_pico.
template <class Row>
bool readLineItem(const Row& row, int first, LineItemKey& key, LineItemTotals& t) {
  key.item = row.text(first);
  key.model = row.text(first + 1);
  int64_t* counts[] = {&t.quantity,           &t.input_tokens,  &t.cache_read_tokens,
                       &t.cache_write_tokens, &t.output_tokens, &t.reasoning_tokens};
  for (int i = 0; i < 6; ++i) *counts[i] = row.int64(first + 2 + i);
  auto cost = Amount::parsePicoString(row.text(first + 8));
  if (!cost) return false;
  t.cost = *cost;
  return true;
}

// Columns: period_start_hour, period_end_hour, description, category, amount_pico, quantity,
// unit, rate_usd, the five labels, runs_completed, fingerprint.
template <class Row>
bool readImportLine(const Row& row, ImportLine& line) {
  line.period_start_hour = row.int64(0);
  line.period_end_hour = row.int64(1);
  line.description = row.text(2);
  line.category = row.text(3);
  auto amount = Amount::parsePicoString(row.text(4));
  if (!row.isNull(5)) line.quantity = Decimal::parse(row.text(5));
  line.unit = row.text(6);
  if (!row.isNull(7)) line.rate = Decimal::parse(row.text(7));
  for (size_t l = 0; l < kAttributionLabelCount; ++l) {
    line.labels[l] = row.text(8 + static_cast<int>(l));
  }
  auto runs = Decimal::parse(row.text(13));
  line.fingerprint = row.text(14);
  if (!amount || !runs) return false;
  line.amount = *amount;
  line.runs_completed = *runs;
  return true;
}

inline constexpr const char* kCorruptStoreValue =
    "the store holds a value this version cannot read";

}  // namespace tollgate::ledger
