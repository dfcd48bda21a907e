// The end the gateway writes for a stream it must end itself (a spend cut, an upstream failure):
// one per dialect, each parsed the way its SDK parses it.
#include "gateway/proxy/stream_ending.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "tests/gateway/proxy/stream_end_notices.h"

namespace tollgate::gateway {
namespace {

using Form = StreamEnding::Form;

struct SseEvent {
  std::string event;
  std::string data;
};

// An SSE parser as the SDKs have it: lines end at LF, CR or CRLF; an empty line dispatches.
std::vector<SseEvent> parseSse(std::string_view text) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_data = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find_first_of("\r\n", i);
    if (end == std::string_view::npos) break;  // an unterminated line is not an event
    const std::string_view line = text.substr(i, end - i);
    i = end + ((text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ? 2 : 1);
    if (line.empty()) {
      if (has_data) events.push_back(current);
      current = {};
      has_data = false;
    } else if (line.starts_with("event: ")) {
      current.event = line.substr(7);
    } else if (line.starts_with("data: ")) {
      if (has_data) current.data.push_back('\n');
      current.data.append(line.substr(6));
      has_data = true;
    }
  }
  return events;
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text;
  return root;
}

std::string str(simdjson::dom::element root, const char* pointer) {
  std::string_view value;
  if (root.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "<missing>";
  return std::string(value);
}

using testing::budgetCut;
using testing::upstreamFailure;

const meter::OpenAiDialect kOpenAi;
const meter::AnthropicDialect kAnthropic;
const meter::GeminiDialect kGemini;
const meter::OllamaDialect kOllama;

meter::RequestInfo streamOf(std::string operation) {
  meter::RequestInfo info;
  info.operation = std::move(operation);
  info.stream = true;
  return info;
}

TEST(StreamEnding, FormFollowsDialectOperationAndEventStream) {
  const std::string_view sse = "text/event-stream; charset=utf-8";
  EXPECT_EQ(StreamEnding::formOf("openai", streamOf("chat"), 200, sse), Form::kOpenAiChat);
  EXPECT_EQ(StreamEnding::formOf("openai", streamOf("text_completion"), 200, sse),
            Form::kOpenAiCompletion);
  EXPECT_EQ(StreamEnding::formOf("openai", streamOf("responses"), 200, sse),
            Form::kOpenAiResponses);
  EXPECT_EQ(StreamEnding::formOf("anthropic", streamOf("chat"), 200, sse), Form::kAnthropic);
  EXPECT_EQ(StreamEnding::formOf("gemini", streamOf("generate_content"), 200, sse),
            Form::kGeminiSse);
  EXPECT_EQ(StreamEnding::formOf("ollama", streamOf("chat"), 200, "application/x-ndjson"),
            Form::kOllamaChat);
  EXPECT_EQ(StreamEnding::formOf("ollama", streamOf("text_completion"), 200, ""),
            Form::kOllamaGenerate);
  EXPECT_EQ(StreamEnding::formOf("gemini", streamOf("generate_content"), 200, "application/json"),
            Form::kGeminiJsonArray);
  EXPECT_EQ(
      StreamEnding::formOf("bedrock", streamOf("chat"), 200, "application/vnd.amazon.eventstream"),
      Form::kBedrockEventStream);
  // An error answer, a body that is not a stream: no form.
  EXPECT_EQ(StreamEnding::formOf("openai", streamOf("chat"), 500, sse), Form::kNone);
  EXPECT_EQ(StreamEnding::formOf("openai", meter::RequestInfo{}, 200, sse), Form::kNone);
  EXPECT_EQ(StreamEnding::formOf("bedrock", streamOf("chat"), 200, sse), Form::kNone);
}

TEST(StreamEnding, FollowsEventBoundariesAcrossChunks) {
  StreamEnding sse(Form::kOpenAiChat);
  EXPECT_TRUE(sse.atBoundary());  // nothing relayed yet
  sse.relayed("data: {\"a\":1}\n\n");
  EXPECT_TRUE(sse.atBoundary());
  sse.relayed("data: {\"a\"");
  EXPECT_FALSE(sse.atBoundary());
  sse.relayed(":2}\n");
  EXPECT_FALSE(sse.atBoundary());  // the line ended, the event did not
  sse.relayed("\n");
  EXPECT_TRUE(sse.atBoundary());
  // CRLF framing, split inside the empty line.
  sse.relayed("data: x\r\n\r");
  EXPECT_TRUE(sse.atBoundary());  // CR alone ends the empty line
  sse.relayed("\n");
  EXPECT_TRUE(sse.atBoundary());
  sse.relayed("data: y\r\n");
  EXPECT_FALSE(sse.atBoundary());

  StreamEnding ndjson(Form::kOllamaChat);
  ndjson.relayed("{\"done\":false}");
  EXPECT_FALSE(ndjson.atBoundary());
  ndjson.relayed("\n");
  EXPECT_TRUE(ndjson.atBoundary());
}

TEST(StreamEnding, FindsTheLastBoundaryAChunkCompletes) {
  StreamEnding sse(Form::kAnthropic);
  sse.relayed("event: content_block_delta\ndata: {\"x\"");
  EXPECT_FALSE(sse.boundaryIn(":1}").has_value());
  const std::string next = ":1}\n\nevent: ping\ndata: {}\n\nevent: content_block_delta\ndata: {";
  const auto cut = sse.boundaryIn(next);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(next.substr(0, *cut), ":1}\n\nevent: ping\ndata: {}\n\n");
  // A boundary split across the previous chunk and this one.
  StreamEnding split(Form::kOpenAiChat);
  split.relayed("data: {}\n");
  EXPECT_EQ(split.boundaryIn("\ndata: {"), std::optional<size_t>(1));
}

using Fields = std::vector<std::pair<const char*, std::string>>;  // JSON pointer, string value

// One SSE event as its SDK must read it: its name ("" for none), then either its exact data
// or, for JSON data, string fields and members it must not have.
struct ExpectedEvent {
  std::string event;
  std::string data;  // exact, for data that is not JSON ("[DONE]")
  Fields fields;
  std::vector<const char*> absent;  // JSON pointers
};

// An end the gateway writes for an SSE stream of `form`, and the events its SDK must read.
struct SseEndCase {
  const char* name;
  Form form;
  const meter::Dialect* dialect;
  std::string relayed;     // what the client got before the end
  std::string terminator;  // the dialect's framing of the last event
  std::vector<ExpectedEvent> events;
};

// An event whose JSON data has these string fields and none of the `absent` members.
ExpectedEvent jsonEvent(std::string event, Fields fields, std::vector<const char*> absent = {}) {
  return {std::move(event), "", std::move(fields), std::move(absent)};
}

// An unnamed event with exactly this data.
ExpectedEvent dataEvent(std::string data) { return {"", std::move(data), {}, {}}; }

void PrintTo(const SseEndCase& end, std::ostream* out) { *out << end.name; }

std::string caseName(const ::testing::TestParamInfo<SseEndCase>& info) { return info.param.name; }

void expectEvents(const std::string& text, const SseEndCase& expected) {
  EXPECT_TRUE(text.ends_with(expected.terminator)) << text;
  const auto events = parseSse(text);
  ASSERT_EQ(events.size(), expected.events.size()) << text;
  simdjson::dom::parser parser;
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i) + ": " + events[i].data);
    const ExpectedEvent& want = expected.events[i];
    EXPECT_EQ(events[i].event, want.event);
    if (!want.data.empty()) {
      EXPECT_EQ(events[i].data, want.data);
      continue;
    }
    const auto root = parse(parser, events[i].data);
    for (const auto& [pointer, value] : want.fields) {
      EXPECT_EQ(str(root, pointer), value) << pointer;
    }
    for (const char* pointer : want.absent) {
      simdjson::dom::element found;
      EXPECT_NE(root.at_pointer(pointer).get(found), simdjson::SUCCESS) << pointer;
    }
  }
}

