#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tollgate::meter {

// One Server-Sent Event (WHATWG HTML, "event stream interpretation").
struct SseEvent {
  std::string_view event;  // value of the last "event:" field; empty when none
  std::string_view data;   // "data:" field values joined with '\n'
  // Offsets of the event's raw bytes in the whole stream fed so far: [raw_begin, raw_end),
  // from the first byte of its first line to the end of the blank line that dispatched it.
  size_t raw_begin = 0;
  size_t raw_end = 0;
};

// Incremental SSE parser. Feed the stream in chunks split anywhere (even inside a "\r\n");
// each complete event is handed to the callback exactly once, in order. Lines ending in LF,
// CRLF or CR; comments (":...") and unknown fields ignored; a single space after the colon
// stripped; an event is dispatched on a blank line. Views are valid only during the callback.
// Holds at most one partial event in memory, of at most kMaxEventBytes.
//
// An event whose raw bytes (from its first line through its last line break) exceed
// kMaxEventBytes is oversized: what was kept of it is released, its remaining bytes are passed
// over without being kept, and it is never dispatched (the stream's later events are). Its bytes
// count as settled (partialBegin), so that a relay holding back a partial event lets them
// through. oversizedEvents() counts them.
//
// A blank line made of a lone CR at the very end of a chunk is dispatched only when the next
// byte is known, so that raw_end includes the LF of a CRLF split across chunks: raw_end is the
// same for every split of the input. finish() dispatches such an event when the stream ends.
class SseFramer {
 public:
  // Far above any event a provider sends (an inline image in a chunk is a few MiB), low enough
  // that one call cannot take the gateway's memory with a line that never ends.
  static constexpr size_t kMaxEventBytes = 16 * 1024 * 1024;

  // `max_event_bytes`: the cap; tests lower it to split small oversized streams at every byte.
  explicit SseFramer(size_t max_event_bytes = kMaxEventBytes) : max_event_bytes_(max_event_bytes) {}

  template <class OnEvent>
  void feed(std::string_view chunk, OnEvent&& on_event) {
    beginChunk(chunk);
    while (nextEvent()) {
      on_event(static_cast<const SseEvent&>(ready_));
      resetEvent();
    }
    endChunk();
  }

  // The stream ended. Dispatches an event whose final blank line was a lone CR at the very end
  // of the stream; an event without its blank line is discarded, as the standard says.
  template <class OnEvent>
  void finish(OnEvent&& on_event) {
    if (flushDeferred()) {
      on_event(static_cast<const SseEvent&>(ready_));
      resetEvent();
    }
  }

  // Total bytes fed so far.
  size_t offset() const { return offset_; }
  // True when bytes of an event (or line) that was not yet dispatched are pending.
  bool hasPartial() const;
  // Stream offset of the first pending byte (offset() when nothing is pending). Bytes before it
  // are settled: they belong to dispatched events or to blocks that will never dispatch one.
  size_t partialBegin() const;

  // Oversized events passed over so far (the one being passed over included).
  size_t oversizedEvents() const { return oversized_events_; }
  // Bytes the framer holds (buffer capacities): what its memory bound is about.
  size_t retainedBytes() const { return line_.capacity() + data_.capacity() + event_.capacity(); }

 private:
  void beginChunk(std::string_view chunk);
  bool nextEvent();
  void endChunk();
  bool flushDeferred();
  size_t findLineBreak(size_t from);
  // Handles one complete line starting at stream offset `begin`; true when it was a blank
  // line that completed an event with data.
  bool processLine(std::string_view line, size_t begin);
  void dispatch(size_t raw_end);
  void appendData(std::string_view value);
  void keepViews();
  void resetEvent();
  // Checks the pending event against kMaxEventBytes; `mid_line` when the scan stands inside a
  // line (its rest belongs to the oversized event).
  void checkSize(bool mid_line);
  // Inside an oversized event: passes over the line ending at `brk`; its blank line ends it.
  void skipLine(size_t brk);

  // The chunk being fed and the scan position in it.
  std::string_view chunk_;
  size_t pos_ = 0;
  size_t chunk_base_ = 0;  // stream offset of chunk_[0]
  size_t next_lf_ = 0;     // cached positions of the next '\n' / '\r' at or after pos_
  size_t next_cr_ = 0;

  std::string line_;        // a line cut by the end of a chunk
  size_t line_begin_ = 0;   // stream offset of line_[0]
  bool line_done_ = false;  // line_ was completed in this chunk (views may still point to it)

  // The event being built: views into the current chunk or line_, or into the owned copies.
  std::string_view event_view_;
  std::string_view data_view_;
  std::string event_;
  std::string data_;
  bool event_owned_ = false;
  bool data_owned_ = false;
  bool has_data_ = false;
  bool in_event_ = false;           // some line of the current event has been seen
  bool pending_cr_ = false;         // last byte seen was CR: a following LF belongs to it
  bool deferred_dispatch_ = false;  // that CR was a blank line completing an event
  size_t event_begin_ = 0;
  size_t offset_ = 0;

  size_t max_event_bytes_;
  bool skipping_ = false;            // inside an oversized event
  bool skip_line_nonempty_ = false;  // the line being passed over has bytes
  size_t oversized_events_ = 0;

  SseEvent ready_;
};

}  // namespace tollgate::meter
