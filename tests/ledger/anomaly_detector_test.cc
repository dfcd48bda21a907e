#include "ledger/anomaly_detector.h"

#include <gtest/gtest.h>

#include "ledger/ledger_config.h"

namespace tollgate::ledger {
namespace {

const Period kNovember = *parsePeriod("2026-11");

// Spend of `usd` for `team` in the hour `hours_from_start` hours after 2026-11-01T00:00Z
// (negative: October).
void spend(Rollups& rollups, const std::string& team, int64_t hours_from_start, const char* usd) {
  RollupKey key;
  key.hour = kNovember.start_hour + hours_from_start;
  labelOf(key.labels, Label::kTeam) = team;
  auto& t = rollups[key];
  ++t.events;
  t.cost_total += *Amount::parseUsd(usd);
}

AnomalyRule hourlyByTeam() {
  AnomalyRule rule;
  rule.name = "team-hourly";
  rule.by = {Label::kTeam};
  rule.baseline_windows = 24;
  rule.min_samples = 2;
  rule.min_amount = *Amount::parseUsd("1.00");
  rule.factor = *Decimal::parse("3");
  return rule;
}

TEST(AnomalyDetector, SpikeAboveFactorTimesTheTrailingMeanIsFlagged) {
  Rollups rollups;
  for (int h = 0; h < 10; ++h) spend(rollups, "fraud", h, "1.00");
  spend(rollups, "fraud", 10, "5.00");
  spend(rollups, "search", 10, "5.00");  // no baseline of its own: not judged
  const auto found = detectAnomalies(rollups, kNovember, hourlyByTeam());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].scope, std::vector<std::string>{"fraud"});
  EXPECT_EQ(formatHour(found[0].window_start_hour), "2026-11-01T10:00:00Z");
  EXPECT_EQ(found[0].baseline_samples, 10);
  EXPECT_EQ(found[0].baseline_mean_usd, "1.00");
  EXPECT_EQ(found[0].ratio, "5");
}

TEST(AnomalyDetector, TheWindowUnderTestIsNotInItsOwnBaseline) {
  // Mean of the two earlier hours: $1; 3.5 > 3 x 1. Were the $3.50 in its own baseline, the
  // mean would be $1.8333 and 3 x that is above 3.5.
  Rollups rollups;
  spend(rollups, "fraud", 0, "1.00");
  spend(rollups, "fraud", 1, "1.00");
  spend(rollups, "fraud", 2, "3.50");
  EXPECT_EQ(detectAnomalies(rollups, kNovember, hourlyByTeam()).size(), 1u);
}

TEST(AnomalyDetector, ExactlyFactorTimesTheMeanIsNotAnAnomaly) {
  Rollups rollups;
  spend(rollups, "fraud", 0, "1.00");
  spend(rollups, "fraud", 1, "1.00");
  spend(rollups, "fraud", 2, "3.00");
  EXPECT_TRUE(detectAnomalies(rollups, kNovember, hourlyByTeam()).empty());
}

TEST(AnomalyDetector, TooFewSamplesOrTooLittleSpendIsNotJudged) {
  Rollups rollups;
  spend(rollups, "fraud", 0, "0.10");
  spend(rollups, "fraud", 1, "5.00");  // one sample only
  spend(rollups, "search", 0, "0.01");
  spend(rollups, "search", 1, "0.01");
  spend(rollups, "search", 2, "0.90");  // x90, but under min_usd
  EXPECT_TRUE(detectAnomalies(rollups, kNovember, hourlyByTeam()).empty());
}

TEST(AnomalyDetector, BaselineReachesBackBeforeThePeriodAndOnlyPeriodWindowsAreTested) {
  Rollups rollups;
  spend(rollups, "fraud", -3, "1.00");
  spend(rollups, "fraud", -2, "9.00");  // October: a spike, but not in the period
  spend(rollups, "fraud", -1, "1.00");
  spend(rollups, "fraud", 0, "20.00");
  const auto found = detectAnomalies(rollups, kNovember, hourlyByTeam());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].window_start_hour, kNovember.start_hour);
  EXPECT_EQ(found[0].baseline_samples, 3);
}

TEST(AnomalyDetector, DayWindowsSumTheirHours) {
  AnomalyRule rule = hourlyByTeam();
  rule.window_hours = 24;
  rule.baseline_windows = 7;
  Rollups rollups;
  for (int d = 0; d < 5; ++d) {
    for (int h = 0; h < 24; ++h) spend(rollups, "fraud", d * 24 + h, "0.10");  // $2.40 a day
  }
  for (int h = 0; h < 24; ++h) spend(rollups, "fraud", 5 * 24 + h, "0.40");  // $9.60
  const auto found = detectAnomalies(rollups, kNovember, rule);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].spend.toFixedString(2), "9.60");
  EXPECT_EQ(found[0].ratio, "4");
  EXPECT_EQ(formatHour(found[0].window_start_hour), "2026-11-06T00:00:00Z");
}

TEST(AnomalyDetector, ConfigRulesAreValidatedWithTheirPath) {
  auto ok = parseLedgerConfig(R"(
source: { file: f }
store: { sqlite: s }
anomalies:
  - { name: team-daily, by: [team, model], window: day, baseline: 14, min_samples: 7,
      min_usd: "10.00", factor: "2.5" }
)");
  ASSERT_TRUE(std::holds_alternative<LedgerConfig>(ok));
  const auto& rule = std::get<LedgerConfig>(ok).anomalies.at(0);
  EXPECT_EQ(rule.window_hours, 24);
  EXPECT_EQ(rule.by.size(), 2u);
  EXPECT_EQ(rule.factor.toString(), "2.5");
  auto bad = parseLedgerConfig(R"(
source: { file: f }
store: { sqlite: s }
anomalies:
  - { by: [colour], window: week, baseline: 3, min_samples: 5, min_usd: "1e2", factor: "0.5" }
)");
  ASSERT_TRUE(std::holds_alternative<ConfigErrors>(bad));
  std::vector<std::string> paths;
  for (const auto& e : std::get<ConfigErrors>(bad)) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"anomalies[0].by[0]", "anomalies[0].window",
                                             "anomalies[0].min_samples", "anomalies[0].min_usd",
                                             "anomalies[0].factor"}));
}

}  // namespace
}  // namespace tollgate::ledger
