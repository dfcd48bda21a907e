#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meter/cost_event.h"
#include "meter/usage.h"

namespace tollgate::gateway {

// What the open-call journal knows of a call at one moment: enough to book it if the gateway
// dies before the call's own event (docs/events.md, "Calls the gateway dies in").
//
// kOpen is written once, when a call has run longer than events.open_calls.after_ms: who pays,
// what was asked, and the progress so far. kProgress repeats the progress (at most every
// refresh_ms while it changes). kClose is written after the call's own event went to the sink:
// from then on the call needs nothing from the journal.
struct OpenCallEntry {
  enum class Kind : uint8_t { kOpen = 1, kProgress = 2, kClose = 3 };
  Kind kind = Kind::kOpen;
  std::string id;  // the cost event's id: the interrupted event reuses it, so a replay dedupes

  // kOpen only.
  std::string source;
  std::string request_id;
  std::string trace_id;
  meter::Attribution attribution;
  std::string upstream;
  std::string provider;
  std::string operation;
  std::string endpoint;
  std::string model_requested;
  std::string request_service_tier;
  bool stream = false;
  int64_t start_unix_ns = 0;
  int64_t input_estimate = 0;  // the request's input estimate (RequestInfo)

  // kOpen and kProgress.
  int64_t at_unix_ns = 0;  // when this progress was taken: the interrupted event's end
  int status = 0;          // the upstream's status, 0 before its head
  std::string model;       // as the answer names it so far ("" unknown)
  std::string answer_service_tier;
  double ttft_ms = 0.0;
  meter::Usage provider_so_far;  // counts an early event reported (Anthropic message_start...)
  bool input_known = false;      // provider_so_far's input counts are the provider's
  int64_t output_bytes = 0;      // UTF-8 bytes of generated text relayed to the client so far
};

// Appends `entry` as one journal record: u32 body length, u32 CRC-32C of the body, body (kind
// byte, then the kind's fields: integers little-endian, strings u32 length + bytes).
void appendOpenCallRecord(const OpenCallEntry& entry, std::string& out);

struct OpenCallScan {
  std::vector<OpenCallEntry> entries;
  uint64_t torn = 0;     // a record cut short at the end (the process died inside a write)
  uint64_t corrupt = 0;  // records whose checksum or fields do not hold, skipped
};

// Reads every record of a journal file's bytes, in order. A record cut short at the end is
// counted as torn; one whose CRC or fields fail is counted and skipped, and reading goes on
// after it (its length still frames it).
OpenCallScan readOpenCallRecords(std::string_view bytes);

}  // namespace tollgate::gateway
