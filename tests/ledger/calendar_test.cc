#include "ledger/calendar.h"

#include <gtest/gtest.h>

namespace tollgate::ledger {
namespace {

TEST(Calendar, EventTimeFallsInItsUtcHour) {
  const auto hour = hourOfRfc3339("2026-11-22T14:42:30.123456Z");
  ASSERT_TRUE(hour);
  EXPECT_EQ(formatHour(*hour), "2026-11-22T14:00:00Z");
  EXPECT_EQ(formatHour(*hourOfRfc3339("2026-11-22T01:30:00+02:00")), "2026-11-21T23:00:00Z");
  EXPECT_FALSE(hourOfRfc3339("2026-11-22 14:42"));
  EXPECT_FALSE(hourOfRfc3339("2026-02-30T00:00:00Z"));
}

TEST(Calendar, MonthPeriodIsStartInclusiveEndExclusive) {
  const auto p = parsePeriod("2026-12");
  ASSERT_TRUE(p);
  EXPECT_EQ(formatHour(p->start_hour), "2026-12-01T00:00:00Z");
  EXPECT_EQ(formatHour(p->end_hour), "2027-01-01T00:00:00Z");
  EXPECT_FALSE(parsePeriod("2026-13"));
  EXPECT_FALSE(parsePeriod("2026-1"));
}

TEST(Calendar, IsoWeeksFollowThursdays) {
  EXPECT_EQ(isoWeek(*hourOfDate("2026-11-02")), "2026-W45");
  EXPECT_EQ(isoWeek(*hourOfDate("2026-11-01")), "2026-W44");
  EXPECT_EQ(isoWeek(*hourOfDate("2027-01-01")), "2026-W53");
  EXPECT_EQ(isoWeek(*hourOfDate("2025-12-29")), "2026-W01");
}

}  // namespace
}  // namespace tollgate::ledger
