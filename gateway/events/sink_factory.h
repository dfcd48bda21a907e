#pragma once

#include <memory>

#include "config/config.h"
#include "gateway/events/event_sink.h"

namespace tollgate::gateway {

// The sink events.sink names: file (the embedded default), kafka, or none (metering off).
// Throws std::runtime_error naming the key when the sink cannot be made.
std::unique_ptr<EventSink> makeEventSink(const config::Config& config);

}  // namespace tollgate::gateway
