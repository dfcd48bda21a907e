// Google Gemini generateContent / streamGenerateContent. promptTokenCount includes cached
// tokens; candidatesTokenCount excludes thoughts. Proto3 JSON: zero counts are omitted.

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest::plan {
namespace {

void appendCount(std::string& out, bool& first, std::string_view name, int64_t value) {
  if (value == 0) return;
  if (!first) out += ',';
  first = false;
  out += '"';
  out += name;
  out += "\":";
  appendInt(out, value);
}

// usageMetadata after `candidates` visible output tokens (cumulative, like Gemini's stream).
void appendUsageMetadata(std::string& out, const Behaviour& b, int64_t candidates) {
  out += ",\"usageMetadata\":{";
  bool first = true;
  appendCount(out, first, "promptTokenCount", b.prompt_tokens);
  appendCount(out, first, "candidatesTokenCount", candidates);
  appendCount(out, first, "totalTokenCount", b.prompt_tokens + candidates + b.reasoning_tokens);
  appendCount(out, first, "cachedContentTokenCount", b.cached_tokens);
  if (b.prompt_tokens > 0) {
    if (!first) out += ',';
    first = false;
    out += "\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":";
    appendInt(out, b.prompt_tokens);
    out += "}]";
  }
  appendCount(out, first, "thoughtsTokenCount", b.reasoning_tokens);
  out += '}';
}

std::string candidateJson(std::string_view text, bool finished, const Behaviour& b,
                          int64_t candidates, bool usage, std::string_view model) {
  std::string out = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"";
  out += text;
  out += "\"}],\"role\":\"model\"}";
  if (finished) out += ",\"finishReason\":\"STOP\"";
  out += ",\"index\":0}]";
  if (usage) appendUsageMetadata(out, b, candidates);
  out += ",\"modelVersion\":";
  appendJsonString(out, model);
  out += ",\"responseId\":\"mock-";
  out += b.id;
  out += "\"}";
  return out;
}

std::string_view geminiStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

}  // namespace

ResponsePlan planGemini(const MockRequest& request, const Behaviour& b) {
  ResponsePlan plan;
  // Gemini reports no cache writes (explicit caches are created by another call).
  plan.usage =
      CanonicalUsage{b.prompt_tokens, b.cached_tokens, 0, b.completion_tokens, b.reasoning_tokens};
  const std::string_view model = responseModel(request, b);
  const int64_t visible = b.completion_tokens - b.reasoning_tokens;
  if (!request.stream) {
    plan.body =
        candidateJson(completionWords(0, b.completion_tokens), true, b, visible, b.usage, model);
    plan.body_carries_usage = b.usage;
    return plan;
  }

  plan.streaming = true;
  const bool sse = request.gemini_sse;
  plan.content_type = sse ? "text/event-stream" : "application/json";
  bool first_event = true;
  auto frame = [&](const std::string& json, bool last) {
    std::string out;
    if (sse) {
      out = "data: " + json + "\r\n\r\n";
    } else {
      out = (first_event ? "[" : ",\r\n") + json + (last ? "]" : "");
    }
    first_event = false;
    return out;
  };
  for (int64_t i = 0; i < b.chunks; ++i) {
    const std::string text = completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                                             chunkStart(b.completion_tokens, b.chunks, i + 1));
    addEvent(
        plan,
        frame(candidateJson(text, false, b, visible * (i + 1) / b.chunks, b.usage, model), false),
        EventKind::kContent);
  }
  addEvent(plan, frame(candidateJson("", true, b, visible, b.usage, model), true), EventKind::kTail,
           b.usage);

  const std::string error = geminiErrorJson(500, "mock: error mid-stream");
  if (sse) {
    plan.error_event = "data: " + error + "\r\n\r\n";
  } else {
    const bool nothing_before =
        std::min<int64_t>(std::max<int64_t>(b.error_mid_stream, 0), b.chunks) == 0;
    plan.error_event = (nothing_before ? "[" : ",\r\n") + error + "]";
  }
  return plan;
}

std::string geminiErrorJson(int status, std::string_view message) {
  std::string out = "{\"error\":{\"code\":";
  appendInt(out, status);
  out += ",\"message\":";
  appendJsonString(out, message);
  out += ",\"status\":\"";
  out += geminiStatus(status);
  out += "\"}}";
  return out;
}

}  // namespace tollgate::loadtest::plan
