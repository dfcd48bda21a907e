#pragma once

#include <cstdint>
#include <string>

#include "ledger/cost_record.h"
#include "ledger/labels.h"
#include "meter/usage.h"

namespace tollgate::ledger {

// A call on a self-hosted GPU pool as the store keeps it: one row per call (a rollup cannot
// keep the exact start and end times the pool's sweep needs).
struct PoolCall {
  std::string id;
  std::string pool;
  int64_t start_us = 0;
  int64_t end_us = 0;
  LabelValues labels;
  meter::Usage usage;
};

inline PoolCall poolCallOf(const CostRecord& record) {
  return {record.id, record.gpu_pool, record.start_us, record.end_us, record.labels, record.usage};
}

// The store's columns, in order: id, pool, start_us, end_us, the nine labels, then the five
// token counts.
inline constexpr int kPoolCallColumns = 4 + static_cast<int>(kLabelCount) + 5;

template <class Row>
PoolCall readPoolCall(const Row& row) {
  PoolCall call;
  call.id = row.text(0);
  call.pool = row.text(1);
  call.start_us = row.int64(2);
  call.end_us = row.int64(3);
  for (size_t l = 0; l < kLabelCount; ++l) call.labels[l] = row.text(4 + static_cast<int>(l));
  const int first = 4 + static_cast<int>(kLabelCount);
  call.usage.input_tokens = row.int64(first);
  call.usage.cache_read_tokens = row.int64(first + 1);
  call.usage.cache_write_tokens = row.int64(first + 2);
  call.usage.output_tokens = row.int64(first + 3);
  call.usage.reasoning_tokens = row.int64(first + 4);
  return call;
}

// The values to store, as text, in the column order above.
inline std::vector<std::string> poolCallValues(const PoolCall& call) {
  std::vector<std::string> out = {call.id, call.pool, std::to_string(call.start_us),
                                  std::to_string(call.end_us)};
  for (const auto& label : call.labels) out.push_back(label);
  for (const int64_t v :
       {call.usage.input_tokens, call.usage.cache_read_tokens, call.usage.cache_write_tokens,
        call.usage.output_tokens, call.usage.reasoning_tokens}) {
    out.push_back(std::to_string(v));
  }
  return out;
}

}  // namespace tollgate::ledger
