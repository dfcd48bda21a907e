#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ledger/ledger_config.h"
#include "ledger/store.h"

namespace tollgate::ledger {

struct IngestStats {
  int64_t lines = 0;
  int64_t booked = 0;
  int64_t duplicates = 0;
  int64_t malformed = 0;    // skipped, each reported through on_malformed
  int64_t other_types = 0;  // events of other types (budget alerts): nothing to book
  int64_t batches = 0;
  int64_t position = 0;            // bytes of the file booked so far
  bool partial_line_left = false;  // the last line has no newline yet: read next time
};

// Reads the gateway's JSONL file from the stored position to the last complete line and books
// it in batches of config.batch_events: each batch's new events, their ids and the position
// after its last line are one store transaction.
class FileIngest {
 public:
  FileIngest(Store& store, const LedgerConfig& config) : store_(store), config_(config) {}

  using BatchCallback = std::function<void(const IngestStats&)>;
  using MalformedCallback = std::function<void(int64_t byte_offset, const std::string& error)>;

  std::optional<IngestStats> run(std::string& error, const BatchCallback& on_batch,
                                 const MalformedCallback& on_malformed);

 private:
  Store& store_;
  const LedgerConfig& config_;
};

}  // namespace tollgate::ledger
