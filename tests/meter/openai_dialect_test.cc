#include "meter/openai_dialect.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tollgate::meter {
namespace {

std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(TOLLGATE_TESTDATA_DIR) + "/openai/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string withCrlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

RequestInfo streamInfo(bool gateway_asked) {
  RequestInfo info;
  info.model = "gpt-4o-mini";
  info.operation = "chat";
  info.stream = true;
  info.client_asked_usage = !gateway_asked;
  info.gateway_asked_usage = gateway_asked;
  info.estimated_input_tokens = 21;
  return info;
}

// Feeds `input` cut at `cuts`, ends the body, and returns everything the client received.
std::string relay(ResponseMeter& meter, std::string_view input, const std::vector<size_t>& cuts,
                  bool complete = true) {
  std::string out;
  size_t from = 0;
  for (size_t cut : cuts) {
    out.append(meter.onBody(input.substr(from, cut - from)));
    from = cut;
  }
  out.append(meter.onBody(input.substr(from)));
  out.append(meter.onEnd(complete));
  return out;
}

struct Relayed {
  std::string out;
  MeterResult result;
};

Relayed relayWith(const RequestInfo& info, std::string_view input, const std::vector<size_t>& cuts,
                  bool complete = true, int status = 200,
                  std::string_view content_type = "text/event-stream; charset=utf-8") {
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(info, status, content_type);
  Relayed r;
  r.out = relay(*meter, input, cuts, complete);
  r.result = meter->result();
  return r;
}

const Usage kStreamUsage{.input_tokens = 19,
                         .cache_read_tokens = 0,
                         .cache_write_tokens = 0,
                         .output_tokens = 16,
                         .reasoning_tokens = 0};
const Usage kReasoningUsage{.input_tokens = 1254,
                            .cache_read_tokens = 1152,
                            .cache_write_tokens = 0,
                            .output_tokens = 333,
                            .reasoning_tokens = 320};

// ---- inspectRequest ------------------------------------------------------------------------

TEST(OpenAiInspectRequest, ChatReadsModelStreamAndClientUsageFlag) {
  const OpenAiDialect dialect;
  RequestInfo info;
  const auto err = dialect.inspectRequest(
      "/v1/chat/completions",
      R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]})",
      info);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(info.model, "gpt-4o-mini");
  EXPECT_EQ(info.operation, "chat");
  EXPECT_TRUE(info.stream);
  EXPECT_TRUE(info.client_asked_usage);
  EXPECT_FALSE(info.gateway_asked_usage);
}

TEST(OpenAiInspectRequest, ReadsTheOutputCapUnderEitherName) {
  const OpenAiDialect dialect;
  const auto cap = [&](std::string_view field) {
    RequestInfo info;
    const std::string body = R"({"model":"m","messages":[])" + std::string(field) + "}";
    EXPECT_FALSE(dialect.inspectRequest("/v1/chat/completions", body, info).has_value());
    return info.max_output_tokens;
  };
  EXPECT_EQ(cap(R"(,"max_tokens":256)"), 256);
  EXPECT_EQ(cap(R"(,"max_completion_tokens":1024)"), 1024);
  EXPECT_EQ(cap(""), std::nullopt);
  EXPECT_EQ(cap(R"(,"max_tokens":null)"), std::nullopt);
  EXPECT_EQ(cap(R"(,"max_tokens":-1)"), std::nullopt);
}

TEST(OpenAiInspectRequest, StreamAbsentOrNullMeansNotStreaming) {
  const OpenAiDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(
      dialect.inspectRequest("/v1/chat/completions", R"({"model":"m","messages":[]})", info));
  EXPECT_FALSE(info.stream);
  EXPECT_FALSE(info.client_asked_usage);
  ASSERT_FALSE(
      dialect.inspectRequest("/v1/chat/completions", R"({"model":"m","stream":null})", info));
  EXPECT_FALSE(info.stream);
}

TEST(OpenAiInspectRequest, IncludeUsageFalseIsNotAClientRequest) {
  const OpenAiDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(dialect.inspectRequest(
      "/v1/chat/completions",
      R"({"model":"m","stream":true,"stream_options":{"include_usage":false}})", info));
  EXPECT_TRUE(info.stream);
  EXPECT_FALSE(info.client_asked_usage);
}

