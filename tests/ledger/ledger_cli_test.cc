// The tollgate-ledger binary as a user runs it.
//
// Exactly once across crashes: the ledger is SIGKILLed twice in the middle of ingesting a file
// that holds resent (duplicate) events, then run to the end; the report's total equals the sum
// over distinct ids to the picodollar.
//
// The kill lands after the process printed that a batch committed, while it is working on
// later batches (the file has ~70 of them): the test checks each kill found it still running.

#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <set>

#include "ledger/amount.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/event_builder.h"
#include "tests/ledger/ledger_process.h"

namespace tollgate::ledger {
namespace {

using namespace std::chrono_literals;
using tollgate::testing::Process;
using tollgate::testing::TempDir;

using testing::ledgerBin;

TEST(ExactlyOnce, TwoKillsMidIngestWithResentEventsLoseAndDoubleNothing) {
  TempDir dir;
  constexpr int kDistinct = 30'000;
  std::vector<std::string> lines;
  Amount expected;
  std::set<std::string> ids;
  for (int i = 0; i < kDistinct; ++i) {
    testing::EventSpec spec;
    spec.id = "evt-" + std::to_string(i);
    spec.team = i % 3 == 0 ? "fraud" : (i % 3 == 1 ? "search" : "");
    spec.model = i % 2 ? "gpt-4o" : "claude-sonnet-4-5";
    spec.input_tokens = 100 + i % 977;
    spec.output_tokens = 1 + i % 331;
    spec.input_price = 150'001 + i % 7;  // odd picodollars: any double count shows
    spec.end_ns = testing::kNov2At10Ns + (i % 500) * testing::kHourNs;
    const auto event = testing::costEvent(spec);
    expected += Amount::fromMoney(event.cost.total);
    ids.insert(spec.id);
    std::string line;
    meter::appendCloudEventJson(event, line);
    lines.push_back(std::move(line));
    // The spool's resend after a gateway crash: byte-identical copies of recent events.
    if (i % 1000 == 999) {
      for (int k = 0; k < 100; ++k) lines.push_back(lines[lines.size() - 1 - 3 * k]);
    }
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kDistinct));
  {
    std::ofstream out(dir.file("events.jsonl"), std::ios::binary);
    for (const auto& line : lines) out << line << '\n';
  }
  dir.write("ledger.yaml", "source: { file: \"" + dir.file("events.jsonl") +
                               "\", batch_events: 500 }\nstore: { sqlite: \"" +
                               dir.file("ledger.db") + "\" }\n");
  testing::ingestKilledTwiceThenToTheEnd(dir.file("ledger.yaml"), 30s);
  const auto totals = testing::reportTotals(dir.file("ledger.yaml"), "2026-11");
  EXPECT_EQ(totals.total_usd, expected.toDecimalString());
  EXPECT_EQ(totals.events, kDistinct);
}

TEST(LedgerCli, BadArgumentsExitNonZeroWithOneLine) {
  TempDir dir;
  dir.write("ledger.yaml",
            "source: { file: x }\nstore: { sqlite: \"" + dir.file("l.db") + "\" }\n");
  dir.write("bad.yaml", "source: { file: x }\nstore: { sqlite: s, colour: red }\n");
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"report", "--config", dir.file("ledger.yaml")}, 2, "--period"},
      {{"report", "--config", dir.file("ledger.yaml"), "--period", "2026-13"}, 2, "--period"},
      {{"report", "--config", dir.file("ledger.yaml"), "--period", "2026-11", "--by", "colour"},
       2,
       "--by"},
      {{"report", "--config", dir.file("ledger.yaml"), "--period", "2026-11", "--format", "xml"},
       2,
       "--format"},
      {{"report", "--config", dir.file("bad.yaml"), "--period", "2026-11"}, 3, "store.colour"},
      {{"report", "--config", dir.file("missing.yaml"), "--period", "2026-11"}, 3, "missing.yaml"},
      {{"import", "--config", dir.file("ledger.yaml")}, 2, "FILE.csv"},
      {{"ingest", "--config", dir.file("ledger.yaml")}, 4, "cannot open x"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {ledgerBin()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Process p("tollgate-ledger", argv);
    EXPECT_EQ(p.wait(10s), c.status) << c.args[0] << " " << c.says;
    const std::string err = p.stderrText();
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
    EXPECT_NE(err.find("tollgate-ledger: "), std::string::npos) << err;
  }
}

