#pragma once

// Helpers shared by the per-provider planners (not part of the mock's interface).

#include <cstdint>
#include <string>
#include <string_view>

#include "loadtest/mock/response_plan.h"

namespace tollgate::loadtest::plan {

inline constexpr int64_t kCreated = 1700000000;
inline constexpr std::string_view kCreatedIso = "2023-11-14T22:13:20Z";  // kCreated in UTC

// Token range [first, last) of content event `index` out of `chunks`, spreading `tokens` evenly.
inline int64_t chunkStart(int64_t tokens, int64_t chunks, int64_t index) {
  return chunks == 0 ? 0 : tokens * index / chunks;
}

inline std::string sseData(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 8);
  out += "data: ";
  out += json;
  out += "\n\n";
  return out;
}

inline std::string sseEvent(std::string_view name, std::string_view json) {
  std::string out;
  out.reserve(json.size() + name.size() + 16);
  out += "event: ";
  out += name;
  out += "\ndata: ";
  out += json;
  out += "\n\n";
  return out;
}

inline void addEvent(ResponsePlan& plan, std::string bytes, EventKind kind,
                     bool carries_usage = false) {
  plan.events.push_back(StreamEvent{std::move(bytes), kind, carries_usage});
}

// The model named in the answer: x-mock-response-model, else the requested one.
std::string_view responseModel(const MockRequest& request, const Behaviour& behaviour);

ResponsePlan planOpenAi(const MockRequest& request, const Behaviour& behaviour);
ResponsePlan planResponses(const MockRequest& request, const Behaviour& behaviour);
ResponsePlan planAnthropic(const MockRequest& request, const Behaviour& behaviour);
ResponsePlan planGemini(const MockRequest& request, const Behaviour& behaviour);
ResponsePlan planOllama(const MockRequest& request, const Behaviour& behaviour);
ResponsePlan planBedrock(const MockRequest& request, const Behaviour& behaviour);

std::string openAiErrorJson(int status, std::string_view message);
std::string anthropicErrorJson(int status, std::string_view message);
std::string geminiErrorJson(int status, std::string_view message);
std::string ollamaErrorJson(std::string_view message);
// Bedrock's x-amzn-ErrorType line for an error status, as AWS writes it (the exception name, a
// colon, the service's namespace URL).
std::string bedrockErrorTypeField(int status);
std::string bedrockErrorJson(std::string_view message);

}  // namespace tollgate::loadtest::plan
