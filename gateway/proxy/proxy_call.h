#pragma once

#include <memory>
#include <optional>

#include "gateway/core/call_record.h"
#include "gateway/policy/call_policy.h"
#include "gateway/proxy/call_record_open_call.h"
#include "gateway/proxy/runtime.h"
#include "gateway/upstream/upstream_pools.h"
#include "gateway/upstream/upstream_set.h"

namespace tollgate::gateway {

class AttemptFailover;

// A call as the proxy handles it: what observers see (CallRecord), plus the configuration
// snapshot it started with, kept alive until the call ends.
struct ProxyCall : CallRecord {
  std::shared_ptr<const Runtime> runtime;
  PolicyCall policy;                       // what the policy chain knows and holds
  const UpstreamSet* upstreams = nullptr;  // the routed upstream; `upstream` is its attempt's pick
  std::shared_ptr<UpstreamPools> pools;    // the worker's pools of `runtime`'s config
  __int128 gpu_pool_mark = 0;              // GpuPoolOccupancy::begin's mark while gpu_pool is set
  // While forward() runs: where a failed attempt goes next (asked by the relay before anything
  // is relayed; a member, not an argument, so the relay's coroutine frame stays as it was).
  AttemptFailover* failover = nullptr;
  // While the call is forwarded: its link into the worker's open-call journal (declared after
  // the view it reads, so unlinked first).
  std::optional<CallRecordOpenCall> open_view;
  OpenCallTracker::Handle open_call;
};

}  // namespace tollgate::gateway