TEST(LedgerCli, ImportThenReportInEveryFormat) {
  TempDir dir;
  std::string events;
  Amount metered;
  for (int i = 0; i < 3; ++i) {
    testing::EventSpec spec;
    spec.id = "cli-" + std::to_string(i);
    const auto event = testing::costEvent(spec);
    metered += Amount::fromMoney(event.cost.total);
    meter::appendCloudEventJson(event, events);
    events += '\n';
  }
  dir.write("events.jsonl", events);
  dir.write("costs.csv",
            "period_start,period_end,description,category,amount_usd,quantity,unit,rate_usd,team,"
            "project,cost_center,workload_type,environment,runs_completed\n"
            "2026-11-01,2026-12-01,Blended,invoice,60000.00,,,,,,,,,14\n");
  dir.write("bad.csv", "period_start,amount\n2026-11-01,1\n");
  dir.write("gateway.yaml",
            "budgets:\n  - { name: b, scope: { team: fraud }, limit_usd: \"1\" }\n");
  dir.write("ledger.yaml", "source: { file: \"" + dir.file("events.jsonl") +
                               "\" }\nstore: { sqlite: \"" + dir.file("l.db") +
                               "\" }\ngateway_config: \"" + dir.file("gateway.yaml") +
                               "\"\nallocation:\n  - { match: { category: invoice }, split_by: "
                               "workload_type, shares: { training: \"35\", inference: \"55\", "
                               "notebook: \"10\" } }\n");
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {ledgerBin()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", dir.file("ledger.yaml")});
    Process p("tollgate-ledger", argv);
    std::string out;
    while (auto line = p.readLine(30s)) out += *line + "\n";
    EXPECT_EQ(p.wait(10s), 0) << args[0] << ": " << p.stderrText();
    return out;
  };
  run({"ingest"});
  EXPECT_NE(run({"import", dir.file("costs.csv")}).find("imported lines=1"), std::string::npos);
  EXPECT_NE(run({"import", dir.file("costs.csv")}).find("already_imported=1"), std::string::npos);
  {
    Process bad("tollgate-ledger",
                {ledgerBin(), "import", dir.file("bad.csv"), "--config", dir.file("ledger.yaml")});
    EXPECT_EQ(bad.wait(10s), 5);
  }
  const std::string json =
      run({"report", "--period", "2026-11", "--format", "json", "--by", "workload_type"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  const Amount total = metered + *Amount::parseUsd("60000");
  EXPECT_EQ(std::string_view(doc["total_usd"]), total.toDecimalString());
  EXPECT_EQ(std::string_view(doc["unit_costs"]["per_completed_run_usd"]), "1500.00");
  EXPECT_EQ(std::string_view(doc["review_metrics"]["budget_variance"].at(0)["budget"]), "b");
  EXPECT_NE(run({"report", "--period", "2026-11"}).find("Chargeback"), std::string::npos);
  EXPECT_NE(run({"report", "--period", "2026-11", "--format", "csv"}).find("team,cost_usd"),
            std::string::npos);
  EXPECT_NE(run({"report", "--period", "2026-11", "--format", "focus"}).find("BilledCost,"),
            std::string::npos);
  dir.write(
      "catalog.yaml",
      "price_defaults: false\nprices:\n  \"claude-sonnet-4*\": { input: \"1\", output: \"2\" }\n");
  const std::string repriced = run(
      {"report", "--period", "2026-11", "--format", "json", "--reprice", dir.file("catalog.yaml")});
  // 3 calls of 1,500 input and 400 output tokens at $1 / $2 per 1M: $0.0069.
  EXPECT_NE(repriced.find("\"new_metered_usd\":\"0.0069\""), std::string::npos) << repriced;
  run({"report", "--period", "2026-11", "--format", "html", "--out", dir.file("r.html")});
  std::ifstream html(dir.file("r.html"));
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("chart-spend-by-team"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::ledger
