#pragma once

#include <memory>
#include <string>

#include "ledger/store.h"

struct pg_conn;

namespace tollgate::ledger {

// The store in PostgreSQL (store.postgres: a libpq connection string), for several ledger
// instances of one Kafka consumer group sharing one store. Costs are NUMERIC(40,0)
// picodollars and rollups are updated additively (INSERT ... ON CONFLICT DO UPDATE SET x =
// x + excluded.x), so concurrent batches from different instances add up exactly; the seen
// table's primary key makes a second booking of an id wait for the first and then skip it.
class PostgresStore : public Store {
 public:
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // Connects and creates the tables if needed. nullptr with `error` set on failure.
  static std::unique_ptr<PostgresStore> open(const std::string& conninfo, std::string& error);

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
  explicit PostgresStore(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

}  // namespace tollgate::ledger
