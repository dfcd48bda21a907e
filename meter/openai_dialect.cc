#include "meter/openai_dialect.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>

#include "meter/body_window.h"
#include "meter/json_escape.h"
#include "meter/json_scanner.h"
#include "meter/meter_support.h"
#include "meter/openai_body_scan.h"
#include "meter/openai_responses.h"
#include "meter/openai_usage_conventions.h"
#include "meter/sse_framer.h"
#include "meter/token_estimator.h"
#include "meter/visible_text.h"

namespace tollgate::meter {
namespace {

namespace od = simdjson::ondemand;

// Bounded copies of non-streamed bodies. An error body is small; a successful one is parsed at
// the end and may be large (long completions, many embeddings: past BodyWindow::kMaxWhole only
// its head and tail are kept, and the usage is read from them).
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr UsageMember kUsageMembers[] = {{"usage"}};
// Relay buffers larger than this are given back after use rather than kept for the next chunk.
constexpr size_t kKeepCapacity = size_t{1} << 20;

// ---------------------------------------------------------------------------------------------
// simdjson plumbing: one parser and one padded input buffer per thread, reused for every
// document, so parsing allocates nothing in the steady state. Offsets into the padded copy are
// offsets into the caller's bytes.

class PaddedInput {
 public:
  simdjson::padded_string_view load(std::string_view s) {
    const size_t need = s.size() + simdjson::SIMDJSON_PADDING;
    if (buf_.size() < need) buf_.resize(need);
    if (!s.empty()) std::memcpy(buf_.data(), s.data(), s.size());
    // On malformed input simdjson may look into the padding: it must not hold the bytes of an
    // earlier document, or the result of a parse would depend on what was parsed before.
    std::memset(buf_.data() + s.size(), 0, simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(buf_.data(), s.size(), buf_.size());
  }
  const char* base() const { return buf_.data(); }

 private:
  std::string buf_;
};

thread_local od::parser t_parser;
thread_local PaddedInput t_input;

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t offsetOf(const char* p) { return static_cast<size_t>(p - t_input.base()); }

// Offset of the opening quote of a field's key.
size_t keyOffset(od::field& field) { return offsetOf(field.key().raw()) - 1; }

bool readString(od::value& v, std::string_view& out) {
  return v.get_string().get(out) == simdjson::SUCCESS;
}

int64_t readCount(od::value& v) { return support::readCount(v); }

// Text of an error's type or code: strings as is, numbers (some compatible servers send an
// HTTP-like numeric code) as their JSON token.
std::string readErrorLabel(od::value& v) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return {};
  if (type == od::json_type::string) {
    std::string_view s;
    return readString(v, s) ? std::string(s) : std::string();
  }
  if (type == od::json_type::number) {
    std::string_view token = v.raw_json_token();
    while (!token.empty() && isJsonSpace(token.back())) token.remove_suffix(1);
    return std::string(token);
  }
  return {};
}

// error_type of an OpenAI error object: "type" when set, else "code".
std::string readErrorObject(od::value& v) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return {};
  std::string type;
  std::string code;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) break;
    if (field.key() == "type") {
      type = readErrorLabel(field.value());
    } else if (field.key() == "code") {
      code = readErrorLabel(field.value());
    }
  }
  return type.empty() ? code : type;
}

// ---------------------------------------------------------------------------------------------
// Response reading, shared by the stream and body meters.

// What one call's responses taught so far.
struct ResponseState {
  MeterResult result;
  bool usage_seen = false;
  int64_t content_bytes = 0;  // UTF-8 bytes of generated text relayed (for the estimate)
  // llama.cpp's "timings" (prompt_n, cache_n, predicted_n): the usage of a server that sends
  // timings but no usage object.
  bool timings_seen = false;
  Usage timings_usage;
  // The bytes before the "choices" value of the last chunk read from its raw bytes (through
  // `"choices":`), and the service tier they named. Servers repeat them in every chunk of a
  // stream (id, object, created, model, fingerprint): a chunk that begins with exactly these
  // bytes resumes its scan after them. Their other effects cannot repeat: the first id and model
  // were taken when these bytes were first read.
  std::string chunk_head;
  std::string head_tier;
  bool head_tier_seen = false;
};

// Facts about one response object that hide mode acts on.
struct ObjectShape {
  bool parsed = false;         // the whole top-level object was read without error
  bool empty_choices = false;  // "choices":[]
  bool usage_object = false;   // a non-null "usage"
  bool null_usage = false;     // a top-level "usage":null, removable as [cut_begin, cut_end)
  size_t cut_begin = 0;
  size_t cut_end = 0;
};

// The parts of a *_tokens_details object: `cached`/`reasoning` is the part the canonical usage
// keeps apart, audio and image tokens are line items.
bool readDetails(od::value v, bool input_side, Usage& usage) {
  od::object details;
  if (v.get_object().get(details) != simdjson::SUCCESS) return true;
  for (auto detail_result : details) {
    od::field detail;
    if (std::move(detail_result).get(detail) != simdjson::SUCCESS) return false;
    const auto key = detail.key();
    if (key == "audio_tokens") {
      usage[input_side ? Unit::kAudioInputTokens : Unit::kAudioOutputTokens] =
          readCount(detail.value());
    } else if (key == "image_tokens") {
      usage[input_side ? Unit::kImageInputTokens : Unit::kImageOutputTokens] =
          readCount(detail.value());
    } else if (input_side && key == "cached_tokens") {
      usage.cache_read_tokens = readCount(detail.value());
    } else if (input_side && key == "cache_write_tokens") {
      usage.cache_write_tokens = readCount(detail.value());
    } else if (!input_side && key == "reasoning_tokens") {
      usage.reasoning_tokens = readCount(detail.value());
    }
  }
  return true;
}

