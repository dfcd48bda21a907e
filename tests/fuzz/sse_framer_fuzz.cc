// The SSE framer on any bytes cut anywhere: every event's raw range lies inside what was fed,
// events come in order, and the result does not depend on the cuts.
#include <cstdlib>
#include <string>

#include "meter/sse_framer.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  auto run = [&](bool cut) {
    tollgate::meter::SseFramer framer;
    std::string trace;
    size_t last_end = 0;
    auto on_event = [&](const tollgate::meter::SseEvent& ev) {
      if (ev.raw_begin > ev.raw_end || ev.raw_end > framer.offset() || ev.raw_begin < last_end) {
        std::abort();
      }
      last_end = ev.raw_end;
      trace.append(ev.event).push_back('\0');
      trace.append(ev.data).push_back('\1');
      trace.append(std::to_string(ev.raw_end)).push_back('\2');
    };
    if (cut) {
      tollgate::fuzz::forEachChunk(in,
                                   [&](std::string_view chunk) { framer.feed(chunk, on_event); });
    } else {
      framer.feed(in.body, on_event);
    }
    framer.finish(on_event);
    return trace;
  };
  if (run(true) != run(false)) std::abort();
  return 0;
}
