#include "gateway/upstream/retry_policy.h"

namespace tollgate::gateway {

bool RetryPolicy::shouldRetry(const AttemptFailure& failure, unsigned attempt) const {
  if (attempt + 1 >= kMaxAttempts) return false;
  if (failure.response_bytes_relayed || failure.request_bytes_written) return false;
  return failure.stale_pooled_connection;
}

}  // namespace tollgate::gateway
