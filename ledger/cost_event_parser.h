#pragma once

#include <memory>
#include <string_view>

#include "ledger/cost_record.h"

namespace tollgate::ledger {

// Reads cost events (CloudEvents JSON lines) into CostRecords. One per thread, reused: it owns
// a simdjson parser and a padded buffer.
class CostEventParser {
 public:
  CostEventParser();
  ~CostEventParser();
  CostEventParser(const CostEventParser&) = delete;
  CostEventParser& operator=(const CostEventParser&) = delete;

  // The cost parts must be exact decimal strings that add up to cost.total.
  ParsedEvent parse(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::ledger
