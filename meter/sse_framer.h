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
// Holds at most one partial event in memory.
class SseFramer {
 public:
  template <class OnEvent>
  void feed(std::string_view chunk, OnEvent&& on_event) {
    size_t i = 0;
    while (i < chunk.size()) {
      if (const auto consumed = feedSome(chunk.substr(i)); consumed.event_ready) {
        i += consumed.bytes;
        on_event(current());
        reset();
      } else {
        i += consumed.bytes;
      }
    }
  }

  // Total bytes fed so far.
  size_t offset() const { return offset_; }
  // True when bytes of an event (or line) that was not yet dispatched are pending.
  bool hasPartial() const;

 private:
  struct Step {
    size_t bytes;
    bool event_ready;
  };
  Step feedSome(std::string_view chunk);
  SseEvent current() const;
  void reset();
  void endLine();

  std::string line_;        // the line being read
  std::string event_;       // event name of the event being built
  std::string data_;        // data of the event being built
  bool has_data_ = false;
  bool pending_cr_ = false;  // last byte seen was CR: a following LF belongs to it
  bool in_event_ = false;    // some line of the current event has been seen
  size_t event_begin_ = 0;
  size_t offset_ = 0;
};

}  // namespace tollgate::meter
