// The budgets:, rate_limits:, spend_state: and alerts: sections (issue 16).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "tests/config/section_parse.h"

namespace tollgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kTestdata = TOLLGATE_TESTDATA_DIR;

Config parseValid(const std::string& yaml) { return testing::parseSection(yaml); }

std::vector<std::string> errorsOf(const std::string& yaml) { return testing::sectionErrors(yaml); }

TEST(BudgetsConfig, ReadsTheIssuesExampleExactly) {
  const Config config = parseValid(R"(
budgets:
  - name: fraud-monthly
    scope: { team: fraud-platform }
    period: month
    timezone: Europe/Berlin
    limit_usd: "5000.00"
    alert_at: [50, 80, 100]
    action: block
    streams: cut
rate_limits:
  - name: fraud-prod-tpm
    scope: { key_id: fraud-prod }
    input_tokens_per_minute: 200000
    output_tokens_per_minute: 50000
    requests_per_minute: 600
spend_state:
  backend: redis
  redis: { url: "redis://127.0.0.1:6390/2", on_unavailable: open }
alerts:
  webhook: { url: "https://hooks.slack.com/services/x", format: cloudevents }
)");
  ASSERT_EQ(config.budgets.size(), 1u);
  const BudgetConfig& b = config.budgets[0];
  EXPECT_EQ(b.name, "fraud-monthly");
  EXPECT_EQ(b.scope.team, "fraud-platform");
  EXPECT_EQ(b.scope.project, "");
  EXPECT_EQ(b.period, "month");
  EXPECT_EQ(b.timezone, "Europe/Berlin");
  EXPECT_EQ(b.time_zone->name(), "Europe/Berlin");
  EXPECT_EQ(b.limit.pico(), 5000 * meter::Money::kPicoPerUsd);
  EXPECT_THAT(b.alert_at, ElementsAre(50u, 80u, 100u));
  EXPECT_EQ(b.action, "block");
  EXPECT_EQ(b.streams, "cut");
  ASSERT_EQ(config.rate_limits.size(), 1u);
  EXPECT_EQ(config.rate_limits[0].scope.key_id, "fraud-prod");
  EXPECT_EQ(config.rate_limits[0].input_tokens_per_minute, 200000u);
  EXPECT_EQ(config.rate_limits[0].output_tokens_per_minute, 50000u);
  EXPECT_EQ(config.rate_limits[0].requests_per_minute, 600u);
  EXPECT_EQ(config.spend_state.backend, "redis");
  EXPECT_EQ(config.spend_state.redis.host, "127.0.0.1");
  EXPECT_EQ(config.spend_state.redis.port, 6390);
  EXPECT_EQ(config.spend_state.redis.db, 2u);
  EXPECT_EQ(config.spend_state.redis.on_unavailable, "open");
  EXPECT_EQ(config.alerts.webhook.format, "cloudevents");
}

TEST(BudgetsConfig, DefaultsAreLocalStateAndNoBudgets) {
  const Config config = parseValid("");
  EXPECT_THAT(config.budgets, IsEmpty());
  EXPECT_EQ(config.spend_state.backend, "local");
  EXPECT_EQ(config.spend_state.redis.on_unavailable, "closed");
  EXPECT_EQ(config.alerts.webhook.url, "");
}

TEST(BudgetsConfig, AnEmptyScopeCoversEverythingAndDefaultsApply) {
  const Config config = parseValid(R"(
budgets:
  - { name: all, scope: {}, limit_usd: "1" }
)");
  ASSERT_EQ(config.budgets.size(), 1u);
  EXPECT_EQ(config.budgets[0].scope.team, "");
  EXPECT_EQ(config.budgets[0].period, "month");
  EXPECT_EQ(config.budgets[0].time_zone->offsetAt(0), 0);
  EXPECT_THAT(config.budgets[0].alert_at, ElementsAre(50u, 80u, 100u));
}