void readUsage(od::value& v, Usage& usage, std::optional<Money>& provider_cost) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return;
  usage = Usage{};
  CompatibleUsageFields compatible;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
    const auto key = field.key();
    if (key == "prompt_tokens") {
      usage.input_tokens = readCount(field.value());
    } else if (key == "completion_tokens") {
      usage.output_tokens = readCount(field.value());
    } else if (key == "total_tokens") {
      compatible.total_tokens = readCount(field.value());
    } else if (key == "prompt_cache_hit_tokens") {
      compatible.prompt_cache_hit_tokens = readCount(field.value());
    } else if (key == "prompt_tokens_details") {
      if (!readDetails(field.value(), true, usage)) return;
    } else if (key == "completion_tokens_details") {
      if (!readDetails(field.value(), false, usage)) return;
    } else if (key == "cost") {
      provider_cost = support::readUsd(field.value());
    } else if (!(key == "prompt_cache_miss_tokens")) {
      support::noteUnknownUnit(field, usage);
    }
  }
  applyCompatibleConventions(compatible, usage);
}

// Adds the byte length of the string member `name` of an object value to `bytes`; false only
// when the JSON is malformed.
bool addStringMember(od::value& v, std::string_view name, int64_t& bytes) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  if (type != od::json_type::object) return true;
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return false;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    if (field.key() == name) {
      std::string_view s;
      if (readString(field.value(), s)) bytes += static_cast<int64_t>(s.size());
    }
  }
  return true;
}

// llama.cpp server timings: prompt_n prompt tokens evaluated, cache_n prompt tokens reused from
// the KV cache (so input = prompt_n + cache_n, of which cache_n are cache reads), predicted_n
// generated tokens. False when it is not an object with these counts.
bool readTimings(od::value& v, Usage& usage) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return false;
  Usage read;
  bool any = false;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    const auto key = field.key();
    if (key == "prompt_n") {
      read.input_tokens = addCounts(read.input_tokens, readCount(field.value()));
      any = true;
    } else if (key == "cache_n") {
      read.cache_read_tokens = readCount(field.value());
      read.input_tokens = addCounts(read.input_tokens, read.cache_read_tokens);
    } else if (key == "predicted_n") {
      read.output_tokens = readCount(field.value());
      any = true;
    }
  }
  if (any) usage = read;
  return any;
}

bool readChoice(od::value& v, ResponseState& state) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return false;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    const auto key = field.key();
    if (key == "finish_reason") {
      std::string_view reason;
      if (readString(field.value(), reason)) state.result.finish_reasons.emplace_back(reason);
    } else if (key == "delta") {
      if (!addStringMember(field.value(), "content", state.content_bytes)) return false;
    } else if (key == "message") {
      if (!addStringMember(field.value(), "content", state.content_bytes)) return false;
    } else if (key == "text") {  // legacy /v1/completions
      std::string_view s;
      if (readString(field.value(), s)) state.content_bytes += static_cast<int64_t>(s.size());
    }
  }
  return true;
}

// The bytes to remove so that `"usage":null` disappears as if it had never been written: with
// the comma before it (and the whitespace around that comma) when a member precedes it, else
// with the comma and whitespace after it. `key` is its key's opening quote, `value_end` the end
// of its null token; `json` the document bytes.
std::pair<size_t, size_t> memberCut(std::string_view json, size_t key, size_t value_end) {
  size_t before = key;
  while (before > 0 && isJsonSpace(json[before - 1])) --before;
  if (before > 0 && json[before - 1] == ',') {
    size_t begin = before - 1;
    while (begin > 0 && isJsonSpace(json[begin - 1])) --begin;
    return {begin, value_end};
  }
  size_t after = value_end;
  while (after < json.size() && isJsonSpace(json[after])) ++after;
  if (after < json.size() && json[after] == ',') {
    ++after;
    while (after < json.size() && isJsonSpace(json[after])) ++after;
    return {key, after};
  }
  return {key, value_end};
}

// Reads an OpenAI response object (a chat.completion, a chat.completion.chunk, a text
// completion, an embeddings list or an error) into `state`.
ObjectShape readResponseObject(std::string_view json, ResponseState& state) {
  ObjectShape shape;
  od::document doc;
  if (t_parser.iterate(t_input.load(json)).get(doc) != simdjson::SUCCESS) return shape;
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return shape;
  MeterResult& result = state.result;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return shape;
    const auto key = field.key();
    od::value value = field.value();
    if (key == "id") {
      std::string_view id;
      if (result.response_id.empty() && readString(value, id)) result.response_id = id;
    } else if (key == "model") {
      std::string_view model;
      if (result.response_model.empty() && readString(value, model)) result.response_model = model;
    } else if (key == "choices") {
      od::array choices;
      if (value.get_array().get(choices) != simdjson::SUCCESS) continue;
      size_t count = 0;
      for (auto choice_result : choices) {
        od::value choice;
        if (std::move(choice_result).get(choice) != simdjson::SUCCESS || !readChoice(choice, state))
          return shape;
        ++count;
      }
      shape.empty_choices = count == 0;
    } else if (key == "usage") {
      od::json_type type;
      if (value.type().get(type) != simdjson::SUCCESS) return shape;
      if (type == od::json_type::null) {
        const std::string_view token = value.raw_json_token();
        bool is_null = false;
        if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
          return shape;
        }
        const size_t key_at = keyOffset(field);
        const size_t value_end = offsetOf(token.data()) + 4;
        std::tie(shape.cut_begin, shape.cut_end) = memberCut(json, key_at, value_end);
        shape.null_usage = true;
      } else if (type == od::json_type::object) {
        readUsage(value, result.usage, result.provider_cost);
        state.usage_seen = true;
        shape.usage_object = true;
      }
    } else if (key == "error") {
      result.upstream_error = true;
      od::json_type type;
      if (value.type().get(type) == simdjson::SUCCESS && type == od::json_type::object) {
        result.error_type = readErrorObject(value);
      }
    } else if (key == "timings") {
      state.timings_seen = readTimings(value, state.timings_usage) || state.timings_seen;
    } else if (key == "x_groq") {
      // Groq's streams carry their usage in the last chunk's x_groq object: read as a usage
      // object when the call has no other.
      od::value usage;
      if (!state.usage_seen &&
          value.find_field_unordered("usage").get(usage) == simdjson::SUCCESS) {
        od::json_type type;
        if (usage.type().get(type) == simdjson::SUCCESS && type == od::json_type::object) {
          readUsage(usage, result.usage, result.provider_cost);
          state.usage_seen = true;
        }
      }
    } else if (key == "service_tier") {
      std::string_view tier;
      if (readString(value, tier)) result.service_tier = support::priceVariant(tier);
    }
  }
  shape.parsed = true;
  return shape;
}

