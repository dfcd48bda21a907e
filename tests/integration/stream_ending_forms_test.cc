// The two stream forms without text events, end to end: Gemini's JSON array (no alt=sse) and
// Bedrock's binary event stream. A budget cut ends them with a final element or event that says
// MAX_TOKENS / max_tokens; an upstream reset after bytes were relayed with an explicit error
// (docs/budgets.md "Streams", docs/upstreams.md "Mid-stream failures").
#include <gtest/gtest.h>
#include <zlib.h>

#include <map>
#include <string>
#include <vector>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

// A long stream: 2000 output tokens in 200 events of 10 tokens, 1 ms apart.
const Headers kLongStream = {{"x-mock-prompt-tokens", "5"},
                             {"x-mock-completion-tokens", "2000"},
                             {"x-mock-chunks", "200"},
                             {"x-mock-chunk-delay-ms", "1"}};
const Headers kReset = {{"x-mock-chunks", "8"}, {"x-mock-reset-after", "3"}};

// $0.01 buys about 830 output tokens at $12 per million: the stream starts and is cut.
std::string budgetYaml(const TempDir& state) {
  return "budgets:\n  - { name: all-cap, scope: {}, limit_usd: \"0.01\", streams: cut }\n"
         "spend_state: { backend: local, default_output_tokens: 100, file: \"" +
         state.file("spend.tsv") + "\" }\n";
}

const std::string kGeminiUpstream =
    "  - name: gemini\n"
    "    dialect: gemini\n"
    "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
    "    models: [\"gemini-*\"]\n";
const std::string kGeminiPath = "/v1beta/models/gemini-test-1:streamGenerateContent";
const std::string kGeminiBody = R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})";

const std::string kAwsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";  // AWS's example
const std::string kBedrockUpstream =
    "  - name: bedrock\n"
    "    dialect: bedrock\n"
    "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
    "    models: [\"anthropic.claude-*\"]\n"
    "    aws:\n"
    "      region: us-east-1\n"
    "      access_key_id: \"AKIDEXAMPLE\"\n"
    "      secret_access_key: \"" +
    kAwsSecret + "\"\n";
const std::string kConversePath =
    "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream";
const std::string kConverseBody =
    R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":100}})";

// `state`: the spend file of a stack with a budget; none without one.
StackOptions stackFor(const std::string& upstream, const TempDir* state) {
  StackOptions options;
  options.mock_args = "--aws-secret-access-key " + kAwsSecret;
  options.extra_upstreams_yaml = upstream;
  options.extra_prices_yaml =
      "  \"gemini-test*\": { input: \"3.00\", output: \"12.00\" }\n"
      "  \"*anthropic.claude-3-5-sonnet*\": { input: \"3.00\", output: \"12.00\" }\n";
  if (state != nullptr) options.extra_yaml = budgetYaml(*state);
  return options;
}

uint32_t bigEndian32(const std::string& s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

uint32_t zlibCrc(const std::string& s, size_t from, size_t len) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data() + from), static_cast<uInt>(len)));
}

struct EventMessage {
  std::map<std::string, std::string> headers;
  std::string payload;
};

// The body as an AWS SDK reads it (CRCs checked with zlib, independently of the gateway's);
// `whole` is false when it ends inside a message or a CRC does not match.
std::vector<EventMessage> readEventStream(const std::string& body, bool* whole) {
  std::vector<EventMessage> out;
  size_t at = 0;
  *whole = false;
  while (at + 16 <= body.size()) {
    const uint32_t total = bigEndian32(body, at);
    const uint32_t headers_len = bigEndian32(body, at + 4);
    if (total < 16 || at + total > body.size()) return out;
    if (zlibCrc(body, at, 8) != bigEndian32(body, at + 8)) return out;
    if (zlibCrc(body, at, total - 4) != bigEndian32(body, at + total - 4)) return out;
    EventMessage m;
    size_t h = at + 12;
    while (h < at + 12 + headers_len) {
      const size_t name_len = static_cast<unsigned char>(body[h]);
      const std::string name = body.substr(h + 1, name_len);
      h += 1 + name_len;
      if (body[h] != 7) return out;  // the gateway and the mock write string headers only
      const size_t value_len = static_cast<size_t>(static_cast<unsigned char>(body[h + 1])) << 8 |
                               static_cast<unsigned char>(body[h + 2]);
      m.headers[name] = body.substr(h + 3, value_len);
      h += 3 + value_len;
    }
    m.payload = body.substr(at + 12 + headers_len, total - 16 - headers_len);
    out.push_back(std::move(m));
    at += total;
  }
  *whole = at == body.size();
  return out;
}

