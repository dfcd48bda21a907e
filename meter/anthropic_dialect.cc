#include "meter/anthropic_dialect.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "meter/anthropic_message_scan.h"
#include "meter/json_escape.h"
#include "meter/json_scanner.h"
#include "meter/meter_support.h"
#include "meter/vertex_path.h"

namespace tollgate::meter {
namespace {

using namespace support;

// The counts as Anthropic reports them (MeterState::raw), -1 for "not reported yet".
enum Raw : size_t {
  kInput,  // excludes the cache
  kCacheCreation,
  kCacheRead,
  kCache1h,
  kOutput,
  kWebSearch,  // server_tool_use.web_search_requests
  kWebFetch,   // server_tool_use.web_fetch_requests
  kThinking,   // output_tokens_details.thinking_tokens (a part of output_tokens)
};
using AnthropicCounts = std::array<int64_t, 8>;

int64_t known(int64_t n) { return n < 0 ? 0 : n; }

// The members of an object of counts named as in `names` (the others are skipped).
template <size_t N>
bool readCounts(od::value v, const std::array<std::pair<std::string_view, Raw>, N>& names,
                AnthropicCounts& counts) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return true;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    for (const auto& [name, raw] : names) {
      if (field.key() == name) counts[raw] = readCount(field.value());
    }
  }
  return true;
}

// The token counts that a usage object and each of its iterations hold alike.
enum class CountMember { kOther, kRead, kBroken };
CountMember readTokenCount(od::field& field, AnthropicCounts& counts) {
  const auto key = field.key();
  if (key == "input_tokens") {
    counts[kInput] = readCount(field.value());
  } else if (key == "output_tokens") {
    counts[kOutput] = readCount(field.value());
  } else if (key == "cache_creation_input_tokens") {
    counts[kCacheCreation] = readCount(field.value());
  } else if (key == "cache_read_input_tokens") {
    counts[kCacheRead] = readCount(field.value());
  } else if (key == "cache_creation") {
    od::object split;
    if (field.value().get_object().get(split) != simdjson::SUCCESS) return CountMember::kRead;
    int64_t one_hour = 0;
    for (auto part_result : split) {
      od::field part;
      if (std::move(part_result).get(part) != simdjson::SUCCESS) return CountMember::kBroken;
      if (part.key() == "ephemeral_1h_input_tokens") one_hour = readCount(part.value());
    }
    counts[kCache1h] = one_hour;
  } else {
    return CountMember::kOther;
  }
  return CountMember::kRead;
}

void toCanonical(const AnthropicCounts& c, Usage& usage);

// What a usage.iterations array says (Anthropic: one entry per sampling step of the call).
struct Iterations {
  Usage on_model;                    // compaction and message steps, on the call's model
  std::vector<ModelUsage> advisors;  // advisor sub-inferences, each on its own model
  int64_t unknown = 0;               // steps of a type this reader does not know
};

// One iteration: its type, its model (advisor steps) and its counts, in any member order.
bool readIteration(od::value v, Iterations& out) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return true;
  AnthropicCounts counts{-1, -1, -1, -1, -1, -1, -1, -1};
  std::string type;
  std::string model;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    const CountMember member = readTokenCount(field, counts);
    if (member == CountMember::kBroken) return false;
    if (member == CountMember::kRead) continue;
    const auto key = field.key();
    std::string_view text;
    if (key == "type") {
      if (readString(field.value(), text)) type = text;
    } else if (key == "model") {
      if (readString(field.value(), text)) model = text;
    }
  }
  Usage step;
  toCanonical(counts, step);
  if (type == "advisor_message") {
    out.advisors.push_back({std::move(model), step});
    return true;
  }
  // A step of an unknown type is billed on the call's model like the others (never dropped),
  // and counted so that the event says so.
  if (type != "compaction" && type != "message") out.unknown = addCounts(out.unknown, 1);
  for (auto [sum, part] : {std::pair{&out.on_model.input_tokens, step.input_tokens},
                           {&out.on_model.cache_read_tokens, step.cache_read_tokens},
                           {&out.on_model.cache_write_tokens, step.cache_write_tokens},
                           {&out.on_model.cache_write_1h_tokens, step.cache_write_1h_tokens},
                           {&out.on_model.output_tokens, step.output_tokens}}) {
    *sum = addCounts(*sum, part);
  }
  return true;
}

