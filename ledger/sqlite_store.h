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

struct sqlite3;

namespace tollgate::ledger {

// The ledger's store in one SQLite file (docs/ledger.md, "The store"):
//   rollup          one row per (hour, labels): counts, token sums and exact cost sums,
//                   picodollars as decimal integer text (a 128-bit sum does not fit SQLite's
//                   64-bit integers, and text keeps it exact and readable)
//   seen            every event id booked (with the raw JSON when keep_raw)
//   source_position how far each source has been read
//   imported        imported cost lines, keyed by their fingerprint
// A batch of events is booked with its ids and the source position in one transaction, so a
// crash at any point leaves either all of it or none of it.
class SqliteStore {
 public:
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Opens (creating if needed) the file and its tables. nullopt with `error` set on failure.
  static std::unique_ptr<SqliteStore> open(const std::string& path, std::string& error);

  struct BatchResult {
    int64_t booked = 0;
    int64_t duplicates = 0;  // ids already booked (a resend) or twice in the batch
  };

  // The stored position of `source` (0 when never read).
  std::optional<int64_t> sourcePosition(const std::string& source, std::string& error);

  // A source and how far it has been read: a file's byte offset, or a Kafka partition's next
  // offset ("kafka:<topic>:<partition>").
  using SourcePosition = std::pair<std::string, int64_t>;

  // Books the records whose id is new, and sets the sources' positions, atomically.
  // `raw` is empty or holds each record's JSON line (keep_raw).
  std::optional<BatchResult> commitBatch(const std::vector<SourcePosition>& positions,
                                         const std::vector<CostRecord>& records,
                                         const std::vector<std::string_view>& raw,
                                         std::string& error);

  struct ImportResult {
    int64_t added = 0;
    int64_t already_imported = 0;
  };
  std::optional<ImportResult> importLines(const std::vector<ImportLine>& lines,
                                          const std::string& file, std::string& error);

  // The rollups and imported lines of a period.
  std::optional<LedgerData> loadPeriod(const Period& period, std::string& error);

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql, std::string& error);
  sqlite3* db_;
};

}  // namespace tollgate::ledger