// ---------------------------------------------------------------------------------------------
// The pre-filter: chunks read from their raw bytes.

// What a chunk read from its raw bytes teaches; applied only once the whole chunk was read.
struct ScannedChunk {
  static constexpr size_t kMaxFinishReasons = 4;  // more choices finishing at once: simdjson

  int64_t content_bytes = 0;
  std::string_view id;
  std::string_view model;
  std::string_view tier;
  bool tier_seen = false;
  std::string_view finish_reasons[kMaxFinishReasons];
  size_t finish_count = 0;
  bool usage_object = false;  // a "usage" object was read into `usage`
  Usage usage;
};

// A string or null (what readString leaves alone); false on anything else or on escapes.
bool scanOptionalString(JsonScanner& in, std::string_view& out, bool& present) {
  if (in.peek() == 'n') return in.null();
  present = true;
  return in.plainString(out);
}

// The "content" of a delta or message: string bytes, null or absent.
bool scanContentOf(JsonScanner& in, int64_t& bytes) {
  return in.forEachMember([&](std::string_view key) {
    if (key != "content") return in.skipValue();
    int64_t n = 0;
    const bool ok = in.peek() == 'n' ? in.null() : in.string(n);
    bytes += n;
    return ok;
  });
}

bool scanChoice(JsonScanner& in, ScannedChunk& chunk) {
  return in.forEachMember([&](std::string_view key) {
    if (key == "finish_reason") {
      // A string is a finish reason (readChoice); null is none. Anything else, or a reason
      // with escapes, goes to readResponseObject.
      if (in.peek() == 'n') return in.null();
      std::string_view reason;
      if (chunk.finish_count == ScannedChunk::kMaxFinishReasons || !in.plainString(reason)) {
        return false;
      }
      chunk.finish_reasons[chunk.finish_count++] = reason;
      return true;
    }
    if (key == "delta" || key == "message") return scanContentOf(in, chunk.content_bytes);
    if (key == "text") {
      int64_t n = 0;
      const bool ok = in.peek() == 'n' ? in.null() : in.string(n);
      chunk.content_bytes += n;
      return ok;
    }
    return in.skipValue();
  });
}

bool scanChoices(JsonScanner& in, ScannedChunk& chunk, ObjectShape& shape) {
  // The choices of a content chunk as OpenAI writes them: one choice with a content delta and
  // nothing else, read in one go when the bytes around the text are exactly these (what the
  // member by member reading below gives for them); else read member by member.
  constexpr std::string_view kContentOpen = R"([{"index":0,"delta":{"content":)";
  constexpr std::string_view kContentClose = R"(},"logprobs":null,"finish_reason":null}])";
  const size_t start = in.offset();
  if (in.skip(kContentOpen)) {
    int64_t n = 0;
    if (in.peek() == '"' && in.string(n) && in.skip(kContentClose)) {
      chunk.content_bytes += n;
      shape.empty_choices = false;
      return true;
    }
    in.rewind(start);
  }
  size_t count = 0;
  const bool read = in.forEachElement([&] {
    ++count;
    return scanChoice(in, chunk);
  });
  if (!read) return false;
  shape.empty_choices = count == 0;
  return true;
}

bool isAscii(std::string_view s) {
  // Eight bytes at a time: a byte >= 0x80 sets the top bit of its byte of the word.
  uint64_t high = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    high |= word;
  }
  for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
  return (high & 0x8080808080808080ULL) == 0;
}

