#pragma once

#include "meter/dialect.h"

namespace tollgate::meter {

// Google Gemini: POST /v1beta/models/{model}:generateContent and :streamGenerateContent (also
// under /v1/ and /v1alpha/), the model taken from the path. A stream is SSE with `?alt=sse`
// (data: lines ending in CRLF, no [DONE]) and one JSON array written piecewise without it.
// Usage: promptTokenCount INCLUDES cachedContentTokenCount; billable output =
// candidatesTokenCount + thoughtsTokenCount; toolUsePromptTokenCount is input on top of the
// prompt. In a stream usageMetadata repeats cumulatively: the last one wins. Answers are
// relayed unchanged.
class GeminiDialect final : public Dialect {
 public:
  // Splits a Gemini API path into its model and whether it streams; false when `path` is not
  // one of the two generate methods. Vertex AI's paths for Google's models,
  // /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:..., are the same API.
  static bool parsePath(std::string_view path, std::string_view& model, bool& stream);

  std::string_view name() const override { return "gemini"; }
  std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                             RequestInfo& info) const override;
  std::optional<std::string> rewriteRequest(std::string_view body,
                                            RequestInfo& info) const override;
  std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                  std::string_view content_type) const override;
  // {"error":{"code":N,"message":M,"status":S,"details":[ErrorInfo{reason: the gateway's code}]}}
  std::string errorBody(int status, std::string_view code, std::string_view message) const override;
};

}  // namespace tollgate::meter
