#pragma once

#include "meter/dialect.h"

namespace tollgate::meter {

// OpenAI and OpenAI-compatible servers (vLLM, TGI, llama.cpp, Ollama /v1):
// /v1/chat/completions (streaming and not). Streaming usage: when the client did not ask for
// stream_options.include_usage, the gateway asks for it and hides what that adds from the
// client (the final usage-only chunk, and the "usage":null member of every other chunk), so the
// client receives exactly the bytes it would have received without the gateway.
class OpenAiDialect final : public Dialect {
 public:
  std::string_view name() const override { return "openai"; }
  std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                             RequestInfo& info) const override;
  // inspectRequest for a path that may name the model itself (Azure's deployment paths): with
  // `model_required` false a body without "model" is accepted and info.model left empty.
  std::optional<RequestError> inspectOpenAiRequest(std::string_view path, std::string_view body,
                                                   RequestInfo& info, bool model_required) const;
  std::optional<std::string> rewriteRequest(std::string_view body,
                                            RequestInfo& info) const override;
  std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                  std::string_view content_type) const override;
  std::string errorBody(int status, std::string_view code, std::string_view message) const override;
};

}  // namespace tollgate::meter