// Nearly every chunk of a stream carries a content delta, a finish reason or the usage: it is
// read from its raw bytes, with the same result readResponseObject gives (including where
// "usage":null lies, for hide mode). False, with nothing changed, for chunks with an error or
// llama.cpp timings, and for anything unexpected (escapes in a finish reason, a count that is
// not an integer or null): readResponseObject then reads them.
// Words such as "usage" inside the content are string bytes to the scanner, never members.
bool scanChunk(std::string_view json, ResponseState& state, ObjectShape& shape) {
  JsonScanner in(json);
  ScannedChunk chunk;
  ObjectShape scanned;
  const bool want_id = state.result.response_id.empty();
  const bool want_model = state.result.response_model.empty();
  // While learning a head: the bytes before "choices" hold nothing that a repeat must redo.
  bool head_ok = true;
  size_t head_end = 0;
  std::string_view head_tier;
  bool head_tier_seen = false;
  const bool resumed = !state.chunk_head.empty() && in.skip(state.chunk_head);
  if (resumed) {
    chunk.tier = state.head_tier;
    chunk.tier_seen = state.head_tier_seen;
    if (!scanChoices(in, chunk, scanned)) return false;
    // What follows the choices of a chunk when usage was asked for, as OpenAI writes it: the
    // member the loop below would read (and the object's end), read in one go.
    constexpr std::string_view kNullUsage = R"(,"usage":null)";
    const size_t member_at = in.offset();
    if (in.skip(kNullUsage)) {
      std::tie(scanned.cut_begin, scanned.cut_end) =
          memberCut(json, member_at + 1, member_at + kNullUsage.size());
      scanned.null_usage = true;
    }
  } else if (!in.consume('{')) {
    return false;
  }
  const bool read = in.forEachMemberAfter(!resumed, [&](std::string_view key) {
    if (key == "choices") {
      if (head_ok && head_end == 0 && !resumed) {
        head_end = in.offset();
        head_tier = chunk.tier;
        head_tier_seen = chunk.tier_seen;
      }
      return scanChoices(in, chunk, scanned);
    }
    if (key == "usage") {
      head_ok = false;
      if (in.peek() == '{') {
        if (!scanOpenAiUsage(in, chunk.usage)) return false;
        chunk.usage_object = true;
        scanned.usage_object = true;
        return true;
      }
      const size_t key_at = static_cast<size_t>(key.data() - json.data()) - 1;
      if (!in.null()) return false;
      std::tie(scanned.cut_begin, scanned.cut_end) = memberCut(json, key_at, in.offset());
      scanned.null_usage = true;
      return true;
    }
    if (key == "id") {
      return want_id && chunk.id.empty() ? in.plainString(chunk.id) : in.skipValue();
    }
    if (key == "model") {
      return want_model && chunk.model.empty() ? in.plainString(chunk.model) : in.skipValue();
    }
    if (key == "service_tier") {
      std::string_view tier;
      bool present = false;
      if (!scanOptionalString(in, tier, present)) return false;
      if (present) {
        chunk.tier = tier;
        chunk.tier_seen = true;
      }
      return true;
    }
    return key != "error" && key != "timings" && key != "x_groq" && in.skipValue();
  });
  if (!read || !in.complete()) return false;
  if (head_end > 0 && isAscii(json.substr(0, head_end))) {
    state.chunk_head.assign(json.substr(0, head_end));
    state.head_tier.assign(head_tier);
    state.head_tier_seen = head_tier_seen;
  }
  MeterResult& result = state.result;
  if (!chunk.id.empty()) result.response_id = chunk.id;
  if (!chunk.model.empty()) result.response_model = chunk.model;
  if (chunk.tier_seen) result.service_tier = support::priceVariant(chunk.tier);
  for (size_t k = 0; k < chunk.finish_count; ++k) {
    result.finish_reasons.emplace_back(chunk.finish_reasons[k]);
  }
  if (chunk.usage_object) {
    result.usage = chunk.usage;
    state.usage_seen = true;
  }
  state.content_bytes += chunk.content_bytes;
  scanned.parsed = true;
  shape = scanned;
  return true;
}

// A whole non-streamed answer read from its raw bytes (openai_body_scan.h), applied as
// readResponseObject would apply it. False, with nothing changed, when readResponseObject must
// read it.
bool scanBody(std::string_view json, ResponseState& state) {
  MeterResult& result = state.result;
  OpenAiBodyScan body;
  if (!scanOpenAiBody(json, result.response_id.empty(), result.response_model.empty(), body)) {
    return false;
  }
  if (!body.id.empty()) result.response_id = body.id;
  if (!body.model.empty()) result.response_model = body.model;
  if (body.tier_seen) result.service_tier = support::priceVariant(body.tier);
  for (size_t k = 0; k < body.finish_count; ++k) {
    result.finish_reasons.emplace_back(body.finish_reasons[k]);
  }
  if (body.usage_seen) {
    result.usage = body.usage;
    state.usage_seen = true;
  }
  state.content_bytes += body.content_bytes;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Meters.

// Turns what was seen into the final result. Without provider usage the gateway estimates:
// input = the request estimate (RequestInfo::estimated_input_tokens), output = ceil(UTF-8 bytes
// of generated text relayed / 4). Both are rough (about four bytes per token for English text)
// and are marked usage_source "estimated" so that consumers can tell.
void finishResult(ResponseState& state, int64_t request_estimate) {
  MeterResult& result = state.result;
  if (state.usage_seen || state.timings_seen) {
    const Usage reported = state.usage_seen ? result.usage : state.timings_usage;
    if (withinBounds(reported)) {
      result.usage = reported;
      result.usage_source = UsageSource::kProvider;
      return;
    }
    // A count was malformed or absurd (support::settle): the report is refused.
    result.usage_flags |= kUsageCountRefused;
  }
  result.usage = estimateUnfinishedUsage(Usage{}, false, request_estimate, state.content_bytes);
  result.usage_source = UsageSource::kEstimated;
}

// A non-2xx answer: relayed as is; its error object names the failure. Error answers carry no
// usage, so none is reported.
class ErrorStatusMeter final : public ResponseMeter {
 public:
  ErrorStatusMeter() { state_.result.upstream_error = true; }

  std::string_view onBody(std::string_view chunk) override {
    if (body_.size() < kMaxErrorBody) {
      body_.append(chunk.substr(0, kMaxErrorBody - body_.size()));
    }
    return chunk;
  }

  std::string_view onEnd(bool) override {
    if (ended_) return {};
    ended_ = true;
    od::document doc;
    if (t_parser.iterate(t_input.load(body_)).get(doc) != simdjson::SUCCESS) return {};
    od::json_type type;
    if (doc.type().get(type) != simdjson::SUCCESS) return {};
    if (type == od::json_type::array) {
      // Some OpenAI-compatible servers wrap the error object in an array.
      od::array items;
      od::value first;
      if (doc.get_array().get(items) != simdjson::SUCCESS ||
          items.at(0).get(first) != simdjson::SUCCESS) {
        return {};
      }
      readErrorIn(first);
      return {};
    }
    od::value root;
    if (doc.get_value().get(root) == simdjson::SUCCESS) readErrorIn(root);
    return {};
  }

  MeterResult result() const override { return state_.result; }
  void takeResult(MeterResult& into) override { support::moveResult(state_.result, into); }
  size_t retainedBytes() const override { return body_.capacity(); }

 private:
  void readErrorIn(od::value& root) {
    od::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
      if (field.key() == "error") {
        state_.result.error_type = readErrorObject(field.value());
        return;
      }
    }
  }

  std::string body_;
  ResponseState state_;
  bool ended_ = false;
};

