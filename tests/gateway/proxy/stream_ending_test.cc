// The end the gateway writes for a stream it must end itself (a spend cut, an upstream failure):
// one per dialect, each parsed the way its SDK parses it.
#include "gateway/proxy/stream_ending.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

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

StreamEndNotice budgetCut() {
  StreamEndNotice notice;
  notice.code = "budget_exceeded";
  notice.message = "The gateway ended this stream: the budget team ran out.";
  notice.limit = "team";
  notice.response_id = "resp_1";
  notice.model = "m-1";
  notice.created_unix_s = 1700000000;
  return notice;
}

StreamEndNotice upstreamFailure() {
  StreamEndNotice notice;
  notice.code = "upstream_stream_error";
  notice.message = "The upstream 'u' failed during the answer; the answer is incomplete.";
  return notice;
}

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
  // Gemini's streamed JSON array, an error answer, a body that is not a stream: no form.
  EXPECT_EQ(StreamEnding::formOf("gemini", streamOf("generate_content"), 200, "application/json"),
            Form::kNone);
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

TEST(StreamEnding, OpenAiChatCutEndsWithFinishReasonLengthThenDone) {
  StreamEnding ending(Form::kOpenAiChat);
  ending.relayed("data: {\"choices\":[]}\n\n");
  const auto events = parseSse(ending.cutEnd(kOpenAi, budgetCut()));
  ASSERT_EQ(events.size(), 2u);
  simdjson::dom::parser parser;
  const auto chunk = parse(parser, events[0].data);
  EXPECT_EQ(str(chunk, "/object"), "chat.completion.chunk");
  EXPECT_EQ(str(chunk, "/id"), "resp_1");
  EXPECT_EQ(str(chunk, "/choices/0/finish_reason"), "length");
  EXPECT_EQ(str(chunk, "/tollgate/outcome"), "budget_cut");
  EXPECT_EQ(str(chunk, "/tollgate/code"), "budget_exceeded");
  EXPECT_EQ(str(chunk, "/tollgate/limit"), "team");
  EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(StreamEnding, OpenAiCompletionCutCarriesAnEmptyTextChoice) {
  StreamEnding ending(Form::kOpenAiCompletion);
  const auto events = parseSse(ending.cutEnd(kOpenAi, budgetCut()));
  ASSERT_EQ(events.size(), 2u);
  simdjson::dom::parser parser;
  const auto chunk = parse(parser, events[0].data);
  EXPECT_EQ(str(chunk, "/object"), "text_completion");
  EXPECT_EQ(str(chunk, "/choices/0/text"), "");
  EXPECT_EQ(str(chunk, "/choices/0/finish_reason"), "length");
}

TEST(StreamEnding, ResponsesCutIsResponseIncompleteOfTheSameResponse) {
  StreamEnding ending(Form::kOpenAiResponses);
  const auto events = parseSse(ending.cutEnd(kOpenAi, budgetCut()));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "response.incomplete");
  simdjson::dom::parser parser;
  const auto event = parse(parser, events[0].data);
  EXPECT_EQ(str(event, "/type"), "response.incomplete");
  EXPECT_EQ(str(event, "/response/id"), "resp_1");
  EXPECT_EQ(str(event, "/response/status"), "incomplete");
  EXPECT_EQ(str(event, "/response/incomplete_details/reason"), "max_output_tokens");
  // No output: the SDK fills in the items it accumulated.
  simdjson::dom::element output;
  EXPECT_NE(event.at_pointer("/response/output").get(output), simdjson::SUCCESS);
  EXPECT_EQ(str(event, "/tollgate/code"), "budget_exceeded");
}

TEST(StreamEnding, AnthropicCutIsAnErrorEvent) {
  StreamEnding ending(Form::kAnthropic);
  const auto events = parseSse(ending.cutEnd(kAnthropic, budgetCut()));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "error");
  simdjson::dom::parser parser;
  const auto body = parse(parser, events[0].data);
  EXPECT_EQ(str(body, "/type"), "error");
  EXPECT_EQ(str(body, "/error/type"), "rate_limit_error");
  EXPECT_EQ(str(body, "/error/message"), std::string(budgetCut().message));
}

TEST(StreamEnding, GeminiCutIsAFinalChunkWithFinishReasonInCrlfFraming) {
  StreamEnding ending(Form::kGeminiSse);
  const std::string text = ending.cutEnd(kGemini, budgetCut());
  EXPECT_TRUE(text.ends_with("\r\n\r\n"));
  const auto events = parseSse(text);
  ASSERT_EQ(events.size(), 1u);
  simdjson::dom::parser parser;
  const auto chunk = parse(parser, events[0].data);
  EXPECT_EQ(str(chunk, "/candidates/0/finishReason"), "MAX_TOKENS");
  EXPECT_EQ(str(chunk, "/tollgate/outcome"), "budget_cut");
}

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

TEST(StreamEnding, FailureIsTheDialectsInStreamErrorNeverADone) {
  simdjson::dom::parser parser;
  {
    StreamEnding chat(Form::kOpenAiChat);
    const std::string text = chat.failureEnd(kOpenAi, upstreamFailure());
    EXPECT_EQ(text.find("[DONE]"), std::string::npos);
    const auto events = parseSse(text);
    ASSERT_EQ(events.size(), 1u);
    // The OpenAI SDKs raise a data event with an "error" member as an APIError.
    EXPECT_EQ(str(parse(parser, events[0].data), "/error/code"), "upstream_stream_error");
  }
  {
    StreamEnding responses(Form::kOpenAiResponses);
    const auto events = parseSse(responses.failureEnd(kOpenAi, upstreamFailure()));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event, "error");
    const auto body = parse(parser, events[0].data);
    EXPECT_EQ(str(body, "/type"), "error");
    EXPECT_EQ(str(body, "/code"), "upstream_stream_error");
  }
  {
    StreamEnding anthropic(Form::kAnthropic);
    const auto events = parseSse(anthropic.failureEnd(kAnthropic, upstreamFailure()));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event, "error");
    EXPECT_EQ(str(parse(parser, events[0].data), "/error/type"), "api_error");
  }
  {
    StreamEnding gemini(Form::kGeminiSse);
    const auto events = parseSse(gemini.failureEnd(kGemini, upstreamFailure()));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(str(parse(parser, events[0].data), "/error/status"), "UNAVAILABLE");
  }
  {
    StreamEnding ollama(Form::kOllamaChat);
    const std::string line = ollama.failureEnd(kOllama, upstreamFailure());
    EXPECT_EQ(str(parse(parser, line), "/error"), std::string(upstreamFailure().message));
  }
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
