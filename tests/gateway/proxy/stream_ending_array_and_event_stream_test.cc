// The ends the gateway writes for Gemini's JSON-array stream and Bedrock's binary event stream:
// only after a whole element or message, read back the way a client reads the whole body.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "gateway/proxy/json_array_position.h"
#include "gateway/proxy/stream_ending.h"
#include "meter/aws_event_stream_encoder.h"
#include "meter/aws_event_stream_framer.h"
#include "meter/bedrock_dialect.h"
#include "meter/gemini_dialect.h"
#include "tests/gateway/proxy/stream_end_notices.h"

namespace tollgate::gateway {
namespace {

using Form = StreamEnding::Form;

const meter::GeminiDialect kGemini;
const meter::BedrockDialect kBedrock;

using testing::budgetCut;
using testing::upstreamFailure;

// Gemini's framing ("[{...}\r\n,\r\n{...}"), with brackets, braces and escaped quotes inside
// strings; the closing "]" has not come yet.
const std::string kGeminiStream =
    "[{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"a}]\\\"[{\"}],\"role\": "
    "\"model\"},\"index\": 0}]}\r\n,\r\n{\"candidates\": [{\"content\": {\"parts\": "
    "[{\"text\": \"b\\\\\"}],\"role\": \"model\"},\"index\": 0}]}\r\n,\r\n{\"candidates\": "
    "[{\"content\": {\"parts\": [{\"text\": \"c\"}]}}]}";

// Offsets of kGeminiStream right after each element's closing brace.
std::vector<size_t> elementEnds() {
  std::vector<size_t> ends;
  for (size_t at = kGeminiStream.find("]}"); at != std::string::npos;
       at = kGeminiStream.find("]}", at + 1)) {
    const size_t end = at + 2;
    if (end == kGeminiStream.size() || kGeminiStream[end] == '\r') ends.push_back(end);
  }
  return ends;
}

// The whole body parsed as one JSON document: the array's elements, or an empty vector.
std::vector<simdjson::dom::element> parseArray(simdjson::dom::parser& parser,
                                               const std::string& body) {
  simdjson::dom::array array;
  if (parser.parse(body).get(array) != simdjson::SUCCESS) return {};
  return {array.begin(), array.end()};
}

TEST(StreamEndingGeminiArray, BoundariesAreBeforeTheArrayAndAfterWholeElementsOnly) {
  ASSERT_EQ(elementEnds().size(), 3u);
  size_t whole = 0;
  for (size_t p = 0; p <= kGeminiStream.size(); ++p) {
    StreamEnding ending(Form::kGeminiJsonArray);
    ending.relayed(kGeminiStream.substr(0, p));
    // Right after "[", or after an element's closing brace and any separator that follows it.
    bool expected = p == 0;
    if (p > 0) {
      const size_t last = kGeminiStream.find_last_not_of(" \r\n,", p - 1);
      const auto ends = elementEnds();
      expected = last == 0 || std::find(ends.begin(), ends.end(), last + 1) != ends.end();
    }
    EXPECT_EQ(ending.atBoundary(), expected) << "at " << p;
    if (ending.atBoundary() && p > 0) ++whole;
  }
  EXPECT_GT(whole, 3u);  // each element's end, and the separators after it
}

TEST(StreamEndingGeminiArray, ThePositionDoesNotDependOnWhereChunksEnd) {
  // Splits inside strings, escapes and backslash runs: the escape state carries over.
  for (size_t end = 0; end <= kGeminiStream.size(); ++end) {
    JsonArrayPosition whole;
    whole.relayed(kGeminiStream.substr(0, end));
    for (size_t split = 0; split <= end; ++split) {
      JsonArrayPosition pieces;
      pieces.relayed(kGeminiStream.substr(0, split));
      pieces.relayed(kGeminiStream.substr(split, end - split));
      ASSERT_EQ(pieces.atBoundary(), whole.atBoundary()) << split << ".." << end;
      ASSERT_EQ(pieces.needsSeparator(), whole.needsSeparator()) << split << ".." << end;
      ASSERT_EQ(pieces.opened(), whole.opened());
    }
  }
}

