#include "ledger/sqlite_store.h"

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "ledger/store_rows.h"

namespace tollgate::ledger {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS rollup (
  hour INTEGER NOT NULL,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, model TEXT NOT NULL,
  upstream TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT NOT NULL,
  events INTEGER NOT NULL, inferences INTEGER NOT NULL, unpriced_events INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  cost_input_pico TEXT NOT NULL, cost_cache_read_pico TEXT NOT NULL,
  cost_cache_write_pico TEXT NOT NULL, cost_output_pico TEXT NOT NULL,
  cost_total_pico TEXT NOT NULL,
  PRIMARY KEY (hour, team, project, cost_center, workload_type, environment, model, upstream,
               provider, outcome)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_line_item (
  hour INTEGER NOT NULL,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, model TEXT NOT NULL,
  upstream TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT NOT NULL,
  item TEXT NOT NULL, item_model TEXT NOT NULL, quantity INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL, cost_pico TEXT NOT NULL,
  PRIMARY KEY (hour, team, project, cost_center, workload_type, environment, model, upstream,
               provider, outcome, item, item_model)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, raw TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS source_position (source TEXT PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS imported (
  fingerprint TEXT PRIMARY KEY,
  file TEXT NOT NULL,
  period_start_hour INTEGER NOT NULL, period_end_hour INTEGER NOT NULL,
  description TEXT NOT NULL, category TEXT NOT NULL, amount_pico TEXT NOT NULL,
  quantity TEXT, unit TEXT NOT NULL, rate_usd TEXT,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, runs_completed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS imported_by_start ON imported (period_start_hour);
CREATE TABLE IF NOT EXISTS sent_alert (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pool_call (
  id TEXT PRIMARY KEY, pool TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, model TEXT NOT NULL,
  upstream TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pool_call_by_end ON pool_call (end_us);
)sql";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  std::string error() const { return sqlite3_errmsg(db_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bindNull(int i) { sqlite3_bind_null(stmt_, i); }
  int step() { return sqlite3_step(stmt_); }
  int64_t int64At(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string textAt(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  bool isNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Rolls back unless committed: an error path never leaves a transaction open.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  // IMMEDIATE for writers (the write lock up front, so two ingests serialise instead of one
  // failing at commit); deferred for readers.
  bool begin(std::string& error, bool write = true) {
    if (sqlite3_exec(db_, write ? "BEGIN IMMEDIATE" : "BEGIN", nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      error = std::string("begin: ") + sqlite3_errmsg(db_);
      return false;
    }
    open_ = true;
    return true;
  }
  bool commit(std::string& error) {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      error = std::string("commit: ") + sqlite3_errmsg(db_);
      return false;
    }
    open_ = false;
    return true;
  }
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

constexpr int kLabelColumns = static_cast<int>(kLabelCount);
constexpr int64_t kMicrosPerHour = 3'600'000'000;

// The accessor store_rows.h reads a row through.
struct StatementRow {
  const Statement& s;
  std::string text(int i) const { return s.textAt(i); }
  int64_t int64(int i) const { return s.int64At(i); }
  bool isNull(int i) const { return s.isNull(i); }
};

// Adds `item` to the stored line item of the bucket `key` (read, merged, written back: the
// cost is a 128-bit picodollar string SQLite cannot add).
bool upsertLineItem(Statement& select, Statement& upsert, const RollupKey& key,
                    const LineItemKey& item_key, const LineItemTotals& item, std::string& error) {
  select.reset();
  int c = 1;
  select.bind(c++, key.hour);
  for (int l = 0; l < kLabelColumns; ++l) select.bind(c++, key.labels[l]);
  select.bind(c++, item_key.item);
  select.bind(c++, item_key.model);
  LineItemTotals merged = item;
  const int rc = select.step();
  if (rc == SQLITE_ROW) {
    LineItemKey stored_key;
    LineItemTotals stored;
    if (!readLineItem(StatementRow{select}, 0, stored_key, stored)) {
      error = "rollup_line_item: a stored cost is not an integer picodollar count";
      return false;
    }
    merged.merge(stored);
  } else if (rc != SQLITE_DONE) {
    error = "rollup_line_item: " + select.error();
    return false;
  }
  upsert.reset();
  c = 1;
  upsert.bind(c++, key.hour);
  for (int l = 0; l < kLabelColumns; ++l) upsert.bind(c++, key.labels[l]);
  upsert.bind(c++, item_key.item);
  upsert.bind(c++, item_key.model);
  for (const int64_t v :
       {merged.quantity, merged.input_tokens, merged.cache_read_tokens, merged.cache_write_tokens,
        merged.output_tokens, merged.reasoning_tokens}) {
    upsert.bind(c++, v);
  }
  upsert.bind(c++, merged.cost.toPicoString());
  if (upsert.step() != SQLITE_DONE) {
    error = "rollup_line_item: " + upsert.error();
    return false;
  }
  return true;
}

bool readTotals(const Statement& s, int first, RollupTotals& t) {
  return readRollupTotals(StatementRow{s}, first, t);
}

}  // namespace

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

bool SqliteStore::exec(const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    error = message != nullptr ? message : "sqlite error";
    sqlite3_free(message);
    return false;
  }
  return true;
}

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    error = "cannot open " + path + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  sqlite3_busy_timeout(db, 10'000);
  // WAL with synchronous=NORMAL: a committed transaction survives a process crash; a power
  // loss can lose the last transactions whole, position included, so they are read again:
  // never a partial batch, never a double count.
  // Two instances may open a new store at the same moment (two consumers of one group, or a
  // report during the first ingest). The schema is created under the write lock, which BEGIN
  // IMMEDIATE waits for through the busy handler; the switch to WAL needs the database to
  // itself and SQLite answers "locked" at once rather than wait, so it is tried again, bounded.
  const std::string schema = std::string("BEGIN IMMEDIATE;") + kSchema + "COMMIT;";
  for (int attempt = 0;; ++attempt) {
    error.clear();
    if (store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error) &&
        store->exec(schema.c_str(), error)) {
      return store;
    }
    std::string ignored;
    store->exec("ROLLBACK;", ignored);
    const bool busy =
        error.find("locked") != std::string::npos || error.find("busy") != std::string::npos;
    if (!busy || attempt >= 100) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  error = path + ": " + error;
  return nullptr;
}

std::optional<int64_t> SqliteStore::sourcePosition(const std::string& source, std::string& error) {
  Statement s(db_, "SELECT position FROM source_position WHERE source = ?");
  if (!s.ok()) {
    error = s.error();
    return std::nullopt;
  }
  s.bind(1, source);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return s.int64At(0);
  if (rc == SQLITE_DONE) return 0;
  error = s.error();
  return std::nullopt;
}

std::optional<SqliteStore::BatchResult> SqliteStore::commitBatch(
    const std::vector<SourcePosition>& positions, const std::vector<CostRecord>& records,
    const std::vector<std::string_view>& raw, std::string& error) {
  Transaction tx(db_);
  if (!tx.begin(error)) return std::nullopt;
  Statement insert_id(db_, "INSERT OR IGNORE INTO seen (id, raw) VALUES (?, ?)");
  Statement select(db_,
                   "SELECT events, inferences, unpriced_events, input_tokens, cache_read_tokens, "
                   "cache_write_tokens, output_tokens, reasoning_tokens, cost_input_pico, "
                   "cost_cache_read_pico, cost_cache_write_pico, cost_output_pico, "
                   "cost_total_pico FROM rollup WHERE hour = ? AND team = ? AND project = ? AND "
                   "cost_center = ? AND workload_type = ? AND environment = ? AND model = ? AND "
                   "upstream = ? AND provider = ? AND outcome = ?");
  Statement upsert(db_,
                   "INSERT OR REPLACE INTO rollup VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Statement select_item(
      db_,
      "SELECT item, item_model, quantity, input_tokens, cache_read_tokens, cache_write_tokens, "
      "output_tokens, reasoning_tokens, cost_pico FROM rollup_line_item WHERE hour = ? AND "
      "team = ? AND project = ? AND cost_center = ? AND workload_type = ? AND environment = ? AND "
      "model = ? AND upstream = ? AND provider = ? AND outcome = ? AND item = ? AND "
      "item_model = ?");
  Statement upsert_item(db_,
                        "INSERT OR REPLACE INTO rollup_line_item VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Statement set_position(db_,
                         "INSERT OR REPLACE INTO source_position (source, position) VALUES (?, ?)");
  Statement insert_pool_call(db_,
                             "INSERT INTO pool_call VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                             "?, ?, ?, ?, ?)");
  for (const Statement* s : {&insert_id, &select, &upsert, &select_item, &upsert_item,
                             &set_position, &insert_pool_call}) {
    if (!s->ok()) {
      error = s->error();
      return std::nullopt;
    }
  }
  BatchResult result;
  Rollups batch;
  for (size_t i = 0; i < records.size(); ++i) {
    insert_id.reset();
    insert_id.bind(1, records[i].id);
    if (i < raw.size()) {
      insert_id.bind(2, raw[i]);
    } else {
      insert_id.bindNull(2);
    }
    if (insert_id.step() != SQLITE_DONE) {
      error = "seen: " + insert_id.error();
      return std::nullopt;
    }
    if (sqlite3_changes(db_) == 0) {
      ++result.duplicates;
      continue;
    }
    ++result.booked;
    addToRollups(batch, records[i]);
    if (!records[i].gpu_pool.empty()) {
      insert_pool_call.reset();
      const CostRecord& r = records[i];
      int c = 1;
      insert_pool_call.bind(c++, r.id);
      insert_pool_call.bind(c++, r.gpu_pool);
      insert_pool_call.bind(c++, r.start_us);
      insert_pool_call.bind(c++, r.end_us);
      for (const auto& label : r.labels) insert_pool_call.bind(c++, label);
      for (const int64_t tokens :
           {r.usage.input_tokens, r.usage.cache_read_tokens, r.usage.cache_write_tokens,
            r.usage.output_tokens, r.usage.reasoning_tokens}) {
        insert_pool_call.bind(c++, tokens);
      }
      if (insert_pool_call.step() != SQLITE_DONE) {
        error = "pool_call: " + insert_pool_call.error();
        return std::nullopt;
      }
    }
  }
  for (const auto& [key, totals] : batch) {
    RollupTotals merged = totals;
    select.reset();
    select.bind(1, key.hour);
    for (int l = 0; l < kLabelColumns; ++l) select.bind(2 + l, key.labels[l]);
    const int rc = select.step();
    if (rc == SQLITE_ROW) {
      RollupTotals stored;
      if (!readTotals(select, 0, stored)) {
        error = "rollup: a stored cost is not an integer picodollar count";
        return std::nullopt;
      }
      merged.merge(stored);
    } else if (rc != SQLITE_DONE) {
      error = "rollup: " + select.error();
      return std::nullopt;
    }
    upsert.reset();
    int c = 1;
    upsert.bind(c++, key.hour);
    for (int l = 0; l < kLabelColumns; ++l) upsert.bind(c++, key.labels[l]);
    for (const int64_t v :
         {merged.events, merged.inferences, merged.unpriced_events, merged.input_tokens,
          merged.cache_read_tokens, merged.cache_write_tokens, merged.output_tokens,
          merged.reasoning_tokens}) {
      upsert.bind(c++, v);
    }
    for (const Amount& a : {merged.cost_input, merged.cost_cache_read, merged.cost_cache_write,
                            merged.cost_output, merged.cost_total}) {
      upsert.bind(c++, a.toPicoString());
    }
    if (upsert.step() != SQLITE_DONE) {
      error = "rollup: " + upsert.error();
      return std::nullopt;
    }
    for (const auto& [item_key, item] : totals.line_items) {
      if (!upsertLineItem(select_item, upsert_item, key, item_key, item, error)) {
        return std::nullopt;
      }
    }
  }
  for (const auto& [source, position] : positions) {
    set_position.reset();
    set_position.bind(1, source);
    set_position.bind(2, position);
    if (set_position.step() != SQLITE_DONE) {
      error = "source_position: " + set_position.error();
      return std::nullopt;
    }
  }
  if (!tx.commit(error)) return std::nullopt;
  return result;
}

std::optional<SqliteStore::ImportResult> SqliteStore::importLines(
    const std::vector<ImportLine>& lines, const std::string& file, std::string& error) {
  Transaction tx(db_);
  if (!tx.begin(error)) return std::nullopt;
  Statement insert(db_,
                   "INSERT OR IGNORE INTO imported VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?)");
  if (!insert.ok()) {
    error = insert.error();
    return std::nullopt;
  }
  ImportResult result;
  for (const auto& line : lines) {
    insert.reset();
    int c = 1;
    insert.bind(c++, line.fingerprint);
    insert.bind(c++, file);
    insert.bind(c++, line.period_start_hour);
    insert.bind(c++, line.period_end_hour);
    insert.bind(c++, line.description);
    insert.bind(c++, line.category);
    insert.bind(c++, line.amount.toPicoString());
    if (line.quantity) {
      insert.bind(c++, line.quantity->toString());
    } else {
      insert.bindNull(c++);
    }
    insert.bind(c++, line.unit);
    if (line.rate) {
      insert.bind(c++, line.rate->toString());
    } else {
      insert.bindNull(c++);
    }
    for (size_t l = 0; l < kAttributionLabelCount; ++l) insert.bind(c++, line.labels[l]);
    insert.bind(c++, line.runs_completed.toString());
    if (insert.step() != SQLITE_DONE) {
      error = "imported: " + insert.error();
      return std::nullopt;
    }
    if (sqlite3_changes(db_) == 0) {
      ++result.already_imported;
    } else {
      ++result.added;
    }
  }
  if (!tx.commit(error)) return std::nullopt;
  return result;
}

std::optional<LedgerData> SqliteStore::loadPeriod(const Period& period, std::string& error) {
  LedgerData data;
  data.period = period;
  // One read transaction: a concurrent ingest cannot show half a batch to the report.
  Transaction tx(db_);
  if (!tx.begin(error, false)) return std::nullopt;
  Statement rollups(db_,
                    "SELECT hour, team, project, cost_center, workload_type, environment, model, "
                    "upstream, provider, outcome, events, inferences, unpriced_events, "
                    "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
                    "reasoning_tokens, cost_input_pico, cost_cache_read_pico, "
                    "cost_cache_write_pico, cost_output_pico, cost_total_pico FROM rollup "
                    "WHERE hour >= ? AND hour < ?");
  Statement line_items(
      db_,
      "SELECT hour, team, project, cost_center, workload_type, environment, model, upstream, "
      "provider, outcome, item, item_model, quantity, input_tokens, cache_read_tokens, "
      "cache_write_tokens, output_tokens, reasoning_tokens, cost_pico FROM rollup_line_item "
      "WHERE hour >= ? AND hour < ?");
  Statement imported(db_,
                     "SELECT period_start_hour, period_end_hour, description, category, "
                     "amount_pico, quantity, unit, rate_usd, team, project, cost_center, "
                     "workload_type, environment, runs_completed, fingerprint FROM imported "
                     "WHERE period_start_hour >= ? AND period_start_hour < ? ORDER BY rowid");
  Statement pool_calls(
      db_,
      "SELECT id, pool, start_us, end_us, team, project, cost_center, workload_type, environment, "
      "model, upstream, provider, outcome, input_tokens, cache_read_tokens, cache_write_tokens, "
      "output_tokens, reasoning_tokens "
      "FROM pool_call WHERE end_us >= ? AND start_us < ?");
  for (const Statement* s : {&rollups, &line_items, &imported, &pool_calls}) {
    if (!s->ok()) {
      error = s->error();
      return std::nullopt;
    }
  }
  const std::string corrupt = kCorruptStoreValue;
  rollups.bind(1, period.start_hour);
  rollups.bind(2, period.end_hour);
  int rc;
  while ((rc = rollups.step()) == SQLITE_ROW) {
    RollupKey key;
    key.hour = rollups.int64At(0);
    for (int l = 0; l < kLabelColumns; ++l) key.labels[l] = rollups.textAt(1 + l);
    if (!readTotals(rollups, 1 + kLabelColumns, data.rollups[key])) {
      error = "rollup: " + corrupt;
      return std::nullopt;
    }
  }
  if (rc != SQLITE_DONE) {
    error = "rollup: " + rollups.error();
    return std::nullopt;
  }
  line_items.bind(1, period.start_hour);
  line_items.bind(2, period.end_hour);
  while ((rc = line_items.step()) == SQLITE_ROW) {
    RollupKey key;
    key.hour = line_items.int64At(0);
    for (int l = 0; l < kLabelColumns; ++l) key.labels[l] = line_items.textAt(1 + l);
    LineItemKey item_key;
    LineItemTotals item;
    if (!readLineItem(StatementRow{line_items}, 1 + kLabelColumns, item_key, item)) {
      error = "rollup_line_item: " + corrupt;
      return std::nullopt;
    }
    data.rollups[key].line_items[item_key] = item;
  }
  if (rc != SQLITE_DONE) {
    error = "rollup_line_item: " + line_items.error();
    return std::nullopt;
  }
  imported.bind(1, period.start_hour);
  imported.bind(2, period.end_hour);
  while ((rc = imported.step()) == SQLITE_ROW) {
    ImportLine line;
    if (!readImportLine(StatementRow{imported}, line)) {
      error = "imported: " + corrupt;
      return std::nullopt;
    }
    data.imported.push_back(std::move(line));
  }
  if (rc != SQLITE_DONE) {
    error = "imported: " + imported.error();
    return std::nullopt;
  }
  pool_calls.bind(1, period.start_hour * kMicrosPerHour);
  pool_calls.bind(2, period.end_hour * kMicrosPerHour);
  while ((rc = pool_calls.step()) == SQLITE_ROW) {
    data.pool_calls.push_back(readPoolCall(StatementRow{pool_calls}));
  }
  if (rc != SQLITE_DONE) {
    error = "pool_call: " + pool_calls.error();
    return std::nullopt;
  }
  if (!tx.commit(error)) return std::nullopt;
  return data;
}

std::optional<bool> SqliteStore::alertSent(const std::string& key, std::string& error) {
  Statement s(db_, "SELECT 1 FROM sent_alert WHERE key = ?");
  if (!s.ok()) {
    error = s.error();
    return std::nullopt;
  }
  s.bind(1, key);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  error = s.error();
  return std::nullopt;
}

bool SqliteStore::recordAlertSent(const std::string& key, std::string& error) {
  Statement s(db_, "INSERT OR IGNORE INTO sent_alert (key) VALUES (?)");
  if (!s.ok()) {
    error = s.error();
    return false;
  }
  s.bind(1, key);
  if (s.step() != SQLITE_DONE) {
    error = s.error();
    return false;
  }
  return true;
}

}  // namespace tollgate::ledger
