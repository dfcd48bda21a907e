#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/policy/call_policy.h"
#include "gateway/proxy/stream_ending.h"
#include "meter/dialect.h"

namespace tollgate::gateway {

// One relayed answer as spend control and the mid-stream failure rule see it: per relayed chunk,
// the output so far goes to the policies that watch it (a budget or an output rate limit may cut
// the stream), and the relayed bytes are followed so that the gateway can end the stream in its
// dialect (StreamEnding) after a cut or an upstream failure. A call that no policy watches and
// whose answer has no ending form pays one branch per chunk.
class StreamGuard {
 public:
  StreamGuard(const CallPolicyChain& policies, PolicyCall& call, StreamEnding::Form form)
      : policies_(policies), call_(call), ending_(form) {}

  // A chunk the meter passed on (never the last of a complete body): the part to relay now.
  // Once a cut is decided, the relayed bytes stop at the end of the last whole event; then
  // cutDue() is true and the stream ends with cutEnd().
  std::string_view onChunk(std::string_view out, const meter::ResponseMeter& meter);
  // Bytes relayed outside onChunk (a meter's tail).
  void relayed(std::string_view bytes) { ending_.relayed(bytes); }

  bool cutDue() const { return due_; }
  const std::optional<OutputCut>& cut() const { return cut_; }
  // The stream has a form the gateway can end: without one, a cut or a failure leaves the body
  // short (the client's HTTP layer sees the truncation) and the connection closes.
  bool endsInDialect() const { return ending_.active(); }

  // The final events of a cut stream ("" without a form).
  std::string cutEnd(const meter::Dialect& dialect, const meter::MeterResult& answer,
                     int64_t created_unix_s) const;
  // The explicit error that ends a stream whose upstream failed after bytes were relayed.
  std::string failureEnd(const meter::Dialect& dialect, const meter::MeterResult& answer,
                         std::string_view upstream, bool timed_out) const;

 private:
  const CallPolicyChain& policies_;
  PolicyCall& call_;
  StreamEnding ending_;
  std::optional<OutputCut> cut_;
  bool due_ = false;
};

}  // namespace tollgate::gateway
