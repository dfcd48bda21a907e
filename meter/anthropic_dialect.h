#pragma once

#include "meter/dialect.h"

namespace tollgate::meter {

// Anthropic Messages (POST /v1/messages), streaming and not. Usage: input_tokens EXCLUDES the
// cache, so canonical input = input_tokens + cache_creation_input_tokens +
// cache_read_input_tokens; cache writes split into 5-minute and 1-hour parts
// (cache_creation.ephemeral_1h_input_tokens). In a stream, message_start carries the input side
// and message_delta the cumulative usage: its last value wins, and any input or cache count it
// carries supersedes message_start's. Answers are relayed unchanged.
class AnthropicDialect final : public Dialect {
 public:
  // Anthropic's models on Google Vertex AI: /v1/projects/{p}/locations/{l}/publishers/anthropic/
  // models/{model}:rawPredict | :streamRawPredict, the Messages API with the model in the path
  // (the body's "stream" says whether it streams). False for any other path.
  static bool parseVertexPath(std::string_view path, std::string_view& model);

  std::string_view name() const override { return "anthropic"; }
  std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                             RequestInfo& info) const override;
  std::optional<std::string> rewriteRequest(std::string_view body,
                                            RequestInfo& info) const override;
  std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                  std::string_view content_type) const override;
  // {"type":"error","error":{"type":T,"message":M,"code":C}}: Anthropic's shape; "code" is the
  // gateway's stable code, an extra member the SDKs ignore.
  std::string errorBody(int status, std::string_view code, std::string_view message) const override;
};

}  // namespace tollgate::meter