// Where a chat completion or text completion holds its generated text (embeddings hold none).
constexpr TextPath kBodyText[] = {
    {"choices/*/message/content"}, {"choices/*/delta/content"}, {"choices/*/text"}};

// A non-streamed JSON answer: relayed as is, copied, and read when complete.
class JsonBodyMeter final : public ResponseMeter {
 public:
  explicit JsonBodyMeter(const RequestInfo& info)
      : request_estimate_(info.estimated_input_tokens) {}

  std::string_view onBody(std::string_view chunk) override {
    body_.append(chunk);
    return chunk;
  }

  std::string_view onEnd(bool complete) override {
    if (ended_) return {};
    ended_ = true;
    if (!body_.whole()) {
      // Too large to keep: the usage is read from the head and tail kept, else estimated (from
      // the request: the generated text was not kept).
      state_.result.usage_flags |= kUsageBodyWindowed;
      if (complete) readUsageMembers(body_.head(), body_.tail());
    } else if (complete) {
      const std::string_view body = body_.text();
      if (!support::preFilterEnabled() || !scanBody(body, state_)) {
        if (!readResponseObject(body, state_).parsed &&
            !simdjson::validate_utf8(body.data(), body.size())) {
          readUsageMembers(body, body);
        }
      }
    } else {
      // A body cut short is not a JSON document: only the generated text the client received
      // is read, for the estimate (whatever usage members came before the cut are not trusted).
      state_.content_bytes = visibleTextBytes(body_.text(), kBodyText)
                                 .value_or(static_cast<int64_t>(body_.text().size()));
    }
    body_.release();
    finishResult(state_, request_estimate_);
    return {};
  }

  MeterResult result() const override { return state_.result; }
  void takeResult(MeterResult& into) override { support::moveResult(state_.result, into); }
  size_t retainedBytes() const override { return body_.retainedBytes(); }

 private:
  // The usage members of a body too large to keep, or refused for invalid UTF-8, read alone.
  void readUsageMembers(std::string_view head, std::string_view tail) {
    const std::string doc = BodyWindow::usageDocument(head, tail, kUsageMembers);
    if (!doc.empty()) readResponseObject(doc, state_);
  }

  int64_t request_estimate_;  // RequestInfo::estimated_input_tokens: all a meter needs of it
  BodyWindow body_;
  ResponseState state_;
  bool ended_ = false;
};

// Where the value of a data field range [begin, end) of an event lies in the event's raw bytes.
// Data lines are joined with '\n'; a range that crosses lines has no single raw counterpart.
bool mapDataRange(std::string_view raw, size_t begin, size_t end, size_t& raw_begin,
                  size_t& raw_end) {
  size_t pos = 0;
  size_t joined = 0;
  bool first = true;
  while (pos < raw.size()) {
    size_t eol = pos;
    while (eol < raw.size() && raw[eol] != '\n' && raw[eol] != '\r') ++eol;
    const std::string_view line = raw.substr(pos, eol - pos);
    if (line.empty()) return false;
    if (line[0] != ':') {
      const size_t colon = line.find(':');
      if (line.substr(0, colon) == "data") {
        size_t value_at = line.size();
        if (colon != std::string_view::npos) {
          value_at = colon + 1;
          if (value_at < line.size() && line[value_at] == ' ') ++value_at;
        }
        const size_t value_len = line.size() - value_at;
        if (!first) ++joined;
        first = false;
        if (begin >= joined && end <= joined + value_len) {
          raw_begin = pos + value_at + (begin - joined);
          raw_end = pos + value_at + (end - joined);
          return true;
        }
        joined += value_len;
      }
    }
    pos = eol + 1;
    if (eol < raw.size() && raw[eol] == '\r' && pos < raw.size() && raw[pos] == '\n') ++pos;
  }
  return false;
}

// A streamed answer (text/event-stream). Passes the chunks through untouched unless the gateway
// asked for the usage itself; then it removes exactly what that request added: the final
// usage-only chunk (its whole event) and the top-level "usage":null member of every other chunk.
// A chunk whose "usage":null spans data lines (no known server writes that) is left as is.
class SseStreamMeter final : public ResponseMeter {
 public:
  explicit SseStreamMeter(const RequestInfo& info)
      : request_estimate_(info.estimated_input_tokens), hide_(info.gateway_asked_usage) {}

  std::string_view onBody(std::string_view chunk) override {
    if (ended_) return {};
    if (!hide_) {
      framer_.feed(chunk, [this](const SseEvent& ev) { meterEvent(ev); });
      return chunk;
    }
    const size_t base = framer_.offset();
    const bool nothing_held = held_.empty();
    chunk_ = chunk;
    chunk_base_ = base;
    releaseLarge(out_);
    emitted_ = held_begin_;
    changed_ = false;
    framer_.feed(chunk, [this](const SseEvent& ev) { hideEvent(ev); });
    const size_t settled = framer_.partialBegin();
    if (nothing_held && !changed_ && settled == framer_.offset()) {
      held_begin_ = settled;
      chunk_ = {};
      return chunk;
    }
    appendRange(emitted_, settled);
    keepFrom(settled);
    chunk_ = {};
    return out_;
  }

  std::string_view onEnd(bool complete) override {
    if (ended_) return {};
    ended_ = true;
    std::string_view owed;
    if (!hide_) {
      if (complete) framer_.finish([this](const SseEvent& ev) { meterEvent(ev); });
    } else {
      chunk_ = {};
      chunk_base_ = framer_.offset();
      out_.clear();
      emitted_ = held_begin_;
      if (complete) framer_.finish([this](const SseEvent& ev) { hideEvent(ev); });
      // What is still pending is an event without its blank line: the client's parser would
      // discard it, so it is not sent.
      appendRange(emitted_, framer_.partialBegin());
      std::string().swap(held_);
      owed = out_;
    }
    if (framer_.oversizedEvents() > 0) state_.result.usage_flags |= kUsageEventOversized;
    finishResult(state_, request_estimate_);
    return owed;
  }