bool readIterations(od::value v, Iterations& out) {
  od::array steps;
  if (v.get_array().get(steps) != simdjson::SUCCESS) return true;
  for (auto step_result : steps) {
    od::value step;
    if (std::move(step_result).get(step) != simdjson::SUCCESS || !readIteration(step, out)) {
      return false;
    }
  }
  return true;
}

// A usage object as read, applied once its event was read whole.
struct UsageRead {
  AnthropicCounts counts;
  std::string tier;
  int64_t unknown_units = 0;
  std::optional<Iterations> iterations;
};

// Overwrites the counts `usage` reports (absent members keep their earlier value: a
// message_delta that reports only output_tokens leaves message_start's input alone).
bool readUsage(od::value v, UsageRead& read) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return false;
  AnthropicCounts& counts = read.counts;
  read.unknown_units = 0;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    const CountMember member = readTokenCount(field, counts);
    if (member == CountMember::kBroken) return false;
    if (member == CountMember::kRead) continue;
    const auto key = field.key();
    if (key == "server_tool_use") {
      if (!readCounts(field.value(),
                      std::array{std::pair{std::string_view("web_search_requests"), kWebSearch},
                                 std::pair{std::string_view("web_fetch_requests"), kWebFetch}},
                      counts)) {
        return false;
      }
    } else if (key == "output_tokens_details") {
      if (!readCounts(field.value(),
                      std::array{std::pair{std::string_view("thinking_tokens"), kThinking}},
                      counts)) {
        return false;
      }
    } else if (key == "iterations") {
      od::json_type type;
      if (field.value().type().get(type) != simdjson::SUCCESS) return false;
      if (type != od::json_type::array) continue;
      Iterations steps;
      if (!readIterations(field.value(), steps)) return false;
      // An empty list (what Anthropic sends without server-side steps) says nothing.
      if (steps.on_model == Usage{} && steps.advisors.empty() && steps.unknown == 0) continue;
      read.iterations = std::move(steps);
    } else if (key == "service_tier") {
      std::string_view tier;
      if (readString(field.value(), tier)) read.tier = priceVariant(tier);
    } else {
      Usage unknown;
      noteUnknownUnit(field, unknown);
      read.unknown_units = addCounts(read.unknown_units, unknown.unknown_units);
    }
  }
  return true;
}

void toCanonical(const AnthropicCounts& c, Usage& usage) {
  const int64_t cache_creation = known(c[kCacheCreation]);
  usage.input_tokens = addCounts(addCounts(known(c[kInput]), cache_creation), known(c[kCacheRead]));
  usage.cache_read_tokens = known(c[kCacheRead]);
  usage.cache_write_tokens = cache_creation;
  // The 1-hour part can never exceed the writes it is a part of; a malformed one stays
  // malformed, so that the usage is refused rather than repaired by the minimum.
  const int64_t one_hour = known(c[kCache1h]);
  usage.cache_write_1h_tokens =
      one_hour == kMalformedCount ? one_hour : std::min(one_hour, cache_creation);
  usage.output_tokens = known(c[kOutput]);
  // Thinking is billed as output; Anthropic reports its part only in output_tokens_details.
  usage.reasoning_tokens = known(c[kThinking]);
  usage[Unit::kWebSearchRequests] = known(c[kWebSearch]);
  usage[Unit::kWebFetchRequests] = known(c[kWebFetch]);
}

// The call's usage from what its events reported: the top-level counts, or, when the answer
// listed its iterations, their sum (the top-level counts leave out the compaction steps, which
// are billed too); server tool requests and thinking from the top level either way.
void settleCounts(MeterState& state) {
  Usage& usage = state.result.usage;
  const int64_t unknown = usage.unknown_units;
  toCanonical(state.raw, usage);
  usage.unknown_units = unknown;
  if (!state.iterations_seen) return;
  const Usage& steps = state.iterations;
  usage.input_tokens = steps.input_tokens;
  usage.cache_read_tokens = steps.cache_read_tokens;
  usage.cache_write_tokens = steps.cache_write_tokens;
  usage.cache_write_1h_tokens = steps.cache_write_1h_tokens;
  usage.output_tokens = steps.output_tokens;
}

