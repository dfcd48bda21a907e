// The NDJSON framer on any bytes cut anywhere: the same lines whatever the cuts.
#include <cstdlib>
#include <string>

#include "meter/ndjson_framer.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  auto run = [&](bool cut) {
    tollgate::meter::NdjsonFramer framer;
    std::string trace;
    auto on_line = [&](std::string_view line) {
      if (line.find('\n') != std::string_view::npos) std::abort();
      trace.append(line).push_back('\n');
    };
    if (cut) {
      tollgate::fuzz::forEachChunk(in,
                                   [&](std::string_view chunk) { framer.feed(chunk, on_line); });
    } else {
      framer.feed(in.body, on_line);
    }
    framer.finish(on_line);
    return trace;
  };
  if (run(true) != run(false)) std::abort();
  return 0;
}
