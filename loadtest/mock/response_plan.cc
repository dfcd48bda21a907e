#include "loadtest/mock/response_plan.h"

#include <array>

#include "loadtest/mock/json_writer.h"
#include "loadtest/mock/plan_support.h"

namespace tollgate::loadtest {
namespace {

// Three letters and a space: exactly 4 content bytes per completion token, so a gateway's
// bytes/4 estimate of a cut stream can be checked exactly.
constexpr std::array<std::string_view, 12> kWords = {
    "the ", "fox ", "ran ", "far ", "and ", "sky ", "was ", "red ", "sun ", "set ", "low ", "now "};

}  // namespace

std::string completionWords(int64_t from, int64_t to) {
  std::string out;
  if (to <= from) return out;
  out.reserve(static_cast<size_t>(to - from) * 4);
  for (int64_t token = from; token < to; ++token) out += kWords[token % kWords.size()];
  return out;
}

namespace plan {

std::string_view responseModel(const MockRequest& request, const Behaviour& behaviour) {
  return behaviour.response_model.empty() ? std::string_view(request.model)
                                          : std::string_view(behaviour.response_model);
}

}  // namespace plan

ResponsePlan planResponse(const MockRequest& request, const Behaviour& behaviour) {
  ResponsePlan result;
  switch (request.api) {
    case Api::kOpenAiChat:
    case Api::kOpenAiCompletions:
    case Api::kOpenAiEmbeddings:
      result = plan::planOpenAi(request, behaviour);
      break;
    case Api::kOpenAiResponses:
      result = plan::planResponses(request, behaviour);
      break;
    case Api::kAnthropicMessages:
      result = plan::planAnthropic(request, behaviour);
      break;
    case Api::kGeminiGenerate:
      result = plan::planGemini(request, behaviour);
      break;
    case Api::kOllamaChat:
    case Api::kOllamaGenerate:
      result = plan::planOllama(request, behaviour);
      break;
    case Api::kBedrockConverse:
      result = plan::planBedrock(request, behaviour);
      break;
  }
  result.response_model = std::string(plan::responseModel(request, behaviour));
  return result;
}

ResponsePlan planError(Api api, int status, std::string_view message) {
  ResponsePlan result;
  result.status = status;
  switch (api) {
    case Api::kOpenAiChat:
    case Api::kOpenAiCompletions:
    case Api::kOpenAiEmbeddings:
    case Api::kOpenAiResponses:
      result.body = plan::openAiErrorJson(status, message);
      break;
    case Api::kAnthropicMessages:
      result.body = plan::anthropicErrorJson(status, message);
      break;
    case Api::kGeminiGenerate:
      result.body = plan::geminiErrorJson(status, message);
      break;
    case Api::kOllamaChat:
    case Api::kOllamaGenerate:
      result.body = plan::ollamaErrorJson(message);
      break;
    case Api::kBedrockConverse:
      result.body = plan::bedrockErrorJson(message);
      result.extra_fields = plan::bedrockErrorTypeField(status);
      break;
  }
  return result;
}

ResponsePlan planNotFound(std::string_view method, std::string_view target) {
  ResponsePlan result;
  result.status = 404;
  std::string message = "mock: no endpoint for ";
  message += method;
  message += ' ';
  message += target;
  result.body = "{\"error\":{\"message\":";
  appendJsonString(result.body, message);
  result.body += ",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"unknown_url\"}}";
  return result;
}

}  // namespace tollgate::loadtest
