#include "ledger/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "ledger/cost_event_parser.h"
#include "ledger/file_ingest.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/event_builder.h"
#include "tests/ledger/store_conformance.h"

namespace tollgate::ledger {
namespace {

using testing::EventSpec;

CostRecord record(const EventSpec& spec) { return testing::parsedRecord(spec); }

std::unique_ptr<SqliteStore> openStore(const tollgate::testing::TempDir& dir) {
  std::string error;
  auto store = SqliteStore::open(dir.file("ledger.db"), error);
  EXPECT_TRUE(store) << error;
  return store;
}

TEST(SqliteStore, DuplicateIdsAreBookedOnceAcrossAndWithinBatches) {
  tollgate::testing::TempDir dir;
  auto store = openStore(dir);
  testing::expectDuplicateIdsBookedOnce(*store);
}

TEST(SqliteStore, SumsSurviveReopeningExactly) {
  tollgate::testing::TempDir dir;
  EventSpec spec;
  spec.input_price = 1;  // 1 pUSD per input token
  spec.output_tokens = 0;
  std::string error;
  {
    auto store = openStore(dir);
    std::vector<CostRecord> records;
    for (int i = 0; i < 1000; ++i) {
      spec.id = "e" + std::to_string(i);
      records.push_back(record(spec));
    }
    ASSERT_TRUE(store->commitBatch({{"s", 1}}, records, {}, error)) << error;
  }
  auto store = openStore(dir);
  auto data = store->loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  EXPECT_EQ(data->rollups.begin()->second.cost_total.pico(), 1000 * 1500);
  EXPECT_EQ(store->loadPeriod(*parsePeriod("2026-10"), error)->rollups.size(), 0u);
}

TEST(SqliteStore, ReimportingTheSameLinesBooksThemOnceInOrder) {
  tollgate::testing::TempDir dir;
  auto store = openStore(dir);
  testing::expectReimportBooksOnceInOrder(*store);
}

TEST(SqliteStore, LineItemsAreKeptWithTheirBucketAndSummed) {
  tollgate::testing::TempDir dir;
  auto store = openStore(dir);
  testing::expectLineItemsKeptAndSummed(*store);
}

TEST(SqliteStore, PoolCallsAreKeptOnceWithTheirExactTimes) {
  tollgate::testing::TempDir dir;
  auto store = openStore(dir);
  testing::expectPoolCallsKeptOnceWithTheirExactTimes(*store);
}

TEST(SqliteStore, UnwritableDirectoryIsAnErrorNotACrash) {
  std::string error;
  EXPECT_FALSE(SqliteStore::open("/nonexistent-dir/ledger.db", error));
  EXPECT_NE(error.find("/nonexistent-dir/ledger.db"), std::string::npos);
}

class FileIngestTest : public ::testing::Test {
 protected:
  tollgate::testing::TempDir dir;
  LedgerConfig config;
  void SetUp() override {
    config.source_file = dir.file("events.jsonl");
    config.sqlite_path = dir.file("ledger.db");
    config.batch_events = 2;
  }
  void append(const std::string& text) {
    std::ofstream out(config.source_file, std::ios::app | std::ios::binary);
    out << text;
  }
};

TEST_F(FileIngestTest, PartialLastLineIsLeftForTheNextRun) {
  EventSpec a, b;
  b.id = "evt-2";
  const std::string line_b = testing::eventJson(b);
  append(testing::eventJson(a) + "\n" + line_b.substr(0, 100));
  auto store = openStore(dir);
  std::string error;
  FileIngest ingest(*store, config);
  auto stats = ingest.run(error, {}, {});
  ASSERT_TRUE(stats) << error;
  EXPECT_EQ(stats->booked, 1);
  EXPECT_TRUE(stats->partial_line_left);
  EXPECT_EQ(stats->position, static_cast<int64_t>(testing::eventJson(a).size() + 1));

  append(line_b.substr(100) + "\n");
  auto next = ingest.run(error, {}, {});
  ASSERT_TRUE(next) << error;
  EXPECT_EQ(next->booked, 1);
  EXPECT_EQ(next->malformed, 0);
  EXPECT_FALSE(next->partial_line_left);
}

TEST_F(FileIngestTest, MalformedLinesAreSkippedAndReported) {
  EventSpec a;
  append("{not json\n\n" + testing::eventJson(a) + "\n");
  auto store = openStore(dir);
  std::string error;
  FileIngest ingest(*store, config);
  std::vector<int64_t> offsets;
  auto stats =
      ingest.run(error, {}, [&](int64_t at, const std::string&) { offsets.push_back(at); });
  ASSERT_TRUE(stats) << error;
  EXPECT_EQ(stats->malformed, 1);
  EXPECT_EQ(stats->booked, 1);
  EXPECT_EQ(offsets, std::vector<int64_t>{0});
}

TEST_F(FileIngestTest, KeepRawStoresEachEventsJsonBesideItsId) {
  EventSpec a;
  const std::string line = testing::eventJson(a);
  append(line + "\n");
  config.keep_raw = true;
  auto store = openStore(dir);
  std::string error;
  FileIngest ingest(*store, config);
  ASSERT_TRUE(ingest.run(error, {}, {})) << error;
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(config.sqlite_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id, raw FROM seen", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "evt-1");
  EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), line);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(FileIngestTest, TruncatedSourceIsRefused) {
  EventSpec a;
  append(testing::eventJson(a) + "\n");
  auto store = openStore(dir);
  std::string error;
  FileIngest ingest(*store, config);
  ASSERT_TRUE(ingest.run(error, {}, {}));
  std::ofstream(config.source_file, std::ios::trunc) << "\n";
  EXPECT_FALSE(ingest.run(error, {}, {}));
  EXPECT_NE(error.find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::ledger
