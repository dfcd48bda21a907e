// OpenAI Responses API (/v1/responses): a response object, or named SSE events with a
// sequence_number, the usage arriving only in the terminal response.completed.

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest::plan {
namespace {

void appendUsage(std::string& out, const Behaviour& b) {
  out += "{\"input_tokens\":";
  appendInt(out, b.prompt_tokens);
  out += ",\"input_tokens_details\":{\"cached_tokens\":";
  appendInt(out, b.cached_tokens);
  out += "},\"output_tokens\":";
  appendInt(out, b.completion_tokens);
  out += ",\"output_tokens_details\":{\"reasoning_tokens\":";
  appendInt(out, b.reasoning_tokens);
  out += "},\"total_tokens\":";
  appendInt(out, b.prompt_tokens + b.completion_tokens);
  out += '}';
}

std::string textPart(std::string_view text) {
  return "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"" +
         std::string(text) + "\"}";
}

std::string messageItem(const std::string& item_id, std::string_view status,
                        std::string_view content) {
  return "{\"id\":\"" + item_id + "\",\"type\":\"message\",\"status\":\"" + std::string(status) +
         "\",\"content\":[" + std::string(content) + "],\"role\":\"assistant\"}";
}

// The response object; `output` is the JSON array body, `usage` false writes "usage":null.
std::string responseObject(const std::string& id, std::string_view model, std::string_view status,
                           std::string_view output, const Behaviour& b, bool usage) {
  std::string out = "{\"id\":\"" + id + "\",\"object\":\"response\",\"created_at\":";
  appendInt(out, kCreated);
  out += ",\"status\":\"";
  out += status;
  out +=
      "\",\"background\":false,\"error\":null,\"incomplete_details\":null,\"instructions\":null,"
      "\"max_output_tokens\":null,\"model\":";
  appendJsonString(out, model);
  out += ",\"output\":[";
  out += output;
  out +=
      "],\"parallel_tool_calls\":true,\"previous_response_id\":null,"
      "\"reasoning\":{\"effort\":null,\"summary\":null},\"service_tier\":\"default\","
      "\"store\":true,\"temperature\":1.0,\"text\":{\"format\":{\"type\":\"text\"}},"
      "\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1.0,\"truncation\":\"disabled\",\"usage\":";
  if (usage) {
    appendUsage(out, b);
  } else {
    out += "null";
  }
  out += ",\"user\":null,\"metadata\":{}}";
  return out;
}

}  // namespace

ResponsePlan planResponses(const MockRequest& request, const Behaviour& b) {
  ResponsePlan plan;
  plan.usage =
      CanonicalUsage{b.prompt_tokens, b.cached_tokens, 0, b.completion_tokens, b.reasoning_tokens};
  const std::string id = "resp_mock_" + b.id;
  const std::string item_id = "msg_mock_" + b.id;
  const std::string_view model = responseModel(request, b);
  const std::string text = completionWords(0, b.completion_tokens);
  const std::string done_item = messageItem(item_id, "completed", textPart(text));
  if (!request.stream) {
    plan.body = responseObject(id, model, "completed", done_item, b, b.usage);
    plan.body_carries_usage = b.usage;
    return plan;
  }

  plan.streaming = true;
  plan.content_type = "text/event-stream";
  int64_t sequence = 0;
  auto event = [&](std::string_view type, std::string_view members) {
    std::string json = "{\"type\":\"";
    json += type;
    json += "\",\"sequence_number\":";
    appendInt(json, sequence++);
    json += members;
    json += '}';
    return sseEvent(type, json);
  };
  const std::string in_progress = responseObject(id, model, "in_progress", "", b, false);
  const std::string item_ref =
      ",\"item_id\":\"" + item_id + "\",\"output_index\":0,\"content_index\":0";
  addEvent(plan, event("response.created", ",\"response\":" + in_progress), EventKind::kPreamble);
  addEvent(plan, event("response.in_progress", ",\"response\":" + in_progress),
           EventKind::kPreamble);
  addEvent(plan,
           event("response.output_item.added",
                 ",\"output_index\":0,\"item\":" + messageItem(item_id, "in_progress", "")),
           EventKind::kPreamble);
  addEvent(plan, event("response.content_part.added", item_ref + ",\"part\":" + textPart("")),
           EventKind::kPreamble);
  for (int64_t i = 0; i < b.chunks; ++i) {
    const std::string delta = completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                                              chunkStart(b.completion_tokens, b.chunks, i + 1));
    addEvent(plan,
             event("response.output_text.delta",
                   item_ref + ",\"delta\":\"" + delta + "\",\"logprobs\":[]"),
             EventKind::kContent);
  }
  // The error replaces everything after the N-th delta, so its sequence number is the next one.
  const int64_t error_sequence =
      4 + std::min<int64_t>(std::max<int64_t>(b.error_mid_stream, 0), b.chunks);
  addEvent(
      plan,
      event("response.output_text.done", item_ref + ",\"text\":\"" + text + "\",\"logprobs\":[]"),
      EventKind::kTail);
  addEvent(plan, event("response.content_part.done", item_ref + ",\"part\":" + textPart(text)),
           EventKind::kTail);
  addEvent(plan, event("response.output_item.done", ",\"output_index\":0,\"item\":" + done_item),
           EventKind::kTail);
  addEvent(plan,
           event("response.completed",
                 ",\"response\":" + responseObject(id, model, "completed", done_item, b, b.usage)),
           EventKind::kTail, b.usage);

  std::string error = "{\"type\":\"error\",\"sequence_number\":";
  appendInt(error, error_sequence);
  error += ",\"code\":\"server_error\",\"message\":\"mock: error mid-stream\",\"param\":null}";
  plan.error_event = sseEvent("error", error);
  return plan;
}

}  // namespace tollgate::loadtest::plan