TEST(StreamEndingGeminiArray, CutAtEveryBoundaryParsesWithAFinalMaxTokensElement) {
  simdjson::dom::parser parser;
  size_t cuts = 0;
  for (size_t p = 0; p <= kGeminiStream.size(); ++p) {
    StreamEnding ending(Form::kGeminiJsonArray);
    ending.relayed(kGeminiStream.substr(0, p));
    const std::string end = ending.cutEnd(kGemini, budgetCut());
    if (!ending.atBoundary()) {
      EXPECT_EQ(end, "") << "inside an element at " << p;
      continue;
    }
    ++cuts;
    const auto elements = parseArray(parser, kGeminiStream.substr(0, p) + end);
    ASSERT_FALSE(elements.empty()) << kGeminiStream.substr(0, p) + end;
    std::string_view reason;
    ASSERT_EQ(elements.back().at_pointer("/candidates/0/finishReason").get(reason),
              simdjson::SUCCESS);
    EXPECT_EQ(reason, "MAX_TOKENS");
    std::string_view outcome;
    ASSERT_EQ(elements.back().at_pointer("/tollgate/outcome").get(outcome), simdjson::SUCCESS);
    EXPECT_EQ(outcome, "budget_cut");
  }
  EXPECT_GT(cuts, 3u);
}

TEST(StreamEndingGeminiArray, FailureAtABoundaryEndsWithAnErrorElement) {
  simdjson::dom::parser parser;
  for (size_t p = 0; p <= kGeminiStream.size(); ++p) {
    StreamEnding ending(Form::kGeminiJsonArray);
    ending.relayed(kGeminiStream.substr(0, p));
    const std::string end = ending.failureEnd(kGemini, upstreamFailure());
    if (!ending.atBoundary()) {
      // Nothing can close a half element: the body stays short and invalid.
      EXPECT_EQ(end, "") << p;
      EXPECT_TRUE(parseArray(parser, kGeminiStream.substr(0, p)).empty()) << p;
      continue;
    }
    const auto elements = parseArray(parser, kGeminiStream.substr(0, p) + end);
    ASSERT_FALSE(elements.empty()) << p;
    int64_t code = 0;
    ASSERT_EQ(elements.back().at_pointer("/error/code").get(code), simdjson::SUCCESS);
    EXPECT_EQ(code, 502);
    std::string_view reason;
    ASSERT_EQ(elements.back().at_pointer("/error/details/0/reason").get(reason), simdjson::SUCCESS);
    EXPECT_EQ(reason, "upstream_stream_error");
  }
}

TEST(StreamEndingGeminiArray, CompleteArrayGetsNoEnd) {
  StreamEnding ending(Form::kGeminiJsonArray);
  ending.relayed(kGeminiStream + "\r\n]");
  EXPECT_EQ(ending.cutEnd(kGemini, budgetCut()), "");
  EXPECT_EQ(ending.failureEnd(kGemini, upstreamFailure()), "");
}

TEST(StreamEndingGeminiArray, BoundaryInFindsTheLastWholeElementOfTheNextChunk) {
  for (size_t from = 0; from <= kGeminiStream.size(); ++from) {
    StreamEnding ending(Form::kGeminiJsonArray);
    ending.relayed(kGeminiStream.substr(0, from));
    const std::string next = kGeminiStream.substr(from);
    const auto boundary = ending.boundaryIn(next);
    // The expected answer: the longest prefix of `next` after which the stream is at a boundary.
    std::optional<size_t> expected;
    for (size_t n = 1; n <= next.size(); ++n) {
      StreamEnding probe(Form::kGeminiJsonArray);
      probe.relayed(kGeminiStream.substr(0, from + n));
      if (probe.atBoundary()) expected = n;
    }
    EXPECT_EQ(boundary, expected) << from;
  }
}

