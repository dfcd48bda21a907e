// OpenAI Chat Completions, legacy Completions and Embeddings, as api.openai.com sends them.

#include <charconv>
#include <cstring>

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest::plan {
namespace {

void appendCompletionUsage(std::string& out, const Behaviour& b) {
  out += "{\"prompt_tokens\":";
  appendInt(out, b.prompt_tokens);
  out += ",\"completion_tokens\":";
  appendInt(out, b.completion_tokens);
  out += ",\"total_tokens\":";
  appendInt(out, b.prompt_tokens + b.completion_tokens);
  out += ",\"prompt_tokens_details\":{\"cached_tokens\":";
  appendInt(out, b.cached_tokens);
  // OpenAI itself reports no cache writes; some compatible servers do, under this name.
  if (b.cache_write_tokens > 0) {
    out += ",\"cache_write_tokens\":";
    appendInt(out, b.cache_write_tokens);
  }
  out += ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":";
  appendInt(out, b.reasoning_tokens);
  out += ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";
}

CanonicalUsage completionCanonical(const Behaviour& b) {
  return CanonicalUsage{b.prompt_tokens, b.cached_tokens, b.cache_write_tokens, b.completion_tokens,
                        b.reasoning_tokens};
}

std::string midStreamError() {
  return sseData(
      "{\"error\":{\"message\":\"mock: error mid-stream\",\"type\":\"server_error\",\"param\":null,"
      "\"code\":null}}");
}

// Chat chunks share everything but "choices"; `usage_member` is ,"usage":null when the client
// asked for usage (OpenAI then puts it on every chunk) and empty otherwise.
// Azure OpenAI's verdict on the prompt, in the answer (and, streamed, in a first chunk of its own
// that has no choices and an empty model).
constexpr std::string_view kAzurePromptFilterResults =
    "[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,"
    "\"severity\":\"safe\"},\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},"
    "\"sexual\":{\"filtered\":false,\"severity\":\"safe\"},\"violence\":{\"filtered\":false,"
    "\"severity\":\"safe\"}}}]";

struct ChatChunkFrame {
  std::string head;          // {"id":...,"choices":[
  std::string usage_member;  // "" or ,"usage":null

  std::string chunk(std::string_view choice) const {
    std::string json;
    json.reserve(head.size() + choice.size() + usage_member.size() + 4);
    json += head;
    json += choice;
    json += ']';
    json += usage_member;
    json += '}';
    return sseData(json);
  }
};

void planChat(const MockRequest& request, const Behaviour& b, ResponsePlan& plan) {
  const std::string_view model = responseModel(request, b);
  std::string id = "chatcmpl-mock-" + b.id;
  if (!request.stream) {
    std::string& out = plan.body;
    out.reserve(512 + static_cast<size_t>(b.completion_tokens) * 4);
    out += "{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"created\":";
    appendInt(out, kCreated);
    out += ",\"model\":";
    appendJsonString(out, model);
    out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"";
    out += completionWords(0, b.completion_tokens);
    out += "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}]";
    if (b.usage) {
      out += ",\"usage\":";
      appendCompletionUsage(out, b);
      plan.body_carries_usage = true;
    }
    if (request.azure) {
      out += ",\"prompt_filter_results\":";
      out += kAzurePromptFilterResults;
    }
    out += ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"}";
    return;
  }

  plan.streaming = true;
  plan.content_type = "text/event-stream";
  const bool send_usage = request.include_usage && b.usage;
  if (request.azure) {
    std::string json =
        "{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
        "\"prompt_filter_results\":";
    json += kAzurePromptFilterResults;
    json += '}';
    addEvent(plan, sseData(json), EventKind::kPreamble);
  }
  ChatChunkFrame frame;
  frame.head = "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":";
  appendInt(frame.head, kCreated);
  frame.head += ",\"model\":";
  appendJsonString(frame.head, model);
  frame.head += ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\",\"choices\":[";
  if (send_usage) frame.usage_member = ",\"usage\":null";

  addEvent(plan,
           frame.chunk("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
                       "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}"),
           EventKind::kPreamble);
  for (int64_t i = 0; i < b.chunks; ++i) {
    std::string choice = "{\"index\":0,\"delta\":{\"content\":\"";
    choice += completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                              chunkStart(b.completion_tokens, b.chunks, i + 1));
    choice += "\"},\"logprobs\":null,\"finish_reason\":null}";
    addEvent(plan, frame.chunk(choice), EventKind::kContent);
  }
  addEvent(plan,
           frame.chunk("{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}"),
           EventKind::kTail);
  if (send_usage) {
    std::string json = frame.head;
    json += "],\"usage\":";
    appendCompletionUsage(json, b);
    json += '}';
    addEvent(plan, sseData(json), EventKind::kTail, true);
  }
  addEvent(plan, "data: [DONE]\n\n", EventKind::kTail);
  plan.error_event = midStreamError();
}

void planCompletions(const MockRequest& request, const Behaviour& b, ResponsePlan& plan) {
  std::string head =
      "{\"id\":\"cmpl-mock-" + b.id + "\",\"object\":\"text_completion\",\"created\":";
  appendInt(head, kCreated);
  head += ",\"model\":";
  appendJsonString(head, responseModel(request, b));
  head += ",\"choices\":[";
  if (!request.stream) {
    std::string& out = plan.body;
    out = head;
    out += "{\"text\":\"";
    out += completionWords(0, b.completion_tokens);
    out += "\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]";
    if (b.usage) {
      out += ",\"usage\":";
      appendCompletionUsage(out, b);
      plan.body_carries_usage = true;
    }
    out += ",\"system_fingerprint\":\"fp_mock\"}";
    return;
  }

  plan.streaming = true;
  plan.content_type = "text/event-stream";
  const bool send_usage = request.include_usage && b.usage;
  const std::string tail =
      std::string("],\"system_fingerprint\":\"fp_mock\"") + (send_usage ? ",\"usage\":null}" : "}");
  auto chunk = [&](std::string_view text, std::string_view finish) {
    std::string json = head;
    json += "{\"text\":\"";
    json += text;
    json += "\",\"index\":0,\"logprobs\":null,\"finish_reason\":";
    json += finish;
    json += '}';
    json += tail;
    return sseData(json);
  };
  for (int64_t i = 0; i < b.chunks; ++i) {
    addEvent(plan,
             chunk(completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                                   chunkStart(b.completion_tokens, b.chunks, i + 1)),
                   "null"),
             EventKind::kContent);
  }
  addEvent(plan, chunk("", "\"stop\""), EventKind::kTail);
  if (send_usage) {
    std::string json = head;
    json += "],\"system_fingerprint\":\"fp_mock\",\"usage\":";
    appendCompletionUsage(json, b);
    json += '}';
    addEvent(plan, sseData(json), EventKind::kTail, true);
  }
  addEvent(plan, "data: [DONE]\n\n", EventKind::kTail);
  plan.error_event = midStreamError();
}

