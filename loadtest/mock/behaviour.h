#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loadtest/mock/content_encoder.h"

namespace tollgate::loadtest {

// How the body of an answer is delimited (RFC 9112 6).
enum class Framing {
  kAuto,     // Content-Length for whole answers, chunked for streams
  kChunked,  // always chunked (a whole answer in one chunk)
  kClose,    // neither: the body ends when the connection closes
};

// How the mock answers one request. Each knob has a request header `x-mock-<name>` and a CLI
// default `--default-<name>`; the header wins.
struct Behaviour {
  int64_t prompt_tokens = 12;      // ALL input tokens, cache reads and writes included
  int64_t completion_tokens = 16;  // ALL output tokens, reasoning included
  int64_t cached_tokens = 0;       // part of prompt_tokens
  int64_t cache_write_tokens = 0;  // part of prompt_tokens
  int64_t reasoning_tokens = 0;    // part of completion_tokens
  int64_t chunks = 4;              // content events in a stream
  int64_t ttft_ms = 0;             // delay before the response head
  int64_t chunk_delay_ms = 0;      // delay between stream writes
  int64_t status = 200;            // non-2xx: the dialect's error body with that status
  int64_t cut_after = -1;          // <0: never cut
  bool stall = false;
  int64_t error_mid_stream = -1;  // <0: no in-stream error
  std::string response_model;     // empty: the requested model
  bool usage = true;              // false: never send usage
  std::string id = "0";           // the <n> of deterministic ids

  // What real servers do on the wire (docs/mock-upstream.md, "Wire behaviour").
  bool encoding_auto = false;               // negotiate from Accept-Encoding
  Encoding encoding = Encoding::kIdentity;  // when !encoding_auto: always this one
  std::vector<int> interim;                 // 1xx answers sent before the final one
  bool trailers = false;                    // chunked answer with a trailer section
  Framing framing = Framing::kAuto;
  bool close_after_answer = false;    // FIN after the answer, without Connection: close
  int64_t reset_after = -1;           // RST after the N-th content event; 0: before the head
  int64_t drip_ms = 0;                // one byte every N ms
  int64_t extra_bytes = 0;            // bytes after the complete answer
  bool no_content_with_body = false;  // 204 head followed by a body
  int64_t line_bytes = 0;             // the first content event's line is this long
  bool endless_line = false;          // the first content event's line never ends
};

// Sets knob `name` (e.g. "prompt-tokens") from `value`. Returns an error message when the name
// is unknown or the value is out of range.
std::optional<std::string> setKnob(Behaviour& behaviour, std::string_view name,
                                   std::string_view value);

// Checks the knobs against each other (parts never exceed their totals).
std::optional<std::string> validate(const Behaviour& behaviour);

// Names of all knobs, for usage text.
std::string_view knobNames();

}  // namespace tollgate::loadtest
