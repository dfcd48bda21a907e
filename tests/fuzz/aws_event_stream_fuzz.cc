// Any bytes as an AWS event stream: framed whole and cut anywhere, the framer must hand out the
// same messages and count the same faults, never read out of bounds, and never hold more than
// one message; the Bedrock stream meter must relay the bytes unchanged and give the same result
// whatever the cuts, and whether its pre-filter reads text deltas from their raw bytes or not.
#include <cstdlib>
#include <string>
#include <vector>

#include "meter/aws_event_stream_framer.h"
#include "meter/bedrock_dialect.h"
#include "meter/meter_support.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tollgate::meter;

struct Framed {
  std::vector<std::string> messages;  // event type + payload
  size_t faults = 0;
  bool broken = false;
};

Framed frame(const tollgate::fuzz::Input& in, bool cut, size_t cap) {
  AwsEventStreamFramer framer(cap);
  Framed out;
  auto on = [&](const AwsEventStreamMessage& m) {
    out.messages.push_back(std::string(m.event_type) + '\0' + std::string(m.payload));
  };
  if (cut) {
    tollgate::fuzz::forEachChunk(in, [&](std::string_view chunk) {
      framer.feed(chunk, on);
      if (framer.pending() > cap) std::abort();
    });
  } else {
    framer.feed(in.body, on);
  }
  framer.finish();
  out.faults = framer.faults().total();
  out.broken = framer.broken();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  const size_t cap = (in.selector & 1) != 0 ? 256 : AwsEventStreamFramer::kDefaultMaxMessageBytes;
  const Framed whole = frame(in, false, cap);
  const Framed cut = frame(in, true, cap);
  if (whole.messages != cut.messages || whole.faults != cut.faults || whole.broken != cut.broken) {
    std::abort();
  }

  const BedrockDialect dialect;
  RequestInfo info;
  info.stream = true;
  info.estimated_input_tokens = 7;
  const bool complete = (in.selector & 2) == 0;
  auto run = [&](bool split) {
    auto meter = dialect.newResponseMeter(info, 200, "application/vnd.amazon.eventstream");
    std::string out;
    if (split) {
      tollgate::fuzz::forEachChunk(
          in, [&](std::string_view chunk) { out.append(meter->onBody(chunk)); });
    } else {
      out.append(meter->onBody(in.body));
    }
    out.append(meter->onEnd(complete));
    if (out != in.body) std::abort();
    return meter->result();
  };
  auto same = [](const MeterResult& a, const MeterResult& b) {
    return a.usage == b.usage && a.usage_source == b.usage_source &&
           a.upstream_error == b.upstream_error && a.error_type == b.error_type &&
           a.finish_reasons == b.finish_reasons && a.response_id == b.response_id &&
           a.response_model == b.response_model;
  };
  const MeterResult a = run(false);
  const MeterResult b = run(true);
  support::setPreFilterEnabled(false);
  const MeterResult c = run(true);
  support::setPreFilterEnabled(true);
  if (!same(a, b) || !same(a, c)) std::abort();
  if (a.usage.input_tokens < 0 || a.usage.output_tokens < 0) std::abort();
  return 0;
}
