#include "meter/token_estimator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

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
  const Usage partial{
      .input_tokens = 5000, .cache_read_tokens = 4000, .output_tokens = 1, .reasoning_tokens = 0};
  EXPECT_EQ(estimateUnfinishedUsage(partial, true, 20, 400),
            (Usage{.input_tokens = 5000, .cache_read_tokens = 4000, .output_tokens = 100}));
  EXPECT_EQ(estimateUnfinishedUsage(partial, false, 20, 400),
            (Usage{.input_tokens = 20, .output_tokens = 100}));
}

// The estimator against provider-reported usage: every entry of testdata/estimator_corpus.jsonl is
// a published call whose exact request, generated text and provider usage are known (sources in
// the file). The request goes through its dialect's inspectRequest, as in the gateway, and the
// answer through estimateUnfinishedUsage with nothing reported, as for a call cut before its
// usage. docs/metering.md ("The estimate") quotes the figures asserted here.
struct Errors {
  std::vector<double> input;
  std::vector<double> output;
  int64_t input_estimated = 0;
  int64_t input_reported = 0;
  int64_t output_estimated = 0;
  int64_t output_reported = 0;
};

double relativeError(int64_t estimate, int64_t actual) {
  return std::abs(static_cast<double>(estimate - actual)) / static_cast<double>(actual);
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double e : v) sum += e;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

double worst(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

const Dialect* dialectNamed(std::string_view name) {
  static const OpenAiDialect openai;
  static const AnthropicDialect anthropic;
  static const GeminiDialect gemini;
  static const OllamaDialect ollama;
  if (name == "openai") return &openai;
  if (name == "anthropic") return &anthropic;
  if (name == "gemini") return &gemini;
  if (name == "ollama") return &ollama;
  return nullptr;
}

std::string stringField(simdjson::dom::element entry, const char* key) {
  std::string_view s;
  EXPECT_EQ(entry[key].get(s), simdjson::SUCCESS) << key;
  return std::string(s);
}

int64_t intField(simdjson::dom::element entry, const char* key) {
  int64_t n = 0;
  EXPECT_EQ(entry[key].get(n), simdjson::SUCCESS) << key;
  return n;
}

std::map<std::string, Errors> measureCorpus() {
  std::map<std::string, Errors> by_provider;
  std::ifstream in(std::string(TOLLGATE_TESTDATA_DIR) + "/estimator_corpus.jsonl");
  EXPECT_TRUE(in.good());
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::dom::element entry;
    if (parser.parse(line).get(entry) != simdjson::SUCCESS) {
      ADD_FAILURE() << "unparsable corpus line: " << line;
      continue;
    }
    const std::string id = stringField(entry, "id");
    const Dialect* dialect = dialectNamed(stringField(entry, "dialect"));
    simdjson::dom::element request;
    if (dialect == nullptr || entry["request"].get(request) != simdjson::SUCCESS) {
      ADD_FAILURE() << id << ": unknown dialect or no request";
      continue;
    }
    const std::string body = simdjson::minify(request);
    RequestInfo info;
    if (dialect->inspectRequest(stringField(entry, "path"), body, info)) {
      ADD_FAILURE() << id << ": request refused";
      continue;
    }
    Errors& errors = by_provider[stringField(entry, "provider")];
    const int64_t input_reported = intField(entry, "input_tokens");
    errors.input.push_back(relativeError(info.estimated_input_tokens, input_reported));
    errors.input_estimated += info.estimated_input_tokens;
    errors.input_reported += input_reported;
    if (entry["output_text"].is_null()) continue;
    const std::string answer = stringField(entry, "output_text");
    const int64_t output_estimated =
        estimateUnfinishedUsage(Usage{}, false, info.estimated_input_tokens,
                                static_cast<int64_t>(answer.size()))
            .output_tokens;
    const int64_t output_reported = intField(entry, "output_tokens");
    errors.output.push_back(relativeError(output_estimated, output_reported));
    errors.output_estimated += output_estimated;
    errors.output_reported += output_reported;
  }
  return by_provider;
}

TEST(TokenEstimator, ErrorAgainstProviderReportedUsageIsWhatDocsMeteringSays) {
  const auto by_provider = measureCorpus();
  Errors all;
  for (const auto& [provider, e] : by_provider) {
    all.input.insert(all.input.end(), e.input.begin(), e.input.end());
    all.output.insert(all.output.end(), e.output.begin(), e.output.end());
    all.input_estimated += e.input_estimated;
    all.input_reported += e.input_reported;
    all.output_estimated += e.output_estimated;
    all.output_reported += e.output_reported;
  }
  ASSERT_EQ(all.input.size(), 24u);
  ASSERT_EQ(all.output.size(), 21u);
  // Token totals over the corpus: estimated against reported.
  EXPECT_EQ(all.input_estimated, 661);
  EXPECT_EQ(all.input_reported, 732);
  EXPECT_EQ(all.output_estimated, 304);
  EXPECT_EQ(all.output_reported, 329);
  constexpr double kTolerance = 1e-6;
  EXPECT_NEAR(mean(all.input), 0.275176, kTolerance);
  EXPECT_NEAR(worst(all.input), 0.888889, kTolerance);
  EXPECT_NEAR(mean(all.output), 0.156004, kTolerance);
  EXPECT_NEAR(worst(all.output), 0.800000, kTolerance);

  struct Expected {
    const char* provider;
    size_t inputs;
    double input_mean;
    double input_worst;
    size_t outputs;
    double output_mean;
    double output_worst;
  };
  for (const Expected& x : std::vector<Expected>{
           {"anthropic", 6, 0.244554, 0.500000, 6, 0.401515, 0.800000},
           {"gemini", 5, 0.196940, 0.461538, 5, 0.117991, 0.200000},
           {"openai", 11, 0.257898, 0.888889, 8, 0.031250, 0.100000},
           {"sglang", 2, 0.657658, 0.666667, 2, 0.013514, 0.027027},
       }) {
    SCOPED_TRACE(x.provider);
    ASSERT_EQ(by_provider.count(x.provider), 1u);
    const Errors& e = by_provider.at(x.provider);
    EXPECT_EQ(e.input.size(), x.inputs);
    EXPECT_NEAR(mean(e.input), x.input_mean, kTolerance);
    EXPECT_NEAR(worst(e.input), x.input_worst, kTolerance);
    EXPECT_EQ(e.output.size(), x.outputs);
    EXPECT_NEAR(mean(e.output), x.output_mean, kTolerance);
    EXPECT_NEAR(worst(e.output), x.output_worst, kTolerance);
  }
  EXPECT_EQ(by_provider.size(), 4u);
}

TEST(OutputTokensSoFar, TakesTheLargerOfTheProvidersRunningCountAndTheRelayedTextsEstimate) {
  Usage reported;
  EXPECT_EQ(outputTokensSoFar(reported, 0), 0);
  EXPECT_EQ(outputTokensSoFar(reported, 9), 3);  // ceil(9 / 4)
  reported.output_tokens = 1;                    // Anthropic's message_start: lags the text
  EXPECT_EQ(outputTokensSoFar(reported, 400), 100);
  reported.output_tokens = 150;  // a running count ahead of the text (reasoning not relayed)
  EXPECT_EQ(outputTokensSoFar(reported, 400), 150);
  reported.output_tokens = 0;
  reported.reasoning_tokens = 200;
  EXPECT_EQ(outputTokensSoFar(reported, 400), 200);
}

}  // namespace
}  // namespace tollgate::meter