TEST(OpenAiInspectRequest, EstimatesInputFromMessageTextPlusFourPerMessage) {
  const OpenAiDialect dialect;
  RequestInfo info;
  // Text bytes: 16 ("You are helpful.") + 2 ("Hi") + 5 ("caf\u00e9" = 4 chars, 5 bytes) + 7 ("Look
  // at") = 30, ceil(30 / 4) = 8, plus 4 * 3 messages = 20. Image parts are not text.
  const auto err = dialect.inspectRequest("/v1/chat/completions", R"({
      "model": "gpt-4o",
      "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi"},
        {"role": "user", "content": [
          {"type": "text", "text": "caf\u00e9"},
          {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
          {"type": "text", "text": "Look at"}
        ]}
      ]})",
                                          info);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(info.estimated_input_tokens, 20);
}

TEST(OpenAiInspectRequest, CompletionsAndEmbeddingsReadTheSameFields) {
  const OpenAiDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(dialect.inspectRequest(
      "/v1/completions",
      R"({"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","stream":true})", info));
  EXPECT_EQ(info.operation, "text_completion");
  EXPECT_EQ(info.model, "gpt-3.5-turbo-instruct");
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.estimated_input_tokens, 5);  // ceil(18 / 4)

  ASSERT_FALSE(dialect.inspectRequest(
      "/v1/embeddings",
      R"({"model":"text-embedding-3-small","input":["The food was","delicious"]})", info));
  EXPECT_EQ(info.operation, "embeddings");
  EXPECT_EQ(info.model, "text-embedding-3-small");
  EXPECT_FALSE(info.stream);
  EXPECT_EQ(info.estimated_input_tokens, 6);  // ceil(21 / 4)
}

TEST(OpenAiInspectRequest, BodyThatIsNotAJsonObjectIsInvalidJson) {
  const OpenAiDialect dialect;
  for (const std::string_view body :
       {"", "not json", "[1,2]", "\"model\"", "{\"model\":\"m\"", "{\"model\":\"m\"} x",
        "{\"model\":\"m\",\"messages\":[{\"content\":\"a\"},]}"}) {
    RequestInfo info;
    const auto err = dialect.inspectRequest("/v1/chat/completions", body, info);
    ASSERT_TRUE(err.has_value()) << body;
    EXPECT_EQ(err->status, 400) << body;
    EXPECT_EQ(err->code, "invalid_json") << body;
    EXPECT_EQ(err->message.rfind("request body is not valid JSON: ", 0), 0u) << err->message;
  }
}

TEST(OpenAiInspectRequest, MissingNonStringOrEmptyModelIsMissingModel) {
  const OpenAiDialect dialect;
  for (const std::string_view body : {R"({"messages":[]})", R"({"model":4,"messages":[]})",
                                      R"({"model":null})", R"({"model":"","stream":true})"}) {
    RequestInfo info;
    const auto err = dialect.inspectRequest("/v1/chat/completions", body, info);
    ASSERT_TRUE(err.has_value()) << body;
    EXPECT_EQ(err->status, 400);
    EXPECT_EQ(err->code, "missing_model") << body;
    EXPECT_FALSE(err->message.empty());
  }
}

TEST(OpenAiInspectRequest, StreamThatIsNotABooleanIsInvalidRequest) {
  const OpenAiDialect dialect;
  for (const std::string_view body :
       {R"({"model":"m","stream":"true"})", R"({"model":"m","stream":1})"}) {
    RequestInfo info;
    const auto err = dialect.inspectRequest("/v1/chat/completions", body, info);
    ASSERT_TRUE(err.has_value()) << body;
    EXPECT_EQ(err->status, 400);
    EXPECT_EQ(err->code, "invalid_request");
    EXPECT_EQ(err->message, "\"stream\" must be a boolean");
  }
}

TEST(OpenAiInspectRequest, UnknownPathIsNotFound) {
  const OpenAiDialect dialect;
  RequestInfo info;
  const auto err =
      dialect.inspectRequest("/v1/images/generations", R"({"model":"dall-e-3"})", info);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->status, 404);
  EXPECT_EQ(err->code, "unknown_endpoint");
}

