#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/store.h"

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
class SqliteStore : public Store {
 public:
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Opens (creating if needed) the file and its tables. nullptr with `error` set on failure.
  static std::unique_ptr<SqliteStore> open(const std::string& path, std::string& error);

  std::optional<int64_t> sourcePosition(const std::string& source, std::string& error) override;
  std::optional<BatchResult> commitBatch(const std::vector<SourcePosition>& positions,
                                         const std::vector<CostRecord>& records,
                                         const std::vector<std::string_view>& raw,
                                         std::string& error) override;
  std::optional<ImportResult> importLines(const std::vector<ImportLine>& lines,
                                          const std::string& file, std::string& error) override;
  std::optional<LedgerData> loadPeriod(const Period& period, std::string& error) override;
  std::optional<bool> alertSent(const std::string& key, std::string& error) override;
  bool recordAlertSent(const std::string& key, std::string& error) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql, std::string& error);
  sqlite3* db_;
};

}  // namespace tollgate::ledger
