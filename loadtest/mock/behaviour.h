#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::loadtest {

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
