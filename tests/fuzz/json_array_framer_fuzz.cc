// The streamed-JSON-array framer on any bytes cut anywhere: the same objects whatever the cuts,
// each starting with '{' and ending with '}'.
#include <cstdlib>
#include <string>

#include "meter/json_array_framer.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  auto run = [&](bool cut) {
    tollgate::meter::JsonArrayFramer framer;
    std::string trace;
    auto on_object = [&](std::string_view obj) {
      if (obj.size() < 2 || obj.front() != '{' || obj.back() != '}') std::abort();
      trace.append(obj).push_back('\0');
    };
    if (cut) {
      tollgate::fuzz::forEachChunk(in,
                                   [&](std::string_view chunk) { framer.feed(chunk, on_object); });
    } else {
      framer.feed(in.body, on_object);
    }
    return trace;
  };
  if (run(true) != run(false)) std::abort();
  return 0;
}