// Deterministic components in [-1, 1] with three decimals, distinct per input and dimension.
float embeddingComponent(int64_t input, int64_t dimension) {
  return static_cast<float>((input * 7 + dimension * 13) % 2001 - 1000) / 1000.0f;
}

void planEmbeddings(const MockRequest& request, const Behaviour& b, ResponsePlan& plan) {
  std::string& out = plan.body;
  out = "{\"object\":\"list\",\"data\":[";
  for (int64_t i = 0; i < request.embedding_inputs; ++i) {
    if (i > 0) out += ',';
    out += "{\"object\":\"embedding\",\"index\":";
    appendInt(out, i);
    out += ",\"embedding\":";
    if (request.embedding_base64) {
      std::string raw(static_cast<size_t>(request.embedding_dimensions) * sizeof(float), '\0');
      for (int64_t d = 0; d < request.embedding_dimensions; ++d) {
        const float value = embeddingComponent(i, d);
        std::memcpy(raw.data() + d * sizeof(float), &value, sizeof(float));  // little-endian host
      }
      out += '"';
      appendBase64(out, raw);
      out += '"';
    } else {
      out += '[';
      for (int64_t d = 0; d < request.embedding_dimensions; ++d) {
        if (d > 0) out += ',';
        char buffer[32];
        const auto result =
            std::to_chars(buffer, buffer + sizeof(buffer), embeddingComponent(i, d));
        out.append(buffer, result.ptr);
      }
      out += ']';
    }
    out += '}';
  }
  out += "],\"model\":";
  appendJsonString(out, responseModel(request, b));
  if (b.usage) {
    out += ",\"usage\":{\"prompt_tokens\":";
    appendInt(out, b.prompt_tokens);
    out += ",\"total_tokens\":";
    appendInt(out, b.prompt_tokens);
    out += '}';
    plan.body_carries_usage = true;
  }
  out += '}';
}

}  // namespace

ResponsePlan planOpenAi(const MockRequest& request, const Behaviour& b) {
  ResponsePlan plan;
  switch (request.api) {
    case Api::kOpenAiCompletions:
      plan.usage = completionCanonical(b);
      planCompletions(request, b, plan);
      break;
    case Api::kOpenAiEmbeddings:
      plan.usage = CanonicalUsage{b.prompt_tokens, 0, 0, 0, 0};
      planEmbeddings(request, b, plan);
      break;
    default:
      plan.usage = completionCanonical(b);
      planChat(request, b, plan);
      break;
  }
  return plan;
}

std::string openAiErrorJson(int status, std::string_view message) {
  std::string_view type = status >= 500 ? "server_error" : "invalid_request_error";
  std::string_view code = "null";
  if (status == 401) code = "\"invalid_api_key\"";
  if (status == 404) code = "\"model_not_found\"";
  if (status == 429) {
    type = "requests";
    code = "\"rate_limit_exceeded\"";
  }
  std::string out = "{\"error\":{\"message\":";
  appendJsonString(out, message);
  out += ",\"type\":\"";
  out += type;
  out += "\",\"param\":null,\"code\":";
  out += code;
  out += "}}";
  return out;
}

}  // namespace tollgate::loadtest::plan
