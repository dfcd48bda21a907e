#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Where an Azure OpenAI request goes (the model to price a deployment as:
// azure_deployment_models.h), read from its request target.
struct AzureOpenAiRoute {
  // The deployment named by a /openai/deployments/{deployment}/... path; "" for the v1 API
  // (/openai/v1/...), whose body "model" names the deployment instead.
  std::string deployment;
  // The OpenAI API path it corresponds to ("/v1/chat/completions", "/v1/embeddings", ...): what
  // the OpenAI dialect reads the body and the answer as.
  std::string openai_path;
  std::string api_version;  // the api-version query parameter ("" when absent)
  bool v1 = false;          // the /openai/v1/ API (no api-version needed)
};

// Reads an Azure OpenAI request target (path and query):
//   /openai/deployments/{deployment}/chat/completions?api-version=2024-10-21
//   /openai/deployments/{deployment}/completions | /embeddings   (same query)
//   /openai/v1/chat/completions | /completions | /embeddings | /responses   (api-version optional)
//   /openai/responses?api-version=...   (the Responses API before v1)
// nullopt for any other target, for a deployment path without api-version (Azure rejects it),
// and for a deployment name that is empty, holds a '/', or a malformed %-escape.
std::optional<AzureOpenAiRoute> parseAzureOpenAiTarget(std::string_view target);

// The same for a path without its query (what the gateway routes on): api-version is not read
// and not required; the upstream itself refuses a call without it.
std::optional<AzureOpenAiRoute> parseAzureOpenAiPath(std::string_view path);

}  // namespace tollgate::meter
