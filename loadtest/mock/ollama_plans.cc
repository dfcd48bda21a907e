// Ollama native /api/chat and /api/generate: NDJSON, streaming unless "stream": false; the final
// done:true object carries the counts and durations (ns), zero fields omitted.

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest::plan {
namespace {

// Durations derived from the counts, not measured, so identical requests give identical bytes.
constexpr int64_t kLoadDurationNs = 1'000'000;
constexpr int64_t kPromptNsPerToken = 100'000;
constexpr int64_t kEvalNsPerToken = 1'000'000;

void appendField(std::string& out, std::string_view name, int64_t value) {
  if (value == 0) return;
  out += ",\"";
  out += name;
  out += "\":";
  appendInt(out, value);
}

std::string objectHead(std::string_view model) {
  std::string out = "{\"model\":";
  appendJsonString(out, model);
  out += ",\"created_at\":\"";
  out += kCreatedIso;
  out += '"';
  return out;
}

void appendText(std::string& out, Api api, std::string_view text) {
  if (api == Api::kOllamaChat) {
    out += ",\"message\":{\"role\":\"assistant\",\"content\":\"";
    out += text;
    out += "\"}";
  } else {
    out += ",\"response\":\"";
    out += text;
    out += '"';
  }
}

std::string finalObject(const MockRequest& request, const Behaviour& b, std::string_view text,
                        std::string_view model) {
  std::string out = objectHead(model);
  appendText(out, request.api, text);
  out += ",\"done_reason\":\"stop\",\"done\":true";
  if (b.usage) {
    const int64_t prompt_ns = b.prompt_tokens * kPromptNsPerToken;
    const int64_t eval_ns = b.completion_tokens * kEvalNsPerToken;
    appendField(out, "total_duration", kLoadDurationNs + prompt_ns + eval_ns);
    appendField(out, "load_duration", kLoadDurationNs);
    appendField(out, "prompt_eval_count", b.prompt_tokens);
    appendField(out, "prompt_eval_duration", prompt_ns);
    appendField(out, "eval_count", b.completion_tokens);
    appendField(out, "eval_duration", eval_ns);
  }
  out += '}';
  return out;
}

}  // namespace

ResponsePlan planOllama(const MockRequest& request, const Behaviour& b) {
  ResponsePlan plan;
  plan.usage = CanonicalUsage{b.prompt_tokens, 0, 0, b.completion_tokens, 0};
  const std::string_view model = responseModel(request, b);
  if (!request.stream) {
    plan.body = finalObject(request, b, completionWords(0, b.completion_tokens), model);
    plan.body_carries_usage = b.usage;
    return plan;
  }
  plan.streaming = true;
  plan.content_type = "application/x-ndjson";
  for (int64_t i = 0; i < b.chunks; ++i) {
    std::string line = objectHead(model);
    appendText(line, request.api,
               completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                               chunkStart(b.completion_tokens, b.chunks, i + 1)));
    line += ",\"done\":false}\n";
    addEvent(plan, std::move(line), EventKind::kContent);
  }
  addEvent(plan, finalObject(request, b, "", model) + "\n", EventKind::kTail, b.usage);
  plan.error_event = ollamaErrorJson("mock: error mid-stream") + "\n";
  return plan;
}

std::string ollamaErrorJson(std::string_view message) {
  std::string out = "{\"error\":";
  appendJsonString(out, message);
  out += '}';
  return out;
}

}  // namespace tollgate::loadtest::plan
