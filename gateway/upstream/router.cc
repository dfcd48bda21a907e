#include "gateway/upstream/router.h"

#include "meter/anthropic_dialect.h"
#include "meter/azure_openai_dialect.h"
#include "meter/azure_openai_path.h"
#include "meter/bedrock_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/glob.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::gateway {
namespace {

const meter::OpenAiDialect kOpenAi;
const meter::AnthropicDialect kAnthropic;
const meter::GeminiDialect kGemini;
const meter::OllamaDialect kOllama;
const meter::BedrockDialect kBedrock;
const meter::AzureOpenAiDialect kAzureOpenAi;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Router::Router(const config::Config& config) : config_(config) {
  sets_.reserve(config_.upstreams.size());
  for (const auto& upstream : config_.upstreams) {
    sets_.emplace_back(upstream);
    any_deployments_ = any_deployments_ || !upstream.deployments.empty();
  }
}

Endpoint Router::endpointFor(std::string_view path) const {
  if (path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/embeddings" ||
      path == "/v1/responses") {
    return {&kOpenAi};
  }
  if (path == "/v1/messages") return {&kAnthropic};
  if (std::string_view vertex_model; meter::AnthropicDialect::parseVertexPath(path, vertex_model)) {
    return {&kAnthropic};
  }
  if (path == "/api/chat" || path == "/api/generate") return {&kOllama};
  if (startsWith(path, "/openai/") && meter::parseAzureOpenAiPath(path)) return {&kAzureOpenAi};
  std::string_view model;
  bool stream = false;
  if (meter::GeminiDialect::parsePath(path, model, stream)) return {&kGemini};
  if (startsWith(path, "/model/")) {
    std::string model_id;
    meter::BedrockDialect::Api api;
    if (meter::BedrockDialect::parsePath(path, model_id, api)) return {&kBedrock};
  }
  return {};
}

const meter::Dialect& Router::errorDialectFor(std::string_view path) const {
  // A path the gateway does not serve still tells whose client sent it: answer in that
  // client's error shape so its SDK can read the error.
  if (startsWith(path, "/v1/messages")) return kAnthropic;
  if (startsWith(path, "/v1beta/") || startsWith(path, "/v1alpha/")) return kGemini;
  if (startsWith(path, "/v1/models/") && path.find(':') != std::string_view::npos) return kGemini;
  if (startsWith(path, "/api/")) return kOllama;
  if (startsWith(path, "/model/")) return kBedrock;
  return kOpenAi;
}

const UpstreamSet* Router::route(std::string_view dialect, std::string_view model) const {
  for (const auto& set : sets_) {
    const auto& upstream = set.config();
    if (upstream.dialect != dialect) continue;
    for (const auto& pattern : upstream.models) {
      if (meter::globMatch(pattern, model)) return &set;
    }
  }
  return nullptr;
}

std::string_view Router::pricedModel(std::string_view dialect, std::string_view name) const {
  if (!any_deployments_) return name;
  const UpstreamSet* set = route(dialect, name);
  if (set == nullptr) return name;
  const auto& deployments = set->config().deployments;
  const auto it = deployments.find(name);
  return it == deployments.end() ? name : std::string_view(it->second);
}

}  // namespace tollgate::gateway