// Applies a usage object read whole from an event of type `type`.
void applyUsage(UsageRead& read, std::string_view type, MeterState& state) {
  // message_delta repeats the input side of message_start, or leaves it out; a smaller figure
  // there (a compaction stream's delta reports its last step) must not erase what message_start
  // counted: the input side only grows.
  if (type == "message_delta") {
    for (const Raw raw : {kInput, kCacheCreation, kCacheRead, kCache1h}) {
      read.counts[raw] = std::max(read.counts[raw], state.raw[raw]);
    }
  }
  state.raw = read.counts;
  state.result.service_tier = read.tier;
  state.result.usage.unknown_units = std::max(state.result.usage.unknown_units, read.unknown_units);
  if (read.iterations) {
    state.iterations = read.iterations->on_model;
    state.iterations_seen = true;
    state.result.other_models = std::move(read.iterations->advisors);
    state.result.usage.unknown_units =
        addCounts(state.result.usage.unknown_units, read.iterations->unknown);
  }
  settleCounts(state);
  state.input_known = state.raw[kInput] >= 0;
}

std::string readErrorType(od::value v) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return {};
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return {};
    if (field.key() == "type") {
      std::string_view type;
      if (readString(field.value(), type)) return std::string(type);
    }
  }
  return {};
}

// Generated bytes of a content block (content_block_start) or a delta (content_block_delta):
// text, thinking and tool input JSON are output tokens; signatures are not.
int64_t blockBytes(od::value v) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return 0;
  int64_t bytes = 0;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return bytes;
    const auto key = field.key();
    if (key == "text" || key == "thinking" || key == "partial_json") {
      bytes += stringBytes(field.value());
    }
  }
  return bytes;
}

// The text of a content_block_delta's "delta" object; false on anything else it may hold.
bool scanDelta(JsonScanner& in, int64_t& bytes) {
  return in.forEachMember([&](std::string_view key) {
    if (key == "text" || key == "thinking" || key == "partial_json") {
      int64_t n = 0;
      if (!in.string(n)) return false;
      bytes += n;
      return true;
    }
    return key != "stop_reason" && in.skipValue();
  });
}

// Nearly every event of a stream is a content_block_delta, which carries only generated text:
// it is read from the raw bytes. False, with nothing changed, for any other event or anything
// unexpected in one (then simdjson reads it). Words like "usage" inside the text are string
// bytes to the scanner, never members.
bool scanContentDelta(std::string_view json, MeterState& state) {
  // Anthropic's own serialization of a text delta, matched as a whole.
  {
    JsonScanner in(json);
    int64_t index = 0;
    int64_t bytes = 0;
    if (in.skip(R"({"type":"content_block_delta","index":)") && in.integer(index) &&
        in.skip(R"(,"delta":{"type":"text_delta","text":)") && in.string(bytes) && in.skip("}}") &&
        in.complete()) {
      state.content_bytes += bytes;
      return true;
    }
  }
  JsonScanner in(json);
  int64_t bytes = 0;
  const bool read = in.forEachMember([&](std::string_view key) {
    if (key == "type") {
      std::string_view type;
      return in.plainString(type) && type == "content_block_delta";
    }
    if (key == "delta") return scanDelta(in, bytes);
    return key == "index" && in.skipValue();
  });
  if (!read || !in.complete()) return false;
  state.content_bytes += bytes;
  return true;
}

// A whole message (a non-streamed answer) read from its raw bytes (anthropic_message_scan.h),
// applied as the simdjson reader below would apply it. False, with nothing changed, when that
// reader must read it.
bool scanMessage(std::string_view json, MeterState& state) {
  MeterResult& result = state.result;
  AnthropicMessageScan scan;
  if (!scanAnthropicMessage(json, result.response_id.empty(), result.response_model.empty(),
                            scan)) {
    return false;
  }
  if (!scan.id.empty()) result.response_id = scan.id;
  if (!scan.model.empty()) result.response_model = scan.model;
  for (size_t k = 0; k < scan.stop_count; ++k) {
    result.finish_reasons.emplace_back(scan.stop_reasons[k]);
  }
  state.content_bytes += scan.content_bytes;
  if (!scan.has_usage) return true;
  for (const auto& [raw, count] :
       {std::pair{kInput, scan.input}, std::pair{kOutput, scan.output},
        std::pair{kCacheCreation, scan.cache_creation}, std::pair{kCacheRead, scan.cache_read},
        std::pair{kCache1h, scan.cache_1h}, std::pair{kWebSearch, scan.web_search},
        std::pair{kWebFetch, scan.web_fetch}, std::pair{kThinking, scan.thinking}}) {
    if (count >= 0) state.raw[raw] = count;
  }
  if (scan.tier_seen) result.service_tier = priceVariant(scan.tier);
  settleCounts(state);
  state.input_known = state.raw[kInput] >= 0;
  state.final_usage = true;  // a whole message's usage is complete
  return true;
}

