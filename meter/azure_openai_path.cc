#include "meter/azure_openai_path.h"

#include "meter/json_scanner.h"

namespace tollgate::meter {
namespace {

constexpr std::string_view kDeployments = "/openai/deployments/";
constexpr std::string_view kV1 = "/openai/v1/";

bool percentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return false;
    const int hi = hexDigit(in[i + 1]);
    const int lo = hexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// The value of query parameter `name` (first occurrence, percent-decoded); "" when absent.
std::string queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    if (param.substr(0, eq) != name || eq == std::string_view::npos) continue;
    std::string value;
    if (percentDecode(param.substr(eq + 1), value)) return value;
  }
  return {};
}

// The OpenAI path of an Azure operation suffix; "" for one the gateway does not meter.
std::string_view openAiPath(std::string_view operation, bool v1) {
  if (operation == "chat/completions") return "/v1/chat/completions";
  if (operation == "completions") return "/v1/completions";
  if (operation == "embeddings") return "/v1/embeddings";
  if (v1 && operation == "responses") return "/v1/responses";
  return {};
}

}  // namespace

std::optional<AzureOpenAiRoute> parseAzureOpenAiPath(std::string_view path) {
  AzureOpenAiRoute route;
  if (path.starts_with(kV1)) {
    route.v1 = true;
    route.openai_path = openAiPath(path.substr(kV1.size()), true);
    if (route.openai_path.empty()) return std::nullopt;
    return route;
  }
  if (path == "/openai/responses") {
    route.openai_path = "/v1/responses";
    return route;
  }
  if (!path.starts_with(kDeployments)) return std::nullopt;
  const std::string_view rest = path.substr(kDeployments.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  if (!percentDecode(rest.substr(0, slash), route.deployment) ||
      route.deployment.find('/') != std::string::npos) {
    return std::nullopt;
  }
  route.openai_path = openAiPath(rest.substr(slash + 1), false);
  if (route.openai_path.empty()) return std::nullopt;
  return route;
}

std::optional<AzureOpenAiRoute> parseAzureOpenAiTarget(std::string_view target) {
  const size_t q = target.find('?');
  auto route = parseAzureOpenAiPath(target.substr(0, q));
  if (!route) return std::nullopt;
  if (q != std::string_view::npos)
    route->api_version = queryParam(target.substr(q + 1), "api-version");
  if (!route->v1 && route->api_version.empty()) return std::nullopt;
  return route;
}

}  // namespace tollgate::meter