// ---- rewriteRequest ------------------------------------------------------------------------

std::optional<std::string> rewrite(std::string_view body, RequestInfo& info) {
  const OpenAiDialect dialect;
  EXPECT_FALSE(dialect.inspectRequest("/v1/chat/completions", body, info).has_value()) << body;
  return dialect.rewriteRequest(body, info);
}

// The rewritten body asks for usage, as the client's own request would have.
void expectAsksForUsage(const std::string& body) {
  const OpenAiDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(dialect.inspectRequest("/v1/chat/completions", body, info).has_value()) << body;
  EXPECT_TRUE(info.client_asked_usage) << body;
}

TEST(OpenAiRewriteRequest, InsertsStreamOptionsAfterTheOpeningBrace) {
  RequestInfo info;
  const auto out = rewrite(
      R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})", info);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(
      *out,
      R"({"stream_options":{"include_usage":true},"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_TRUE(info.gateway_asked_usage);
  expectAsksForUsage(*out);
}

TEST(OpenAiRewriteRequest, WhitespaceHeavyBodyKeepsEveryOtherByte) {
  RequestInfo info;
  const std::string body = " \r\n\t{ \n  \"model\" :\t\"gpt-4o\" ,\n  \"stream\" : true\n}\n ";
  const auto out = rewrite(body, info);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            " \r\n\t{\"stream_options\":{\"include_usage\":true}, \n  \"model\" :\t\"gpt-4o\" ,\n  "
            "\"stream\" : true\n}\n ");
  EXPECT_TRUE(info.gateway_asked_usage);
  expectAsksForUsage(*out);
}

TEST(OpenAiRewriteRequest, AddsIncludeUsageToStreamOptionsWithoutIt) {
  RequestInfo info;
  auto out = rewrite(
      R"({"model":"m","stream":true,"stream_options":{"continuous_usage_stats":false}})", info);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(
      *out,
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":false}})");
  expectAsksForUsage(*out);

  RequestInfo empty_info;
  out = rewrite("{\"model\":\"m\",\"stream\":true,\"stream_options\": { } }", empty_info);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            "{\"model\":\"m\",\"stream\":true,\"stream_options\": {\"include_usage\":true } }");
  EXPECT_TRUE(empty_info.gateway_asked_usage);
  expectAsksForUsage(*out);
}

TEST(OpenAiRewriteRequest, TurnsIncludeUsageFalseIntoTrue) {
  RequestInfo info;
  const auto out = rewrite(
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{ \"include_usage\" :  false\n}}", info);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            "{\"model\":\"m\",\"stream\":true,\"stream_options\":{ \"include_usage\" :  true\n}}");
  EXPECT_TRUE(info.gateway_asked_usage);
  expectAsksForUsage(*out);
}

TEST(OpenAiRewriteRequest, ReplacesNullStreamOptions) {
  RequestInfo info;
  const auto out = rewrite(R"({"model":"m","stream_options": null ,"stream":true})", info);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"model":"m","stream_options": {"include_usage":true} ,"stream":true})");
  EXPECT_TRUE(info.gateway_asked_usage);
  expectAsksForUsage(*out);
}

TEST(OpenAiRewriteRequest, NotStreamingIsLeftAlone) {
  RequestInfo info;
  EXPECT_FALSE(rewrite(R"({"model":"m","messages":[]})", info).has_value());
  EXPECT_FALSE(info.gateway_asked_usage);
}

TEST(OpenAiRewriteRequest, ClientAlreadyAskingIsLeftAlone) {
  RequestInfo info;
  EXPECT_FALSE(
      rewrite(R"({"model":"m","stream":true,"stream_options":{"include_usage":true}})", info)
          .has_value());
  EXPECT_FALSE(info.gateway_asked_usage);
}

// ---- streamed responses: hide mode -----------------------------------------------------------

