// One dialect (TOLLGATE_FUZZ_DIALECT, set per target) on any bytes: as a request body, and as a
// response body of each framing (status, content type, stream flag from the selector byte), cut
// anywhere. No crash, no out-of-bounds read (ASan), no undefined behaviour (UBSan); a dialect
// that relays unchanged must hand back exactly the bytes it was given, and the result must not
// depend on the cuts, nor on whether the pre-filters read events from their raw bytes. Every
// count booked is within [0, kMaxCallTokens].
#include <cstdlib>
#include <string>

#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/meter_support.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tollgate::meter;

const TOLLGATE_FUZZ_DIALECT kDialect;

constexpr const char* kPaths[] = {"/v1/chat/completions",
                                  "/v1/completions",
                                  "/v1/embeddings",
                                  "/v1/responses",
                                  "/v1/messages",
                                  "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
                                  "/api/chat",
                                  "/api/generate"};
constexpr const char* kTypes[] = {"text/event-stream", "application/json", "application/x-ndjson",
                                  ""};

struct Run {
  std::string out;
  MeterResult result;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  const uint8_t s = in.selector;

  RequestInfo info;
  const char* path = kPaths[s % 8];
  if (!kDialect.inspectRequest(path, in.body, info)) {
    if (auto rewritten = kDialect.rewriteRequest(in.body, info)) {
      RequestInfo again;
      if (kDialect.inspectRequest(path, *rewritten, again)) std::abort();  // still valid JSON
    }
  }
  info.stream = (s & 0x10) != 0;
  info.gateway_asked_usage = info.stream && (s & 0x20) != 0;
  info.estimated_input_tokens = 7;
  const int status = (s & 0x40) != 0 ? 500 : 200;
  const char* type = kTypes[(s >> 2) % 4];

  auto run = [&](bool cut) {
    auto meter = kDialect.newResponseMeter(info, status, type);
    Run r;
    if (cut) {
      tollgate::fuzz::forEachChunk(
          in, [&](std::string_view chunk) { r.out.append(meter->onBody(chunk)); });
    } else {
      r.out.append(meter->onBody(in.body));
    }
    r.out.append(meter->onEnd((s & 0x80) == 0));
    r.result = meter->result();
    return r;
  };
  const Run cut = run(true);
  const Run whole = run(false);
  support::setPreFilterEnabled(false);
  const Run parsed = run(true);
  support::setPreFilterEnabled(true);
  auto same = [](const Run& a, const Run& b) {
    return a.out == b.out && a.result.usage == b.result.usage &&
           a.result.usage_source == b.result.usage_source &&
           a.result.usage_flags == b.result.usage_flags &&
           a.result.upstream_error == b.result.upstream_error &&
           a.result.error_type == b.result.error_type &&
           a.result.response_model == b.result.response_model &&
           a.result.response_id == b.result.response_id &&
           a.result.finish_reasons == b.result.finish_reasons &&
           a.result.service_tier == b.result.service_tier;
  };
  if (cut.out != whole.out || !(cut.result.usage == whole.result.usage) ||
      cut.result.usage_source != whole.result.usage_source ||
      cut.result.usage_flags != whole.result.usage_flags ||
      cut.result.upstream_error != whole.result.upstream_error || !same(cut, parsed)) {
    std::abort();
  }
  if (!info.gateway_asked_usage && cut.out != in.body) std::abort();
  // No event books a negative count or one beyond the per-call bound, whatever the bytes; a
  // report that was refused is never labelled the provider's.
  if (!withinBounds(cut.result.usage)) std::abort();
  if ((cut.result.usage_flags & kUsageCountRefused) != 0 &&
      cut.result.usage_source == UsageSource::kProvider) {
    std::abort();
  }
  return 0;
}
