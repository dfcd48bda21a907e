#include "meter/token_estimator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace tollgate::meter {
namespace {

TEST(TokenEstimator, FourBytesPerTokenRoundedUpPlusFourPerMessage) {
  TokenEstimator estimator;
  EXPECT_EQ(estimator.tokens(), 0);
  estimator.addText("Hi there");  // 8 bytes: 2 tokens
  estimator.addMessage();
  EXPECT_EQ(estimator.tokens(), 6);
  estimator.addText("caf\u00e9");  // 5 bytes: the total 13 bytes round up to 4 tokens
  EXPECT_EQ(estimator.tokens(), 8);
  EXPECT_EQ(TokenEstimator::tokensForBytes(0), 0);
  EXPECT_EQ(TokenEstimator::tokensForBytes(-3), 0);
}

TEST(EstimateUnfinishedUsage, KeepsTheProvidersInputAndTheLargerOutput) {
  const Usage partial{.input_tokens = 5000, .cache_read_tokens = 4000, .output_tokens = 1,
                      .reasoning_tokens = 0};
  EXPECT_EQ(estimateUnfinishedUsage(partial, true, 20, 400),
            (Usage{.input_tokens = 5000, .cache_read_tokens = 4000, .output_tokens = 100}));
  EXPECT_EQ(estimateUnfinishedUsage(partial, false, 20, 400),
            (Usage{.input_tokens = 20, .output_tokens = 100}));
}

// The estimator against provider-reported usage. Each entry is a real call whose request text,
// answer text and usage were published together; docs/metering.md quotes the figures below.
struct Recorded {
  const char* source;
  std::vector<std::string> messages;  // the request's message texts
  std::string answer;                 // the generated text
  int64_t prompt_tokens;              // as the provider reported them
  int64_t completion_tokens;
};

const std::vector<Recorded> kCorpus = {
    // VCR cassette of a real streamed call (gpt-4-0613, recorded 2024-06-27):
    // github.com/alexrudall/ai-engine-starter-kit spec/fixtures/cassettes/
    // requests_chat_messages_create_and_run.yml
    {"gpt-4-0613 stream, VCR recording", {"Hi there"}, "Hello! How can I assist you today?", 9, 9},
    // The chat completion example of OpenAI's API reference (gpt-3.5-turbo-0613).
    {"gpt-3.5-turbo-0613, OpenAI API reference example",
     {"You are a helpful assistant.", "Hello!"},
     "\n\nHello there, how may I assist you today?",
     9,
     12},
};

double relativeError(int64_t estimate, int64_t actual) {
  return std::abs(static_cast<double>(estimate - actual)) / static_cast<double>(actual);
}

TEST(TokenEstimator, ErrorAgainstProviderReportedUsageIsWhatDocsMeteringSays) {
  std::vector<double> errors;
  for (const Recorded& r : kCorpus) {
    TokenEstimator input;
    for (const auto& m : r.messages) {
      input.addText(m);
      input.addMessage();
    }
    TokenEstimator output;
    output.addText(r.answer);
    errors.push_back(relativeError(input.tokens(), r.prompt_tokens));
    errors.push_back(relativeError(output.tokens(), r.completion_tokens));
  }
  double sum = 0;
  for (double e : errors) sum += e;
  const double mean = sum / static_cast<double>(errors.size());
  const double worst = *std::max_element(errors.begin(), errors.end());
  // Input 6 vs 9 and 17 vs 9; output 9 vs 9 and 11 vs 12.
  EXPECT_NEAR(errors[0], 3.0 / 9.0, 1e-9);
  EXPECT_NEAR(errors[1], 0.0, 1e-9);
  EXPECT_NEAR(errors[2], 8.0 / 9.0, 1e-9);
  EXPECT_NEAR(errors[3], 1.0 / 12.0, 1e-9);
  EXPECT_NEAR(mean, 0.3264, 1e-4);
  EXPECT_NEAR(worst, 0.8889, 1e-4);
}

}  // namespace
}  // namespace tollgate::meter
