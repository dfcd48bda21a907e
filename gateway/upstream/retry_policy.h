#pragma once

namespace tollgate::gateway {

// How one attempt to reach an upstream failed, as far as retrying is concerned.
struct AttemptFailure {
  // The request went out on a pooled connection that turned out closed: the write failed
  // before one byte was written and before any deadline.
  bool stale_pooled_connection = false;
  // Bytes of the request that reached the socket: once any did, the upstream may have started
  // a generation the provider bills, and a second attempt would be billed again.
  bool request_bytes_written = false;
  // Bytes of the answer already relayed to the client: a retry would corrupt its answer.
  bool response_bytes_relayed = false;
};

// Decides whether a failed attempt is tried again. Today's rule: once, and only when the
// upstream provably never saw the call (a pooled connection found closed before one byte was
// written). Upstream pools extend it (retry budget, other endpoints, fallbacks).
class RetryPolicy {
 public:
  static constexpr unsigned kMaxAttempts = 2;

  // `attempt` is the failed attempt's index (0 for the first).
  bool shouldRetry(const AttemptFailure& failure, unsigned attempt) const;
};

}  // namespace tollgate::gateway
