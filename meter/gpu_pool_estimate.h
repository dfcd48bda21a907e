#pragma once

#include <cstdint>

#include "meter/money.h"

namespace tollgate::meter {

// A live estimate of what one call cost on a GPU pool, from what its own replica saw: the
// pool's cost over the call's duration divided by the mean number of this replica's calls
// running beside it (occupancy_call_ns / duration_ns, GpuPoolConcurrency). Other replicas'
// calls and idle time are invisible here; the ledger's sweep over all replicas' events is the
// exact figure (docs/gpu-pools.md). Saturates at the largest Money.
Money estimateGpuPoolCost(__int128 pool_hour_pico, int64_t duration_ns, __int128 occupancy_call_ns);

}  // namespace tollgate::meter
