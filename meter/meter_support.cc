#include "meter/meter_support.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "meter/text_moves.h"

namespace tollgate::meter::support {
namespace {

// A non-2xx body is small; a successful one is read when complete and may be large (past
// BodyWindow::kMaxWhole only its head and tail are kept).
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr UsageMember kUsageAtEnd[] = {{"usage"}};
// Content parts nest (tool results hold content arrays); deeper nesting is not text worth it.
constexpr int kMaxContentDepth = 4;

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

 private:
  std::string buf_;
};

thread_local od::parser t_parser;
thread_local PaddedInput t_input;
thread_local bool t_pre_filter = true;
// The last iterate() on this thread refused its document for invalid UTF-8 (cleared by
// takeUtf8Refusal): how the relay learns, at no cost per event, that a reader lost an event to
// a broken byte.
thread_local bool t_utf8_refused = false;

// `text` with every byte above 0x7F replaced by '?': valid UTF-8 for simdjson, same length.
std::string withoutHighBytes(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return out;
}

bool startsWithMediaType(std::string_view content_type, std::string_view type) {
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  if (content_type.size() < type.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    char c = content_type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != type[i]) return false;
  }
  if (content_type.size() == type.size()) return true;
  const char next = content_type[type.size()];
  return next == ';' || next == ' ' || next == '\t';
}

simdjson::error_code addContent(od::value v, TokenEstimator& estimator, int depth) {
  od::json_type type;
  if (auto ec = v.type().get(type)) return ec;
  if (type == od::json_type::string) {
    std::string_view s;
    if (auto ec = v.get_string().get(s)) return ec;
    estimator.addText(s);
    return simdjson::SUCCESS;
  }
  if (depth >= kMaxContentDepth) return simdjson::SUCCESS;
  if (type == od::json_type::array) {
    od::array items;
    if (auto ec = v.get_array().get(items)) return ec;
    for (auto item_result : items) {
      od::value item;
      if (auto ec = std::move(item_result).get(item)) return ec;
      if (auto ec = addContent(item, estimator, depth + 1)) return ec;
    }
  } else if (type == od::json_type::object) {
    od::object obj;
    if (auto ec = v.get_object().get(obj)) return ec;
    for (auto field_result : obj) {
      od::field field;
      if (auto ec = std::move(field_result).get(field)) return ec;
      const auto key = field.key();
      if (key == "text" || key == "content") {
        if (auto ec = addContent(field.value(), estimator, depth + 1)) return ec;
      }
    }
  }
  return simdjson::SUCCESS;
}

class PassThroughMeter final : public ResponseMeter {
 public:
  PassThroughMeter(const ObjectReader& reader, const RequestInfo& info, BodyFraming framing)
      : reader_(reader), request_estimate_(info.estimated_input_tokens), framing_(framing) {
    if (framing_ == BodyFraming::kErrorBody) state_.result.upstream_error = true;
  }

  std::string_view onBody(std::string_view chunk) override {
    if (ended_) return {};
    switch (framing_) {
      case BodyFraming::kErrorBody:
        if (body_.size() < kMaxErrorBody)
          body_.append(chunk.substr(0, kMaxErrorBody - body_.size()));
        break;
      case BodyFraming::kJson:
        window_.append(chunk);
        break;
      case BodyFraming::kSse:
        sse_.feed(chunk, [this](const SseEvent& ev) { onEvent(ev.event, ev.data); });
        break;
      case BodyFraming::kNdjson:
        ndjson_.feed(chunk, [this](std::string_view line) { onEvent({}, line); });
        break;
      case BodyFraming::kJsonArray:
        array_.feed(chunk, [this](std::string_view obj) { onEvent({}, obj); });
        break;
    }
    return chunk;
  }