class StreamEndingCut : public ::testing::TestWithParam<SseEndCase> {};

TEST_P(StreamEndingCut, EndsTheStreamAsItsSdkReadsIt) {
  const SseEndCase& cut = GetParam();
  StreamEnding ending(cut.form);
  ending.relayed(cut.relayed);
  expectEvents(ending.cutEnd(*cut.dialect, budgetCut()), cut);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, StreamEndingCut,
    ::testing::Values(
        SseEndCase{"OpenAiChatEndsWithFinishReasonLengthThenDone",
                   Form::kOpenAiChat,
                   &kOpenAi,
                   "data: {\"choices\":[]}\n\n",
                   "\n\n",
                   {jsonEvent("", {{"/object", "chat.completion.chunk"},
                                   {"/id", "resp_1"},
                                   {"/choices/0/finish_reason", "length"},
                                   {"/tollgate/outcome", "budget_cut"},
                                   {"/tollgate/code", "budget_exceeded"},
                                   {"/tollgate/limit", "team"}}),
                    dataEvent("[DONE]")}},
        SseEndCase{"OpenAiCompletionCarriesAnEmptyTextChoice",
                   Form::kOpenAiCompletion,
                   &kOpenAi,
                   "",
                   "\n\n",
                   {jsonEvent("", {{"/object", "text_completion"},
                                   {"/choices/0/text", ""},
                                   {"/choices/0/finish_reason", "length"}}),
                    dataEvent("[DONE]")}},
        // No output: the SDK fills in the items it accumulated.
        SseEndCase{"ResponsesIsResponseIncompleteOfTheSameResponse",
                   Form::kOpenAiResponses,
                   &kOpenAi,
                   "",
                   "\n\n",
                   {jsonEvent("response.incomplete",
                              {{"/type", "response.incomplete"},
                               {"/response/id", "resp_1"},
                               {"/response/status", "incomplete"},
                               {"/response/incomplete_details/reason", "max_output_tokens"},
                               {"/tollgate/code", "budget_exceeded"}},
                              {"/response/output"})}},
        SseEndCase{"AnthropicIsAnErrorEvent",
                   Form::kAnthropic,
                   &kAnthropic,
                   "",
                   "\n\n",
                   {jsonEvent("error", {{"/type", "error"},
                                        {"/error/type", "rate_limit_error"},
                                        {"/error/message", std::string(budgetCut().message)}})}},
        SseEndCase{"GeminiIsAFinalChunkWithFinishReasonInCrlfFraming",
                   Form::kGeminiSse,
                   &kGemini,
                   "",
                   "\r\n\r\n",
                   {jsonEvent("", {{"/candidates/0/finishReason", "MAX_TOKENS"},
                                   {"/tollgate/outcome", "budget_cut"}})}}),
    caseName);

