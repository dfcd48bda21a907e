#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meter/money.h"
#include "meter/usage.h"

namespace tollgate::meter {

// What the gateway learns from a client request body before forwarding it.
struct RequestInfo {
  std::string model;      // as requested ("" when the dialect takes it from the path)
  std::string operation;  // chat | text_completion | embeddings | responses | ...
  bool stream = false;
  bool client_asked_usage = false;     // e.g. OpenAI stream_options.include_usage was true
  bool gateway_asked_usage = false;    // the gateway added it: its usage chunk must be hidden
  int64_t estimated_input_tokens = 0;  // gateway's estimate, used only if usage never arrives
  // Price variant the request asked for: "" (standard), "batch", "priority" or "flex".
  std::string service_tier;
};

// A request the gateway refuses before any upstream sees it.
struct RequestError {
  int status = 400;
  std::string code;     // stable machine-readable code, e.g. "invalid_json", "missing_model"
  std::string message;  // human-readable, safe to show the caller
};

// What a response meter knows at the end of a call.
struct MeterResult {
  Usage usage;
  UsageSource usage_source = UsageSource::kNone;
  UsageFlags usage_flags = 0;  // why the usage is not simply the provider's report (usage.h)
  std::string response_model;  // model named by the upstream's answer ("" when none)
  std::string response_id;     // e.g. "chatcmpl-..."
  std::vector<std::string> finish_reasons;
  bool upstream_error = false;  // an error object arrived (in the body or inside the stream)
  std::string error_type;       // the provider's error type/code when upstream_error
  // Price variant the answer reports ("" standard, "batch", "priority", "flex"); when set it
  // wins over the request's.
  std::string service_tier;
  // Usage that ran on other models in this call (Anthropic's advisor iterations), each priced
  // at its model's own price.
  std::vector<ModelUsage> other_models;
  // What the provider itself says the call cost (OpenRouter's usage.cost, USD), recorded beside
  // the gateway's own price, never instead of it.
  std::optional<Money> provider_cost;
};

// Per-call response meter: sees every body byte from the upstream exactly once, in order, and
// decides what the client receives. Never fails the call: malformed upstream data only means
// less is known.
class ResponseMeter {
 public:
  virtual ~ResponseMeter() = default;

  // Feed the next body chunk as received. Returns the bytes to send to the client now: `chunk`
  // itself when nothing is hidden (no copy), else a view of an internal buffer that stays
  // valid until the next call. May be empty (bytes held back until an event is complete).
  virtual std::string_view onBody(std::string_view chunk) = 0;

  // The body ended: `complete` when the upstream finished it, false when it was cut short.
  // Returns held-back bytes still owed to the client (complete events only).
  virtual std::string_view onEnd(bool complete) = 0;

  // Usage and facts so far; after onEnd(false) with no provider usage, an estimate.
  virtual MeterResult result() const = 0;

  // Bytes the meter holds between calls (its buffers' capacities): bounded whatever the
  // upstream sends (docs/metering.md, "Implausible usage and caps"). A meter that keeps no
  // buffer holds 0.
  virtual size_t retainedBytes() const { return 0; }
};

// A client-facing API dialect: how to read its requests and responses, and how to speak its
// error shape. Stateless and shared by all workers.
class Dialect {
 public:
  virtual ~Dialect() = default;

  virtual std::string_view name() const = 0;  // "openai", "anthropic", ...

  // Reads model, stream flags and an input estimate from the request body.
  // `path` is the request target without the query string.
  virtual std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                                     RequestInfo& info) const = 0;

  // The body to send upstream when the gateway must change it (e.g. force
  // stream_options.include_usage, setting info.gateway_asked_usage); nullopt to send it as is.
  virtual std::optional<std::string> rewriteRequest(std::string_view body,
                                                    RequestInfo& info) const = 0;

  // A meter for the response to a request described by `info`. `content_type` is the
  // upstream response's Content-Type and `status` its HTTP status.
  virtual std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                          std::string_view content_type) const = 0;

  // An error body in this dialect's shape, e.g. OpenAI's
  // {"error":{"message":...,"type":...,"param":null,"code":...}}.
  virtual std::string errorBody(int status, std::string_view code,
                                std::string_view message) const = 0;
};

}  // namespace tollgate::meter
