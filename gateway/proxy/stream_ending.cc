#include "gateway/proxy/stream_ending.h"

#include <algorithm>

#include "meter/json_escape.h"
#include "meter/meter_support.h"

namespace tollgate::gateway {

namespace {

bool isLineEnd(char c) { return c == '\n' || c == '\r'; }

void appendField(std::string_view name, std::string_view value, std::string& out) {
  out.push_back('"');
  out.append(name);
  out.append("\":");
  meter::appendJsonString(value, out);
}

}  // namespace

StreamEnding::Form StreamEnding::formOf(std::string_view dialect, const meter::RequestInfo& info,
                                        int status, std::string_view content_type) {
  if (status < 200 || status > 299 || !info.stream) return Form::kNone;
  if (dialect == "ollama") {
    return info.operation == "chat" ? Form::kOllamaChat : Form::kOllamaGenerate;
  }
  if (!meter::support::isEventStream(content_type)) return Form::kNone;
  if (dialect == "openai") {
    if (info.operation == "chat") return Form::kOpenAiChat;
    if (info.operation == "text_completion") return Form::kOpenAiCompletion;
    if (info.operation == "responses") return Form::kOpenAiResponses;
    return Form::kNone;
  }
  if (dialect == "anthropic") return Form::kAnthropic;
  if (dialect == "gemini") return Form::kGeminiSse;
  return Form::kNone;
}

void StreamEnding::relayed(std::string_view bytes) {
  if (bytes.size() >= tail_.size()) {
    std::copy(bytes.end() - tail_.size(), bytes.end(), tail_.begin());
    tail_size_ = tail_.size();
    return;
  }
  const size_t keep = std::min(tail_size_, tail_.size() - bytes.size());
  std::copy(tail_.begin() + (tail_size_ - keep), tail_.begin() + tail_size_, tail_.begin());
  std::copy(bytes.begin(), bytes.end(), tail_.begin() + keep);
  tail_size_ = keep + bytes.size();
}

bool StreamEnding::endsEvent(std::string_view tail, bool ndjson) {
  if (tail.empty()) return true;
  if (ndjson) return tail.back() == '\n';
  // An SSE event ends at an empty line: a line end right after another ("\n\n", "\r\r",
  // "\r\n\r\n", and the mixed forms).
  size_t end = tail.size();
  if (!isLineEnd(tail[end - 1])) return false;
  end -= (end >= 2 && tail[end - 2] == '\r' && tail[end - 1] == '\n') ? 2 : 1;
  return end > 0 && isLineEnd(tail[end - 1]);
}

bool StreamEnding::atBoundary() const { return endsEvent(tail(), ndjson()); }

std::optional<size_t> StreamEnding::boundaryIn(std::string_view next) const {
  std::string joined(tail());
  joined.append(next);
  for (size_t i = next.size(); i > 0; --i) {
    const size_t end = tail_size_ + i;
    const size_t from = end > tail_.size() ? end - tail_.size() : 0;
    if (endsEvent(std::string_view(joined).substr(from, end - from), ndjson())) return i;
  }
  return std::nullopt;
}

std::string StreamEnding::closeOpenEvent() const {
  if (atBoundary()) return {};
  if (ndjson()) return "\n";
  // A line already ended needs only the empty line; a bare CR might be half of a CRLF.
  return !tail().empty() && tail().back() == '\n' ? "\n" : "\n\n";
}

std::string StreamEnding::sseEvent(std::string_view name, std::string_view data) const {
  std::string out;
  if (!name.empty()) {
    out.append("event: ");
    out.append(name);
    out.push_back('\n');
  }
  out.append("data: ");
  out.append(data);
  // Gemini frames its events with CRLF.
  out.append(form_ == Form::kGeminiSse ? "\r\n\r\n" : "\n\n");
  return out;
}

void StreamEnding::appendTollgate(const StreamEndNotice& notice, std::string_view outcome,
                                  std::string& out) {
  out.append(",\"tollgate\":{");
  appendField("outcome", outcome, out);
  out.push_back(',');
  appendField("code", notice.code, out);
  if (!notice.limit.empty()) {
    out.push_back(',');
    appendField("limit", notice.limit, out);
  }
  out.push_back(',');
  appendField("message", notice.message, out);
  out.push_back('}');
}

std::string StreamEnding::cutEnd(const meter::Dialect& dialect,
                                 const StreamEndNotice& notice) const {
  std::string out = closeOpenEvent();
  std::string data;
  const std::string created = std::to_string(notice.created_unix_s);
  switch (form_) {
    case Form::kNone:
      return {};
    case Form::kOpenAiChat:
    case Form::kOpenAiCompletion: {
      // "length": the answer stopped before the model ended it, the finish reason every client
      // already reads as incomplete; the tollgate object says why.
      const bool chat = form_ == Form::kOpenAiChat;
      data = "{";
      appendField("id", notice.response_id, data);
      data.append(chat ? R"(,"object":"chat.completion.chunk","created":)"
                       : R"(,"object":"text_completion","created":)");
      data.append(created);
      data.push_back(',');
      appendField("model", notice.model, data);
      data.append(
          chat ? R"(,"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}])"
               : R"(,"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}])");
      appendTollgate(notice, "budget_cut", data);
      data.push_back('}');
      out.append(sseEvent({}, data));
      out.append(sseEvent({}, "[DONE]"));
      return out;
    }
    case Form::kOpenAiResponses: {
      // The response's own id: the SDK's accumulator refuses a lifecycle event of another
      // response. Without "output" it fills in the items it accumulated.
      data = R"({"type":"response.incomplete","response":{)";
      appendField("id", notice.response_id, data);
      data.append(R"(,"object":"response","created_at":)");
      data.append(created);
      data.append(R"(,"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},)");
      appendField("model", notice.model, data);
      data.append(R"(,"error":null})");
      appendTollgate(notice, "budget_cut", data);
      data.push_back('}');
      out.append(sseEvent("response.incomplete", data));
      return out;
    }
    case Form::kAnthropic:
      // Anthropic's in-stream error: the SDKs raise it with its message.
      out.append(sseEvent("error", dialect.errorBody(429, notice.code, notice.message)));
      return out;
    case Form::kGeminiSse:
      data = R"({"candidates":[{"content":{"role":"model","parts":[{"text":""}]},)"
             R"("finishReason":"MAX_TOKENS","index":0}],)";
      appendField("modelVersion", notice.model, data);
      data.push_back(',');
      appendField("responseId", notice.response_id, data);
      appendTollgate(notice, "budget_cut", data);
      data.push_back('}');
      out.append(sseEvent({}, data));
      return out;
    case Form::kOllamaChat:
    case Form::kOllamaGenerate:
      data = "{";
      appendField("model", notice.model, data);
      data.append(form_ == Form::kOllamaChat ? R"(,"message":{"role":"assistant","content":""})"
                                             : R"(,"response":"")");
      data.append(R"(,"done":true,"done_reason":"length")");
      appendTollgate(notice, "budget_cut", data);
      data.append("}\n");
      out.append(data);
      return out;
  }
  return {};
}

