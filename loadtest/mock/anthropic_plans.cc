// Anthropic Messages (/v1/messages). input_tokens EXCLUDES cache reads and writes; the stream's
// message_delta usage is cumulative.

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest::plan {
namespace {

int64_t uncachedInput(const Behaviour& b) {
  return b.prompt_tokens - b.cached_tokens - b.cache_write_tokens;
}

void appendInputUsage(std::string& out, const Behaviour& b) {
  out += "\"input_tokens\":";
  appendInt(out, uncachedInput(b));
  out += ",\"cache_creation_input_tokens\":";
  appendInt(out, b.cache_write_tokens);
  out += ",\"cache_read_input_tokens\":";
  appendInt(out, b.cached_tokens);
}

// The full usage of a message (non-stream body and message_start).
void appendMessageUsage(std::string& out, const Behaviour& b, int64_t output_tokens) {
  out += ",\"usage\":{";
  appendInputUsage(out, b);
  out += ",\"cache_creation\":{\"ephemeral_5m_input_tokens\":";
  appendInt(out, b.cache_write_tokens);
  out += ",\"ephemeral_1h_input_tokens\":0},\"output_tokens\":";
  appendInt(out, output_tokens);
  out += ",\"service_tier\":\"standard\"}";
}

std::string messageHead(const std::string& id, std::string_view model) {
  std::string out = "{\"id\":\"" + id + "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  appendJsonString(out, model);
  return out;
}

}  // namespace

ResponsePlan planAnthropic(const MockRequest& request, const Behaviour& b) {
  ResponsePlan plan;
  // Anthropic reports no separate thinking count: its output_tokens already include them.
  plan.usage = CanonicalUsage{b.prompt_tokens, b.cached_tokens, b.cache_write_tokens,
                              b.completion_tokens, 0};
  const std::string id = "msg_mock_" + b.id;
  const std::string_view model = responseModel(request, b);
  if (!request.stream) {
    std::string& out = plan.body;
    out = messageHead(id, model);
    out += ",\"content\":[{\"type\":\"text\",\"text\":\"";
    out += completionWords(0, b.completion_tokens);
    out += "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null";
    if (b.usage) appendMessageUsage(out, b, b.completion_tokens);
    out += '}';
    plan.body_carries_usage = b.usage;
    return plan;
  }

  plan.streaming = true;
  plan.content_type = "text/event-stream";
  std::string start = "{\"type\":\"message_start\",\"message\":" + messageHead(id, model);
  start += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null";
  if (b.usage) appendMessageUsage(start, b, std::min<int64_t>(b.completion_tokens, 1));
  start += "}}";
  addEvent(plan, sseEvent("message_start", start), EventKind::kPreamble);
  addEvent(plan,
           sseEvent("content_block_start",
                    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                    "{\"type\":\"text\",\"text\":\"\"}}"),
           EventKind::kPreamble);
  addEvent(plan, sseEvent("ping", "{\"type\":\"ping\"}"), EventKind::kPreamble);
  for (int64_t i = 0; i < b.chunks; ++i) {
    std::string delta =
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"";
    delta += completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                             chunkStart(b.completion_tokens, b.chunks, i + 1));
    delta += "\"}}";
    addEvent(plan, sseEvent("content_block_delta", delta), EventKind::kContent);
  }
  addEvent(plan, sseEvent("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
           EventKind::kTail);
  std::string message_delta =
      "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}";
  if (b.usage) {
    message_delta += ",\"usage\":{";
    appendInputUsage(message_delta, b);
    message_delta += ",\"output_tokens\":";
    appendInt(message_delta, b.completion_tokens);
    message_delta += '}';
  }
  message_delta += '}';
  addEvent(plan, sseEvent("message_delta", message_delta), EventKind::kTail, b.usage);
  addEvent(plan, sseEvent("message_stop", "{\"type\":\"message_stop\"}"), EventKind::kTail);
  plan.error_event = sseEvent(
      "error",
      "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
  return plan;
}

std::string anthropicErrorJson(int status, std::string_view message) {
  std::string_view type = status >= 500 ? "api_error" : "invalid_request_error";
  switch (status) {
    case 401:
      type = "authentication_error";
      break;
    case 403:
      type = "permission_error";
      break;
    case 404:
      type = "not_found_error";
      break;
    case 413:
      type = "request_too_large";
      break;
    case 429:
      type = "rate_limit_error";
      break;
    case 529:
      type = "overloaded_error";
      break;
    default:
      break;
  }
  std::string out = "{\"type\":\"error\",\"error\":{\"type\":\"";
  out += type;
  out += "\",\"message\":";
  appendJsonString(out, message);
  out += "}}";
  return out;
}

}  // namespace tollgate::loadtest::plan
