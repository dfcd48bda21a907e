#include "gateway/upstream/retry_after.h"

#include <gtest/gtest.h>

namespace tollgate::gateway {
namespace {

using std::chrono::seconds;

// Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
const auto kNow = std::chrono::system_clock::time_point(seconds(784111777));

TEST(RetryAfter, DelaySecondsAreTakenAsGiven) {
  EXPECT_EQ(parseRetryAfter("120", kNow), seconds(120));
  EXPECT_EQ(parseRetryAfter(" 0 ", kNow), seconds(0));
}

TEST(RetryAfter, AnHttpDateIsTheWaitUntilIt) {
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", kNow), seconds(30));
  EXPECT_EQ(parseRetryAfter("Mon, 07 Nov 1994 08:49:37 GMT", kNow), seconds(86400));
}

TEST(RetryAfter, ADateInThePastIsNoWait) {
  EXPECT_EQ(parseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", kNow), seconds(0));
}

TEST(RetryAfter, LongWaitsAreCappedAtADay) {
  EXPECT_EQ(parseRetryAfter("99999999", kNow), seconds(86400));
  EXPECT_EQ(parseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", kNow), seconds(86400));
}

TEST(RetryAfter, AnythingElseIsUnreadable) {
  for (const char* bad : {"", "-5", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT", "1234567890123456789012"}) {
    EXPECT_FALSE(parseRetryAfter(bad, kNow).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tollgate::gateway
