#pragma once

// Plumbing shared by the dialects that relay their answers unchanged (Anthropic, Gemini, Ollama,
// the OpenAI Responses API): simdjson helpers, the per-call state, and one response meter that
// frames a body as a whole JSON document, SSE, NDJSON or a streamed JSON array and hands every
// JSON object to the dialect's reader.

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "meter/body_window.h"
#include "meter/dialect.h"
#include "meter/json_array_framer.h"
#include "meter/money.h"
#include "meter/ndjson_framer.h"
#include "meter/sse_framer.h"
#include "meter/token_estimator.h"
#include "meter/visible_text.h"

namespace tollgate::meter::support {

namespace od = simdjson::ondemand;

// Parses `json` with this thread's parser into `doc`, through a reused padded copy: parsing
// allocates nothing in the steady state. The document is valid until the next call.
simdjson::error_code iterate(std::string_view json, od::document& doc);

// Whether an iterate() on this thread refused its document for invalid UTF-8 since the last
// call; clears it.
bool takeUtf8Refusal();

// A token count: a non-negative integer up to kMaxCallTokens; any other value (null, a string,
// a negative, a fraction, an exponent, a larger number) reads as kMalformedCount, so that the
// usage it is part of is refused when settled (usage.h).
int64_t readCount(od::value v);
// A string value, or false.
bool readString(od::value v, std::string_view& out);
// A member of a usage object that the dialect does not know: counted in usage.unknown_units when
// its name looks billable (looksBillable) and it holds a number other than zero.
void noteUnknownUnit(od::field& field, Usage& usage);
// A JSON number as exact money (OpenRouter's usage.cost: USD); nullopt when it is not a plain
// non-negative decimal of at most 12 fraction digits.
std::optional<Money> readUsd(od::value v);
// The UTF-8 byte length of a string value (0 when not a string).
int64_t stringBytes(od::value v);

// The byte length of a value's JSON text (tool call arguments are billed as output tokens).
int64_t jsonBytes(od::value v);

bool isEventStream(std::string_view content_type);
bool isNdjson(std::string_view content_type);

// Adds the text of a message's content to `estimator`: a string; or an array of strings and of
// parts whose "text" (or nested "content", as in tool results) holds the text. Other parts
// (images, audio, tool calls) are not counted.
simdjson::error_code addContentText(od::value content, TokenEstimator& estimator);

// Adds a chat "messages" array to `estimator`: one message each, and the text of each
// message's "content" member (and "output", when `with_output`: Responses API tool results).
simdjson::error_code addMessagesText(od::value messages, TokenEstimator& estimator,
                                     bool with_output = false);

// Reads a request body that must be one JSON object, handing each member to `on_member`
// (key unescaped). A malformed body or an error returned by `on_member` gives a 400
// invalid_json; so does content after the object.
using MemberFn =
    std::function<simdjson::error_code(std::string_view key, od::value value, od::json_type type)>;
std::optional<RequestError> readRequestObject(std::string_view body, const MemberFn& on_member);

// "model" and "stream" as every dialect reads them, with the same errors.
class CommonRequestFields {
 public:
  // True when `key` was one of them (then read).
  bool read(std::string_view key, od::value value, od::json_type type, simdjson::error_code& ec);
  // The 400 for a missing/invalid model (when `model_required`) or a non-boolean stream.
  std::optional<RequestError> check(bool model_required) const;

  std::string model;
  bool stream = false;
  bool stream_given = false;
  // max_tokens / max_completion_tokens / max_output_tokens, when a non-negative integer.
  std::optional<int64_t> max_output_tokens;

