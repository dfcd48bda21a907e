// ResponseMeter::progress: what a meter has seen of a stream still arriving (the open-call
// journal books a call the gateway dies in from it).
#include <gtest/gtest.h>

#include <string>

#include "meter/anthropic_dialect.h"
#include "meter/openai_dialect.h"
#include "meter/token_estimator.h"

namespace tollgate::meter {
namespace {

TEST(MeterProgress, AnOpenAIStreamReportsTheTextRelayedSoFar) {
  const OpenAiDialect dialect;
  RequestInfo info;
  info.stream = true;
  info.estimated_input_tokens = 30;
  auto meter = dialect.newResponseMeter(info, 200, "text/event-stream");
  meter->onBody(
      "data: {\"id\":\"c\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
      "{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      "data: {\"id\":\"c\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
      "{\"content\":\"the fox ran \"}}]}\n\n");
  auto progress = meter->progress();
  EXPECT_EQ(progress.output_bytes, 12);
  EXPECT_FALSE(progress.input_known);
  meter->onBody(
      "data: {\"id\":\"c\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
      "{\"content\":\"far \"}}]}\n\n");
  progress = meter->progress();
  EXPECT_EQ(progress.output_bytes, 16);
  // What the journal books from it: the request's estimate and a token per four bytes.
  EXPECT_EQ(estimateUnfinishedUsage(progress.provider_so_far, progress.input_known, 30,
                                    progress.output_bytes),
            (Usage{.input_tokens = 30, .output_tokens = 4}));
}

TEST(MeterProgress, AnAnthropicStreamReportsTheProvidersInputFromMessageStart) {
  const AnthropicDialect dialect;
  RequestInfo info;
  info.stream = true;
  info.estimated_input_tokens = 30;
  auto meter = dialect.newResponseMeter(info, 200, "text/event-stream");
  meter->onBody(
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
      "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[],"
      "\"usage\":{\"input_tokens\":20,\"cache_read_input_tokens\":100,"
      "\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"the fox \"}}\n\n");
  const auto progress = meter->progress();
  EXPECT_TRUE(progress.input_known);
  EXPECT_EQ(progress.provider_so_far.input_tokens, 120);
  EXPECT_EQ(progress.provider_so_far.cache_read_tokens, 100);
  EXPECT_EQ(progress.output_bytes, 8);
}

TEST(MeterProgress, AJsonBodyReportsNothingBeforeItsEnd) {
  const OpenAiDialect dialect;
  RequestInfo info;
  auto meter = dialect.newResponseMeter(info, 200, "application/json");
  meter->onBody("{\"id\":\"c\",\"choices\":[{\"message\":{\"content\":\"the fox");
  EXPECT_EQ(meter->progress().output_bytes, 0);
}

}  // namespace
}  // namespace tollgate::meter
