#pragma once

#include "meter/dialect.h"

namespace tollgate::meter {

// Ollama's native API: POST /api/chat and /api/generate. Streams by default ("stream": false
// turns it off) as NDJSON; the final "done": true object carries prompt_eval_count (input) and
// eval_count (output), each omitted when zero. No cache or reasoning counts. Answers are relayed
// unchanged. (Ollama's OpenAI-compatible /v1/* is the OpenAI dialect.)
class OllamaDialect final : public Dialect {
 public:
  std::string_view name() const override { return "ollama"; }
  std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                             RequestInfo& info) const override;
  std::optional<std::string> rewriteRequest(std::string_view body,
                                            RequestInfo& info) const override;
  std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                  std::string_view content_type) const override;
  // {"error":M,"code":C}: Ollama's shape plus the gateway's stable code.
  std::string errorBody(int status, std::string_view code, std::string_view message) const override;
};

}  // namespace tollgate::meter
