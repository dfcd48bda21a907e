#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::meter {

// One message of an AWS event stream, with the headers a reader of Bedrock needs. Views are
// valid only during the callback.
struct AwsEventStreamMessage {
  std::string_view message_type;    // ":message-type": "event", "exception" or "error"
  std::string_view event_type;      // ":event-type" of an event (e.g. "metadata")
  std::string_view exception_type;  // ":exception-type" of an exception
  std::string_view error_code;      // ":error-code" of an error
  std::string_view error_message;   // ":error-message" of an error
  std::string_view content_type;    // ":content-type"
  std::string_view payload;
};

// What went wrong in a stream, counted per kind.
struct AwsEventStreamFaults {
  // Fatal: once one of these is seen no later byte can be framed (message boundaries are no
  // longer known), and the framer reads nothing more.
  size_t prelude_crc = 0;  // the prelude's CRC does not match its 8 bytes
  size_t bad_length = 0;   // total length < 16, or headers longer than the message allows
  size_t too_large = 0;    // total length above the cap (see AwsEventStreamFramer)
  // Per message: the message is dropped, the next one is read.
  size_t message_crc = 0;  // the message's CRC does not match its bytes
  size_t bad_headers = 0;  // a header runs past the headers section or has an unknown type
  // At the end: the stream stopped inside a message.
  size_t truncated = 0;

  size_t total() const {
    return prelude_crc + bad_length + too_large + message_crc + bad_headers + truncated;
  }
};

// Incremental reader of the binary `application/vnd.amazon.eventstream` framing (Bedrock's
// ConverseStream and InvokeModelWithResponseStream answers). Each message is
//   total length (u32 BE) | headers length (u32 BE) | prelude CRC32 of those 8 bytes (u32 BE) |
//   headers | payload | message CRC32 of every byte before it (u32 BE)
// and each header is: name length (u8) | name | value type (u8) | value, where the value is
// nothing (0 true, 1 false), 1, 2, 4 or 8 bytes (2 byte, 3 short, 4 int, 5 long, 8 timestamp),
// 16 bytes (9 uuid), or a u16 BE length and that many bytes (6 bytes, 7 string). CRC32 is the
// IEEE one (meter/crc32.h).
//
// Feed the stream in chunks split anywhere; each complete message whose CRCs match is handed to
// the callback exactly once, in order. A message that lies whole in one chunk is read in place;
// only a message cut by a chunk boundary is copied, and never more than one message is held.
// Policy for the cap: a prelude announcing more than `max_message_bytes` (default 16 MiB, the
// limit of AWS's own aws-c-event-stream) is treated as a broken stream, not buffered.
class AwsEventStreamFramer {
 public:
  static constexpr size_t kDefaultMaxMessageBytes = 16 * 1024 * 1024;
  static constexpr size_t kPreludeBytes = 12;
  static constexpr size_t kOverheadBytes = 16;  // prelude and message CRC

  explicit AwsEventStreamFramer(size_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  template <class OnMessage>
  void feed(std::string_view chunk, OnMessage&& on_message) {
    AwsEventStreamMessage message;
    for (;;) {
      std::string_view bytes;
      if (!take(chunk, bytes)) break;
      if (decode(bytes, message)) on_message(static_cast<const AwsEventStreamMessage&>(message));
      releaseBuffer();
    }
  }

  // The stream ended: a message cut short counts as truncated.
  void finish();

  // No more bytes can be framed (a fatal fault).
  bool broken() const { return broken_; }
  const AwsEventStreamFaults& faults() const { return faults_; }
  // Bytes of a message not yet complete.
  size_t pending() const { return buffer_.size(); }

 private:
  // Takes the next complete message from `chunk` (or from the buffer it completes), consuming
  // what it used; false when `chunk` is used up first or the stream is broken.
  bool take(std::string_view& chunk, std::string_view& message);
  // Checks a prelude; its total length into `total`. False (and broken) when it is unusable.
  bool readPrelude(std::string_view prelude, size_t& total);
  // Checks the message CRC and reads the headers; false when the message is dropped.
  bool decode(std::string_view bytes, AwsEventStreamMessage& message);
  void releaseBuffer();

  size_t max_message_bytes_;
  std::string buffer_;       // a message cut by a chunk boundary
  size_t buffer_total_ = 0;  // its total length, once its prelude is in
  bool buffer_taken_ = false;
  bool broken_ = false;
  AwsEventStreamFaults faults_;
};

}  // namespace tollgate::meter
