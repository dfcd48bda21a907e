// AWS Bedrock Runtime Converse / ConverseStream. inputTokens EXCLUDES cache reads and writes;
// totalTokens counts all four. ConverseStream answers in the binary AWS event stream
// (application/vnd.amazon.eventstream): each message is a length-prefixed prelude with its CRC,
// string headers (:event-type, :content-type, :message-type), a JSON payload and a message CRC.

#include <zlib.h>

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest::plan {
namespace {

void appendBigEndian(std::string& out, uint32_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint32_t crc(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

void appendStringHeader(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(static_cast<char>(name.size()));
  out += name;
  out.push_back(7);  // string
  appendBigEndian(out, static_cast<uint32_t>(value.size()), 2);
  out += value;
}

std::string eventMessage(std::string_view message_type, std::string_view type_header,
                         std::string_view type, std::string_view payload) {
  std::string headers;
  appendStringHeader(headers, type_header, type);
  appendStringHeader(headers, ":content-type", "application/json");
  appendStringHeader(headers, ":message-type", message_type);
  std::string out;
  const auto total = static_cast<uint32_t>(12 + headers.size() + payload.size() + 4);
  appendBigEndian(out, total, 4);
  appendBigEndian(out, static_cast<uint32_t>(headers.size()), 4);
  appendBigEndian(out, crc(out), 4);
  out += headers;
  out += payload;
  appendBigEndian(out, crc(out), 4);
  return out;
}

std::string event(std::string_view type, std::string_view payload) {
  return eventMessage("event", ":event-type", type, payload);
}

void appendUsage(std::string& out, const Behaviour& b) {
  out += "\"usage\":{\"inputTokens\":";
  appendInt(out, b.prompt_tokens - b.cached_tokens - b.cache_write_tokens);
  out += ",\"outputTokens\":";
  appendInt(out, b.completion_tokens);
  out += ",\"totalTokens\":";
  appendInt(out, b.prompt_tokens + b.completion_tokens);
  if (b.cached_tokens > 0) {
    out += ",\"cacheReadInputTokens\":";
    appendInt(out, b.cached_tokens);
  }
  if (b.cache_write_tokens > 0) {
    out += ",\"cacheWriteInputTokens\":";
    appendInt(out, b.cache_write_tokens);
  }
  out += '}';
}

}  // namespace

ResponsePlan planBedrock(const MockRequest& request, const Behaviour& b) {
  ResponsePlan plan;
  // Converse reports no reasoning count: reasoning text is part of outputTokens.
  plan.usage = CanonicalUsage{b.prompt_tokens, b.cached_tokens, b.cache_write_tokens,
                              b.completion_tokens, 0};
  if (!request.stream) {
    std::string& out = plan.body;
    out = "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"";
    out += completionWords(0, b.completion_tokens);
    out += "\"}]}},\"stopReason\":\"end_turn\"";
    if (b.usage) {
      out += ',';
      appendUsage(out, b);
    }
    out += ",\"metrics\":{\"latencyMs\":";
    appendInt(out, b.ttft_ms);
    out += "}}";
    plan.body_carries_usage = b.usage;
    return plan;
  }

  plan.streaming = true;
  plan.content_type = "application/vnd.amazon.eventstream";
  addEvent(plan, event("messageStart", "{\"role\":\"assistant\"}"), EventKind::kPreamble);
  for (int64_t i = 0; i < b.chunks; ++i) {
    std::string payload = "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"";
    payload += completionWords(chunkStart(b.completion_tokens, b.chunks, i),
                               chunkStart(b.completion_tokens, b.chunks, i + 1));
    payload += "\"}}";
    addEvent(plan, event("contentBlockDelta", payload), EventKind::kContent);
  }
  std::string tail = event("contentBlockStop", "{\"contentBlockIndex\":0}");
  tail += event("messageStop", "{\"stopReason\":\"end_turn\"}");
  addEvent(plan, std::move(tail), EventKind::kTail);
  if (b.usage) {
    std::string metadata = "{";
    appendUsage(metadata, b);
    metadata += ",\"metrics\":{\"latencyMs\":";
    appendInt(metadata, b.ttft_ms);
    metadata += "}}";
    addEvent(plan, event("metadata", metadata), EventKind::kTail, true);
  }
  plan.error_event = eventMessage("exception", ":exception-type", "internalServerException",
                                  bedrockErrorJson("mock: error mid-stream"));
  return plan;
}

std::string bedrockErrorJson(std::string_view message) {
  std::string out = "{\"message\":";
  appendJsonString(out, message);
  out += '}';
  return out;
}

std::string bedrockErrorTypeField(int status) {
  std::string_view name = status < 500 ? "ValidationException" : "InternalServerException";
  if (status == 403) name = "AccessDeniedException";
  if (status == 404) name = "ResourceNotFoundException";
  if (status == 429) name = "ThrottlingException";
  if (status == 503) name = "ServiceUnavailableException";
  std::string out = "x-amzn-ErrorType: ";
  out += name;
  out += ":http://internal.amazon.com/coral/com.amazon.bedrock/\r\n";
  return out;
}

}  // namespace tollgate::loadtest::plan