  std::string_view onEnd(bool complete) override {
    if (ended_) return {};
    ended_ = true;
    switch (framing_) {
      case BodyFraming::kErrorBody:
        reader_.readErrorBody(body_, state_);
        std::string().swap(body_);
        return {};
      case BodyFraming::kJson:
        if (!window_.whole()) {
          // Too large to keep: the usage is read from the head and tail kept, else estimated
          // (from the request; the generated text was not kept).
          state_.result.usage_flags |= kUsageBodyWindowed;
          if (complete) readUsageMembers(reader_, window_.head(), window_.tail(), state_);
        } else if (complete) {
          takeUtf8Refusal();
          reader_.readBody(window_.text(), state_);
          if (takeUtf8Refusal()) [[unlikely]]
            reader_.readBody(withoutHighBytes(window_.text()), state_);
        } else {
          // A body cut short is not a JSON document: only its generated text is read, for the
          // estimate below.
          readCutBody(window_.text(), reader_.bodyTextPaths(), state_);
        }
        window_.release();
        break;
      case BodyFraming::kSse:
        // An event without its blank line is discarded, by the client's parser too.
        if (complete) sse_.finish([this](const SseEvent& ev) { onEvent(ev.event, ev.data); });
        if (sse_.oversizedEvents() > 0) state_.result.usage_flags |= kUsageEventOversized;
        break;
      case BodyFraming::kNdjson:
        ndjson_.finish([this](std::string_view line) { onEvent({}, line); });
        break;
      case BodyFraming::kJsonArray:
        break;
    }
    reader_.onEnd(complete, state_);
    settle(state_, request_estimate_);
    return {};
  }

  MeterResult result() const override { return state_.result; }
  void takeResult(MeterResult& into) override { moveResult(state_.result, into); }

  MeterProgress progress() const override { return support::progressOf(state_); }

  size_t retainedBytes() const override {
    return body_.capacity() + window_.retainedBytes() + sse_.retainedBytes() +
           ndjson_.retainedBytes() + array_.retainedBytes();
  }

 private:
  void onEvent(std::string_view event, std::string_view data) {
    if (data.empty()) return;
    takeUtf8Refusal();
    reader_.readObject(event, data, state_);
    // simdjson refuses a document with invalid UTF-8 anywhere (a provider's broken byte in some
    // text): it is read again with every byte above 0x7F replaced (only string contents hold
    // such bytes, and their lengths stay the same), by the same reader, so that its structure,
    // member order and validity are judged exactly as for any other document.
    if (takeUtf8Refusal()) [[unlikely]]
      reader_.readObject(event, withoutHighBytes(data), state_);
  }

  const ObjectReader& reader_;
  int64_t request_estimate_;  // RequestInfo::estimated_input_tokens: all a meter needs of it
  BodyFraming framing_;
  MeterState state_;
  std::string body_;   // an error body
  BodyWindow window_;  // a successful JSON body
  bool ended_ = false;
  SseFramer sse_;
  NdjsonFramer ndjson_;
  JsonArrayFramer array_;
};

RequestError invalidJson(std::string_view why) {
  return RequestError{400, "invalid_json", "request body is not valid JSON: " + std::string(why)};
}

}  // namespace

std::optional<RequestError> readRequestObject(std::string_view body, const MemberFn& on_member) {
  od::document doc;
  if (auto ec = iterate(body, doc)) return invalidJson(simdjson::error_message(ec));
  od::object obj;
  if (auto ec = doc.get_object().get(obj)) {
    return invalidJson(ec == simdjson::INCORRECT_TYPE ? "expected an object"
                                                      : simdjson::error_message(ec));
  }
  for (auto field_result : obj) {
    od::field field;
    if (auto ec = std::move(field_result).get(field))
      return invalidJson(simdjson::error_message(ec));
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return invalidJson(simdjson::error_message(ec));
    // The key's storage is the parser's string buffer, overwritten by later strings: copy it.
    const std::string key_copy(key);
    od::value value = field.value();
    od::json_type type;
    if (auto ec = value.type().get(type)) return invalidJson(simdjson::error_message(ec));
    if (auto ec = on_member(key_copy, value, type)) return invalidJson(simdjson::error_message(ec));
  }
  const char* at = nullptr;
  if (doc.current_location().get(at) == simdjson::SUCCESS) {
    return invalidJson("unexpected content after the object");
  }
  return std::nullopt;
}

bool CommonRequestFields::read(std::string_view key, od::value value, od::json_type type,
                               simdjson::error_code& ec) {
  ec = simdjson::SUCCESS;
  if (key == "model") {
    if (type != od::json_type::string) {
      model_state_ = Model::kNotString;
      return true;
    }
    std::string_view s;
    if ((ec = value.get_string().get(s))) return true;
    model.assign(s);
    model_state_ = s.empty() ? Model::kEmpty : Model::kGiven;
    return true;
  }
  if (key == "stream") {
    // null is what an omitted optional looks like when serialized: the default then applies.
    if (type == od::json_type::boolean) {
      ec = value.get_bool().get(stream);
      stream_given = true;
      stream_ok_ = true;
    } else if (type == od::json_type::null) {
      stream_given = false;
      stream_ok_ = true;
    } else {
      stream_ok_ = false;
    }
    return true;
  }
  if (readMaxOutputTokens(key, value, type, max_output_tokens)) return true;
  return false;
}