  MeterResult result() const override { return state_.result; }
  void takeResult(MeterResult& into) override { support::moveResult(state_.result, into); }

  MeterProgress progress() const override {
    MeterProgress progress;
    if (state_.usage_seen) {
      progress.provider_so_far = state_.result.usage;
      progress.input_known = true;
    }
    progress.output_bytes = state_.content_bytes;
    return progress;
  }

  size_t retainedBytes() const override {
    return framer_.retainedBytes() + held_.capacity() + out_.capacity() + scratch_.capacity();
  }

 private:
  // Empties a buffer, giving back the memory of one that a large event grew.
  static void releaseLarge(std::string& s) {
    if (s.capacity() > kKeepCapacity) {
      std::string().swap(s);
    } else {
      s.clear();
    }
  }

  ObjectShape meterEvent(const SseEvent& ev) {
    if (ev.data.empty() || ev.data == "[DONE]") return {};
    ObjectShape shape;
    if (support::preFilterEnabled() && scanChunk(ev.data, state_, shape)) return shape;
    shape = readResponseObject(ev.data, state_);
    if (!shape.parsed) [[unlikely]]
      readBrokenChunk(ev.data);
    return shape;
  }

  // A chunk simdjson could not read. When a broken byte in some text was why, the chunk's usage,
  // intact, is read alone (the chunk itself is relayed as it is, never edited).
  [[gnu::noinline]] void readBrokenChunk(std::string_view data) {
    if (simdjson::validate_utf8(data.data(), data.size())) return;
    const std::string doc = BodyWindow::usageDocument(data, data, kUsageMembers);
    if (!doc.empty()) readResponseObject(doc, state_);
  }

  void hideEvent(const SseEvent& ev) {
    const ObjectShape shape = meterEvent(ev);
    if (!shape.parsed) return;
    if (shape.empty_choices && shape.usage_object) {
      appendRange(emitted_, ev.raw_begin);
      emitted_ = ev.raw_end;
      changed_ = true;
      return;
    }
    if (!shape.null_usage) return;
    const std::string_view raw = rawBytes(ev.raw_begin, ev.raw_end);
    size_t cut_begin = 0;
    size_t cut_end = 0;
    const auto raw_at = reinterpret_cast<uintptr_t>(raw.data());
    const auto data_at = reinterpret_cast<uintptr_t>(ev.data.data());
    if (data_at >= raw_at && data_at + ev.data.size() <= raw_at + raw.size()) {
      // The framer handed out a view of a single data line inside this chunk.
      cut_begin = data_at - raw_at + shape.cut_begin;
      cut_end = data_at - raw_at + shape.cut_end;
    } else if (!mapDataRange(raw, shape.cut_begin, shape.cut_end, cut_begin, cut_end)) {
      return;
    }
    appendRange(emitted_, ev.raw_begin);
    out_.append(raw.substr(0, cut_begin));
    out_.append(raw.substr(cut_end));
    emitted_ = ev.raw_end;
    changed_ = true;
  }

  // Stream bytes [begin, end): in held_ (from held_begin_ up to chunk_base_) and/or chunk_.
  void appendRange(size_t begin, size_t end) { appendRange(begin, end, out_); }
  void appendRange(size_t begin, size_t end, std::string& to) const {
    if (begin >= end) return;
    if (begin < chunk_base_) {
      const size_t stop = std::min(end, chunk_base_);
      to.append(held_, begin - held_begin_, stop - begin);
      begin = stop;
    }
    if (begin < end) to.append(chunk_.substr(begin - chunk_base_, end - begin));
  }

  std::string_view rawBytes(size_t begin, size_t end) {
    if (begin >= chunk_base_) return chunk_.substr(begin - chunk_base_, end - begin);
    scratch_.clear();
    appendRange(begin, end, scratch_);
    return scratch_;
  }

  // Holds back stream bytes from `from` on (a partial event) until more arrive. The framer caps
  // a partial event (SseFramer::kMaxEventBytes): past it the event's bytes are settled, so they
  // are relayed as they come and never held.
  void keepFrom(size_t from) {
    if (from >= chunk_base_) {
      releaseLarge(held_);
      held_.assign(chunk_.substr(from - chunk_base_));
    } else {
      held_.erase(0, from - held_begin_);
      held_.append(chunk_);
    }
    held_begin_ = from;
  }

  int64_t request_estimate_;  // RequestInfo::estimated_input_tokens
  bool hide_;
  SseFramer framer_;
  ResponseState state_;
  bool ended_ = false;

  // Hide mode only.
  std::string held_;  // stream bytes [held_begin_, chunk_base_) not yet sent
  size_t held_begin_ = 0;
  std::string_view chunk_;  // the chunk being fed
  size_t chunk_base_ = 0;   // stream offset of chunk_[0]
  size_t emitted_ = 0;      // stream bytes before this are decided (in out_ or dropped)
  bool changed_ = false;
  std::string out_;
  std::string scratch_;
};

bool isEventStream(std::string_view content_type) {
  constexpr std::string_view kType = "text/event-stream";
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  if (content_type.size() < kType.size()) return false;
  for (size_t i = 0; i < kType.size(); ++i) {
    char c = content_type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kType[i]) return false;
  }
  if (content_type.size() == kType.size()) return true;
  const char next = content_type[kType.size()];
  return next == ';' || next == ' ' || next == '\t';
}

// ---------------------------------------------------------------------------------------------
// Requests.

RequestError invalidJson(std::string_view why) {
  return RequestError{400, "invalid_json", "request body is not valid JSON: " + std::string(why)};
}

