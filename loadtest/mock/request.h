#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::loadtest {

// The provider APIs the mock speaks.
enum class Api {
  kOpenAiChat,         // POST /v1/chat/completions
  kOpenAiCompletions,  // POST /v1/completions
  kOpenAiEmbeddings,   // POST /v1/embeddings
  kOpenAiResponses,    // POST /v1/responses
  kAnthropicMessages,  // POST /v1/messages
  kGeminiGenerate,     // POST /v1beta/models/{model}:generateContent | :streamGenerateContent
  kOllamaChat,         // POST /api/chat
  kOllamaGenerate,     // POST /api/generate
  kBedrockConverse,    // POST /model/{modelId}/converse | /converse-stream (AWS Bedrock Runtime)
};

// What the mock needs from a request to answer it.
struct MockRequest {
  Api api = Api::kOpenAiChat;
  std::string model;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage
  bool gemini_sse = false;     // :streamGenerateContent?alt=sse (else one JSON array)
  int64_t embedding_inputs = 1;
  int64_t embedding_dimensions = 8;
  bool embedding_base64 = false;
  // Azure OpenAI (/openai/deployments/{deployment}/... or /openai/v1/...): OpenAI's answers with
  // Azure's content-filter additions. `deployment` is the path's ("" for the v1 API, whose body
  // "model" names the deployment); it is the model the mock answers as.
  bool azure = false;
  std::string deployment;
};

// Picks the API from method and path (no query). nullopt: not a provider endpoint.
// For Gemini, the model and the stream flag come from the path and `alt=sse` from the query; for
// Bedrock, the (percent-decoded) model id and the stream flag from the path.
std::optional<MockRequest> route(std::string_view method, std::string_view path,
                                 std::string_view query);

// Reads model, stream flags and embedding options from the JSON body into `request`.
// Returns an error message when the body is not a JSON object.
std::optional<std::string> inspectBody(std::string_view body, MockRequest& request);

std::string_view dialectName(Api api);    // openai | anthropic | gemini | ollama | bedrock
std::string_view operationName(Api api);  // chat | text_completion | embeddings | responses | ...

}  // namespace tollgate::loadtest
