#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/cost_record.h"
#include "ledger/import_line.h"
#include "ledger/report.h"

namespace tollgate::ledger {

// Where the ledger keeps what it booked (docs/ledger.md, "The store"): rollups with exact
// sums, the ids already booked, each source's position and the imported lines. A batch of
// events, their ids and the positions after them are committed together or not at all.
class Store {
 public:
  virtual ~Store() = default;

  struct BatchResult {
    int64_t booked = 0;
    int64_t duplicates = 0;  // ids already booked (a resend) or twice in the batch
  };
  struct ImportResult {
    int64_t added = 0;
    int64_t already_imported = 0;
  };
  // A source and how far it has been read: a file's byte offset ("file:<path>"), or a Kafka
  // partition's next offset ("kafka:<topic>:<partition>").
  using SourcePosition = std::pair<std::string, int64_t>;

  // The stored position of `source` (0 when never read); nullopt with `error` on failure.
  virtual std::optional<int64_t> sourcePosition(const std::string& source, std::string& error) = 0;

  // Books the records whose id is new, and sets the sources' positions, atomically.
  // `raw` is empty or holds each record's JSON line (keep_raw).
  virtual std::optional<BatchResult> commitBatch(const std::vector<SourcePosition>& positions,
                                                 const std::vector<CostRecord>& records,
                                                 const std::vector<std::string_view>& raw,
                                                 std::string& error) = 0;

  // Books the lines not imported before (same fields = same line).
  virtual std::optional<ImportResult> importLines(const std::vector<ImportLine>& lines,
                                                  const std::string& file, std::string& error) = 0;

  // The rollups and imported lines of a period, read consistently (never half a batch).
  virtual std::optional<LedgerData> loadPeriod(const Period& period, std::string& error) = 0;

  // Alerts already delivered, by key (anomalyKey): an alert is recorded after its webhook
  // answered 2xx, so it is sent once (twice only if the process dies in between).
  virtual std::optional<bool> alertSent(const std::string& key, std::string& error) = 0;
  virtual bool recordAlertSent(const std::string& key, std::string& error) = 0;
};

}  // namespace tollgate::ledger