// Adds the UTF-8 bytes of a string, or of every string of an array, to `bytes`.
simdjson::error_code addStrings(od::value& v, int64_t& bytes) {
  od::json_type type;
  if (auto ec = v.type().get(type)) return ec;
  if (type == od::json_type::string) {
    std::string_view s;
    if (auto ec = v.get_string().get(s)) return ec;
    bytes += static_cast<int64_t>(s.size());
  } else if (type == od::json_type::array) {
    od::array items;
    if (auto ec = v.get_array().get(items)) return ec;
    for (auto item_result : items) {
      od::value item;
      if (auto ec = std::move(item_result).get(item)) return ec;
      od::json_type item_type;
      if (auto ec = item.type().get(item_type)) return ec;
      if (item_type != od::json_type::string) continue;
      std::string_view s;
      if (auto ec = item.get_string().get(s)) return ec;
      bytes += static_cast<int64_t>(s.size());
    }
  }
  return simdjson::SUCCESS;
}

// Content bytes of one chat message: its "content" string, or the "text" of its content parts.
simdjson::error_code addMessage(od::value& message, int64_t& bytes) {
  od::object obj;
  if (message.get_object().get(obj) != simdjson::SUCCESS) return simdjson::SUCCESS;
  for (auto field_result : obj) {
    od::field field;
    if (auto ec = std::move(field_result).get(field)) return ec;
    if (field.key() != "content") continue;
    od::value content = field.value();
    od::json_type type;
    if (auto ec = content.type().get(type)) return ec;
    if (type == od::json_type::string) {
      std::string_view s;
      if (auto ec = content.get_string().get(s)) return ec;
      bytes += static_cast<int64_t>(s.size());
    } else if (type == od::json_type::array) {
      od::array parts;
      if (auto ec = content.get_array().get(parts)) return ec;
      for (auto part_result : parts) {
        od::value part;
        if (auto ec = std::move(part_result).get(part)) return ec;
        od::object part_obj;
        if (part.get_object().get(part_obj) != simdjson::SUCCESS) continue;
        for (auto part_field_result : part_obj) {
          od::field part_field;
          if (auto ec = std::move(part_field_result).get(part_field)) return ec;
          if (part_field.key() != "text") continue;
          std::string_view s;
          if (readString(part_field.value(), s)) bytes += static_cast<int64_t>(s.size());
        }
      }
    }
  }
  return simdjson::SUCCESS;
}

// True when nothing but whitespace follows the parsed document.
bool atDocumentEnd(od::document& doc) {
  const char* at = nullptr;
  if (doc.current_location().get(at) != simdjson::SUCCESS) return true;
  return false;
}

}  // namespace

std::optional<RequestError> OpenAiDialect::inspectRequest(std::string_view path,
                                                          std::string_view body,
                                                          RequestInfo& info) const {
  return inspectOpenAiRequest(path, body, info, true);
}

std::optional<RequestError> OpenAiDialect::inspectOpenAiRequest(std::string_view path,
                                                                std::string_view body,
                                                                RequestInfo& info,
                                                                bool model_required) const {
  if (path == "/v1/chat/completions") {
    info.operation = "chat";
  } else if (path == "/v1/completions") {
    info.operation = "text_completion";
  } else if (path == "/v1/embeddings") {
    info.operation = "embeddings";
  } else if (path == "/v1/responses") {
    return inspectResponsesRequest(body, info);
  } else {
    return RequestError{404, "unknown_endpoint",
                        "the OpenAI dialect does not serve " + std::string(path)};
  }

  od::document doc;
  if (auto ec = t_parser.iterate(t_input.load(body)).get(doc))
    return invalidJson(simdjson::error_message(ec));
  od::object obj;
  if (auto ec = doc.get_object().get(obj)) {
    return invalidJson(ec == simdjson::INCORRECT_TYPE ? "expected an object"
                                                      : simdjson::error_message(ec));
  }

  enum class Model { kMissing, kNotString, kEmpty, kGiven } model_state = Model::kMissing;
  bool stream_ok = true;
  bool stream = false;
  bool include_usage = false;
  int64_t text_bytes = 0;
  int64_t messages = 0;
  std::string model;

  for (auto field_result : obj) {
    od::field field;
    if (auto ec = std::move(field_result).get(field))
      return invalidJson(simdjson::error_message(ec));
    const auto key = field.key();
    od::value value = field.value();
    od::json_type type;
    if (auto ec = value.type().get(type)) return invalidJson(simdjson::error_message(ec));
    if (key == "model") {
      if (type != od::json_type::string) {
        model_state = Model::kNotString;
        continue;
      }
      std::string_view s;
      if (auto ec = value.get_string().get(s)) return invalidJson(simdjson::error_message(ec));
      model.assign(s);
      model_state = s.empty() ? Model::kEmpty : Model::kGiven;
    } else if (key == "stream") {
      // null is what an omitted optional looks like when serialized; OpenAI accepts it.
      if (type == od::json_type::boolean) {
        if (auto ec = value.get_bool().get(stream)) return invalidJson(simdjson::error_message(ec));
        stream_ok = true;
      } else if (type == od::json_type::null) {
        stream = false;
        stream_ok = true;
      } else {
        stream_ok = false;
      }
    } else if (key == "service_tier" && type == od::json_type::string) {
      std::string_view tier;
      if (auto ec = value.get_string().get(tier)) return invalidJson(simdjson::error_message(ec));
      info.service_tier = support::priceVariant(tier);
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      support::readMaxOutputTokens("max_tokens", value, type, info.max_output_tokens);
    } else if (key == "stream_options") {
      include_usage = false;
      od::object options;
      if (type != od::json_type::object) continue;
      if (auto ec = value.get_object().get(options))
        return invalidJson(simdjson::error_message(ec));
      for (auto option_result : options) {
        od::field option;
        if (auto ec = std::move(option_result).get(option))
          return invalidJson(simdjson::error_message(ec));
        if (option.key() != "include_usage") continue;
        bool flag = false;
        include_usage = option.value().get_bool().get(flag) == simdjson::SUCCESS && flag;
      }
    } else if (key == "messages" && type == od::json_type::array) {
      od::array items;
      if (auto ec = value.get_array().get(items)) return invalidJson(simdjson::error_message(ec));
      for (auto item_result : items) {
        od::value item;
        if (auto ec = std::move(item_result).get(item))
          return invalidJson(simdjson::error_message(ec));
        ++messages;
        if (auto ec = addMessage(item, text_bytes)) return invalidJson(simdjson::error_message(ec));
      }
    } else if ((key == "prompt" && info.operation == "text_completion") ||
               (key == "input" && info.operation == "embeddings")) {
      if (auto ec = addStrings(value, text_bytes)) return invalidJson(simdjson::error_message(ec));
    }
  }
  if (!atDocumentEnd(doc)) return invalidJson("unexpected content after the object");

  switch (model_state) {
    case Model::kMissing:
      if (!model_required) break;
      return RequestError{400, "missing_model", "the request names no \"model\""};
    case Model::kNotString:
      return RequestError{400, "missing_model", "\"model\" must be a string"};
    case Model::kEmpty:
      return RequestError{400, "missing_model", "\"model\" must not be empty"};
    case Model::kGiven:
      break;
  }
  if (!stream_ok) return RequestError{400, "invalid_request", "\"stream\" must be a boolean"};

  info.model = std::move(model);
  info.stream = stream;
  info.client_asked_usage = include_usage;
  info.gateway_asked_usage = false;
  // Input estimate, used only when the provider never reports usage: about four UTF-8 bytes of
  // text per token, plus four tokens per chat message for the role and the framing tokens the
  // chat template wraps it in. Text parts only: images, audio and tool definitions are not
  // counted, so the estimate errs low.
  TokenEstimator estimator;
  estimator.addTextBytes(text_bytes);
  for (int64_t i = 0; i < messages; ++i) estimator.addMessage();
  info.estimated_input_tokens = estimator.tokens();
  return std::nullopt;
}

