// ResponseMeter::takeResult, which the relay books a complete answer with, must give exactly what
// result() gives, and leave nothing of what the MeterResult it fills held before: every meter
// that keeps its result moves it member by member (support::moveResult), so a member the move
// forgot would reach the cost event as a previous attempt's value or as nothing.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "dialect_test_support.h"
#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::expectSameResult;
using testing::readFixture;

// A result with every member set to something no fixture answers.
MeterResult stale() {
  MeterResult r;
  r.usage.input_tokens = 999;
  r.usage.output_tokens = 999;
  r.usage_source = UsageSource::kEstimated;
  r.usage_flags = kUsageEventOversized;
  r.response_model = "stale-model";
  r.response_id = "stale-id";
  r.finish_reasons = {"stale"};
  r.upstream_error = true;
  r.error_type = "stale_error";
  r.service_tier = "stale-tier";
  r.other_models = {ModelUsage{"stale-other", Usage{.input_tokens = 7}}};
  r.provider_cost = Money::fromPico(7);
  return r;
}

// Meters the fixture whole, then answers its result: copied (result()) or taken (takeResult,
// into a result that held stale()).
MeterResult metered(const Dialect& dialect, const RequestInfo& info, int status,
                    std::string_view content_type, const std::string& fixture, bool take) {
  auto meter = dialect.newResponseMeter(info, status, content_type);
  meter->onBody(readFixture(fixture));
  meter->onEnd(true);
  if (!take) return meter->result();
  MeterResult into = stale();
  meter->takeResult(into);
  return into;
}

void expectTakenAsCopied(const Dialect& dialect, const RequestInfo& info, int status,
                         std::string_view content_type, const std::string& fixture) {
  expectSameResult(metered(dialect, info, status, content_type, fixture, true),
                   metered(dialect, info, status, content_type, fixture, false), fixture);
}

RequestInfo infoFor(std::string model, std::string operation, bool stream) {
  RequestInfo info;
  info.model = std::move(model);
  info.operation = std::move(operation);
  info.stream = stream;
  info.estimated_input_tokens = 20;
  return info;
}

TEST(TakeResult, AnOpenAiJsonAnswerIsTakenAsResultGivesIt) {
  const OpenAiDialect dialect;
  const auto info = infoFor("gpt-4o-mini", "chat", false);
  expectTakenAsCopied(dialect, info, 200, "application/json", "openai/chat_completion.json");
  // The provider's own cost figure, and an error body.
  expectTakenAsCopied(dialect, info, 200, "application/json", "openai/openrouter_chat.json");
  expectTakenAsCopied(dialect, info, 429, "application/json", "openai/error_429.json");
}

TEST(TakeResult, AnOpenAiStreamIsTakenAsResultGivesIt) {
  const OpenAiDialect dialect;
  auto info = infoFor("gpt-4o-mini", "chat", true);
  info.client_asked_usage = true;
  expectTakenAsCopied(dialect, info, 200, "text/event-stream", "openai/openrouter_stream.sse");
  expectTakenAsCopied(dialect, info, 200, "text/event-stream", "openai/stream_error_midstream.sse");
}

TEST(TakeResult, AnAnthropicAnswerWithUsageOnAnotherModelIsTakenAsResultGivesIt) {
  const AnthropicDialect dialect;
  const auto info = infoFor("claude-sonnet-4-20250514", "chat", false);
  expectTakenAsCopied(dialect, info, 200, "application/json", "anthropic/message_advisor.json");
  expectTakenAsCopied(dialect, infoFor("claude-sonnet-4-20250514", "chat", true), 200,
                      "text/event-stream", "anthropic/stream_advisor.sse");
}

TEST(TakeResult, AGeminiAnswerIsTakenAsResultGivesIt) {
  const GeminiDialect dialect;
  expectTakenAsCopied(dialect, infoFor("gemini-2.5-pro", "generate_content", false), 200,
                      "application/json", "gemini/generate.json");
  expectTakenAsCopied(dialect, infoFor("gemini-2.5-pro", "generate_content", true), 200,
                      "text/event-stream", "gemini/stream.sse");
}

// The fixtures above must exercise what the move carries: a test whose results were all empty
// would pass with a move that drops every string.
TEST(TakeResult, TheFixturesCarryEveryKindOfMember) {
  const OpenAiDialect openai;
  const auto info = infoFor("gpt-4o-mini", "chat", false);
  const MeterResult r =
      metered(openai, info, 200, "application/json", "openai/openrouter_chat.json", true);
  EXPECT_FALSE(r.response_model.empty());
  EXPECT_FALSE(r.response_id.empty());
  EXPECT_FALSE(r.finish_reasons.empty());
  EXPECT_TRUE(r.provider_cost.has_value());
  const MeterResult e =
      metered(openai, info, 429, "application/json", "openai/error_429.json", true);
  EXPECT_TRUE(e.upstream_error);
  EXPECT_FALSE(e.error_type.empty());
  const MeterResult a =
      metered(AnthropicDialect{}, infoFor("claude-sonnet-4-20250514", "chat", false), 200,
              "application/json", "anthropic/message_advisor.json", true);
  EXPECT_FALSE(a.other_models.empty());
}

}  // namespace
}  // namespace tollgate::meter
