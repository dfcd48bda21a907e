// The test-only spend clock of --test-clock-file: the time written in a file.
#include "gateway/policy/file_clock.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>

#include "tests/integration/support/process.h"

namespace tollgate::gateway {
namespace {

TEST(FileClock, ParsesUnixSecondsWithUpToThreeDecimals) {
  EXPECT_EQ(FileClock::parse("1765540800"), 1765540800000);
  EXPECT_EQ(FileClock::parse("1765540800.25\n"), 1765540800250);
  EXPECT_EQ(FileClock::parse("1765540800.007"), 1765540800007);
  EXPECT_EQ(FileClock::parse("0"), 0);
}

TEST(FileClock, RejectsWhatIsNotAUnixTime) {
  EXPECT_EQ(FileClock::parse(""), std::nullopt);
  EXPECT_EQ(FileClock::parse("soon"), std::nullopt);
  EXPECT_EQ(FileClock::parse("-5"), std::nullopt);
  EXPECT_EQ(FileClock::parse("12."), std::nullopt);
  EXPECT_EQ(FileClock::parse("12.0001"), std::nullopt);
  EXPECT_EQ(FileClock::parse("12.x"), std::nullopt);
  EXPECT_EQ(FileClock::parse("2026-12-05"), std::nullopt);
  EXPECT_EQ(FileClock::parse("99999999999999999999"), std::nullopt);
}

TEST(FileClock, AMissingOrMalformedFileRefusesToStart) {
  tollgate::testing::TempDir dir;
  EXPECT_THROW(FileClock(dir.file("absent")), std::runtime_error);
  dir.write("bad", "tomorrow");
  EXPECT_THROW(FileClock(dir.file("bad")), std::runtime_error);
}

TEST(FileClock, StandsStillUntilTheFileChangesThenFollowsIt) {
  tollgate::testing::TempDir dir;
  dir.write("now", "1765540800");
  FileClock clock(dir.file("now"));
  EXPECT_EQ(clock.nowMs(), 1765540800000);
  EXPECT_EQ(clock.nowMs(), 1765540800000);
  // Written aside and renamed into place, as a test moving the clock does.
  dir.write("next", "1767225600.5");
  ASSERT_EQ(std::rename(dir.file("next").c_str(), dir.file("now").c_str()), 0);
  EXPECT_EQ(clock.nowMs(), 1767225600500);
}

TEST(FileClock, KeepsTheLastGoodTimeWhenTheFileBreaks) {
  tollgate::testing::TempDir dir;
  dir.write("now", "1765540800");
  FileClock clock(dir.file("now"));
  dir.write("now", "garbage!");
  EXPECT_EQ(clock.nowMs(), 1765540800000);
  ASSERT_EQ(std::remove(dir.file("now").c_str()), 0);
  EXPECT_EQ(clock.nowMs(), 1765540800000);
  dir.write("now", "1765540801");
  EXPECT_EQ(clock.nowMs(), 1765540801000);
}

}  // namespace
}  // namespace tollgate::gateway
