#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "gateway/events/event_sink.h"
#include "meter/coster.h"

namespace tollgate::gateway {

struct OpenCallRecoveryResult {
  uint64_t files = 0;          // journal files found
  uint64_t recovered = 0;      // interrupted events handed to the sink
  uint64_t refused = 0;        // events the sink did not take (its queue full): files kept
  uint64_t torn = 0;           // records cut short (a process killed inside a write)
  uint64_t corrupt = 0;        // records skipped for a bad checksum or fields
  bool files_removed = false;  // every event is with the sink durably: the files are gone
};

// events.open_calls.dir, or its default beside the sink's own files: `<spool.dir>/open-calls`
// for the Kafka sink, `<directory of file.path>/open-calls` otherwise.
std::string openCallsDir(const config::EventsConfig& events);

// Recovers with the sink and config of this start, and logs what it found (events logger).
void recoverOpenCallsAtStart(const config::EventsConfig& events, EventSink& sink,
                             const meter::Coster& coster);

// At start, before any worker runs: books every call an earlier process left open in the
// journals of `dir` (events.open_calls.dir) as an `interrupted` event through `sink`, then
// deletes those files. The files are deleted only once the events are durable: when the sink
// took them into its spool (`durable_on_accept`: the Kafka sink with durability spool appends
// in tryEmit), else once the sink reports an empty queue (the file sink has written them),
// waiting at most `wait`. Otherwise the files stay and the next start books the same calls
// again: the same ids and bytes, which a consumer dedupes, never a loss.
OpenCallRecoveryResult recoverOpenCalls(const std::string& dir, EventSink& sink,
                                        const meter::Coster& coster, bool durable_on_accept,
                                        std::chrono::milliseconds wait);

}  // namespace tollgate::gateway