std::string converseEvent(std::string_view type, std::string_view payload) {
  const meter::AwsEventStreamHeader headers[] = {
      {":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}};
  return meter::encodeAwsEventStreamMessage(headers, payload);
}

struct Read {
  std::string message_type, event_type, exception_type, payload;
};

// The body read the way the AWS SDKs read it: every message with its CRCs checked.
std::vector<Read> readEventStream(std::string_view body, size_t* faults) {
  meter::AwsEventStreamFramer framer;
  std::vector<Read> out;
  framer.feed(body, [&](const meter::AwsEventStreamMessage& m) {
    out.push_back({std::string(m.message_type), std::string(m.event_type),
                   std::string(m.exception_type), std::string(m.payload)});
  });
  framer.finish();
  *faults = framer.faults().total();
  return out;
}

const std::vector<std::string> kConverse = {
    converseEvent("messageStart", R"({"role":"assistant"})"),
    converseEvent("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"{[}"}})"),
    converseEvent("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":" more"}})"),
};

TEST(StreamEndingBedrock, CutAfterWholeMessagesEndsWithMessageStopAndMetadata) {
  std::string stream;
  std::vector<size_t> ends = {0};
  for (const auto& m : kConverse) {
    stream += m;
    ends.push_back(stream.size());
  }
  for (size_t p = 0; p <= stream.size(); ++p) {
    StreamEnding ending(Form::kBedrockEventStream);
    ending.relayed(stream.substr(0, p));
    const bool whole = std::find(ends.begin(), ends.end(), p) != ends.end();
    ASSERT_EQ(ending.atBoundary(), whole) << p;
    const std::string end = ending.cutEnd(kBedrock, budgetCut());
    if (!whole) {
      EXPECT_EQ(end, "") << p;
      continue;
    }
    size_t faults = 1;
    const auto read = readEventStream(stream.substr(0, p) + end, &faults);
    EXPECT_EQ(faults, 0u) << p;
    ASSERT_GE(read.size(), 2u);
    const Read& stop = read[read.size() - 2];
    EXPECT_EQ(stop.message_type, "event");
    EXPECT_EQ(stop.event_type, "messageStop");
    EXPECT_NE(stop.payload.find(R"("stopReason":"max_tokens")"), std::string::npos);
    EXPECT_NE(stop.payload.find(R"("outcome":"budget_cut")"), std::string::npos);
    EXPECT_EQ(read.back().event_type, "metadata");
    EXPECT_EQ(read.back().payload,
              R"({"usage":{"inputTokens":12,"outputTokens":30,"totalTokens":42}})");
  }
}

TEST(StreamEndingBedrock, FailureEndsWithAnExceptionMessage) {
  const std::string stream = kConverse[0] + kConverse[1];
  StreamEnding ending(Form::kBedrockEventStream);
  ending.relayed(stream);
  size_t faults = 1;
  auto read = readEventStream(stream + ending.failureEnd(kBedrock, upstreamFailure()), &faults);
  EXPECT_EQ(faults, 0u);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.back().message_type, "exception");
  EXPECT_EQ(read.back().exception_type, "internalServerException");
  EXPECT_EQ(
      read.back().payload,
      R"({"message":"The upstream 'u' failed during the answer; the answer is incomplete."})");

  read = readEventStream(stream + ending.failureEnd(kBedrock, upstreamFailure("upstream_timeout")),
                         &faults);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.back().exception_type, "serviceUnavailableException");
}

TEST(StreamEndingBedrock, NothingIsWrittenInsideAMessage) {
  const std::string stream = kConverse[0] + kConverse[1].substr(0, 20);
  StreamEnding ending(Form::kBedrockEventStream);
  ending.relayed(stream);
  EXPECT_EQ(ending.failureEnd(kBedrock, upstreamFailure()), "");
  EXPECT_EQ(ending.cutEnd(kBedrock, budgetCut()), "");
}

TEST(StreamEndingBedrock, InvokeStreamCutEndsWithAThrottlingException) {
  const meter::AwsEventStreamHeader headers[] = {
      {":event-type", "chunk"}, {":content-type", "application/json"}, {":message-type", "event"}};
  const std::string stream =
      meter::encodeAwsEventStreamMessage(headers, R"({"bytes":"eyJ0eXBlIjoicGluZyJ9"})");
  StreamEnding ending(Form::kBedrockEventStream);
  ending.relayed(stream.substr(0, 7));
  ending.relayed(stream.substr(7));
  size_t faults = 1;
  const auto read = readEventStream(stream + ending.cutEnd(kBedrock, budgetCut()), &faults);
  EXPECT_EQ(faults, 0u);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read.back().exception_type, "throttlingException");
  EXPECT_NE(read.back().payload.find("budget team ran out"), std::string::npos);
}

TEST(StreamEndingBedrock, BoundaryInFindsTheEndOfTheLastWholeMessage) {
  const std::string stream = kConverse[0] + kConverse[1] + kConverse[2];
  const size_t first = kConverse[0].size();
  const size_t second = first + kConverse[1].size();
  for (size_t from = 0; from < stream.size(); ++from) {
    StreamEnding ending(Form::kBedrockEventStream);
    ending.relayed(stream.substr(0, from));
    for (size_t to = from + 1; to <= stream.size(); ++to) {
      const auto boundary = ending.boundaryIn(std::string_view(stream).substr(from, to - from));
      std::optional<size_t> expected;
      for (size_t end : {first, second, stream.size()}) {
        if (end > from && end <= to) expected = end - from;
      }
      ASSERT_EQ(boundary, expected) << from << ".." << to;
    }
  }
}

}  // namespace
}  // namespace tollgate::gateway
