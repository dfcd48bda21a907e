#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/amount.h"
#include "ledger/labels.h"
#include "meter/price_book.h"
#include "meter/usage.h"

namespace tollgate::ledger {

// Usage a call ran on another model (a v2 `other_model` line item): priced at that model's
// price, in the call's total.
struct OtherModelItem {
  std::string model;
  meter::Usage usage;  // the five token counts
  meter::Money cost;
  friend bool operator==(const OtherModelItem&, const OtherModelItem&) = default;
};

// What the ledger keeps of one cost event (contract.md, "The cost event").
struct CostRecord {
  std::string id;
  int64_t hour = 0;  // the hour of `time` (the call's end), UTC
  LabelValues labels;
  meter::Usage usage;         // v2: usage.units holds the per-request and per-modality units
  meter::CostBreakdown cost;  // v2: cost.units holds each unit's line-item cost
  std::vector<OtherModelItem> other_models;  // v2
  bool priced = false;
  // The last attempt of a request (`final` absent or true) that ended ok: one inference.
  bool completed_inference = false;
  // A call on a self-hosted GPU pool (`data.gpu_pool.name`); empty otherwise. Its exact times
  // (timing.start and time, unix microseconds) feed the pool's sweep.
  std::string gpu_pool;
  int64_t start_us = 0;
  int64_t end_us = 0;
};

// An event of another type (budget alerts share the topic's neighbours): not an error,
// nothing to book.
enum class ParseStatus { kRecord, kOtherType, kMalformed };

struct ParsedEvent {
  ParseStatus status = ParseStatus::kMalformed;
  CostRecord record;
  std::string error;  // kMalformed: what is wrong, with the field's name
};

}  // namespace tollgate::ledger
