#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "gateway/core/snapshot_holder.h"
#include "gateway/policy/admission.h"
#include "gateway/policy/admission_policy.h"
#include "gateway/policy/call_policy.h"
#include "gateway/proxy/gpu_pool_occupancy.h"
#include "gateway/upstream/router.h"
#include "gateway/upstream/upstream_tls_context.h"
#include "meter/coster.h"
#include "meter/price_book.h"

namespace tollgate::gateway {

// What outlives configuration snapshots and every Runtime built from them shares: policies
// whose state must survive a reload (spend control's spend and holds). A reload passes the
// running snapshot's services to the next one.
struct RuntimeServices {
  // Policies run after admission, in this order.
  std::vector<std::shared_ptr<CallPolicy>> policies;
  // This replica's calls in flight per GPU pool (the events' live estimate).
  std::shared_ptr<GpuPoolOccupancy> gpu_pools = std::make_shared<GpuPoolOccupancy>();
};

// Everything derived from one configuration, immutable: shared by all workers as
// shared_ptr<const Runtime>. A reload builds a new one and swaps the pointer; calls in flight
// keep the snapshot they started with. Throws std::runtime_error naming the key when the
// configuration cannot be used (a CA file that is not PEM): the start fails, a reload is refused.
struct Runtime {
  explicit Runtime(std::shared_ptr<const config::Config> cfg, RuntimeServices shared = {})
      : config(std::move(cfg)),
        services(std::move(shared)),
        prices(config->price_catalog_version, config->prices, config->default_prices),
        coster(prices),
        router(*config),
        admission(*config) {
    checkUpstreamTls(*config);
    policies.add(std::make_shared<AdmissionPolicy>(admission));
    for (const auto& policy : services.policies) policies.add(policy);
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  std::shared_ptr<const config::Config> config;
  RuntimeServices services;
  meter::PriceBook prices;
  meter::TokenCoster coster;  // prices calls with `prices`
  Router router;
  AdmissionController admission;  // holds the key table: a reload swaps keys with prices
  CallPolicyChain policies;       // admission first, then services.policies
};

using RuntimeHolder = SnapshotHolder<Runtime>;

}  // namespace tollgate::gateway
