#pragma once

#include "gateway/events/event_sink.h"

namespace tollgate::gateway {

// events.sink: none. Sessions neither meter nor book calls then (WorkerContext::metering), so
// nothing reaches this sink; it exists so that readiness, stats and shutdown need no special
// case. It is the "both off" configuration the metering-cost benchmark compares against.
class NoEventSink final : public EventSink {
 public:
  bool tryEmit(meter::CostEvent&&) override { return false; }
  bool ready() const override { return true; }
  uint64_t stop(std::chrono::milliseconds) override { return 0; }
  SinkStats stats() const override { return {}; }
};

}  // namespace tollgate::gateway
