#include "loadtest/mock/request.h"

#include <simdjson.h>

namespace tollgate::loadtest {
namespace {

constexpr std::string_view kGeminiPrefixes[] = {"/v1beta/models/", "/v1/models/"};

// Vertex AI's path for a publisher's models: /v1/projects/{p}/locations/{l}/publishers/
// {publisher}/models/{model}:method; nullopt for any other path.
std::optional<std::string_view> vertexRest(std::string_view path, std::string_view publisher) {
  if (!path.starts_with("/v1/projects/") && !path.starts_with("/v1beta1/projects/")) {
    return std::nullopt;
  }
  const std::string marker = "/publishers/" + std::string(publisher) + "/models/";
  const size_t at = path.find(marker);
  if (at == std::string_view::npos || path.find("/locations/") > at) return std::nullopt;
  return path.substr(at + marker.size());
}

// Anthropic's models on Vertex: the Messages API, the model in the path.
std::optional<MockRequest> routeVertexAnthropic(std::string_view path) {
  const auto rest = vertexRest(path, "anthropic");
  if (!rest) return std::nullopt;
  const size_t colon = rest->rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view method = rest->substr(colon + 1);
  if (method != "rawPredict" && method != "streamRawPredict") return std::nullopt;
  MockRequest request;
  request.api = Api::kAnthropicMessages;
  request.model = std::string(rest->substr(0, colon));
  return request;
}

std::optional<MockRequest> routeGemini(std::string_view path, std::string_view query) {
  const auto vertex = vertexRest(path, "google");
  for (std::string_view prefix : kGeminiPrefixes) {
    if (!vertex && !path.starts_with(prefix)) continue;
    const std::string_view rest = vertex ? *vertex : path.substr(prefix.size());
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view method = rest.substr(colon + 1);
    MockRequest request;
    request.api = Api::kGeminiGenerate;
    request.model = std::string(rest.substr(0, colon));
    if (method == "generateContent") return request;
    if (method != "streamGenerateContent") return std::nullopt;
    request.stream = true;
    // Query parameters are &-separated; alt=sse may sit beside key=... and others.
    size_t start = 0;
    while (start <= query.size()) {
      const size_t end = std::min(query.find('&', start), query.size());
      if (query.substr(start, end - start) == "alt=sse") request.gemini_sse = true;
      start = end + 1;
    }
    return request;
  }
  return std::nullopt;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// /model/{modelId}/converse | /converse-stream; the SDKs percent-encode ':' in model ids.
std::optional<MockRequest> routeBedrock(std::string_view path) {
  constexpr std::string_view kPrefix = "/model/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  const std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view operation = rest.substr(slash + 1);
  MockRequest request;
  request.api = Api::kBedrockConverse;
  if (operation == "converse-stream") {
    request.stream = true;
  } else if (operation != "converse") {
    return std::nullopt;
  }
  const std::string_view id = rest.substr(0, slash);
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] == '%' && i + 2 < id.size() && hexValue(id[i + 1]) >= 0 && hexValue(id[i + 2]) >= 0) {
      request.model.push_back(static_cast<char>(hexValue(id[i + 1]) * 16 + hexValue(id[i + 2])));
      i += 2;
    } else {
      request.model.push_back(id[i]);
    }
  }
  return request;
}

simdjson::error_code readEmbeddingInput(simdjson::ondemand::value value, MockRequest& request) {
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  if (type != simdjson::ondemand::json_type::array) {
    request.embedding_inputs = 1;
    return simdjson::SUCCESS;
  }
  simdjson::ondemand::array array;
  if (auto error = value.get_array().get(array)) return error;
  int64_t count = 0;
  bool token_list = false;
  for (auto element : array) {
    simdjson::ondemand::value item;
    if (auto error = element.get(item)) return error;
    if (count == 0) {
      simdjson::ondemand::json_type item_type;
      if (auto error = item.type().get(item_type)) return error;
      token_list = item_type == simdjson::ondemand::json_type::number;
    }
    ++count;
  }
  // A flat list of integers is ONE tokenised input; a list of strings or of token lists is many.
  request.embedding_inputs = token_list ? 1 : count;
  return simdjson::SUCCESS;
}

