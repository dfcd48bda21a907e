#pragma once

// tollgate-ledger run as a child process, for the tests that kill it.

#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/support/process.h"

namespace tollgate::ledger::testing {

inline std::string ledgerBin() { return tollgate::testing::binDir() + "/tollgate-ledger"; }

// SIGKILLs `tollgate-ledger ingest` twice, each time after it reported three committed batches
// (it is then working on later ones: the test checks it was still running), then runs it to
// the end. Returns the final summary line ("" on failure, reported).
inline std::string ingestKilledTwiceThenToTheEnd(const std::string& config,
                                                 std::chrono::seconds wait) {
  using namespace std::chrono_literals;
  const std::vector<std::string> ingest = {ledgerBin(), "ingest", "--config", config};
  for (int kill = 0; kill < 2; ++kill) {
    tollgate::testing::Process p("tollgate-ledger", ingest);
    for (int batch = 0; batch < 3; ++batch) {
      if (!p.waitForLine("batch committed", wait)) {
        ADD_FAILURE() << "no committed batch: " << p.stderrText();
        return "";
      }
    }
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait(10s), 128 + SIGKILL) << "the ingest ended before it was killed";
  }
  tollgate::testing::Process p("tollgate-ledger", ingest);
  auto summary = p.waitForLine("ingested", wait * 2);
  EXPECT_TRUE(summary) << p.stderrText();
  EXPECT_EQ(p.wait(30s), 0) << p.stderrText();
  return summary.value_or("");
}

struct ReportTotals {
  std::string total_usd;
  int64_t events = -1;
};

// `report --format json` for the period: its total and event count.
inline ReportTotals reportTotals(const std::string& config, const std::string& period) {
  using namespace std::chrono_literals;
  tollgate::testing::Process report("tollgate-ledger", {ledgerBin(), "report", "--config", config,
                                                        "--period", period, "--format", "json"});
  std::string json;
  while (auto line = report.readLine(30s)) json += *line;
  EXPECT_EQ(report.wait(10s), 0) << report.stderrText();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ReportTotals out;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << json.substr(0, 200);
    return out;
  }
  out.total_usd = std::string(std::string_view(doc["total_usd"]));
  out.events = int64_t(doc["events"]);
  return out;
}

}  // namespace tollgate::ledger::testing