void expectHiddenForEverySplit(const std::string& with_usage, const std::string& without_usage,
                               const Usage& usage) {
  const RequestInfo info = streamInfo(/*gateway_asked=*/true);
  for (size_t i = 0; i <= with_usage.size(); ++i) {
    const Relayed r = relayWith(info, with_usage, {i});
    ASSERT_EQ(r.out, without_usage) << "split at " << i;
    ASSERT_EQ(r.result.usage, usage) << "split at " << i;
    ASSERT_EQ(r.result.usage_source, UsageSource::kProvider);
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < with_usage.size(); ++i) every_byte.push_back(i);
  const Relayed r = relayWith(info, with_usage, every_byte);
  EXPECT_EQ(r.out, without_usage) << "byte by byte";
  EXPECT_EQ(r.result.usage, usage);
  EXPECT_EQ(r.result.usage_source, UsageSource::kProvider);
}

TEST(OpenAiStreamMeter, HiddenUsageClientGetsExactlyTheStreamWithoutUsageForEverySplit) {
  expectHiddenForEverySplit(readFixture("stream_with_usage.sse"),
                            readFixture("stream_without_usage.sse"), kStreamUsage);
}

TEST(OpenAiStreamMeter, HiddenUsageWithCachedAndReasoningTokens) {
  expectHiddenForEverySplit(readFixture("stream_reasoning_with_usage.sse"),
                            readFixture("stream_reasoning_without_usage.sse"), kReasoningUsage);
}

TEST(OpenAiStreamMeter, HiddenUsageWithCrlfLineEndingsForEverySplit) {
  expectHiddenForEverySplit(withCrlf(readFixture("stream_with_usage.sse")),
                            withCrlf(readFixture("stream_without_usage.sse")), kStreamUsage);
}

