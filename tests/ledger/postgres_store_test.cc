// The PostgreSQL store against Debian's PostgreSQL on loopback: the same exactly-once
// promise as SQLite, exact sums beyond 64 bits, and two ledger instances sharing one store.

#include "ledger/postgres_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "ledger/cost_event_parser.h"
#include "tests/ledger/event_builder.h"
#include "tests/ledger/ledger_process.h"
#include "tests/ledger/postgres_server.h"
#include "tests/ledger/store_conformance.h"

namespace tollgate::ledger {
namespace {

using namespace std::chrono_literals;
using testing::EventSpec;

CostRecord record(const EventSpec& spec) { return testing::parsedRecord(spec); }

class PostgresStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testing::PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(server_->ready());
    std::string error;
    store_ = PostgresStore::open(server_->conninfo(), error);
    ASSERT_TRUE(store_) << error;
    // Each test starts from empty tables.
    tollgate::testing::Process truncate("psql",
                                        {"/usr/bin/psql", server_->conninfo(), "-q", "-c",
                                         "TRUNCATE rollup, seen, source_position, imported"});
    ASSERT_EQ(truncate.wait(30s), 0) << truncate.stderrText();
  }
  static testing::PostgresServer* server_;
  std::unique_ptr<PostgresStore> store_;
};

testing::PostgresServer* PostgresStoreTest::server_ = nullptr;

TEST_F(PostgresStoreTest, DuplicateIdsAreBookedOnceAcrossAndWithinBatches) {
  testing::expectDuplicateIdsBookedOnce(*store_);
}

TEST_F(PostgresStoreTest, SumsBeyondInt64StayExact) {
  // $3,000,000.000000000007 per event (1e12 input tokens at $3 per 1M, plus 7 pUSD of
  // output): four of them exceed an int64 of picodollars.
  EventSpec spec;
  spec.input_tokens = 1'000'000'000'000;
  spec.output_tokens = 7;
  spec.output_price = 1;
  std::string error;
  for (int i = 0; i < 4; ++i) {
    spec.id = "big-" + std::to_string(i);
    ASSERT_TRUE(store_->commitBatch({}, {record(spec)}, {}, error)) << error;
  }
  auto data = store_->loadPeriod(*parsePeriod("2026-11"), error);
  ASSERT_TRUE(data) << error;
  EXPECT_EQ(data->rollups.begin()->second.cost_total.toDecimalString(), "12000000.000000000028");
}

TEST_F(PostgresStoreTest, ReimportingTheSameLinesBooksThemOnceInOrder) {
  testing::expectReimportBooksOnceInOrder(*store_);
}

TEST_F(PostgresStoreTest, LineItemsAreKeptWithTheirBucketAndSummed) {
  testing::expectLineItemsKeptAndSummed(*store_);
}

TEST_F(PostgresStoreTest, PoolCallsAreKeptOnceWithTheirExactTimes) {
  testing::expectPoolCallsKeptOnceWithTheirExactTimes(*store_);
}

TEST_F(PostgresStoreTest, KeepRawStoresTheJsonEvenWithQuotesAndBackslashes) {
  EventSpec spec;
  spec.project = "a\\\"b";  // survives the text[] literal's escaping
  const std::string json = testing::eventJson(spec);
  std::string error;
  ASSERT_TRUE(store_->commitBatch({}, {record(spec)}, {json}, error)) << error;
  tollgate::testing::Process psql(
      "psql", {"/usr/bin/psql", server_->conninfo(), "-At", "-c", "SELECT raw FROM seen"});
  auto line = psql.readLine(30s);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, json);
}

std::string ledgerYaml(const std::string& events, const std::string& conninfo) {
  return "source: { file: \"" + events + "\", batch_events: 300 }\nstore: { postgres: \"" +
         conninfo + "\" }\n";
}

TEST_F(PostgresStoreTest, TwoKillsMidIngestLoseAndDoubleNothing) {
  tollgate::testing::TempDir dir;
  Amount expected;
  {
    std::ofstream out(dir.file("events.jsonl"));
    for (int i = 0; i < 6'000; ++i) {
      EventSpec spec;
      spec.id = "pg-" + std::to_string(i);
      spec.input_price = 150'001 + i % 13;
      spec.end_ns += (i % 200) * testing::kHourNs;
      const auto event = testing::costEvent(spec);
      expected += Amount::fromMoney(event.cost.total);
      std::string line;
      meter::appendCloudEventJson(event, line);
      out << line << '\n';
      if (i % 1000 == 999) out << line << '\n';  // a resend
    }
  }
  dir.write("ledger.yaml", ledgerYaml(dir.file("events.jsonl"), server_->conninfo()));
  testing::ingestKilledTwiceThenToTheEnd(dir.file("ledger.yaml"), 60s);
  const auto totals = testing::reportTotals(dir.file("ledger.yaml"), "2026-11");
  EXPECT_EQ(totals.total_usd, expected.toDecimalString());
  EXPECT_EQ(totals.events, 6'000);
}

TEST_F(PostgresStoreTest, TwoInstancesSharingTheStoreBookOverlappingEventsOnce) {
  // Two ledgers ingest at the same time from two sources whose events overlap by half (the
  // same event delivered to both), into one store.
  tollgate::testing::TempDir dir;
  Amount expected;
  std::ofstream a(dir.file("a.jsonl")), b(dir.file("b.jsonl"));
  for (int i = 0; i < 6'000; ++i) {
    EventSpec spec;
    spec.id = "shared-" + std::to_string(i);
    spec.team = i % 2 ? "fraud" : "search";
    spec.input_price = 150'001 + i % 17;
    const auto event = testing::costEvent(spec);
    expected += Amount::fromMoney(event.cost.total);
    std::string line;
    meter::appendCloudEventJson(event, line);
    if (i < 4'000) a << line << '\n';
    if (i >= 2'000) b << line << '\n';
  }
  a.close();
  b.close();
  dir.write("a.yaml", ledgerYaml(dir.file("a.jsonl"), server_->conninfo()));
  dir.write("b.yaml", ledgerYaml(dir.file("b.jsonl"), server_->conninfo()));
  const auto bin = testing::ledgerBin();
  tollgate::testing::Process pa("ledger-a", {bin, "ingest", "--config", dir.file("a.yaml")});
  tollgate::testing::Process pb("ledger-b", {bin, "ingest", "--config", dir.file("b.yaml")});
  EXPECT_EQ(pa.wait(120s), 0) << pa.stderrText();
  EXPECT_EQ(pb.wait(120s), 0) << pb.stderrText();
  const auto totals = testing::reportTotals(dir.file("a.yaml"), "2026-11");
  EXPECT_EQ(totals.total_usd, expected.toDecimalString());
  EXPECT_EQ(totals.events, 6'000);
}

TEST(PostgresStore, UnreachableServerIsAnErrorNotACrash) {
  std::string error;
  EXPECT_FALSE(
      PostgresStore::open("host=127.0.0.1 port=" + std::to_string(testing::freeLoopbackPort()) +
                              " user=postgres connect_timeout=5",
                          error));
  EXPECT_NE(error.find("cannot connect"), std::string::npos) << error;
}

}  // namespace
}  // namespace tollgate::ledger
