#include "gateway/events/sink_factory.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "gateway/events/file_sink.h"
#include "gateway/events/kafka_sink.h"
#include "gateway/events/no_event_sink.h"

namespace tollgate::gateway {

std::unique_ptr<EventSink> makeEventSink(const config::Config& config) {
  const auto& events = config.events;
  if (events.sink == "file") return std::make_unique<FileSink>(events.file);
  if (events.sink == "kafka") return std::make_unique<KafkaSink>(events);
  if (events.sink == "none") {
    if (auto log = spdlog::get("config")) {
      log->warn(
          "events.sink: none: metering and cost events are OFF, calls are not booked (for "
          "measuring what metering costs, never for production)");
    }
    return std::make_unique<NoEventSink>();
  }
  throw std::runtime_error("events.sink: '" + events.sink + "' is not available in this build");
}

}  // namespace tollgate::gateway