TEST(OpenAiStreamMeter, HiddenUsageReportsResponseFacts) {
  const Relayed r = relayWith(streamInfo(true), readFixture("stream_with_usage.sse"), {1000, 2000});
  EXPECT_EQ(r.result.response_id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
  EXPECT_EQ(r.result.response_model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(r.result.finish_reasons, std::vector<std::string>{"stop"});
  EXPECT_FALSE(r.result.upstream_error);
}

TEST(OpenAiStreamMeter, HiddenUsageHoldsBackOnlyTheIncompleteEvent) {
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(streamInfo(true), 200, "text/event-stream");
  const std::string first =
      R"(data: {"id":"c","choices":[{"delta":{"content":"a"}}],"usage":null})";
  EXPECT_EQ(meter->onBody(first.substr(0, 20)), "");
  EXPECT_EQ(meter->onBody(first.substr(20) + "\n\ndata: {\"id\":\"c\""),
            "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n");
  EXPECT_EQ(meter->onBody(",\"choices\":[]}\n\n: ping\n\n"),
            "data: {\"id\":\"c\",\"choices\":[]}\n\n: ping\n\n");
}

TEST(OpenAiStreamMeter, HiddenUsageReturnsTheChunkItselfWhenNothingChanges) {
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(streamInfo(true), 200, "text/event-stream");
  const std::string chunk =
      ": keep-alive\n\ndata: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
  const std::string_view out = meter->onBody(chunk);
  EXPECT_EQ(out.data(), chunk.data());
  EXPECT_EQ(out.size(), chunk.size());
}

TEST(OpenAiStreamMeter, HiddenUsageNullIsRemovedWithItsWhitespace) {
  const std::string in =
      "data: {\"id\": \"c\", \"choices\": [{\"delta\": {\"content\": \"a\"}}], \"usage\": null}\n\n"
      "data: {\"usage\" : null ,\t \"id\": \"c\"}\n\n"
      "data: { \"usage\": null }\n\n"
      "data: "
      "{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":null,\"obfuscation\":"
      "\"xyz\"}\n\n"
      "data: [DONE]\n\n";
  const std::string expected =
      "data: {\"id\": \"c\", \"choices\": [{\"delta\": {\"content\": \"a\"}}]}\n\n"
      "data: {\"id\": \"c\"}\n\n"
      "data: {  }\n\n"
      "data: "
      "{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"obfuscation\":\"xyz\"}\n\n"
      "data: [DONE]\n\n";
  for (size_t i = 0; i <= in.size(); ++i) {
    const Relayed r = relayWith(streamInfo(true), in, {i});
    ASSERT_EQ(r.out, expected) << "split at " << i;
  }
}

TEST(OpenAiStreamMeter, HiddenUsageKeepsNestedUsageNullAndNonEmptyChoicesWithUsage) {
  // Only the top-level member goes; a chunk that carries choices and usage (vLLM's
  // continuous_usage_stats) is not the usage-only chunk and is relayed.
  const std::string in =
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"usage\":null}}]}\n\n"
      "data: "
      "{\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_"
      "tokens\":2}}\n\n";
  const Relayed r = relayWith(streamInfo(true), in, {});
  EXPECT_EQ(r.out, in);
  EXPECT_EQ(r.result.usage, (Usage{.input_tokens = 3, .output_tokens = 2}));
  EXPECT_EQ(r.result.usage_source, UsageSource::kProvider);
}

TEST(OpenAiStreamMeter, UsageNullSpanningDataLinesIsLeftInPlace) {
  const std::string in =
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\ndata: \"usage\":null}\n\n";
  const Relayed r = relayWith(streamInfo(true), in, {});
  EXPECT_EQ(r.out, in);
  EXPECT_EQ(r.result.usage_source, UsageSource::kEstimated);
}

TEST(OpenAiStreamMeter, UsageNullWithinOneOfSeveralDataLinesIsRemoved) {
  const std::string in =
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null,\ndata: "
      "\"id\":\"c\"}\n\n";
  for (size_t i = 0; i <= in.size(); ++i) {
    const Relayed r = relayWith(streamInfo(true), in, {i});
    ASSERT_EQ(r.out,
              "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\ndata: \"id\":\"c\"}\n\n")
        << i;
  }
}

TEST(OpenAiStreamMeter, HiddenUsageCutMidEventDropsThePartialEventAndEstimates) {
  const std::string with_usage = readFixture("stream_with_usage.sse");
  const std::string without_usage = readFixture("stream_without_usage.sse");
  // Cut in the middle of the third event (content "!"): the client gets the first two.
  const size_t third = with_usage.find("data: ", with_usage.find("data: ", 1) + 1);
  const size_t cut = third + 40;
  const size_t third_out = without_usage.find("data: ", without_usage.find("data: ", 1) + 1);
  for (size_t i = 0; i <= cut; ++i) {
    const Relayed r =
        relayWith(streamInfo(true), std::string_view(with_usage).substr(0, cut), {i}, false);
    ASSERT_EQ(r.out, without_usage.substr(0, third_out)) << "split at " << i;
    ASSERT_EQ(r.result.usage_source, UsageSource::kEstimated);
    ASSERT_EQ(r.result.usage, (Usage{.input_tokens = 21, .output_tokens = 2}));  // ceil(5 / 4)
  }
}

// ---- streamed responses: client asked ----------------------------------------------------------

TEST(OpenAiStreamMeter, ClientAskedUsagePassesEveryChunkUnchangedWithoutCopy) {
  const std::string in = readFixture("stream_with_usage.sse");
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(streamInfo(false), 200, "text/event-stream");
  for (size_t from = 0; from < in.size(); from += 97) {
    const std::string_view chunk = std::string_view(in).substr(from, 97);
    const std::string_view out = meter->onBody(chunk);
    ASSERT_EQ(out.data(), chunk.data());
    ASSERT_EQ(out.size(), chunk.size());
  }
  EXPECT_EQ(meter->onEnd(true), "");
  const MeterResult result = meter->result();
  EXPECT_EQ(result.usage, kStreamUsage);
  EXPECT_EQ(result.usage_source, UsageSource::kProvider);
  EXPECT_EQ(result.response_model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(result.finish_reasons, std::vector<std::string>{"stop"});
}

TEST(OpenAiStreamMeter, ClientAskedUsageIsExactForEverySplit) {
  const std::string in = readFixture("stream_reasoning_with_usage.sse");
  for (size_t i = 0; i <= in.size(); ++i) {
    const Relayed r = relayWith(streamInfo(false), in, {i});
    ASSERT_EQ(r.out, in);
    ASSERT_EQ(r.result.usage, kReasoningUsage) << "split at " << i;
  }
}

TEST(OpenAiStreamMeter, UsageIsKnownBeforeTheEndOnceItsChunkArrived) {
  const std::string in = readFixture("stream_with_usage.sse");
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(streamInfo(false), 200, "text/event-stream");
  meter->onBody(in.substr(0, in.find("data: [DONE]")));
  EXPECT_EQ(meter->result().usage, kStreamUsage);
}

TEST(OpenAiStreamMeter, StreamCutBeforeUsageChunkIsEstimated) {
  const std::string in = readFixture("stream_with_usage.sse");
  const size_t cut = in.find("\"choices\":[],");
  const Relayed r = relayWith(streamInfo(false), std::string_view(in).substr(0, cut), {}, false);
  EXPECT_EQ(r.result.usage_source, UsageSource::kEstimated);
  // Relayed content: "Hello! How can I help you today? \u2615 Say \"hi\"\nback." = 51 UTF-8 bytes.
  EXPECT_EQ(r.result.usage, (Usage{.input_tokens = 21, .output_tokens = 13}));
  EXPECT_EQ(r.result.finish_reasons, std::vector<std::string>{"stop"});
}

TEST(OpenAiStreamMeter, ServerThatSendsNoUsageIsEstimated) {
  const Relayed r = relayWith(streamInfo(false), readFixture("stream_without_usage.sse"), {});
  EXPECT_EQ(r.result.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.result.usage, (Usage{.input_tokens = 21, .output_tokens = 13}));
}

TEST(OpenAiStreamMeter, ErrorEventMidStreamIsAnUpstreamError) {
  const std::string in = readFixture("stream_error_midstream.sse");
  const Relayed r = relayWith(streamInfo(false), in, {});
  EXPECT_EQ(r.out, in);
  EXPECT_TRUE(r.result.upstream_error);
  EXPECT_EQ(r.result.error_type, "server_error");
  EXPECT_EQ(r.result.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.result.usage,
            (Usage{.input_tokens = 21, .output_tokens = 3}));  // "Hello! How" = 10 bytes
}

TEST(OpenAiStreamMeter, ErrorEventIsRelayedInHideMode) {
  const std::string in = readFixture("stream_error_midstream.sse");
  const Relayed r = relayWith(streamInfo(true), in, {});
  const std::string error_event = in.substr(in.rfind("data: "));
  std::string expected = in.substr(0, in.rfind("data: "));
  for (size_t at; (at = expected.find(",\"usage\":null")) != std::string::npos;)
    expected.erase(at, 13);
  EXPECT_EQ(r.out, expected + error_event);
  EXPECT_TRUE(r.result.upstream_error);
  EXPECT_EQ(r.result.error_type, "server_error");
}

TEST(OpenAiStreamMeter, JsonContentTypeOnAStreamRequestIsReadAsABody) {
  const std::string body = readFixture("chat_completion.json");
  const Relayed r = relayWith(streamInfo(true), body, {100}, true, 200, "application/json");
  EXPECT_EQ(r.out, body);
  EXPECT_EQ(r.result.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.result.usage.input_tokens, 1117);
}

// ---- non-streamed responses --------------------------------------------------------------------

RequestInfo bodyInfo() {
  RequestInfo info;
  info.model = "gpt-4o";
  info.operation = "chat";
  info.estimated_input_tokens = 9;
  return info;
}

TEST(OpenAiBodyMeter, ReadsUsageAndFactsFromAChatCompletion) {
  const std::string body = readFixture("chat_completion.json");
  for (size_t i = 0; i <= body.size(); i += 7) {
    const Relayed r = relayWith(bodyInfo(), body, {i}, true, 200, "application/json");
    ASSERT_EQ(r.out, body);
    ASSERT_EQ(r.result.usage,
              (Usage{.input_tokens = 1117, .cache_read_tokens = 1024, .output_tokens = 46}));
    ASSERT_EQ(r.result.usage_source, UsageSource::kProvider);
    ASSERT_EQ(r.result.response_id, "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
    ASSERT_EQ(r.result.response_model, "gpt-4o-2024-08-06");
    ASSERT_EQ(r.result.finish_reasons, std::vector<std::string>{"stop"});
    ASSERT_FALSE(r.result.upstream_error);
  }
}

TEST(OpenAiBodyMeter, PassesChunksThroughWithoutCopy) {
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(bodyInfo(), 200, "application/json");
  const std::string chunk = "{\"id\":";
  EXPECT_EQ(meter->onBody(chunk).data(), chunk.data());
}

TEST(OpenAiBodyMeter, CacheWriteTokensAreRead) {
  const std::string body =
      R"({"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":3000,"completion_tokens":10,)"
      R"("prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":2048},"completion_tokens_details":null}})";
  const Relayed r = relayWith(bodyInfo(), body, {}, true, 200, "application/json");
  EXPECT_EQ(r.result.usage,
            (Usage{.input_tokens = 3000, .cache_write_tokens = 2048, .output_tokens = 10}));
}

TEST(OpenAiBodyMeter, EmbeddingsUsageHasNoOutput) {
  const Relayed r =
      relayWith(bodyInfo(), readFixture("embeddings.json"), {}, true, 200, "application/json");
  EXPECT_EQ(r.result.usage, (Usage{.input_tokens = 5}));
  EXPECT_EQ(r.result.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.result.response_model, "text-embedding-3-small");
}

TEST(OpenAiBodyMeter, BodyWithoutUsageIsEstimatedFromMessageContent) {
  const std::string body =
      R"({"id":"x","model":"llama3","choices":[{"index":0,"message":{"role":"assistant","content":"Twelve bytes"},"finish_reason":"length"}]})";
  const Relayed r = relayWith(bodyInfo(), body, {}, true, 200, "application/json");
  EXPECT_EQ(r.result.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.result.usage, (Usage{.input_tokens = 9, .output_tokens = 3}));
  EXPECT_EQ(r.result.finish_reasons, std::vector<std::string>{"length"});
}

TEST(OpenAiBodyMeter, CutBodyIsEstimated) {
  const std::string body = readFixture("chat_completion.json");
  const Relayed r = relayWith(bodyInfo(), std::string_view(body).substr(0, 200), {}, false, 200,
                              "application/json");
  EXPECT_EQ(r.result.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.result.usage.input_tokens, 9);
}

// Past the copy limit only the head and tail are kept (BodyWindow); with no usage in them the
// call is estimated from the request, never booked as unknown and free.
TEST(OpenAiBodyMeter, BodyOverTheCopyLimitWithoutUsageIsEstimatedFromTheRequest) {
  const OpenAiDialect dialect;
  const RequestInfo info = bodyInfo();
  auto meter = dialect.newResponseMeter(info, 200, "application/json");
  const std::string chunk(1024 * 1024, ' ');
  for (int i = 0; i < 33; ++i) ASSERT_EQ(meter->onBody(chunk).size(), chunk.size());
  meter->onEnd(true);
  EXPECT_EQ(meter->result().usage_source, UsageSource::kEstimated);
  EXPECT_EQ(meter->result().usage_flags, kUsageBodyWindowed);
  EXPECT_GT(info.estimated_input_tokens, 0);
  EXPECT_EQ(meter->result().usage.input_tokens, info.estimated_input_tokens);
}

// ---- error statuses ---------------------------------------------------------------------------

TEST(OpenAiErrorStatusMeter, ReportsTheErrorTypeAndPassesBytesThrough) {
  const std::string body = readFixture("error_429.json");
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(streamInfo(true), 429, "application/json");
  const std::string_view first = std::string_view(body).substr(0, 50);
  EXPECT_EQ(meter->onBody(first).data(), first.data());
  meter->onBody(std::string_view(body).substr(50));
  EXPECT_EQ(meter->onEnd(true), "");
  const MeterResult result = meter->result();
  EXPECT_TRUE(result.upstream_error);
  EXPECT_EQ(result.error_type, "tokens");
  EXPECT_EQ(result.usage_source, UsageSource::kNone);
}

TEST(OpenAiErrorStatusMeter, FallsBackToTheCodeWhenTypeIsNull) {
  const Relayed r = relayWith(
      bodyInfo(),
      R"({"error":{"message":"The model `gpt-9` does not exist","type":null,"param":null,"code":"model_not_found"}})",
      {}, true, 404, "application/json");
  EXPECT_TRUE(r.result.upstream_error);
  EXPECT_EQ(r.result.error_type, "model_not_found");
}

TEST(OpenAiErrorStatusMeter, ErrorWrappedInAnArrayAndNonJsonBodies) {
  Relayed r = relayWith(bodyInfo(),
                        R"([{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}])",
                        {}, true, 400, "application/json");
  EXPECT_TRUE(r.result.upstream_error);
  EXPECT_EQ(r.result.error_type, "400");

  r = relayWith(bodyInfo(), "<html>502 Bad Gateway</html>", {}, true, 502, "text/html");
  EXPECT_EQ(r.out, "<html>502 Bad Gateway</html>");
  EXPECT_TRUE(r.result.upstream_error);
  EXPECT_EQ(r.result.error_type, "");
}

// ---- errorBody ---------------------------------------------------------------------------------

TEST(OpenAiErrorBody, HasOpenAiShapeAndTypeByStatus) {
  const OpenAiDialect dialect;
  EXPECT_EQ(
      dialect.errorBody(400, "missing_model", "the request names no \"model\""),
      R"({"error":{"message":"the request names no \"model\"","type":"invalid_request_error","param":null,"code":"missing_model"}})");
  const std::pair<int, std::string_view> cases[] = {{404, "invalid_request_error"},
                                                    {413, "invalid_request_error"},
                                                    {401, "authentication_error"},
                                                    {403, "permission_error"},
                                                    {408, "timeout_error"},
                                                    {504, "timeout_error"},
                                                    {429, "rate_limit_error"},
                                                    {500, "api_error"},
                                                    {502, "api_error"},
                                                    {503, "api_error"}};
  for (const auto& [status, type] : cases) {
    EXPECT_EQ(dialect.errorBody(status, "c", "m"),
              std::string(R"({"error":{"message":"m","type":")") + std::string(type) +
                  R"(","param":null,"code":"c"}})")
        << status;
  }
}

