#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meter/dialect.h"

namespace tollgate::gateway {

// Why the gateway ends a stream the upstream did not end, and what the caller is told.
struct StreamEndNotice {
  std::string_view code;     // budget_exceeded | rate_limited | upstream_stream_error | ...
  std::string_view message;  // for the caller
  std::string_view limit;    // the budget or rate limit that ran out ("" for a failure)
  // Facts of the answer so far, so that the last event belongs to it (the Responses SDK
  // refuses a final event whose response id differs from the stream's).
  std::string_view response_id;
  std::string_view model;
  int64_t created_unix_s = 0;
};

// The end of a streamed answer that the gateway writes itself, in the dialect's own form, so
// that the official SDKs end cleanly or raise a clear error instead of hanging or taking a cut
// answer for a complete one (docs/budgets.md "Streams", docs/upstreams.md "Mid-stream failures").
// Tracks whether the bytes relayed so far end at an event boundary (the last few bytes only:
// O(1) per chunk), so that a cut ends after a whole event. Pure.
class StreamEnding {
 public:
  enum class Form {
    kNone,  // no form the gateway can end (not a stream, a JSON array, a binary event stream)
    kOpenAiChat,
    kOpenAiCompletion,
    kOpenAiResponses,
    kAnthropic,
    kGeminiSse,
    kOllamaChat,
    kOllamaGenerate,
  };

  // The form of an answer: a 2xx stream of a dialect and operation, as SSE (Ollama: NDJSON).
  static Form formOf(std::string_view dialect, const meter::RequestInfo& info, int status,
                     std::string_view content_type);

  explicit StreamEnding(Form form = Form::kNone) : form_(form) {}

  Form form() const { return form_; }
  bool active() const { return form_ != Form::kNone; }

  // The bytes relayed to the client, in order.
  void relayed(std::string_view bytes);
  // The relayed bytes end at an event boundary (or nothing was relayed).
  bool atBoundary() const;
  // How much of `next` (relayed after what was relayed so far) ends at an event boundary: the
  // length up to the end of the last event it completes; nullopt when it completes none.
  std::optional<size_t> boundaryIn(std::string_view next) const;

  // The final events of a stream that spend control cut: a finish reason or an error that says
  // why. Written at an event boundary.
  std::string cutEnd(const meter::Dialect& dialect, const StreamEndNotice& notice) const;
  // The end of a stream whose upstream failed after bytes were relayed: an explicit error event,
  // never an end that looks complete. Closes an event left open first (the client then sees a
  // malformed event before the error: still an error, never a complete answer).
  std::string failureEnd(const meter::Dialect& dialect, const StreamEndNotice& notice) const;

 private:
  bool ndjson() const { return form_ == Form::kOllamaChat || form_ == Form::kOllamaGenerate; }
  static bool endsEvent(std::string_view tail, bool ndjson);
  std::string_view tail() const { return {tail_.data(), tail_size_}; }
  // What closes an event left open, so that a new event can follow.
  std::string closeOpenEvent() const;
  std::string sseEvent(std::string_view name, std::string_view data) const;
  static void appendTollgate(const StreamEndNotice& notice, std::string_view outcome,
                             std::string& out);

  Form form_;
  // The last bytes relayed: enough to see "\r\n\r\n".
  std::array<char, 4> tail_{};
  size_t tail_size_ = 0;
};

}  // namespace tollgate::gateway