bool readMaxOutputTokens(std::string_view key, od::value value, od::json_type type,
                         std::optional<int64_t>& max_output_tokens) {
  if (key != "max_tokens" && key != "max_completion_tokens" && key != "max_output_tokens") {
    return false;
  }
  // Anything but a plain count leaves the cap unknown: the upstream judges the request.
  uint64_t count = 0;
  if (type == od::json_type::number && value.get_uint64().get(count) == simdjson::SUCCESS &&
      count <= static_cast<uint64_t>(kMaxCallTokens)) {
    max_output_tokens = static_cast<int64_t>(count);
  }
  return true;
}

simdjson::error_code readNestedOutputCap(od::value object,
                                         std::initializer_list<std::string_view> keys,
                                         std::optional<int64_t>& max_output_tokens) {
  od::object members;
  if (auto e = object.get_object().get(members)) return e;
  for (auto member_result : members) {
    od::field member;
    if (auto e = std::move(member_result).get(member)) return e;
    std::string_view key;
    if (auto e = member.unescaped_key().get(key)) return e;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    od::value value = member.value();
    od::json_type type;
    if (auto e = value.type().get(type)) return e;
    // The names differ between dialects; the rule for a usable count is the same.
    readMaxOutputTokens("max_output_tokens", value, type, max_output_tokens);
  }
  return simdjson::SUCCESS;
}

std::optional<RequestError> CommonRequestFields::check(bool model_required) const {
  if (model_required) {
    switch (model_state_) {
      case Model::kMissing:
        return RequestError{400, "missing_model", "the request names no \"model\""};
      case Model::kNotString:
        return RequestError{400, "missing_model", "\"model\" must be a string"};
      case Model::kEmpty:
        return RequestError{400, "missing_model", "\"model\" must not be empty"};
      case Model::kGiven:
        break;
    }
  }
  if (!stream_ok_) return RequestError{400, "invalid_request", "\"stream\" must be a boolean"};
  return std::nullopt;
}

RequestError unknownEndpoint(std::string_view dialect, std::string_view path) {
  return RequestError{
      404, "unknown_endpoint",
      "the " + std::string(dialect) + " dialect does not serve " + std::string(path)};
}

simdjson::error_code iterate(std::string_view json, od::document& doc) {
  const simdjson::error_code ec = t_parser.iterate(t_input.load(json)).get(doc);
  if (ec == simdjson::UTF8_ERROR) [[unlikely]]
    t_utf8_refused = true;
  return ec;
}

bool takeUtf8Refusal() { return std::exchange(t_utf8_refused, false); }

int64_t readCount(od::value v) {
  int64_t n = 0;
  if (v.get_int64().get(n) != simdjson::SUCCESS || n < 0 || n > kMaxCallTokens) {
    return kMalformedCount;
  }
  return n;
}

void noteUnknownUnit(od::field& field, Usage& usage) {
  // The key as written, up to its closing quote (a key with escapes is no name a provider
  // gives a count, and reads as whatever precedes its first backslash).
  const char* begin = field.key().raw();
  const char* end = begin;
  while (*end != '"' && *end != '\\') ++end;
  if (!looksBillable(std::string_view(begin, static_cast<size_t>(end - begin)))) return;
  od::value v = field.value();
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS || type != od::json_type::number) return;
  double value = 0;
  if (v.get_double().get(value) != simdjson::SUCCESS || value == 0) return;
  usage.unknown_units = addCounts(usage.unknown_units, 1);
}

std::optional<Money> readUsd(od::value v) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS || type != od::json_type::number) return {};
  std::string_view token = v.raw_json_token();
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t')) {
    token.remove_suffix(1);
  }
  if (token.starts_with('-')) return {};
  return Money::parseUsd(token);
}

bool readString(od::value v, std::string_view& out) {
  return v.get_string().get(out) == simdjson::SUCCESS;
}

int64_t stringBytes(od::value v) {
  std::string_view s;
  return readString(v, s) ? static_cast<int64_t>(s.size()) : 0;
}

int64_t jsonBytes(od::value v) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return 0;
  std::string_view raw;
  if (type == od::json_type::object) {
    od::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS || obj.raw_json().get(raw)) return 0;
  } else if (type == od::json_type::array) {
    od::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS || arr.raw_json().get(raw)) return 0;
  } else {
    raw = v.raw_json_token();
  }
  return static_cast<int64_t>(raw.size());
}