// A negative count (no provider sends one; the fuzzer did) is refused, never booked as a
// negative cost nor as 0 labelled provider, by every reader: the raw-byte scans, their
// exact-layout fast path and simdjson. The call is estimated and flagged.
TEST(OpenAiUsage, NegativeCountsAreRefusedAndEstimatedStreamedOrNot) {
  const std::string usages[] = {
      R"({"prompt_tokens":-9,"completion_tokens":5})",
      R"({"prompt_tokens":-9,"completion_tokens":-5,"total_tokens":-14,"prompt_tokens_details":{"cached_tokens":-1,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":-2,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"({"prompt_tokens":-9,"completion_tokens":5.0})",
  };
  for (const auto& usage : usages) {
    const std::string stream =
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
        "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":" +
        usage + "}\n\ndata: [DONE]\n\n";
    const RequestInfo stream_info = streamInfo(false);
    const auto streamed = relayWith(stream_info, stream, {});
    EXPECT_EQ(streamed.result.usage_source, UsageSource::kEstimated) << usage;
    EXPECT_EQ(streamed.result.usage_flags, kUsageCountRefused) << usage;
    EXPECT_EQ(streamed.result.usage.input_tokens, stream_info.estimated_input_tokens) << usage;
    EXPECT_EQ(streamed.result.usage.cache_read_tokens, 0) << usage;
    EXPECT_EQ(streamed.result.usage.reasoning_tokens, 0) << usage;

    RequestInfo info = streamInfo(false);
    info.stream = false;
    const std::string body =
        R"({"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":)" +
        usage + "}";
    const auto whole = relayWith(info, body, {}, true, 200, "application/json");
    EXPECT_EQ(whole.result.usage_source, UsageSource::kEstimated) << usage;
    EXPECT_EQ(whole.result.usage_flags, kUsageCountRefused) << usage;
    EXPECT_EQ(whole.result.usage.input_tokens, info.estimated_input_tokens) << usage;
    EXPECT_EQ(whole.result.usage.cache_read_tokens, 0) << usage;
    EXPECT_EQ(whole.result.usage.reasoning_tokens, 0) << usage;
  }
}

}  // namespace
}  // namespace tollgate::meter
