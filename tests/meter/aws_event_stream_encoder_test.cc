#include "meter/aws_event_stream_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "meter/aws_event_stream_framer.h"

namespace tollgate::meter {
namespace {

std::string fromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(AwsEventStreamEncoder, EmptyMessageMatchesAwsReferenceVector) {
  // aws-c-event-stream's "empty_message" test vector.
  EXPECT_EQ(encodeAwsEventStreamMessage({}, ""), fromHex("000000100000000005c248eb7d98c8ff"));
}

TEST(AwsEventStreamEncoder, MessageWithHeadersMatchesIndependentlyComputedBytes) {
  // Computed with Python's struct and zlib.crc32, independently of meter/crc32.
  const AwsEventStreamHeader headers[] = {{":message-type", "event"},
                                          {":event-type", "messageStop"}};
  EXPECT_EQ(encodeAwsEventStreamMessage(headers, R"({"stopReason":"max_tokens"})"),
            fromHex("0000005b000000300c38111f0d3a6d6573736167652d747970650700056576656e740b3a657665"
                    "6e742d7479706507000b6d65737361676553746f707b2273746f70526561736f6e223a226d6178"
                    "5f746f6b656e73227d7619551f"));
}

TEST(AwsEventStreamEncoder, MessagesRoundTripThroughTheFramerAtEverySplit) {
  const AwsEventStreamHeader event[] = {{":event-type", "metadata"},
                                        {":content-type", "application/json"},
                                        {":message-type", "event"}};
  const AwsEventStreamHeader exception[] = {{":exception-type", "internalServerException"},
                                            {":content-type", "application/json"},
                                            {":message-type", "exception"}};
  const std::string stream =
      encodeAwsEventStreamMessage(event, R"({"usage":{"inputTokens":3,"outputTokens":5}})") +
      encodeAwsEventStreamMessage(exception, R"({"message":"upstream failed"})");
  for (size_t split = 0; split <= stream.size(); ++split) {
    AwsEventStreamFramer framer;
    std::vector<std::string> seen;
    auto on = [&](const AwsEventStreamMessage& m) {
      seen.push_back(std::string(m.message_type) + "|" + std::string(m.event_type) + "|" +
                     std::string(m.exception_type) + "|" + std::string(m.content_type) + "|" +
                     std::string(m.payload));
    };
    framer.feed(std::string_view(stream).substr(0, split), on);
    framer.feed(std::string_view(stream).substr(split), on);
    framer.finish();
    ASSERT_EQ(framer.faults().total(), 0u) << split;
    ASSERT_EQ(seen.size(), 2u) << split;
    EXPECT_EQ(seen[0],
              R"(event|metadata||application/json|{"usage":{"inputTokens":3,"outputTokens":5}})");
    EXPECT_EQ(
        seen[1],
        R"(exception||internalServerException|application/json|{"message":"upstream failed"})");
  }
}

}  // namespace
}  // namespace tollgate::meter