std::optional<std::string> OpenAiDialect::rewriteRequest(std::string_view body,
                                                         RequestInfo& info) const {
  if (!info.stream || info.client_asked_usage || info.operation == "responses") return std::nullopt;

  od::document doc;
  if (t_parser.iterate(t_input.load(body)).get(doc) != simdjson::SUCCESS) return std::nullopt;
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;

  // The edit, as a replacement of body[at, at + erase) by `insert`.
  size_t at = 0;
  size_t erase = 0;
  std::string_view insert;
  bool found_options = false;
  bool any_member = false;

  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return std::nullopt;
    any_member = true;
    if (field.key() != "stream_options") continue;
    found_options = true;  // a repeated key: the last one is the one servers use
    od::value value = field.value();
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return std::nullopt;
    const std::string_view token = value.raw_json_token();
    const size_t value_at = offsetOf(token.data());
    if (type == od::json_type::null) {
      at = value_at;
      erase = 4;
      insert = R"({"include_usage":true})";
      continue;
    }
    if (type != od::json_type::object) return std::nullopt;  // the upstream will refuse it
    od::object options;
    if (value.get_object().get(options) != simdjson::SUCCESS) return std::nullopt;
    bool has_option = false;
    bool has_include = false;
    for (auto option_result : options) {
      od::field option;
      if (std::move(option_result).get(option) != simdjson::SUCCESS) return std::nullopt;
      has_option = true;
      if (option.key() != "include_usage") continue;
      has_include = true;
      const std::string_view flag = option.value().raw_json_token();
      size_t len = flag.size();
      while (len > 0 && isJsonSpace(flag[len - 1])) --len;
      at = offsetOf(flag.data());
      erase = len;
      insert = "true";
    }
    if (!has_include) {
      at = value_at + 1;
      erase = 0;
      insert = has_option ? R"("include_usage":true,)" : R"("include_usage":true)";
    }
  }
  if (!atDocumentEnd(doc)) return std::nullopt;

  if (!found_options) {
    size_t brace = 0;
    while (brace < body.size() && body[brace] != '{') ++brace;
    if (brace == body.size()) return std::nullopt;
    at = brace + 1;
    erase = 0;
    insert = any_member ? R"("stream_options":{"include_usage":true},)"
                        : R"("stream_options":{"include_usage":true})";
  }

  std::string rewritten;
  rewritten.reserve(body.size() + insert.size());
  rewritten.append(body.substr(0, at));
  rewritten.append(insert);
  rewritten.append(body.substr(at + erase));
  info.gateway_asked_usage = true;
  return rewritten;
}

std::unique_ptr<ResponseMeter> OpenAiDialect::newResponseMeter(
    const RequestInfo& info, int status, std::string_view content_type) const {
  if (info.operation == "responses") return newResponsesMeter(info, status, content_type);
  if (status < 200 || status > 299) return std::make_unique<ErrorStatusMeter>();
  if (info.stream && isEventStream(content_type)) return std::make_unique<SseStreamMeter>(info);
  return std::make_unique<JsonBodyMeter>(info);
}

std::string OpenAiDialect::errorBody(int status, std::string_view code,
                                     std::string_view message) const {
  std::string_view type = "api_error";
  switch (status) {
    case 400:
    case 404:
    case 413:
      type = "invalid_request_error";
      break;
    case 401:
      type = "authentication_error";
      break;
    case 403:
      type = "permission_error";
      break;
    case 408:
    case 504:
      type = "timeout_error";
      break;
    case 429:
      type = "rate_limit_error";
      break;
    default:
      type = status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
  std::string out = R"({"error":{"message":)";
  appendJsonString(message, out);
  out += R"(,"type":)";
  appendJsonString(type, out);
  out += R"(,"param":null,"code":)";
  if (code.empty()) {
    out += "null";
  } else {
    appendJsonString(code, out);
  }
  out += "}}";
  return out;
}

}  // namespace tollgate::meter
