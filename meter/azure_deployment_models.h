#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace tollgate::meter {

// Deployment name -> model name, for pricing: an Azure deployment is named by its owner
// ("prod-chat"), and the price list knows models ("gpt-4o-mini-2024-07-18").
class AzureDeploymentModels {
 public:
  AzureDeploymentModels() = default;
  explicit AzureDeploymentModels(std::map<std::string, std::string, std::less<>> models)
      : models_(std::move(models)) {}

  // The model to price `deployment` as: its configured model, else the deployment name itself
  // (deployments are often named after their model; the answer's "model" is checked too).
  std::string_view modelFor(std::string_view deployment) const {
    const auto it = models_.find(deployment);
    return it == models_.end() ? deployment : std::string_view(it->second);
  }

 private:
  std::map<std::string, std::string, std::less<>> models_;
};

}  // namespace tollgate::meter
