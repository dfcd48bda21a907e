#include "meter/sse_framer.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace tollgate::meter {
namespace {

struct Got {
  std::string event;
  std::string data;
  size_t raw_begin = 0;
  size_t raw_end = 0;

  friend bool operator==(const Got&, const Got&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Got& g) {
    return os << "{event=" << testing::PrintToString(g.event)
              << " data=" << testing::PrintToString(g.data) << " raw=[" << g.raw_begin << ","
              << g.raw_end << ")}";
  }
};

// Feeds `input` cut at `cuts` (sorted offsets), then ends the stream.
std::vector<Got> parse(std::string_view input, const std::vector<size_t>& cuts) {
  SseFramer framer;
  std::vector<Got> got;
  auto collect = [&](const SseEvent& ev) {
    got.push_back(Got{std::string(ev.event), std::string(ev.data), ev.raw_begin, ev.raw_end});
  };
  size_t from = 0;
  for (size_t cut : cuts) {
    framer.feed(input.substr(from, cut - from), collect);
    from = cut;
  }
  framer.feed(input.substr(from), collect);
  framer.finish(collect);
  EXPECT_EQ(framer.offset(), input.size());
  return got;
}

std::vector<Got> parseWhole(std::string_view input) { return parse(input, {}); }

// Every way of cutting the input in two, in three around each position, and byte by byte
// gives the same events.
void expectSameForEverySplit(std::string_view input, const std::vector<Got>& expected) {
  ASSERT_EQ(parseWhole(input), expected);
  for (size_t i = 0; i <= input.size(); ++i) {
    ASSERT_EQ(parse(input, {i}), expected) << "split at " << i;
    for (size_t j = i; j <= input.size() && j <= i + 3; ++j) {
      ASSERT_EQ(parse(input, {i, j}), expected) << "split at " << i << " and " << j;
    }
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  ASSERT_EQ(parse(input, every_byte), expected) << "byte by byte";
}

TEST(SseFramer, LfEventsWithOffsets) {
  const std::string in = "data: a\n\ndata: bc\n\n";
  expectSameForEverySplit(in, {{"", "a", 0, 9}, {"", "bc", 9, 19}});
}

TEST(SseFramer, CrlfEventsIncludeTheWholeBlankLine) {
  const std::string in = "data: a\r\n\r\ndata: bc\r\n\r\n";
  expectSameForEverySplit(in, {{"", "a", 0, 11}, {"", "bc", 11, 23}});
}

TEST(SseFramer, CrOnlyEvents) {
  const std::string in = "data: a\r\rdata: bc\r\r";
  expectSameForEverySplit(in, {{"", "a", 0, 9}, {"", "bc", 9, 19}});
}

TEST(SseFramer, MixedLineEndings) {
  const std::string in = "data: a\r\ndata: b\rdata: c\n\r\ndata: d\n\r";
  expectSameForEverySplit(in, {{"", "a\nb\nc", 0, 27}, {"", "d", 27, 36}});
}

TEST(SseFramer, LoneCrBlankLineAtEndWaitsForTheNextByte) {
  SseFramer framer;
  std::vector<Got> got;
  auto collect = [&](const SseEvent& ev) {
    got.push_back(Got{std::string(ev.event), std::string(ev.data), ev.raw_begin, ev.raw_end});
  };
  framer.feed("data: a\r\n\r", collect);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(framer.hasPartial());
  framer.feed("\ndata: b\n\n", collect);
  EXPECT_EQ(got, (std::vector<Got>{{"", "a", 0, 11}, {"", "b", 11, 20}}));
  EXPECT_FALSE(framer.hasPartial());
}

TEST(SseFramer, FinishDispatchesAnEventEndedByALoneCr) {
  SseFramer framer;
  std::vector<Got> got;
  auto collect = [&](const SseEvent& ev) {
    got.push_back(Got{std::string(ev.event), std::string(ev.data), ev.raw_begin, ev.raw_end});
  };
  framer.feed("data: a\r\r", collect);
  EXPECT_TRUE(got.empty());
  framer.finish(collect);
  EXPECT_EQ(got, (std::vector<Got>{{"", "a", 0, 9}}));
  EXPECT_FALSE(framer.hasPartial());
}

TEST(SseFramer, CommentBlocksDispatchNothingAndCommentsInsideAnEventBelongToIt) {
  const std::string in = ": keep-alive\n\ndata: x\n\n: note\ndata: y\n\n";
  expectSameForEverySplit(in, {{"", "x", 14, 23}, {"", "y", 23, 39}});
}

TEST(SseFramer, MultiLineDataIsJoinedWithNewlines) {
  const std::string in = "data: {\"a\":\ndata:  1}\ndata\n\n";
  expectSameForEverySplit(in, {{"", "{\"a\":\n 1}\n", 0, 28}});
}

TEST(SseFramer, DataWithoutSpaceAndOnlyOneSpaceStripped) {
  const std::string in = "data:x\n\ndata:  y\n\n";
  expectSameForEverySplit(in, {{"", "x", 0, 8}, {"", " y", 8, 18}});
}

TEST(SseFramer, DataFieldWithoutValueDispatchesAnEmptyEvent) {
  const std::string in = "data\n\ndata:\n\n";
  expectSameForEverySplit(in, {{"", "", 0, 6}, {"", "", 6, 13}});
}

TEST(SseFramer, EventNamesLastOneWinsAndDoNotLeakIntoTheNextEvent) {
  const std::string in =
      "event: ping\nevent: message_start\ndata: {}\n\n"
      "data: plain\n\n"
      "event:content_block_delta\r\ndata: d\r\n\r\n";
  expectSameForEverySplit(in, {{"message_start", "{}", 0, 43},
                               {"", "plain", 43, 56},
                               {"content_block_delta", "d", 56, 94}});
}

TEST(SseFramer, BlockWithEventNameButNoDataIsNotDispatched) {
  const std::string in = "event: ping\n\ndata: z\n\n";
  expectSameForEverySplit(in, {{"", "z", 13, 22}});
}

TEST(SseFramer, UnknownFieldsIdAndRetryAreIgnored) {
  const std::string in = "id: 7\nretry: 1000\nfoo: bar\ndata: v\nnocolon\n\n";
  expectSameForEverySplit(in, {{"", "v", 0, 44}});
}

TEST(SseFramer, ExtraBlankLinesBetweenEventsAreNotPartOfEvents) {
  const std::string in = "\n\r\ndata: a\n\n\n\ndata: b\n\n";
  expectSameForEverySplit(in, {{"", "a", 3, 12}, {"", "b", 14, 23}});
}

TEST(SseFramer, EventWithoutItsBlankLineIsNotDispatched) {
  EXPECT_TRUE(parseWhole("data: a\n").empty());
  EXPECT_TRUE(parseWhole("data: a").empty());
  EXPECT_EQ(parseWhole("data: a\n\ndata: b\n"), (std::vector<Got>{{"", "a", 0, 9}}));
}

TEST(SseFramer, LargeEventAcrossManyChunks) {
  std::string payload(100000, 'x');
  payload[500] = ':';
  const std::string in = "event: big\ndata: " + payload + "\ndata: tail\n\n";
  const std::vector<Got> expected{{"big", payload + "\ntail", 0, in.size()}};
  std::vector<size_t> cuts;
  for (size_t i = 1000; i < in.size(); i += 1000) cuts.push_back(i);
  EXPECT_EQ(parse(in, cuts), expected);
  EXPECT_EQ(parseWhole(in), expected);
}

TEST(SseFramer, HasPartialAndPartialBeginTrackPendingBytes) {
  SseFramer framer;
  int events = 0;
  auto count = [&](const SseEvent&) { ++events; };
  EXPECT_FALSE(framer.hasPartial());
  EXPECT_EQ(framer.partialBegin(), 0u);

  framer.feed("data: a\n\n: c", count);
  EXPECT_EQ(events, 1);
  EXPECT_EQ(framer.offset(), 12u);
  EXPECT_TRUE(framer.hasPartial());
  EXPECT_EQ(framer.partialBegin(), 9u);  // the partial comment line

  framer.feed("\n\n", count);
  EXPECT_FALSE(framer.hasPartial());
  EXPECT_EQ(framer.partialBegin(), 14u);

  framer.feed("da", count);
  EXPECT_TRUE(framer.hasPartial());
  EXPECT_EQ(framer.partialBegin(), 14u);
  framer.feed("ta: b\n", count);
  EXPECT_TRUE(framer.hasPartial());
  EXPECT_EQ(framer.partialBegin(), 14u);
  framer.feed("\n", count);
  EXPECT_EQ(events, 2);
  EXPECT_FALSE(framer.hasPartial());
  EXPECT_EQ(framer.partialBegin(), 23u);
  EXPECT_EQ(framer.offset(), 23u);
}

TEST(SseFramer, EmptyChunksChangeNothing) {
  SseFramer framer;
  std::vector<std::string> data;
  auto collect = [&](const SseEvent& ev) { data.emplace_back(ev.data); };
  framer.feed("", collect);
  framer.feed("data: a\r", collect);
  framer.feed("", collect);
  framer.feed("\r", collect);
  framer.feed("", collect);
  EXPECT_TRUE(data.empty());
  framer.feed("\n", collect);
  EXPECT_EQ(data, std::vector<std::string>{"a"});
  EXPECT_EQ(framer.offset(), 10u);
}

TEST(SseFramer, OpenAiStreamFixtureFramesEveryChunk) {
  const std::string in =
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: [DONE]\n\n";
  expectSameForEverySplit(
      in, {{"", "{\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}", 0, 66},
           {"", "[DONE]", 66, 80}});
}

}  // namespace
}  // namespace tollgate::meter