TEST(StreamEnding, OllamaCutIsADoneLine) {
  for (const Form form : {Form::kOllamaChat, Form::kOllamaGenerate}) {
    StreamEnding ending(form);
    ending.relayed("{\"done\":false}\n");
    const std::string line = ending.cutEnd(kOllama, budgetCut());
    ASSERT_TRUE(line.ends_with("\n"));
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    simdjson::dom::parser parser;
    const auto done = parse(parser, line);
    bool is_done = false;
    EXPECT_EQ(done["done"].get(is_done), simdjson::SUCCESS);
    EXPECT_TRUE(is_done);
    EXPECT_EQ(str(done, "/done_reason"), "length");
    EXPECT_EQ(str(done, form == Form::kOllamaChat ? "/message/content" : "/response"), "");
  }
}

class StreamEndingFailure : public ::testing::TestWithParam<SseEndCase> {};

TEST_P(StreamEndingFailure, IsTheDialectsInStreamErrorNeverADone) {
  const SseEndCase& failure = GetParam();
  StreamEnding ending(failure.form);
  ending.relayed(failure.relayed);
  const std::string text = ending.failureEnd(*failure.dialect, upstreamFailure());
  EXPECT_EQ(text.find("[DONE]"), std::string::npos);
  expectEvents(text, failure);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, StreamEndingFailure,
    ::testing::Values(
        // The OpenAI SDKs raise a data event with an "error" member as an APIError.
        SseEndCase{"OpenAiChatIsADataEventWithAnErrorMember",
                   Form::kOpenAiChat,
                   &kOpenAi,
                   "",
                   "\n\n",
                   {jsonEvent("", {{"/error/code", "upstream_stream_error"}})}},
        SseEndCase{"ResponsesIsAnErrorEvent",
                   Form::kOpenAiResponses,
                   &kOpenAi,
                   "",
                   "\n\n",
                   {jsonEvent("error", {{"/type", "error"}, {"/code", "upstream_stream_error"}})}},
        SseEndCase{"AnthropicIsAnApiErrorEvent",
                   Form::kAnthropic,
                   &kAnthropic,
                   "",
                   "\n\n",
                   {jsonEvent("error", {{"/error/type", "api_error"}})}},
        SseEndCase{"GeminiIsAnUnavailableError",
                   Form::kGeminiSse,
                   &kGemini,
                   "",
                   "\r\n\r\n",
                   {jsonEvent("", {{"/error/status", "UNAVAILABLE"}})}}),
    caseName);

TEST(StreamEnding, OllamaFailureIsAnErrorLine) {
  StreamEnding ollama(Form::kOllamaChat);
  const std::string line = ollama.failureEnd(kOllama, upstreamFailure());
  simdjson::dom::parser parser;
  EXPECT_EQ(str(parse(parser, line), "/error"), std::string(upstreamFailure().message));
}

TEST(StreamEnding, WithoutAFormThereIsNoFailureEnd) {
  EXPECT_EQ(StreamEnding(Form::kNone).failureEnd(kOpenAi, upstreamFailure()), "");
}

TEST(StreamEnding, FailureMidEventClosesTheOpenEventBeforeTheError) {
  StreamEnding ending(Form::kOpenAiChat);
  ending.relayed("data: {\"choices\":[{\"delta\":{\"content\":\"hel");
  const std::string relayed = "data: {\"choices\":[{\"delta\":{\"content\":\"hel";
  const auto events = parseSse(relayed + ending.failureEnd(kOpenAi, upstreamFailure()));
  // The broken event comes first (a client fails on it), then the error: never a clean end.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "{\"choices\":[{\"delta\":{\"content\":\"hel");
  simdjson::dom::parser parser;
  EXPECT_EQ(str(parse(parser, events[1].data), "/error/code"), "upstream_stream_error");
}

}  // namespace
}  // namespace tollgate::gateway