TEST(StreamEndingForms, GeminiJsonArrayCutEndsWithAMaxTokensElementAndTheClosingBracket) {
  TempDir state;
  Stack stack(stackFor(kGeminiUpstream, &state));
  auto client = stack.gatewayClient();
  const auto r = client.post(kGeminiPath, kGeminiBody, kLongStream);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  const Json body(r.body);  // the whole body is one JSON document
  ASSERT_TRUE(body.ok()) << r.body.substr(r.body.size() > 400 ? r.body.size() - 400 : 0);
  simdjson::dom::array elements;
  ASSERT_EQ(body.root().get(elements), simdjson::SUCCESS);
  ASSERT_GE(elements.size(), 2u);
  const simdjson::dom::element last = elements.at(elements.size() - 1).value();
  std::string_view reason, outcome;
  ASSERT_EQ(last.at_pointer("/candidates/0/finishReason").get(reason), simdjson::SUCCESS);
  EXPECT_EQ(reason, "MAX_TOKENS");
  ASSERT_EQ(last.at_pointer("/tollgate/outcome").get(outcome), simdjson::SUCCESS);
  EXPECT_EQ(outcome, "budget_cut");
  for (size_t i = 0; i + 1 < elements.size(); ++i) {
    std::string_view earlier;
    if (elements.at(i).value().at_pointer("/candidates/0/finishReason").get(earlier) ==
        simdjson::SUCCESS) {
      EXPECT_NE(earlier, "STOP");
    }
  }
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json(lines[0]).str("/data/outcome"), "budget_cut");
  EXPECT_EQ(Json(lines[0]).str("/data/limit"), "all-cap");
  EXPECT_FALSE(Json(stack.mockCalls()).boolean("/calls/0/completed"));
}

TEST(StreamEndingForms, GeminiJsonArrayResetEndsWithAnErrorElementAndAShortBody) {
  Stack stack(stackFor(kGeminiUpstream, nullptr));
  auto client = stack.gatewayClient();
  const auto r = client.post(kGeminiPath, kGeminiBody, kReset);
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);  // no chunked terminator
  const Json body(r.body);
  ASSERT_TRUE(body.ok()) << r.body;
  simdjson::dom::array elements;
  ASSERT_EQ(body.root().get(elements), simdjson::SUCCESS);
  ASSERT_GE(elements.size(), 2u);
  const simdjson::dom::element last = elements.at(elements.size() - 1).value();
  int64_t code = 0;
  std::string_view reason;
  ASSERT_EQ(last.at_pointer("/error/code").get(code), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(code, 502);
  ASSERT_EQ(last.at_pointer("/error/details/0/reason").get(reason), simdjson::SUCCESS);
  EXPECT_EQ(reason, "upstream_stream_error");
  EXPECT_EQ(r.body.find("\"STOP\""), std::string::npos);
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json(lines[0]).str("/data/outcome"), "upstream_error");
}

TEST(StreamEndingForms, BedrockConverseStreamCutEndsWithMessageStopMaxTokensAndMetadata) {
  TempDir state;
  Stack stack(stackFor(kBedrockUpstream, &state));
  auto client = stack.gatewayClient();
  const auto r = client.post(kConversePath, kConverseBody, kLongStream);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  bool whole = false;
  const auto messages = readEventStream(r.body, &whole);
  EXPECT_TRUE(whole);
  ASSERT_GE(messages.size(), 3u);
  const EventMessage& stop = messages[messages.size() - 2];
  EXPECT_EQ(stop.headers.at(":message-type"), "event");
  EXPECT_EQ(stop.headers.at(":event-type"), "messageStop");
  const Json stop_json(stop.payload);
  EXPECT_EQ(stop_json.str("/stopReason"), "max_tokens");
  EXPECT_EQ(stop_json.str("/tollgate/outcome"), "budget_cut");
  EXPECT_EQ(messages.back().headers.at(":event-type"), "metadata");
  const Json metadata(messages.back().payload);
  for (size_t i = 0; i + 2 < messages.size(); ++i) {
    EXPECT_NE(messages[i].headers.at(":event-type"), "messageStop");
  }
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  const Json event(lines[0]);
  EXPECT_EQ(event.str("/data/outcome"), "budget_cut");
  // The metadata event reports the usage the event books.
  EXPECT_EQ(metadata.num("/usage/outputTokens"), event.num("/data/usage/output_tokens"));
  EXPECT_EQ(metadata.num("/usage/inputTokens"), event.num("/data/usage/input_tokens"));
  EXPECT_GT(metadata.num("/usage/outputTokens"), 0);
  EXPECT_FALSE(Json(stack.mockCalls()).boolean("/calls/0/completed"));
}

TEST(StreamEndingForms, BedrockConverseStreamResetEndsWithAnInternalServerException) {
  Stack stack(stackFor(kBedrockUpstream, nullptr));
  auto client = stack.gatewayClient();
  const auto r = client.post(kConversePath, kConverseBody, kReset);
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  bool whole = false;
  const auto messages = readEventStream(r.body, &whole);
  EXPECT_TRUE(whole);
  ASSERT_GE(messages.size(), 2u);
  EXPECT_EQ(messages.back().headers.at(":message-type"), "exception");
  EXPECT_EQ(messages.back().headers.at(":exception-type"), "internalServerException");
  EXPECT_NE(Json(messages.back().payload).str("/message").find("failed during the answer"),
            std::string::npos);
  for (const auto& m : messages) {
    const auto type = m.headers.find(":event-type");
    if (type != m.headers.end()) {
      EXPECT_NE(type->second, "messageStop");
    }
  }
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json(lines[0]).str("/data/outcome"), "upstream_error");
}

}  // namespace
}  // namespace tollgate::testing
