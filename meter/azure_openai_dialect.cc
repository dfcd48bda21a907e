#include "meter/azure_openai_dialect.h"

#include "meter/azure_openai_path.h"
#include "meter/meter_support.h"

namespace tollgate::meter {

std::optional<RequestError> AzureOpenAiDialect::inspectRequest(std::string_view path,
                                                               std::string_view body,
                                                               RequestInfo& info) const {
  const auto route = parseAzureOpenAiPath(path);
  if (!route) return support::unknownEndpoint(name(), path);
  // A deployment path names the deployment; Azure ignores a "model" in its body.
  const bool from_path = !route->deployment.empty();
  if (auto bad = openai_.inspectOpenAiRequest(route->openai_path, body, info, !from_path)) {
    return bad;
  }
  if (from_path) info.model = route->deployment;
  return std::nullopt;
}

std::optional<std::string> AzureOpenAiDialect::rewriteRequest(std::string_view body,
                                                              RequestInfo& info) const {
  return openai_.rewriteRequest(body, info);
}

std::unique_ptr<ResponseMeter> AzureOpenAiDialect::newResponseMeter(
    const RequestInfo& info, int status, std::string_view content_type) const {
  return openai_.newResponseMeter(info, status, content_type);
}

std::string AzureOpenAiDialect::errorBody(int status, std::string_view code,
                                          std::string_view message) const {
  return openai_.errorBody(status, code, message);
}

}  // namespace tollgate::meter
