// Any bytes as an answer of every dialect (not as Bedrock's binary event stream: see
// member_order_test.cc): with the members of its JSON objects permuted (every
// nesting level, a permutation drawn from the selector), the meter must give the result it gives
// with the members in their original order, cut anywhere. JSON member order carries no meaning
// (RFC 8259). Objects naming a member twice are skipped: which one a reader keeps is its choice.
// The whole result is compared, line items included: the usage's units and unknown units, the
// usage on other models (Anthropic's advisor iterations) and the provider's own cost.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "meter/anthropic_dialect.h"
#include "meter/bedrock_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/meter/json_member_permuter.h"

namespace {

using namespace tollgate::meter;

const OpenAiDialect kOpenAi;
const AnthropicDialect kAnthropic;
const GeminiDialect kGemini;
const OllamaDialect kOllama;
const BedrockDialect kBedrock;

struct Target {
  const Dialect* dialect;
  const char* operation;
};
const Target kTargets[] = {{&kOpenAi, "chat"},    {&kOpenAi, "responses"},
                           {&kAnthropic, "chat"}, {&kGemini, "generate_content"},
                           {&kOllama, "chat"},    {&kBedrock, "chat"}};
constexpr const char* kTypes[] = {"text/event-stream", "application/json", "application/x-ndjson",
                                  ""};

MeterResult meter(const Target& t, const RequestInfo& info, int status, const char* type,
                  const tollgate::fuzz::Input& in, std::string_view body, bool complete) {
  auto m = t.dialect->newResponseMeter(info, status, type);
  size_t from = 0;
  for (size_t cut : in.cuts) {
    m->onBody(body.substr(from, cut - from));
    from = cut;
  }
  m->onBody(body.substr(from));
  m->onEnd(complete);
  return m->result();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = tollgate::fuzz::split(data, size);
  const uint8_t s = in.selector;
  tollgate::meter::testing::JsonMemberPermuter identity(0);
  const std::string normalized = identity.permuteBody(in.body);
  if (identity.sawDuplicateKeys() || !identity.sawReorderable()) return 0;
  const std::string permuted =
      tollgate::meter::testing::JsonMemberPermuter(1 + s).permuteBody(in.body);
  if (permuted.size() != normalized.size()) std::abort();
  while (!in.cuts.empty() && in.cuts.back() > normalized.size()) in.cuts.pop_back();

  // Every dialect reads every input: the seeds (any fixture, any selector) reach them all.
  RequestInfo info;
  info.model = "m";
  info.stream = (s & 0x20) != 0;
  info.client_asked_usage = info.stream;
  info.estimated_input_tokens = 7;
  const int status = (s & 0x40) != 0 ? 500 : 200;
  const char* type = kTypes[(s >> 3) % 4];
  const bool complete = (s & 0x80) == 0;
  for (const Target& t : kTargets) {
    info.operation = t.operation;
    const MeterResult a = meter(t, info, status, type, in, normalized, complete);
    const MeterResult b = meter(t, info, status, type, in, permuted, complete);
    if (!(a.usage == b.usage) || a.usage_source != b.usage_source ||
        a.upstream_error != b.upstream_error || a.error_type != b.error_type ||
        a.response_model != b.response_model || a.response_id != b.response_id ||
        a.finish_reasons != b.finish_reasons || a.service_tier != b.service_tier ||
        a.other_models != b.other_models || a.provider_cost != b.provider_cost) {
      // Which reader and what differs, before the crash file is written.
      std::fprintf(stderr,
                   "member order changed the result: target %d (%s) input %lld/%lld output "
                   "%lld/%lld source %d/%d flags %u/%u error %d/%d\n",
                   static_cast<int>(&t - kTargets), t.operation,
                   static_cast<long long>(a.usage.input_tokens),
                   static_cast<long long>(b.usage.input_tokens),
                   static_cast<long long>(a.usage.output_tokens),
                   static_cast<long long>(b.usage.output_tokens), static_cast<int>(a.usage_source),
                   static_cast<int>(b.usage_source), a.usage_flags, b.usage_flags,
                   static_cast<int>(a.upstream_error), static_cast<int>(b.upstream_error));
      std::abort();
    }
  }
  return 0;
}