TEST(BudgetsConfig, ClampMaxTokensIsABoolean) {
  EXPECT_TRUE(parseValid("budgets: [{ name: a, limit_usd: \"1\", clamp_max_tokens: true }]\n")
                  .budgets[0]
                  .clamp_max_tokens);
  EXPECT_THAT(errorsOf("budgets: [{ name: a, limit_usd: \"1\", clamp_max_tokens: maybe }]\n"),
              ElementsAre("budgets[0].clamp_max_tokens: expected a boolean (true or false)"));
}

TEST(BudgetsConfig, LimitIsAnExactDecimal) {
  const Config config = parseValid(R"(
budgets:
  - { name: tiny, limit_usd: "0.000000000001" }
)");
  EXPECT_EQ(config.budgets[0].limit.pico(), 1);
}

TEST(BudgetsConfig, ErrorsNameTheBadKeyPath) {
  EXPECT_THAT(errorsOf(R"(
budgets:
  - name: a
    scope: { team: x, region: eu }
    period: year
    timezone: Mars/Olympus
    limit_usd: "-5"
    alert_at: [80, 50]
    action: refuse
    streams: stop
)"),
              ElementsAre("budgets[0].scope.region: unknown key",
                          "budgets[0].period: must be one of day, week, month",
                          "budgets[0].timezone: unknown time zone (no "
                          "/usr/share/zoneinfo/Mars/Olympus)",
                          "budgets[0].limit_usd: must be a positive decimal string of USD (e.g. "
                          "\"5000.00\")",
                          "budgets[0].alert_at[1]: thresholds must be ascending without repeats",
                          "budgets[0].action: must be block or alert",
                          "budgets[0].streams: must be cut or finish"));
}

TEST(BudgetsConfig, NameAndLimitAreRequiredAndNamesUnique) {
  EXPECT_THAT(errorsOf(R"(
budgets:
  - { scope: {} }
  - { name: a, limit_usd: "1" }
  - { name: a, limit_usd: "1.1234567890123" }
)"),
              ElementsAre("budgets[0].name: is required", "budgets[0].limit_usd: is required",
                          "budgets[2].name: duplicate budget name \"a\"",
                          "budgets[2].limit_usd: must be a positive decimal string of USD (e.g. "
                          "\"5000.00\")"));
}

TEST(BudgetsConfig, ATimeZoneNameCannotLeaveTheZoneDirectory) {
  EXPECT_THAT(errorsOf(R"(
budgets:
  - { name: a, limit_usd: "1", timezone: "../../etc/passwd" }
)"),
              ElementsAre("budgets[0].timezone: not an IANA time zone name (e.g. Europe/Berlin)"));
}

TEST(RateLimitsConfig, NeedsALimitAndValidRates) {
  EXPECT_THAT(errorsOf(R"(
rate_limits:
  - { name: a, scope: { key_id: k } }
  - { name: b, requests_per_minute: 0 }
)"),
              ElementsAre("rate_limits[0]: needs at least one of input_tokens_per_minute, "
                          "output_tokens_per_minute, requests_per_minute",
                          "rate_limits[1].requests_per_minute: expected a positive integer (at "
                          "most 1000000000)"));
}

TEST(SpendStateConfig, RejectsBadRedisUrlsAndModes) {
  EXPECT_THAT(
      errorsOf(R"(
spend_state:
  backend: memcached
  redis: { url: "redis://user:pw@host:6379/0", on_unavailable: maybe, timeout_ms: 0 }
)"),
      ElementsAre("spend_state.backend: must be local or redis",
                  "spend_state.redis.url: expected redis://host[:port][/db] (credentials in the "
                  "URL are not supported)",
                  "spend_state.redis.on_unavailable: must be closed or open",
                  "spend_state.redis.timeout_ms: expected an integer of milliseconds from 1 to "
                  "60000"));
  EXPECT_THAT(errorsOf("spend_state: { redis: { url: \"redis://h:6379/16\" } }\n"),
              ElementsAre("spend_state.redis.url: expected redis://host[:port][/db] "
                          "(credentials in the URL are not supported)"));
}

