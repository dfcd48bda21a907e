#include "gateway/core/ids.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <random>
#include <set>

namespace tollgate::gateway {
namespace {

TEST(WriteLowerHex16, WritesSixteenLowerHexDigitsMostSignificantFirst) {
  std::mt19937_64 random(7);
  std::vector<uint64_t> values = {
      0,    1, 9, 10, 15, 16, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x8000000000000000ULL,
      ~0ULL};
  for (int i = 0; i < 10000; ++i) values.push_back(random());
  for (const uint64_t v : values) {
    char want[17];
    std::snprintf(want, sizeof want, "%016" PRIx64, v);
    char got[16];
    writeLowerHex16(v, got);
    ASSERT_EQ(std::string_view(got, 16), std::string_view(want, 16)) << v;
  }
}

TEST(IdGenerator, RequestIdsAre32LowerHexAndDistinct) {
  IdGenerator ids;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = ids.requestId();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.view().find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(std::string(id.view()));
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdGenerator, TraceAndSpanIdsHaveTheirW3cLengthsAndAreNeverZero) {
  IdGenerator ids;
  for (int i = 0; i < 1000; ++i) {
    const auto trace = ids.traceId();
    const auto span = ids.spanId();
    ASSERT_EQ(trace.size(), 32u);
    ASSERT_EQ(span.size(), 16u);
    ASSERT_EQ(trace.view().find_first_not_of("0123456789abcdef"), std::string::npos);
    ASSERT_EQ(span.view().find_first_not_of("0123456789abcdef"), std::string::npos);
    ASSERT_NE(trace.view().find_first_not_of('0'), std::string::npos);
    ASSERT_NE(span.view().find_first_not_of('0'), std::string::npos);
  }
}

TEST(InlineId, HoldsUpToItsCapacityAndRefusesMore) {
  SpanId id;
  EXPECT_TRUE(id.empty());
  id = "00f067aa0ba902b7";
  EXPECT_EQ(id, "00f067aa0ba902b7");
  id = "req-1";  // shorter ids (tests, fixtures) are kept as they are
  EXPECT_EQ(id.size(), 5u);
  EXPECT_EQ(std::string(id), "req-1");
  EXPECT_THROW(id = "00f067aa0ba902b7a", std::length_error);
}

TEST(TraceParent, ValidHeaderIsParsed) {
  TraceParent tp;
  ASSERT_TRUE(parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tp));
  EXPECT_EQ(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp.parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(tp.flags, 1);
}

TEST(TraceParent, InvalidHeadersAreRefused) {
  TraceParent tp;
  EXPECT_FALSE(parseTraceParent("", tp));
  EXPECT_FALSE(parseTraceParent("00-00000000000000000000000000000000-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", tp));
  EXPECT_FALSE(parseTraceParent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parseTraceParent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", tp));
}

// A field as a parsed head carries it: its name and Beast's code for it.
}  // namespace
}  // namespace tollgate::gateway
