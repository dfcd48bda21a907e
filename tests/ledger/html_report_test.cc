// The HTML report: self-contained (nothing fetched), and rendered by Debian's headless
// Chromium with every chart present in the DOM and a screenshot written.

#include "ledger/html_report.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <regex>

#include "ledger/cost_event_parser.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using namespace std::chrono_literals;
using testing::EventSpec;

// Four teams over three weeks, one unattributed call, two budgets (one over).
std::string samplePage(Report* out = nullptr) {
  LedgerData data;
  data.period = *parsePeriod("2026-11");
  CostEventParser parser;
  const char* teams[] = {"fraud", "search", "ml", ""};
  for (int i = 0; i < 200; ++i) {
    EventSpec spec;
    spec.id = "e" + std::to_string(i);
    spec.team = teams[i % 4];
    spec.cost_center = spec.team.empty() ? "" : "cc-" + spec.team;
    spec.input_tokens = 1000 + 500 * (i % 7);
    spec.output_tokens = 200 + 50 * (i % 5);
    spec.input_price = 3'000'000 - 10'000 * (i / 10);  // the unit cost falls week by week
    spec.end_ns = testing::kNov2At10Ns + (i % 20) * 24 * testing::kHourNs;
    addToRollups(data.rollups, parser.parse(testing::eventJson(spec)).record);
  }
  const std::vector<Budget> budgets = {
      {"fraud-monthly", {{"team", "fraud"}}, "month", *Amount::parseUsd("0.50")},
      {"search-monthly", {{"team", "search"}}, "month", *Amount::parseUsd("5.00")}};
  Report report = computeReport(data, {Label::kTeam}, {}, budgets);
  std::string page = formatHtml(data, report);
  if (out != nullptr) *out = std::move(report);
  return page;
}

TEST(HtmlReport, FetchesNothing) {
  const std::string page = samplePage();
  for (const char* forbidden :
       {"<script", "src=", "href=", "url(", "@import", "http://", "https://"}) {
    EXPECT_EQ(page.find(forbidden), std::string::npos) << forbidden;
  }
}

TEST(HtmlReport, ShowsTheExactTotalAndEveryMetric) {
  Report report;
  const std::string page = samplePage(&report);
  EXPECT_NE(page.find("$" + report.total.toFixedString(2)), std::string::npos);
  for (const char* metric : {"gpu_idle_pct", "cost_per_1k_tokens_trend", "paved_road_pct",
                             "unallocated_pct", "budget_variance"}) {
    EXPECT_NE(page.find(std::string("data-metric=\"") + metric + "\""), std::string::npos)
        << metric;
  }
}

std::vector<std::string> chromium(const std::string& user_data_dir,
                                  std::vector<std::string> extra) {
  std::vector<std::string> argv = {"/usr/bin/chromium",
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + user_data_dir};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(HtmlReport, RendersInHeadlessChromiumWithEveryChart) {
  tollgate::testing::TempDir dir;
  dir.write("report.html", samplePage());
  const std::string url = "file://" + dir.file("report.html");

  tollgate::testing::Process dump("chromium",
                                  chromium(dir.file("profile-dom"), {"--dump-dom", url}));
  std::string dom;
  while (auto line = dump.readLine(60s)) dom += *line + "\n";
  ASSERT_EQ(dump.wait(30s), 0) << dump.stderrText();
  for (const char* chart : {"chart-spend-by-team", "chart-unit-cost-trend",
                            "chart-unallocated-share", "chart-budget-variance"}) {
    EXPECT_NE(dom.find(std::string("id=\"") + chart + "\""), std::string::npos) << chart;
  }
  // The charts have their marks: bars for the four team series, the trend line, both parts of
  // the allocated share and the two budgets.
  auto count = [&](const std::string& pattern) {
    const std::regex re(pattern);
    return std::distance(std::sregex_iterator(dom.begin(), dom.end(), re), std::sregex_iterator());
  };
  EXPECT_EQ(count("<rect class=\"bar\" data-team=\"fraud\""), 5);  // calls on 5 days
  EXPECT_EQ(count("<rect class=\"bar\" data-team=\"\\(no team\\)\"") > 0, true);
  EXPECT_EQ(count("<polyline class=\"trend\""), 1);
  EXPECT_EQ(count("<circle class=\"point\""), 3);
  EXPECT_EQ(count("<rect class=\"unallocated\""), 1);
  EXPECT_EQ(count("<rect class=\"budget-actual\""), 2);
  EXPECT_EQ(count("data-metric="), 5);

  const std::string png = dir.file("report.png");
  tollgate::testing::Process shot(
      "chromium",
      chromium(dir.file("profile-shot"),
               {"--screenshot=" + png, "--window-size=800,1800", "--hide-scrollbars", url}));
  ASSERT_EQ(shot.wait(60s), 0) << shot.stderrText();
  struct stat st {};
  ASSERT_EQ(::stat(png.c_str(), &st), 0);
  EXPECT_GT(st.st_size, 20'000) << "a blank page compresses to a few kilobytes";
}

}  // namespace
}  // namespace tollgate::ledger
