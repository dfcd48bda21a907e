#include "meter/aws_event_stream_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dialect_test_support.h"
#include "meter/crc32.h"

namespace tollgate::meter {
namespace {

using testing::readFixture;

struct Seen {
  std::string message_type, event_type, exception_type, content_type, payload;
  friend bool operator==(const Seen&, const Seen&) = default;
};

struct Framed {
  std::vector<Seen> messages;
  AwsEventStreamFaults faults;
  bool broken = false;
};

Framed frame(std::string_view bytes, const std::vector<size_t>& cuts,
             size_t cap = AwsEventStreamFramer::kDefaultMaxMessageBytes) {
  AwsEventStreamFramer framer(cap);
  Framed out;
  auto on = [&](const AwsEventStreamMessage& m) {
    out.messages.push_back({std::string(m.message_type), std::string(m.event_type),
                            std::string(m.exception_type), std::string(m.content_type),
                            std::string(m.payload)});
  };
  size_t from = 0;
  for (size_t cut : cuts) {
    framer.feed(bytes.substr(from, cut - from), on);
    from = cut;
  }
  framer.feed(bytes.substr(from), on);
  framer.finish();
  out.faults = framer.faults();
  out.broken = framer.broken();
  return out;
}

void expectSameFaults(const AwsEventStreamFaults& a, const AwsEventStreamFaults& b,
                      const std::string& how) {
  EXPECT_EQ(a.prelude_crc, b.prelude_crc) << how;
  EXPECT_EQ(a.bad_length, b.bad_length) << how;
  EXPECT_EQ(a.too_large, b.too_large) << how;
  EXPECT_EQ(a.message_crc, b.message_crc) << how;
  EXPECT_EQ(a.bad_headers, b.bad_headers) << how;
  EXPECT_EQ(a.truncated, b.truncated) << how;
}

// Frames `bytes` whole, split in two at every byte, and one byte at a time: the same messages
// and faults every time.
Framed frameAtEverySplit(std::string_view bytes,
                         size_t cap = AwsEventStreamFramer::kDefaultMaxMessageBytes) {
  const Framed whole = frame(bytes, {}, cap);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    const Framed split = frame(bytes, {cut}, cap);
    EXPECT_EQ(split.messages, whole.messages) << "split at " << cut;
    expectSameFaults(split.faults, whole.faults, "split at " + std::to_string(cut));
    if (::testing::Test::HasFailure()) return whole;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  const Framed bytewise = frame(bytes, every, cap);
  EXPECT_EQ(bytewise.messages, whole.messages);
  expectSameFaults(bytewise.faults, whole.faults, "one byte at a time");
  return whole;
}

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

TEST(Crc32, MatchesTheIeeeCheckValue) {
  EXPECT_EQ(crc32(0, "123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(crc32(0, ""), 0u);
  // Continuing a running CRC gives the CRC of the concatenation, at every split.
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over.";
  for (size_t i = 0; i <= text.size(); ++i) {
    EXPECT_EQ(crc32(crc32(0, text.substr(0, i)), text.substr(i)), crc32(0, text));
  }
  EXPECT_EQ(crc32(0, "The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

// The message {"foo": "bar"} without headers, as encoded in the event_stream package's
// documentation (hex.pm/packages/event_stream) and reproduced with Python's zlib.crc32.
const std::string kFooBar = bytes({0, 0, 0, 30, 0, 0, 0, 0, 186, 242, 246, 138}) +
                            R"({"foo": "bar"})" + bytes({174, 114, 88, 228});

TEST(AwsEventStreamFramer, ReadsAPublishedMessageWithoutHeaders) {
  const Framed f = frameAtEverySplit(kFooBar);
  ASSERT_EQ(f.messages.size(), 1u);
  EXPECT_EQ(f.messages[0].payload, R"({"foo": "bar"})");
  EXPECT_EQ(f.messages[0].message_type, "");
  EXPECT_EQ(f.faults.total(), 0u);
}

TEST(AwsEventStreamFramer, ReadsAPublishedMessageWithAStringHeader) {
  // Same source: {"foo": "bar"} with content-type: application/json (total 62, headers 32).
  const std::string message = bytes({0, 0, 0, 62, 0, 0, 0, 32, 64, 93, 249, 70, 12}) +
                              "content-type" + bytes({7, 0, 16}) + "application/json" +
                              R"({"foo": "bar"})" + bytes({111, 162, 191, 59});
  const Framed f = frameAtEverySplit(message);
  ASSERT_EQ(f.messages.size(), 1u);
  EXPECT_EQ(f.messages[0].payload, R"({"foo": "bar"})");
  EXPECT_EQ(f.faults.total(), 0u);
}

TEST(AwsEventStreamFramer, ReadsEveryMessageOfAConverseStreamAtEverySplit) {
  const Framed f = frameAtEverySplit(readFixture("bedrock/converse_stream.bin"));
  ASSERT_EQ(f.messages.size(), 7u);
  EXPECT_EQ(f.messages[0].event_type, "messageStart");
  EXPECT_EQ(f.messages[1].event_type, "contentBlockDelta");
  EXPECT_EQ(f.messages[6].event_type, "metadata");
  for (const Seen& m : f.messages) {
    EXPECT_EQ(m.message_type, "event");
    EXPECT_EQ(m.content_type, "application/json");
  }
  EXPECT_NE(f.messages[6].payload.find(R"("inputTokens":1200)"), std::string::npos);
  EXPECT_EQ(f.faults.total(), 0u);
  EXPECT_FALSE(f.broken);
}

TEST(AwsEventStreamFramer, ExceptionMessageNamesItsType) {
  const Framed f = frameAtEverySplit(readFixture("bedrock/converse_stream_exception.bin"));
  ASSERT_EQ(f.messages.size(), 3u);
  EXPECT_EQ(f.messages[2].message_type, "exception");
  EXPECT_EQ(f.messages[2].exception_type, "modelStreamErrorException");
}

TEST(AwsEventStreamFramer, MessageCrcErrorDropsThatMessageOnly) {
  std::string stream = readFixture("bedrock/converse_stream.bin");
  // Flip a payload byte of the second message: its prelude is intact, its message CRC is not.
  const size_t first = 0xb2;  // the first message is 0xb2 bytes long
  stream[first + 100] ^= 0x20;
  const Framed f = frameAtEverySplit(stream);
  EXPECT_EQ(f.faults.message_crc, 1u);
  EXPECT_FALSE(f.broken);
  ASSERT_EQ(f.messages.size(), 6u);
  EXPECT_EQ(f.messages[0].event_type, "messageStart");
  EXPECT_EQ(f.messages[1].event_type, "contentBlockDelta");
  EXPECT_EQ(f.messages[5].event_type, "metadata");
}

TEST(AwsEventStreamFramer, PreludeCrcErrorBreaksTheStream) {
  std::string stream = readFixture("bedrock/converse_stream.bin");
  stream[0xb2 + 3] ^= 0x01;  // the second message's total length
  const Framed f = frameAtEverySplit(stream);
  EXPECT_EQ(f.faults.prelude_crc, 1u);
  EXPECT_TRUE(f.broken);
  ASSERT_EQ(f.messages.size(), 1u);  // nothing after the broken prelude can be framed
  EXPECT_EQ(f.faults.truncated, 0u);
}

TEST(AwsEventStreamFramer, ImpossibleLengthsBreakTheStream) {
  // A prelude whose CRC matches but whose headers cannot fit in the message.
  std::string prelude = bytes({0, 0, 0, 20, 0, 0, 0, 8});
  const uint32_t crc = crc32(0, prelude);
  prelude += bytes({static_cast<int>(crc >> 24), static_cast<int>((crc >> 16) & 0xFF),
                    static_cast<int>((crc >> 8) & 0xFF), static_cast<int>(crc & 0xFF)});
  const Framed f = frameAtEverySplit(prelude + std::string(8, '\0') + kFooBar);
  EXPECT_EQ(f.faults.bad_length, 1u);
  EXPECT_TRUE(f.broken);
  EXPECT_TRUE(f.messages.empty());
}

TEST(AwsEventStreamFramer, MessageAboveTheCapIsNotBuffered) {
  const std::string stream = readFixture("bedrock/converse_stream.bin");
  // The first message is 178 bytes: with a 100-byte cap it is refused before any is buffered.
  const Framed f = frameAtEverySplit(stream, 100);
  EXPECT_EQ(f.faults.too_large, 1u);
  EXPECT_TRUE(f.broken);
  EXPECT_TRUE(f.messages.empty());
  AwsEventStreamFramer framer(100);
  framer.feed(stream.substr(0, 50), [](const AwsEventStreamMessage&) {});
  EXPECT_EQ(framer.pending(), 0u);
}

TEST(AwsEventStreamFramer, StreamEndingInsideAMessageIsTruncated) {
  const std::string stream = readFixture("bedrock/converse_stream.bin");
  const Framed f = frameAtEverySplit(std::string_view(stream).substr(0, stream.size() - 5));
  EXPECT_EQ(f.messages.size(), 6u);
  EXPECT_EQ(f.faults.truncated, 1u);
  EXPECT_FALSE(f.broken);
}

TEST(AwsEventStreamFramer, SkipsHeadersOfEveryValueType) {
  // One header of each type 0..9 before :event-type; only the string one is read.
  std::string headers;
  auto name = [&](std::string_view n, int type) {
    headers.push_back(static_cast<char>(n.size()));
    headers.append(n);
    headers.push_back(static_cast<char>(type));
  };
  name("t", 0);
  name("f", 1);
  name("b", 2), headers.append(1, 'x');
  name("s", 3), headers.append(2, 'x');
  name("i", 4), headers.append(4, 'x');
  name("l", 5), headers.append(8, 'x');
  name("y", 6), headers.append(bytes({0, 3})), headers.append("abc");
  name("ts", 8), headers.append(8, 'x');
  name("u", 9), headers.append(16, 'x');
  name(":event-type", 7), headers.append(bytes({0, 8})), headers.append("metadata");
  const std::string payload = "{}";
  const uint32_t total = static_cast<uint32_t>(12 + headers.size() + payload.size() + 4);
  auto be32 = [](uint32_t v) {
    return bytes({static_cast<int>(v >> 24), static_cast<int>((v >> 16) & 0xFF),
                  static_cast<int>((v >> 8) & 0xFF), static_cast<int>(v & 0xFF)});
  };
  std::string message = be32(total) + be32(static_cast<uint32_t>(headers.size()));
  message += be32(crc32(0, message));
  message += headers + payload;
  message += be32(crc32(0, message));
  const Framed f = frameAtEverySplit(message);
  ASSERT_EQ(f.messages.size(), 1u);
  EXPECT_EQ(f.messages[0].event_type, "metadata");
  EXPECT_EQ(f.messages[0].payload, "{}");

  // An unknown value type (10) makes the headers unreadable: the message is dropped.
  std::string bad = message;
  bad[12 + 2] = 10;  // type byte of header "t"
  const std::string body = bad.substr(0, bad.size() - 4);
  const Framed g = frameAtEverySplit(body + be32(crc32(0, body)));
  EXPECT_TRUE(g.messages.empty());
  EXPECT_EQ(g.faults.bad_headers, 1u);
  EXPECT_FALSE(g.broken);
}

}  // namespace
}  // namespace tollgate::meter