constexpr TextPath kBodyText[] = {
    {"content/*/text"}, {"content/*/thinking"}, {"content/*/input", true}};

class Reader final : public ObjectReader {
 public:
  void readObject(std::string_view, std::string_view json, MeterState& state) const override {
    if (preFilterEnabled() && scanContentDelta(json, state)) return;
    od::document doc;
    if (iterate(json, doc) != simdjson::SUCCESS) return;
    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return;
    // Members are read in wire order; "type" comes first in everything Anthropic sends, but a
    // body that puts it later is still read (the usage is applied after the loop).
    std::string_view type;
    bool has_usage = false;
    bool usage_ok = false;
    UsageRead read{state.raw, state.result.service_tier, 0, std::nullopt};
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
      const auto key = field.key();
      od::value value = field.value();
      if (key == "type") {
        // A "type" that is not a string names no event: the other members are still read, so
        // that the result does not depend on whether "type" came before them.
        if (!readString(value, type)) type = {};
      } else if (key == "message") {  // message_start
        readMessage(value, state, read, has_usage, usage_ok);
      } else if (key == "usage") {  // message_delta, or a non-streamed message
        has_usage = true;
        usage_ok = readUsage(value, read);
      } else if (key == "delta") {
        od::json_type t;
        if (value.type().get(t) != simdjson::SUCCESS || t != od::json_type::object) continue;
        od::object delta;
        if (value.get_object().get(delta) != simdjson::SUCCESS) return;
        for (auto delta_result : delta) {
          od::field d;
          if (std::move(delta_result).get(d) != simdjson::SUCCESS) return;
          const auto dkey = d.key();
          if (dkey == "stop_reason") {
            std::string_view reason;
            if (readString(d.value(), reason)) state.result.finish_reasons.emplace_back(reason);
          } else if (dkey == "text" || dkey == "thinking" || dkey == "partial_json") {
            state.content_bytes += stringBytes(d.value());
          }
        }
      } else if (key == "content_block") {
        state.content_bytes += blockBytes(value);
      } else if (key == "content") {  // a non-streamed message
        readContent(value, state);
      } else if (key == "id") {
        std::string_view id;
        if (state.result.response_id.empty() && readString(value, id))
          state.result.response_id = id;
      } else if (key == "model") {
        std::string_view model;
        if (state.result.response_model.empty() && readString(value, model)) {
          state.result.response_model = model;
        }
      } else if (key == "stop_reason") {
        std::string_view reason;
        if (readString(value, reason)) state.result.finish_reasons.emplace_back(reason);
      } else if (key == "error") {
        state.result.upstream_error = true;
        state.result.error_type = readErrorType(value);
      }
    }
    if (type == "error") state.result.upstream_error = true;
    if (!has_usage || !usage_ok) return;
    applyUsage(read, type, state);
    // message_start's usage is a preview (output_tokens is 1); the answer's usage is complete in
    // message_delta, and in a whole message.
    if (type == "message_delta" || type == "message") state.final_usage = true;
  }

  void readBody(std::string_view json, MeterState& state) const override {
    if (preFilterEnabled() && scanMessage(json, state)) return;
    readObject({}, json, state);
  }

  void readErrorBody(std::string_view json, MeterState& state) const override {
    od::document doc;
    od::value error;
    if (iterate(json, doc) == simdjson::SUCCESS &&
        doc.find_field_unordered("error").get(error) == simdjson::SUCCESS) {
      state.result.error_type = readErrorType(error);
    }
  }

  std::span<const TextPath> bodyTextPaths() const override { return kBodyText; }
  // A message names its "type" first (before any content block's) and its usage last.
  std::span<const UsageMember> usageMembers() const override {
    static constexpr UsageMember kMembers[] = {{"type", true}, {"usage"}};
    return kMembers;
  }

 private:
  static void readMessage(od::value v, MeterState& state, UsageRead& read, bool& has_usage,
                          bool& usage_ok) {
    od::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) return;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
      const auto key = field.key();
      if (key == "id") {
        std::string_view id;
        if (state.result.response_id.empty() && readString(field.value(), id)) {
          state.result.response_id = id;
        }
      } else if (key == "model") {
        std::string_view model;
        if (state.result.response_model.empty() && readString(field.value(), model)) {
          state.result.response_model = model;
        }
      } else if (key == "usage") {
        has_usage = true;
        usage_ok = readUsage(field.value(), read);
      } else if (key == "content") {
        readContent(field.value(), state);
      }
    }
  }

  static void readContent(od::value v, MeterState& state) {
    od::array blocks;
    if (v.get_array().get(blocks) != simdjson::SUCCESS) return;
    for (auto block_result : blocks) {
      od::value block;
      if (std::move(block_result).get(block) != simdjson::SUCCESS) return;
      od::object obj;
      if (block.get_object().get(obj) != simdjson::SUCCESS) continue;
      for (auto field_result : obj) {
        od::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
        const auto key = field.key();
        if (key == "text" || key == "thinking") {
          state.content_bytes += stringBytes(field.value());
        } else if (key == "input") {
          state.content_bytes += jsonBytes(field.value());
        }
      }
    }
  }
};