 private:
  enum class Model { kMissing, kNotString, kEmpty, kGiven } model_state_ = Model::kMissing;
  bool stream_ok_ = true;
};

// Reads an output cap (max_tokens, max_completion_tokens, max_output_tokens); true when `key`
// is one of them.
bool readMaxOutputTokens(std::string_view key, od::value value, od::json_type type,
                         std::optional<int64_t>& max_output_tokens);

// Reads an output cap from a member of `object` named one of `keys` (a dialect that nests it:
// Gemini's generationConfig.maxOutputTokens, Bedrock's inferenceConfig.maxTokens, Ollama's
// options.num_predict), by readMaxOutputTokens' rule for a usable count.
simdjson::error_code readNestedOutputCap(od::value object,
                                         std::initializer_list<std::string_view> keys,
                                         std::optional<int64_t>& max_output_tokens);

RequestError unknownEndpoint(std::string_view dialect, std::string_view path);

// Maps a service tier as the providers spell it onto a price variant: "batch", "priority",
// "flex" or "" (standard: "default", "auto", "standard", "standard_only", unknown values).
std::string priceVariant(std::string_view tier);

// What one call's answer taught so far.
struct MeterState {
  MeterResult result;
  bool final_usage = false;   // the provider's complete usage arrived
  bool input_known = false;   // the provider reported the input side before the end
  int64_t content_bytes = 0;  // generated bytes relayed (text, thinking, tool arguments)
  // Counts as the provider words them, for dialects whose later events supersede some of them
  // (Anthropic): indexed by the dialect's own enum, -1 while not reported.
  std::array<int64_t, 8> raw{-1, -1, -1, -1, -1, -1, -1, -1};
  // Usage billed on the call's model that the dialect read apart from `raw` (Anthropic's
  // usage.iterations: the sum of its compaction and message iterations, which then stand for
  // the top-level counts). Valid when iterations_seen.
  Usage iterations;
  bool iterations_seen = false;
  bool finish_seen = false;    // a finish/stop reason arrived (Gemini: the last chunk)
  bool usage_in_last = false;  // the last object read carried usage (Gemini)
};

// Settles the result at the end of a call: provider usage when it arrived complete, else the
// estimate of token_estimator.h (`request_estimate`: RequestInfo::estimated_input_tokens).
void settle(MeterState& state, int64_t request_estimate);

// What the state says before the end (ResponseMeter::progress).
MeterProgress progressOf(const MeterState& state);

// ResponseMeter::takeResult for the meters that keep their result: `from` moved into `into`
// member by member, out of line (an inlined move assignment of MeterResult is ~1.5 KB of code
// on every call's path).
void moveResult(MeterResult& from, MeterResult& into);

// Whether the dialects read their common stream events (content deltas) from the raw bytes
// (json_scanner.h) before handing the others to simdjson. On unless turned off for this thread:
// tests and fuzz targets meter the same bytes both ways and compare.
bool preFilterEnabled();
void setPreFilterEnabled(bool on);

// Sets the generated bytes of a non-streamed answer cut short from what the client received:
// the text at `paths` (visible_text.h), or, when the body is not the beginning of a JSON
// document, every byte of it.
void readCutBody(std::string_view body, std::span<const TextPath> paths, MeterState& state);

// A dialect's reader of the JSON objects of its answers. Stateless; per-call facts live in the
// MeterState.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // One JSON object of a successful answer: the whole body, one SSE event's data (`event` is its
  // event name), one NDJSON line or one element of a streamed JSON array.
  virtual void readObject(std::string_view event, std::string_view json,
                          MeterState& state) const = 0;
  // A whole successful non-streamed body. Default: readObject({}, json, state); a dialect may
  // first try a cheaper reader with the same result.
  virtual void readBody(std::string_view json, MeterState& state) const {
    readObject({}, json, state);
  }
  // The body of a non-2xx answer: sets error_type when it can tell.
  virtual void readErrorBody(std::string_view json, MeterState& state) const = 0;
  // Where a successful non-streamed answer holds its generated text, for one cut short.
  virtual std::span<const TextPath> bodyTextPaths() const = 0;
  // A successful body or stream ended normally (`complete`) or not. Default: nothing.
  virtual void onEnd(bool /*complete*/, MeterState& /*state*/) const {}
  // The members that hold the usage of an answer (BodyWindow::usageDocument), read when the
  // answer is too large to keep whole or is not valid UTF-8. Default: a "usage" object at the
  // end, as the OpenAI Responses API writes it.
  virtual std::span<const UsageMember> usageMembers() const;
};

// Reads the usage members of a body too large to keep whole (`head` and `tail` its windows), or
// of a body or event that simdjson refused for its invalid UTF-8 (`head` and `tail` the same
// bytes): what the reader takes from them, as if they were the whole answer. True when any was
// found.
bool readUsageMembers(const ObjectReader& reader, std::string_view head, std::string_view tail,
                      MeterState& state);

enum class BodyFraming { kErrorBody, kJson, kSse, kNdjson, kJsonArray };

// Relays every byte unchanged (onBody returns its input) and meters a copy.
std::unique_ptr<ResponseMeter> newPassThroughMeter(const ObjectReader& reader,
                                                   const RequestInfo& info, BodyFraming framing);

}  // namespace tollgate::meter::support
