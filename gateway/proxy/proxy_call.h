#pragma once

#include <memory>

#include "gateway/core/call_record.h"
#include "gateway/policy/call_policy.h"
#include "gateway/proxy/runtime.h"
#include "gateway/upstream/upstream_set.h"

namespace tollgate::gateway {

// A call as the proxy handles it: what observers see (CallRecord), plus the configuration
// snapshot it started with, kept alive until the call ends.
struct ProxyCall : CallRecord {
  std::shared_ptr<const Runtime> runtime;
  PolicyCall policy;                       // what the policy chain knows and holds
  const UpstreamSet* upstreams = nullptr;  // the routed upstream; `upstream` is its attempt's pick
};

}  // namespace tollgate::gateway