bool isEventStream(std::string_view content_type) {
  return startsWithMediaType(content_type, "text/event-stream");
}

bool isNdjson(std::string_view content_type) {
  return startsWithMediaType(content_type, "application/x-ndjson") ||
         startsWithMediaType(content_type, "application/ndjson") ||
         startsWithMediaType(content_type, "application/jsonl");
}

simdjson::error_code addMessagesText(od::value messages, TokenEstimator& estimator,
                                     bool with_output) {
  od::array items;
  if (auto e = messages.get_array().get(items)) return e;
  for (auto item_result : items) {
    od::value item;
    if (auto e = std::move(item_result).get(item)) return e;
    estimator.addMessage();
    od::object obj;
    if (item.get_object().get(obj) != simdjson::SUCCESS) continue;
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      const auto member = field.key();
      if (member == "content" || (with_output && member == "output")) {
        if (auto e = addContentText(field.value(), estimator)) return e;
      }
    }
  }
  return simdjson::SUCCESS;
}

simdjson::error_code addContentText(od::value content, TokenEstimator& estimator) {
  return addContent(content, estimator, 0);
}

std::string priceVariant(std::string_view tier) {
  if (tier == "batch" || tier == "priority" || tier == "flex") return std::string(tier);
  return {};
}

bool preFilterEnabled() { return t_pre_filter; }
void setPreFilterEnabled(bool on) { t_pre_filter = on; }

void readCutBody(std::string_view body, std::span<const TextPath> paths, MeterState& state) {
  state.content_bytes = visibleTextBytes(body, paths).value_or(static_cast<int64_t>(body.size()));
}

std::span<const UsageMember> ObjectReader::usageMembers() const { return kUsageAtEnd; }

bool readUsageMembers(const ObjectReader& reader, std::string_view head, std::string_view tail,
                      MeterState& state) {
  // Only a JSON object has members to recover: a body that is not one (an SSE stream read under
  // a JSON content type, say) is not searched for usage-shaped text, whose first or last match
  // would depend on where each object put its members.
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || head[first] != '{') return false;
  const std::string doc = BodyWindow::usageDocument(head, tail, reader.usageMembers());
  if (doc.empty()) return false;
  reader.readBody(doc, state);
  return true;
}

MeterProgress progressOf(const MeterState& state) {
  MeterProgress progress;
  progress.provider_so_far = state.result.usage;
  progress.input_known = state.input_known || state.final_usage;
  progress.output_bytes = state.content_bytes;
  return progress;
}

void settle(MeterState& state, int64_t request_estimate) {
  MeterResult& result = state.result;
  if (!withinBounds(result.usage)) {
    // A count was malformed or absurd: nothing the provider reported is trusted, not even the
    // counts that look right (a server that sends nonsense in one may send it in all).
    result.usage_flags |= kUsageCountRefused;
    result.usage = Usage{};
    state.final_usage = false;
    state.input_known = false;
  }
  if (state.final_usage) {
    result.usage_source = UsageSource::kProvider;
    return;
  }
  result.usage = estimateUnfinishedUsage(result.usage, state.input_known, request_estimate,
                                         state.content_bytes);
  result.usage_source = UsageSource::kEstimated;
}

std::unique_ptr<ResponseMeter> newPassThroughMeter(const ObjectReader& reader,
                                                   const RequestInfo& info, BodyFraming framing) {
  return std::make_unique<PassThroughMeter>(reader, info, framing);
}

void moveResult(MeterResult& from, MeterResult& into) {
  static_assert(sizeof(MeterResult) == sizeof(Usage) + 8 + 4 * sizeof(std::string) +
                                           2 * sizeof(std::vector<int>) +
                                           sizeof(std::optional<Money>) + 8,
                "moveResult moves every member of MeterResult: add the new one");
  into.usage = from.usage;
  into.usage_source = from.usage_source;
  into.usage_flags = from.usage_flags;
  moveText(into.response_model, from.response_model);
  moveText(into.response_id, from.response_id);
  into.finish_reasons = std::move(from.finish_reasons);
  into.upstream_error = from.upstream_error;
  moveText(into.error_type, from.error_type);
  moveText(into.service_tier, from.service_tier);
  into.other_models = std::move(from.other_models);
  into.provider_cost = from.provider_cost;
}

}  // namespace tollgate::meter::support
