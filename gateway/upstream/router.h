#pragma once

#include <string_view>
#include <vector>

#include "config/config.h"
#include "gateway/upstream/upstream_set.h"
#include "meter/dialect.h"

namespace tollgate::gateway {

// A client-facing endpoint: which dialect speaks it.
struct Endpoint {
  const meter::Dialect* dialect = nullptr;
};

// Immutable routing table built from the config: request path -> dialect, and
// (dialect, model) -> the first upstream, in config order, whose model glob matches.
class Router {
 public:
  explicit Router(const config::Config& config);

  // nullptr dialect when the path is not an API the gateway serves.
  Endpoint endpointFor(std::string_view path) const;

  // The dialect whose error shape answers a request at `path` that no API serves (OpenAI when
  // the path names no provider's API family).
  const meter::Dialect& errorDialectFor(std::string_view path) const;

  // The first upstream of `dialect` serving `model`, in config order; nullptr when none does.
  const UpstreamSet* route(std::string_view dialect, std::string_view model) const;

  // The model a call routed by `name` is priced (and budgeted) as: the `deployments` entry of
  // the upstream that serves it (an Azure deployment), else `name` itself.
  std::string_view pricedModel(std::string_view dialect, std::string_view name) const;

 private:
  const config::Config& config_;
  std::vector<UpstreamSet> sets_;  // one per config_.upstreams entry, same order
  bool any_deployments_ = false;   // some upstream maps deployments to models
};

}  // namespace tollgate::gateway