simdjson::error_code readStreamOptions(simdjson::ondemand::value value, MockRequest& request) {
  simdjson::ondemand::object options;
  if (value.get_object().get(options)) return simdjson::SUCCESS;  // null or not an object
  for (auto field : options) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    if (key != "include_usage") continue;
    bool include = false;
    if (!field.value().get_bool().get(include)) request.include_usage = include;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code readBody(simdjson::ondemand::document& doc, MockRequest& request) {
  simdjson::ondemand::object object;
  if (auto error = doc.get_object().get(object)) return error;
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    simdjson::ondemand::value value;
    if (auto error = field.value().get(value)) return error;
    const bool api_in_path =
        request.api == Api::kGeminiGenerate || request.api == Api::kBedrockConverse;
    if (key == "model" && !api_in_path) {
      std::string_view model;
      if (!value.get_string().get(model)) request.model = std::string(model);
    } else if (key == "stream" && !api_in_path) {
      bool stream = false;
      if (!value.get_bool().get(stream)) request.stream = stream;
    } else if (key == "stream_options") {
      if (auto error = readStreamOptions(value, request)) return error;
    } else if (key == "input" && request.api == Api::kOpenAiEmbeddings) {
      if (auto error = readEmbeddingInput(value, request)) return error;
    } else if (key == "dimensions" && request.api == Api::kOpenAiEmbeddings) {
      int64_t dimensions = 0;
      if (!value.get_int64().get(dimensions) && dimensions > 0 && dimensions <= 4096) {
        request.embedding_dimensions = dimensions;
      }
    } else if (key == "encoding_format" && request.api == Api::kOpenAiEmbeddings) {
      std::string_view format;
      if (!value.get_string().get(format)) request.embedding_base64 = format == "base64";
    }
  }
  return simdjson::SUCCESS;
}

// Azure OpenAI: /openai/deployments/{deployment}/{operation} (the deployment as sent, not
// decoded: the mock's deployments are plain names) and /openai/v1/{operation}.
std::optional<MockRequest> routeAzure(std::string_view path) {
  MockRequest request;
  request.azure = true;
  std::string_view operation;
  constexpr std::string_view kDeployments = "/openai/deployments/";
  constexpr std::string_view kV1 = "/openai/v1/";
  if (path.starts_with(kDeployments)) {
    const std::string_view rest = path.substr(kDeployments.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return std::nullopt;
    request.deployment = std::string(rest.substr(0, slash));
    operation = rest.substr(slash + 1);
  } else if (path.starts_with(kV1)) {
    operation = path.substr(kV1.size());
  } else {
    return std::nullopt;
  }
  if (operation == "chat/completions") {
    request.api = Api::kOpenAiChat;
  } else if (operation == "completions") {
    request.api = Api::kOpenAiCompletions;
  } else if (operation == "embeddings") {
    request.api = Api::kOpenAiEmbeddings;
  } else if (operation == "responses" && request.deployment.empty()) {
    request.api = Api::kOpenAiResponses;
  } else {
    return std::nullopt;
  }
  return request;
}

}  // namespace

std::optional<MockRequest> route(std::string_view method, std::string_view path,
                                 std::string_view query) {
  if (method != "POST") return std::nullopt;
  MockRequest request;
  if (path == "/v1/chat/completions") {
    request.api = Api::kOpenAiChat;
  } else if (path == "/v1/completions") {
    request.api = Api::kOpenAiCompletions;
  } else if (path == "/v1/embeddings") {
    request.api = Api::kOpenAiEmbeddings;
  } else if (path == "/v1/responses") {
    request.api = Api::kOpenAiResponses;
  } else if (path == "/v1/messages") {
    request.api = Api::kAnthropicMessages;
  } else if (path == "/api/chat") {
    request.api = Api::kOllamaChat;
    request.stream = true;  // Ollama streams unless told "stream": false
  } else if (path == "/api/generate") {
    request.api = Api::kOllamaGenerate;
    request.stream = true;
  } else if (path.starts_with("/model/")) {
    return routeBedrock(path);
  } else if (path.starts_with("/openai/")) {
    return routeAzure(path);
  } else if (auto vertex_anthropic = routeVertexAnthropic(path)) {
    return vertex_anthropic;
  } else {
    return routeGemini(path, query);
  }
  return request;
}

std::optional<std::string> inspectBody(std::string_view body, MockRequest& request) {
  // One parser per thread, reused: the mock's workers each run on their own thread.
  thread_local simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) || readBody(doc, request)) {
    return std::string("mock: request body is not a JSON object");
  }
  if (request.api == Api::kOpenAiEmbeddings) request.stream = false;
  if (!request.deployment.empty()) request.model = request.deployment;
  if (!request.stream) request.include_usage = false;
  return std::nullopt;
}

std::string_view dialectName(Api api) {
  switch (api) {
    case Api::kOpenAiChat:
    case Api::kOpenAiCompletions:
    case Api::kOpenAiEmbeddings:
    case Api::kOpenAiResponses:
      return "openai";
    case Api::kAnthropicMessages:
      return "anthropic";
    case Api::kGeminiGenerate:
      return "gemini";
    case Api::kOllamaChat:
    case Api::kOllamaGenerate:
      return "ollama";
    case Api::kBedrockConverse:
      return "bedrock";
  }
  return "";
}

std::string_view operationName(Api api) {
  switch (api) {
    case Api::kOpenAiChat:
    case Api::kAnthropicMessages:
    case Api::kOllamaChat:
    case Api::kBedrockConverse:
      return "chat";
    case Api::kOpenAiCompletions:
    case Api::kOllamaGenerate:
      return "text_completion";
    case Api::kOpenAiEmbeddings:
      return "embeddings";
    case Api::kOpenAiResponses:
      return "responses";
    case Api::kGeminiGenerate:
      return "generate_content";
  }
  return "";
}

}  // namespace tollgate::loadtest
