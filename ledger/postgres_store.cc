#include "ledger/postgres_store.h"

#include <libpq-fe.h>

#include <set>

#include "ledger/store_rows.h"

namespace tollgate::ledger {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS rollup (
  hour BIGINT NOT NULL,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, model TEXT NOT NULL,
  upstream TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT NOT NULL,
  events BIGINT NOT NULL, inferences BIGINT NOT NULL, unpriced_events BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cache_write_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  cost_input_pico NUMERIC(40,0) NOT NULL, cost_cache_read_pico NUMERIC(40,0) NOT NULL,
  cost_cache_write_pico NUMERIC(40,0) NOT NULL, cost_output_pico NUMERIC(40,0) NOT NULL,
  cost_total_pico NUMERIC(40,0) NOT NULL,
  PRIMARY KEY (hour, team, project, cost_center, workload_type, environment, model, upstream,
               provider, outcome)
);
CREATE TABLE IF NOT EXISTS rollup_line_item (
  hour BIGINT NOT NULL,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, model TEXT NOT NULL,
  upstream TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT NOT NULL,
  item TEXT NOT NULL, item_model TEXT NOT NULL, quantity BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cache_write_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL, cost_pico NUMERIC(40,0) NOT NULL,
  PRIMARY KEY (hour, team, project, cost_center, workload_type, environment, model, upstream,
               provider, outcome, item, item_model)
);
CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, raw TEXT);
CREATE TABLE IF NOT EXISTS source_position (source TEXT PRIMARY KEY, position BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS imported (
  seq BIGSERIAL PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  file TEXT NOT NULL,
  period_start_hour BIGINT NOT NULL, period_end_hour BIGINT NOT NULL,
  description TEXT NOT NULL, category TEXT NOT NULL, amount_pico NUMERIC(40,0) NOT NULL,
  quantity TEXT, unit TEXT NOT NULL, rate_usd TEXT,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, runs_completed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS imported_by_start ON imported (period_start_hour);
CREATE TABLE IF NOT EXISTS sent_alert (key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS pool_call (
  id TEXT PRIMARY KEY, pool TEXT NOT NULL, start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
  team TEXT NOT NULL, project TEXT NOT NULL, cost_center TEXT NOT NULL,
  workload_type TEXT NOT NULL, environment TEXT NOT NULL, model TEXT NOT NULL,
  upstream TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT NOT NULL,
  input_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cache_write_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS pool_call_by_end ON pool_call (end_us);
)sql";

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  bool ok() const {
    const auto s = PQresultStatus(r_);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
  std::string error() const { return PQresultErrorMessage(r_); }
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  bool isNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  int64_t int64(int row, int col) const { return std::stoll(PQgetvalue(r_, row, col)); }
  std::string affected() const { return PQcmdTuples(r_); }

 private:
  PGresult* r_;
};

// The accessor store_rows.h reads a row through.
struct ResultRow {
  const Result& r;
  int row;
  std::string text(int c) const { return r.text(row, c); }
  int64_t int64(int c) const { return r.int64(row, c); }
  bool isNull(int c) const { return r.isNull(row, c); }
};

// Text parameters; a nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

Result run(pg_conn* conn, const char* sql, const Params& params = {}) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Result(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
}

// A PostgreSQL text[] literal: {"a","b\"c"}; nullopt elements are NULL.
std::string textArray(const std::vector<std::optional<std::string_view>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (const char c : *items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(pg_conn* conn) : conn_(conn) {}
  bool begin(const char* sql, std::string& error) {
    Result r = run(conn_, sql);
    if (!r.ok()) {
      error = "begin: " + r.error();
      return false;
    }
    open_ = true;
    return true;
  }
  bool commit(std::string& error) {
    Result r = run(conn_, "COMMIT");
    open_ = false;
    if (!r.ok()) {
      error = "commit: " + r.error();
      return false;
    }
    return true;
  }
  ~Transaction() {
    if (open_) run(conn_, "ROLLBACK");
  }

 private:
  pg_conn* conn_;
  bool open_ = false;
};

constexpr const char* kCostColumns[] = {"cost_input_pico", "cost_cache_read_pico",
                                        "cost_cache_write_pico", "cost_output_pico",
                                        "cost_total_pico"};
constexpr const char* kCountColumns[] = {"events",        "inferences",        "unpriced_events",
                                         "input_tokens",  "cache_read_tokens", "cache_write_tokens",
                                         "output_tokens", "reasoning_tokens"};

// One statement for a whole batch's rollups: a parallel array per column, unnested. The keys
// are distinct (the batch is aggregated first), as ON CONFLICT DO UPDATE requires.
std::string upsertRollupsSql() {
  std::string sql = "INSERT INTO rollup SELECT * FROM unnest($1::bigint[]";
  for (int i = 2; i <= 10; ++i) sql += ", $" + std::to_string(i) + "::text[]";
  for (int i = 11; i <= 18; ++i) sql += ", $" + std::to_string(i) + "::bigint[]";
  for (int i = 19; i <= 23; ++i) sql += ", $" + std::to_string(i) + "::numeric[]";
  sql +=
      ") ON CONFLICT (hour, team, project, cost_center, workload_type, environment, model, "
      "upstream, provider, outcome) DO UPDATE SET ";
  bool first = true;
  for (const char* c : kCountColumns) {
    sql += std::string(first ? "" : ", ") + c + " = rollup." + c + " + EXCLUDED." + c;
    first = false;
  }
  for (const char* c : kCostColumns) {
    sql += std::string(", ") + c + " = rollup." + c + " + EXCLUDED." + c;
  }
  return sql;
}

// An array literal of numbers: {1,2,3}.
std::string numberArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "}";
}

}  // namespace

PostgresStore::~PostgresStore() { PQfinish(conn_); }

std::unique_ptr<PostgresStore> PostgresStore::open(const std::string& conninfo,
                                                   std::string& error) {
  pg_conn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    error = std::string("cannot connect to PostgreSQL: ") +
            (conn != nullptr ? PQerrorMessage(conn) : "out of memory");
    while (!error.empty() && error.back() == '\n') error.pop_back();
    PQfinish(conn);
    return nullptr;
  }
  std::unique_ptr<PostgresStore> store(new PostgresStore(conn));
  // CREATE ... IF NOT EXISTS answers with NOTICEs, which libpq would print on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  // Several instances may start at once: the schema is created under an advisory lock.
  Result lock = run(conn, "SELECT pg_advisory_lock(7718263)");
  Result schema(PQexec(conn, kSchema));
  Result unlock = run(conn, "SELECT pg_advisory_unlock(7718263)");
  if (!schema.ok()) {
    error = "schema: " + schema.error();
    return nullptr;
  }
  return store;
}

std::optional<int64_t> PostgresStore::sourcePosition(const std::string& source,
                                                     std::string& error) {
  Result r = run(conn_, "SELECT position FROM source_position WHERE source = $1", {source});
  if (!r.ok()) {
    error = r.error();
    return std::nullopt;
  }
  return r.rows() == 0 ? 0 : r.int64(0, 0);
}

std::optional<Store::BatchResult> PostgresStore::commitBatch(
    const std::vector<SourcePosition>& positions, const std::vector<CostRecord>& records,
    const std::vector<std::string_view>& raw, std::string& error) {
  Transaction tx(conn_);
  if (!tx.begin("BEGIN", error)) return std::nullopt;
  BatchResult result;
  Rollups batch;
  if (!records.empty()) {
    std::vector<std::optional<std::string_view>> ids, raws;
    for (size_t i = 0; i < records.size(); ++i) {
      ids.emplace_back(records[i].id);
      raws.emplace_back(i < raw.size() ? std::optional<std::string_view>(raw[i]) : std::nullopt);
    }
    Result inserted = run(conn_,
                          "INSERT INTO seen (id, raw) SELECT * FROM unnest($1::text[], $2::text[]) "
                          "ON CONFLICT DO NOTHING RETURNING id",
                          {textArray(ids), textArray(raws)});
    if (!inserted.ok()) {
      error = "seen: " + inserted.error();
      return std::nullopt;
    }
    std::set<std::string, std::less<>> fresh;
    for (int r = 0; r < inserted.rows(); ++r) fresh.insert(inserted.text(r, 0));
    for (const auto& record : records) {
      // Taken out once booked: the same id twice in a batch is booked once.
      if (auto it = fresh.find(record.id); it != fresh.end()) {
        fresh.erase(it);
        ++result.booked;
        addToRollups(batch, record);
        if (!record.gpu_pool.empty()) {
          Params p;
          for (auto& v : poolCallValues(poolCallOf(record))) p.emplace_back(std::move(v));
          Result r = run(conn_,
                         "INSERT INTO pool_call VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                         "$11, $12, $13, $14, $15, $16, $17, $18)",
                         p);
          if (!r.ok()) {
            error = "pool_call: " + r.error();
            return std::nullopt;
          }
        }
      } else {
        ++result.duplicates;
      }
    }
  }
  if (!batch.empty()) {
    std::vector<std::string> hours;
    std::vector<std::vector<std::optional<std::string_view>>> labels(kLabelCount);
    std::vector<std::vector<std::string>> numbers(8 + 5);
    for (const auto& [key, t] : batch) {
      hours.push_back(std::to_string(key.hour));
      for (size_t l = 0; l < kLabelCount; ++l) labels[l].emplace_back(key.labels[l]);
      const int64_t counts[] = {t.events,        t.inferences,        t.unpriced_events,
                                t.input_tokens,  t.cache_read_tokens, t.cache_write_tokens,
                                t.output_tokens, t.reasoning_tokens};
      for (size_t i = 0; i < 8; ++i) numbers[i].push_back(std::to_string(counts[i]));
      const Amount costs[] = {t.cost_input, t.cost_cache_read, t.cost_cache_write, t.cost_output,
                              t.cost_total};
      for (size_t i = 0; i < 5; ++i) numbers[8 + i].push_back(costs[i].toPicoString());
    }
    Params p = {numberArray(hours)};
    for (const auto& column : labels) p.emplace_back(textArray(column));
    for (const auto& column : numbers) p.emplace_back(numberArray(column));
    static const std::string upsert = upsertRollupsSql();
    Result r = run(conn_, upsert.c_str(), p);
    if (!r.ok()) {
      error = "rollup: " + r.error();
      return std::nullopt;
    }
    // Line items are few (v2 calls with units or other models): a statement each.
    for (const auto& [key, t] : batch) {
      for (const auto& [item_key, item] : t.line_items) {
        Params q = {std::to_string(key.hour)};
        for (const auto& label : key.labels) q.emplace_back(label);
        q.emplace_back(item_key.item);
        q.emplace_back(item_key.model);
        for (const int64_t v :
             {item.quantity, item.input_tokens, item.cache_read_tokens, item.cache_write_tokens,
              item.output_tokens, item.reasoning_tokens}) {
          q.emplace_back(std::to_string(v));
        }
        q.emplace_back(item.cost.toPicoString());
        Result li = run(conn_,
                        "INSERT INTO rollup_line_item VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                        "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (hour, "
                        "team, project, cost_center, workload_type, environment, model, upstream, "
                        "provider, outcome, item, item_model) DO UPDATE SET quantity = "
                        "rollup_line_item.quantity + EXCLUDED.quantity, input_tokens = "
                        "rollup_line_item.input_tokens + EXCLUDED.input_tokens, "
                        "cache_read_tokens = rollup_line_item.cache_read_tokens + "
                        "EXCLUDED.cache_read_tokens, cache_write_tokens = "
                        "rollup_line_item.cache_write_tokens + EXCLUDED.cache_write_tokens, "
                        "output_tokens = rollup_line_item.output_tokens + EXCLUDED.output_tokens, "
                        "reasoning_tokens = rollup_line_item.reasoning_tokens + "
                        "EXCLUDED.reasoning_tokens, cost_pico = rollup_line_item.cost_pico + "
                        "EXCLUDED.cost_pico",
                        q);
        if (!li.ok()) {
          error = "rollup_line_item: " + li.error();
          return std::nullopt;
        }
      }
    }
  }
  for (const auto& [source, position] : positions) {
    Result r = run(conn_,
                   "INSERT INTO source_position (source, position) VALUES ($1, $2) "
                   "ON CONFLICT (source) DO UPDATE SET position = EXCLUDED.position",
                   {source, std::to_string(position)});
    if (!r.ok()) {
      error = "source_position: " + r.error();
      return std::nullopt;
    }
  }
  if (!tx.commit(error)) return std::nullopt;
  return result;
}

std::optional<Store::ImportResult> PostgresStore::importLines(const std::vector<ImportLine>& lines,
                                                              const std::string& file,
                                                              std::string& error) {
  Transaction tx(conn_);
  if (!tx.begin("BEGIN", error)) return std::nullopt;
  ImportResult result;
  for (const auto& line : lines) {
    Params p = {
        line.fingerprint,
        file,
        std::to_string(line.period_start_hour),
        std::to_string(line.period_end_hour),
        line.description,
        line.category,
        line.amount.toPicoString(),
        line.quantity ? std::optional<std::string>(line.quantity->toString()) : std::nullopt,
        line.unit,
        line.rate ? std::optional<std::string>(line.rate->toString()) : std::nullopt};
    for (size_t l = 0; l < kAttributionLabelCount; ++l) p.emplace_back(line.labels[l]);
    p.emplace_back(line.runs_completed.toString());
    Result r = run(conn_,
                   "INSERT INTO imported (fingerprint, file, period_start_hour, period_end_hour, "
                   "description, category, amount_pico, quantity, unit, rate_usd, team, project, "
                   "cost_center, workload_type, environment, runs_completed) VALUES ($1, $2, $3, "
                   "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
                   "ON CONFLICT (fingerprint) DO NOTHING",
                   p);
    if (!r.ok()) {
      error = "imported: " + r.error();
      return std::nullopt;
    }
    if (r.affected() == "0") {
      ++result.already_imported;
    } else {
      ++result.added;
    }
  }
  if (!tx.commit(error)) return std::nullopt;
  return result;
}

std::optional<LedgerData> PostgresStore::loadPeriod(const Period& period, std::string& error) {
  LedgerData data;
  data.period = period;
  Transaction tx(conn_);
  if (!tx.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", error)) return std::nullopt;
  const Params range = {std::to_string(period.start_hour), std::to_string(period.end_hour)};
  Result rollups = run(conn_,
                       "SELECT hour, team, project, cost_center, workload_type, environment, "
                       "model, upstream, provider, outcome, events, inferences, unpriced_events, "
                       "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
                       "reasoning_tokens, cost_input_pico::text, cost_cache_read_pico::text, "
                       "cost_cache_write_pico::text, cost_output_pico::text, "
                       "cost_total_pico::text FROM rollup WHERE hour >= $1 AND hour < $2",
                       range);
  if (!rollups.ok()) {
    error = "rollup: " + rollups.error();
    return std::nullopt;
  }
  const std::string corrupt = kCorruptStoreValue;
  for (int r = 0; r < rollups.rows(); ++r) {
    RollupKey key;
    key.hour = rollups.int64(r, 0);
    for (int l = 0; l < static_cast<int>(kLabelCount); ++l) key.labels[l] = rollups.text(r, 1 + l);
    if (!readRollupTotals(ResultRow{rollups, r}, 10, data.rollups[key])) {
      error = "rollup: " + corrupt;
      return std::nullopt;
    }
  }
  Result line_items =
      run(conn_,
          "SELECT hour, team, project, cost_center, workload_type, environment, model, upstream, "
          "provider, outcome, item, item_model, quantity, input_tokens, cache_read_tokens, "
          "cache_write_tokens, output_tokens, reasoning_tokens, cost_pico::text FROM "
          "rollup_line_item WHERE hour >= $1 AND hour < $2",
          range);
  if (!line_items.ok()) {
    error = "rollup_line_item: " + line_items.error();
    return std::nullopt;
  }
  for (int r = 0; r < line_items.rows(); ++r) {
    RollupKey key;
    key.hour = line_items.int64(r, 0);
    for (int l = 0; l < static_cast<int>(kLabelCount); ++l) {
      key.labels[l] = line_items.text(r, 1 + l);
    }
    LineItemKey item_key;
    LineItemTotals item;
    if (!readLineItem(ResultRow{line_items, r}, 10, item_key, item)) {
      error = "rollup_line_item: " + corrupt;
      return std::nullopt;
    }
    data.rollups[key].line_items[item_key] = item;
  }
  Result imported = run(conn_,
                        "SELECT period_start_hour, period_end_hour, description, category, "
                        "amount_pico::text, quantity, unit, rate_usd, team, project, "
                        "cost_center, workload_type, environment, runs_completed, fingerprint "
                        "FROM imported WHERE period_start_hour >= $1 AND period_start_hour < $2 "
                        "ORDER BY seq",
                        range);
  if (!imported.ok()) {
    error = "imported: " + imported.error();
    return std::nullopt;
  }
  for (int r = 0; r < imported.rows(); ++r) {
    ImportLine line;
    if (!readImportLine(ResultRow{imported, r}, line)) {
      error = "imported: " + corrupt;
      return std::nullopt;
    }
    data.imported.push_back(std::move(line));
  }
  constexpr int64_t kMicrosPerHour = 3'600'000'000;
  Result pool_calls =
      run(conn_,
          "SELECT id, pool, start_us, end_us, team, project, cost_center, workload_type, "
          "environment, model, upstream, provider, outcome, input_tokens, cache_read_tokens, "
          "cache_write_tokens, output_tokens, reasoning_tokens "
          "FROM pool_call WHERE end_us >= $1 AND start_us < $2",
          {std::to_string(period.start_hour * kMicrosPerHour),
           std::to_string(period.end_hour * kMicrosPerHour)});
  if (!pool_calls.ok()) {
    error = "pool_call: " + pool_calls.error();
    return std::nullopt;
  }
  for (int r = 0; r < pool_calls.rows(); ++r) {
    data.pool_calls.push_back(readPoolCall(ResultRow{pool_calls, r}));
  }
  if (!tx.commit(error)) return std::nullopt;
  return data;
}

std::optional<bool> PostgresStore::alertSent(const std::string& key, std::string& error) {
  Result r = run(conn_, "SELECT 1 FROM sent_alert WHERE key = $1", {key});
  if (!r.ok()) {
    error = r.error();
    return std::nullopt;
  }
  return r.rows() > 0;
}

bool PostgresStore::recordAlertSent(const std::string& key, std::string& error) {
  Result r = run(conn_, "INSERT INTO sent_alert (key) VALUES ($1) ON CONFLICT DO NOTHING", {key});
  if (!r.ok()) {
    error = r.error();
    return false;
  }
  return true;
}

}  // namespace tollgate::ledger