std::string StreamEnding::failureEnd(const meter::Dialect& dialect,
                                     const StreamEndNotice& notice) const {
  if (form_ == Form::kNone) return {};
  std::string out = closeOpenEvent();
  constexpr int kStatus = 502;
  switch (form_) {
    case Form::kNone:
      break;
    case Form::kOpenAiChat:
    case Form::kOpenAiCompletion:
    case Form::kGeminiSse:
      // An error object in a data event: the OpenAI SDKs raise it as an APIError.
      out.append(sseEvent({}, dialect.errorBody(kStatus, notice.code, notice.message)));
      break;
    case Form::kOpenAiResponses: {
      std::string data = R"({"type":"error",)";
      appendField("code", notice.code, data);
      data.push_back(',');
      appendField("message", notice.message, data);
      data.append(R"(,"param":null})");
      out.append(sseEvent("error", data));
      break;
    }
    case Form::kAnthropic:
      out.append(sseEvent("error", dialect.errorBody(kStatus, notice.code, notice.message)));
      break;
    case Form::kOllamaChat:
    case Form::kOllamaGenerate:
      // Ollama's own mid-stream error: a line with an "error" member.
      out.append(dialect.errorBody(kStatus, notice.code, notice.message));
      out.push_back('\n');
      break;
  }
  return out;
}

}  // namespace tollgate::gateway
