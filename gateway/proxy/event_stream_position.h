#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meter/aws_event_stream_framer.h"

namespace tollgate::gateway {

// Where the relayed bytes of an AWS event stream (Bedrock's ConverseStream and
// InvokeModelWithResponseStream) stand: at a message boundary or inside a message, read from
// each prelude's total length (O(1) per message). Also notes the first event's ":event-type",
// which tells the two APIs apart ("messageStart" for ConverseStream, "chunk" for
// InvokeModelWithResponseStream); only the bytes up to that event are decoded. Pure.
class EventStreamPosition {
 public:
  void relayed(std::string_view bytes);
  // Between two messages (or nothing relayed), and the framing is intact.
  bool atBoundary() const { return walk_.atBoundary(); }
  // The length of `next` up to the end of the last message it completes; nullopt when none.
  std::optional<size_t> boundaryIn(std::string_view next) const;
  // ":event-type" of the first event ("" until it is relayed whole).
  const std::string& firstEventType() const { return first_event_type_; }

 private:
  struct Walk {
    // Consumes `bytes`; calls on_end(offset) after each message that ends inside them.
    template <class OnEnd>
    void advance(std::string_view bytes, OnEnd&& on_end);
    bool atBoundary() const { return !broken && length_bytes == 0 && total == 0; }

    uint32_t total = 0;     // the current message's length, once its first 4 bytes are in
    uint32_t consumed = 0;  // of the current message
    uint32_t length = 0;    // the length read so far, big-endian
    uint8_t length_bytes = 0;
    bool broken = false;  // a length below the framing's minimum: no boundary is known again
  };

  Walk walk_;
  std::string first_event_type_;
  bool typed_ = false;
  meter::AwsEventStreamFramer framer_;
};

}  // namespace tollgate::gateway