TEST(SpendStateConfig, RedisUrlDefaultsPortAndDb) {
  const Config config = parseValid("spend_state: { redis: { url: \"redis://[::1]\" } }\n");
  EXPECT_EQ(config.spend_state.redis.host, "::1");
  EXPECT_EQ(config.spend_state.redis.port, 6379);
  EXPECT_EQ(config.spend_state.redis.db, 0u);
}

TEST(AlertsConfig, WebhookNeedsAnHttpUrlAndAKnownFormat) {
  EXPECT_THAT(errorsOf("alerts: { webhook: { url: \"ftp://x\", format: teams } }\n"),
              ElementsAre("alerts.webhook.url: must start with http:// or https://",
                          "alerts.webhook.format: must be slack or cloudevents"));
  EXPECT_THAT(errorsOf("alerts: { webhook: { format: slack } }\n"),
              ElementsAre("alerts.webhook.url: is required"));
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int64_t utc(int64_t y, unsigned m, unsigned d, int64_t h = 0, int64_t min = 0) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + static_cast<int64_t>(doe) - 719468) * 86400 + h * 3600 + min * 60;
}

TEST(TimeZone, BerlinOffsetsFollowTheTransitionsAndTheFooterRule) {
  const auto zone =
      TimeZone::parse("Europe/Berlin", readFile(kTestdata + "/zoneinfo/Europe_Berlin"));
  ASSERT_TRUE(zone);
  EXPECT_EQ(zone->offsetAt(utc(2026, 1, 15)), 3600);
  EXPECT_EQ(zone->offsetAt(utc(2026, 7, 15)), 7200);
  // 2026-03-29 01:00 UTC: CET -> CEST; 2026-10-25 01:00 UTC: back.
  EXPECT_EQ(zone->offsetAt(utc(2026, 3, 29, 0, 59)), 3600);
  EXPECT_EQ(zone->offsetAt(utc(2026, 3, 29, 1, 0)), 7200);
  EXPECT_EQ(zone->offsetAt(utc(2026, 10, 25, 0, 59)), 7200);
  EXPECT_EQ(zone->offsetAt(utc(2026, 10, 25, 1, 0)), 3600);
  // Far past the file's transitions: the footer "CET-1CEST,M3.5.0,M10.5.0/3".
  EXPECT_EQ(zone->offsetAt(utc(2090, 3, 26, 0, 59)), 3600);
  EXPECT_EQ(zone->offsetAt(utc(2090, 3, 26, 1, 0)), 7200);
  EXPECT_EQ(zone->offsetAt(utc(2090, 10, 29, 1, 0)), 3600);
  // Before 1893 Berlin kept local mean time.
  EXPECT_EQ(zone->offsetAt(utc(1800, 1, 1)), 3208);
}

TEST(TimeZone, LocalMidnightMapsBackToUtc) {
  const auto zone =
      TimeZone::parse("Europe/Berlin", readFile(kTestdata + "/zoneinfo/Europe_Berlin"));
  ASSERT_TRUE(zone);
  EXPECT_EQ(zone->utcOfLocal(utc(2026, 12, 1)), utc(2026, 11, 30, 23));
  EXPECT_EQ(zone->utcOfLocal(utc(2026, 7, 1)), utc(2026, 6, 30, 22));
  // 02:30 on 2026-03-29 does not exist: shifted forward by the hour skipped.
  EXPECT_EQ(zone->utcOfLocal(utc(2026, 3, 29, 2, 30)), utc(2026, 3, 29, 1, 30));
  // 02:30 on 2026-10-25 happens twice: the first.
  EXPECT_EQ(zone->utcOfLocal(utc(2026, 10, 25, 2, 30)), utc(2026, 10, 25, 0, 30));
}

TEST(TimeZone, RejectsTruncatedOrForeignData) {
  const std::string data = readFile(kTestdata + "/zoneinfo/Europe_Berlin");
  EXPECT_FALSE(TimeZone::parse("x", data.substr(0, 100)));
  EXPECT_FALSE(TimeZone::parse("x", "not a zone file at all, really not one, no no no"));
  EXPECT_TRUE(TimeZone::parse("x", data));
}

}  // namespace
}  // namespace tollgate::config
