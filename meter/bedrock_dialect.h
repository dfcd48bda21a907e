#pragma once

#include <string>

#include "meter/dialect.h"

namespace tollgate::meter {

// AWS Bedrock Runtime, the model id taken from the path /model/{modelId}/{operation}:
// - converse / converse-stream: the Converse API. Usage (TokenUsage): inputTokens,
//   outputTokens, totalTokens, cacheReadInputTokens, cacheWriteInputTokens, cacheDetails
//   (writes per TTL). inputTokens EXCLUDES the cache: canonical input = inputTokens +
//   cacheReadInputTokens + cacheWriteInputTokens (docs/metering.md has the sources). When
//   totalTokens says otherwise (total == input + output while cache tokens are reported and fit
//   in inputTokens) inputTokens is taken as already holding them. ConverseStream is the binary
//   AWS event stream (aws_event_stream_framer.h); its usage arrives in the `metadata` event.
// - invoke / invoke-with-response-stream for Anthropic models: the body is Anthropic Messages
//   JSON (a stream: `chunk` events whose base64 "bytes" hold Anthropic's stream events), read by
//   the Anthropic dialect's meter.
// Errors: non-2xx bodies are {"message":...}; the exception name travels in the
// x-amzn-ErrorType header (or a "__type"/"code" member); in a stream, `exception` messages.
// Answers are relayed unchanged.
class BedrockDialect final : public Dialect {
 public:
  enum class Api { kConverse, kConverseStream, kInvoke, kInvokeStream };

  // Splits a Bedrock Runtime path into its model id (percent-decoded: SDKs send "%3A" for ':'
  // and ARNs escaped) and operation; false for any other path.
  static bool parsePath(std::string_view path, std::string& model_id, Api& api);
  // AWS's exception name for an error status the gateway answers with (for x-amzn-ErrorType).
  static std::string_view exceptionName(int status);
  // The exception name in an x-amzn-ErrorType value or a "__type" member:
  // "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" and
  // "com.amazon.coral.validate#ValidationException" give the part that names the exception.
  static std::string_view errorTypeName(std::string_view value);

  std::string_view name() const override { return "bedrock"; }
  std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                             RequestInfo& info) const override;
  std::optional<std::string> rewriteRequest(std::string_view body,
                                            RequestInfo& info) const override;
  std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                  std::string_view content_type) const override;
  // {"message":M,"code":C}: Bedrock's shape; "code" is the gateway's stable code, an extra member
  // the SDKs ignore when x-amzn-ErrorType (exceptionName(status)) is set.
  std::string errorBody(int status, std::string_view code, std::string_view message) const override;
  // x-amzn-ErrorType: exceptionName(status), where the AWS SDKs read an error's type.
  ErrorTypeHeader errorTypeHeader(int status, std::string_view code) const override;
};

}  // namespace tollgate::meter
