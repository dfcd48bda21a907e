#include "gateway/proxy/event_stream_position.h"

#include <algorithm>

namespace tollgate::gateway {

template <class OnEnd>
void EventStreamPosition::Walk::advance(std::string_view bytes, OnEnd&& on_end) {
  size_t at = 0;
  while (at < bytes.size() && !broken) {
    if (total == 0) {
      length = length << 8 | static_cast<unsigned char>(bytes[at++]);
      if (++length_bytes < 4) continue;
      if (length < meter::AwsEventStreamFramer::kOverheadBytes) {
        broken = true;
        return;
      }
      total = length;
      consumed = 4;
      length = 0;
      length_bytes = 0;
      continue;
    }
    const size_t n = std::min<size_t>(total - consumed, bytes.size() - at);
    consumed += static_cast<uint32_t>(n);
    at += n;
    if (consumed == total) {
      total = 0;
      consumed = 0;
      on_end(at);
    }
  }
}

void EventStreamPosition::relayed(std::string_view bytes) {
  walk_.advance(bytes, [](size_t) {});
  if (typed_) return;
  framer_.feed(bytes, [this](const meter::AwsEventStreamMessage& m) {
    if (typed_) return;
    typed_ = true;
    first_event_type_ = m.event_type;
  });
  if (typed_ || framer_.broken()) {
    typed_ = true;
    framer_ = meter::AwsEventStreamFramer();  // its partial message is not needed
  }
}

std::optional<size_t> EventStreamPosition::boundaryIn(std::string_view next) const {
  Walk walk = walk_;
  std::optional<size_t> last;
  walk.advance(next, [&](size_t end) { last = end; });
  return last;
}

}  // namespace tollgate::gateway