const Reader kReader;

}  // namespace

bool AnthropicDialect::parseVertexPath(std::string_view path, std::string_view& model) {
  const std::string_view rest = vertexModelAndMethod(path, "anthropic");
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view method = rest.substr(colon + 1);
  if (method != "rawPredict" && method != "streamRawPredict") return false;
  model = rest.substr(0, colon);
  return model.find('/') == std::string_view::npos;
}

std::optional<RequestError> AnthropicDialect::inspectRequest(std::string_view path,
                                                             std::string_view body,
                                                             RequestInfo& info) const {
  std::string_view vertex_model;
  if (path != "/v1/messages" && !parseVertexPath(path, vertex_model)) {
    return unknownEndpoint(name(), path);
  }
  info.operation = "chat";
  CommonRequestFields common;
  TokenEstimator estimator;
  auto error = readRequestObject(
      body, [&](std::string_view key, od::value value, od::json_type type) -> simdjson::error_code {
        simdjson::error_code ec;
        if (common.read(key, value, type, ec)) return ec;
        if (key == "messages" && type == od::json_type::array) {
          return addMessagesText(value, estimator);
        } else if (key == "system") {
          return addContentText(value, estimator);
        }
        return simdjson::SUCCESS;
      });
  if (error) return error;
  // On Vertex AI the model is the path's; the body names none ("anthropic_version" instead).
  const bool vertex = !vertex_model.empty();
  if (auto bad = common.check(!vertex)) return bad;
  info.model = vertex ? std::string(vertex_model) : std::move(common.model);
  info.max_output_tokens = common.max_output_tokens;
  info.stream = common.stream;
  info.client_asked_usage = true;  // Anthropic always reports usage
  info.gateway_asked_usage = false;
  info.estimated_input_tokens = estimator.tokens();
  return std::nullopt;
}

std::optional<std::string> AnthropicDialect::rewriteRequest(std::string_view, RequestInfo&) const {
  return std::nullopt;  // usage is always in the answer: nothing to ask for
}

std::unique_ptr<ResponseMeter> AnthropicDialect::newResponseMeter(
    const RequestInfo& info, int status, std::string_view content_type) const {
  BodyFraming framing = BodyFraming::kJson;
  if (status < 200 || status > 299) {
    framing = BodyFraming::kErrorBody;
  } else if (isEventStream(content_type)) {
    framing = BodyFraming::kSse;
  }
  return newPassThroughMeter(kReader, info, framing);
}

std::string AnthropicDialect::errorBody(int status, std::string_view code,
                                        std::string_view message) const {
  std::string_view type;
  switch (status) {
    case 401:
      type = "authentication_error";
      break;
    case 403:
      type = "permission_error";
      break;
    case 404:
      type = "not_found_error";
      break;
    case 408:
    case 504:
      type = "timeout_error";
      break;
    case 413:
      type = "request_too_large";
      break;
    case 429:
      type = "rate_limit_error";
      break;
    case 529:
      type = "overloaded_error";
      break;
    default:
      type = status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
  std::string out = R"({"type":"error","error":{"type":)";
  appendJsonString(type, out);
  out += R"(,"message":)";
  appendJsonString(message, out);
  if (!code.empty()) {
    out += R"(,"code":)";
    appendJsonString(code, out);
  }
  out += "}}";
  return out;
}

}  // namespace tollgate::meter
