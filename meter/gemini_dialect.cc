#include "meter/gemini_dialect.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

#include "meter/json_escape.h"
#include "meter/json_scanner.h"
#include "meter/meter_support.h"
#include "meter/vertex_path.h"

namespace tollgate::meter {
namespace {

using namespace support;

constexpr std::array<std::string_view, 3> kPrefixes = {"/v1beta/models/", "/v1/models/",
                                                       "/v1alpha/models/"};

// usageMetadata's counts as Gemini words them (proto3 JSON omits zero counts, so an absent
// member is 0).
struct GeminiCounts {
  int64_t prompt = 0, candidates = 0, thoughts = 0, tool_prompt = 0, cached = 0;
  // The AUDIO and IMAGE entries of promptTokensDetails / candidatesTokensDetails.
  UnitCounts modal{};
  int64_t unknown = 0;  // members that look billable and that this reader does not know
  bool prompt_seen = false;
};

bool isKnownUsageMember(std::string_view key) {
  return key == "promptTokenCount" || key == "candidatesTokenCount" ||
         key == "thoughtsTokenCount" || key == "toolUsePromptTokenCount" ||
         key == "cachedContentTokenCount" || key == "totalTokenCount";
}

// The line item of a modality entry of a *TokensDetails list, when it has one of its own (TEXT,
// VIDEO and DOCUMENT tokens are priced as text).
std::optional<Unit> modalUnit(std::string_view modality, bool input_side) {
  if (modality == "AUDIO") return input_side ? Unit::kAudioInputTokens : Unit::kAudioOutputTokens;
  if (modality == "IMAGE") return input_side ? Unit::kImageInputTokens : Unit::kImageOutputTokens;
  return std::nullopt;
}

// The canonical usage of usageMetadata's counts. Sums saturate and a malformed cached count
// stays malformed (not hidden by the minimum), so that nonsense is refused when settled.
Usage fromCounts(const GeminiCounts& c) {
  Usage usage;
  usage.input_tokens = addCounts(c.prompt, c.tool_prompt);
  usage.cache_read_tokens =
      c.cached == kMalformedCount ? c.cached : std::min(c.cached, usage.input_tokens);
  usage.output_tokens = addCounts(c.candidates, c.thoughts);
  usage.reasoning_tokens = c.thoughts;
  usage.units = c.modal;
  usage.unknown_units = c.unknown;
  return usage;
}

// One entry of a *TokensDetails list: {"modality":"AUDIO","tokenCount":N}, in any order.
bool readModality(od::value v, bool input_side, GeminiCounts& counts) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return true;
  std::string modality;
  int64_t tokens = 0;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    std::string_view text;
    if (field.key() == "modality") {
      if (readString(field.value(), text)) modality = text;
    } else if (field.key() == "tokenCount") {
      tokens = readCount(field.value());
    }
  }
  if (auto unit = modalUnit(modality, input_side)) {
    counts.modal[index(*unit)] = addCounts(counts.modal[index(*unit)], tokens);
  }
  return true;
}

bool readModalities(od::value v, bool input_side, GeminiCounts& counts) {
  od::array entries;
  if (v.get_array().get(entries) != simdjson::SUCCESS) return true;
  for (auto entry_result : entries) {
    od::value entry;
    if (std::move(entry_result).get(entry) != simdjson::SUCCESS ||
        !readModality(entry, input_side, counts)) {
      return false;
    }
  }
  return true;
}

// usageMetadata as a whole.
bool readUsage(od::value v, Usage& usage, bool& prompt_seen) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return false;
  GeminiCounts c;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
    const auto key = field.key();
    if (key == "promptTokenCount") {
      c.prompt = readCount(field.value());
      c.prompt_seen = true;
    } else if (key == "candidatesTokenCount") {
      c.candidates = readCount(field.value());
    } else if (key == "thoughtsTokenCount") {
      c.thoughts = readCount(field.value());
    } else if (key == "toolUsePromptTokenCount") {
      c.tool_prompt = readCount(field.value());
    } else if (key == "cachedContentTokenCount") {
      c.cached = readCount(field.value());
    } else if (key == "promptTokensDetails") {
      if (!readModalities(field.value(), true, c)) return false;
    } else if (key == "candidatesTokensDetails") {
      if (!readModalities(field.value(), false, c)) return false;
    } else if (key != "totalTokenCount") {
      Usage unknown;
      noteUnknownUnit(field, unknown);
      c.unknown = addCounts(c.unknown, unknown.unknown_units);
    }
  }
  prompt_seen = c.prompt_seen;
  usage = fromCounts(c);
  return true;
}

std::string readErrorStatus(od::value v) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return {};
  std::string status;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) break;
    if (field.key() == "status") {
      std::string_view s;
      if (readString(field.value(), s)) status = s;
    }
  }
  return status;
}

// A chunk's usageMetadata replaces the usage read so far, but not the grounding that an earlier
// candidate reported.
void keepGrounding(const Usage& before, Usage& after) {
  after[Unit::kGroundingRequests] = before[Unit::kGroundingRequests];
}

// What a chunk read from its raw bytes teaches; applied only once the whole chunk was read.
struct ScannedChunk {
  int64_t text_bytes = 0;
  bool has_usage = false;
  bool prompt_seen = false;
  Usage usage;
  std::string_view model;
  std::string_view id;
};

// A string to read when the result has none yet (first one wins, as in Reader): false on
// anything but a string without escapes.
bool scanFirstString(JsonScanner& in, bool wanted, std::string_view& out) {
  if (!wanted || !out.empty()) return in.skipValue();
  return in.plainString(out);
}

bool scanUsage(JsonScanner& in, ScannedChunk& chunk) {
  GeminiCounts c;
  const bool ok = in.forEachMember([&](std::string_view key) {
    if (key == "promptTokenCount") {
      c.prompt_seen = true;
      return in.count(c.prompt);
    }
    if (key == "candidatesTokenCount") return in.count(c.candidates);
    if (key == "thoughtsTokenCount") return in.count(c.thoughts);
    if (key == "toolUsePromptTokenCount") return in.count(c.tool_prompt);
    if (key == "cachedContentTokenCount") return in.count(c.cached);
    if (key == "promptTokensDetails" || key == "candidatesTokensDetails") {
      const bool input_side = key == "promptTokensDetails";
      if (in.peek() != '[') return in.skipValue();
      return in.forEachElement([&] {
        if (in.peek() != '{') return in.skipValue();
        std::string_view modality;
        int64_t tokens = 0;
        const bool read = in.forEachMember([&](std::string_view member) {
          if (member == "modality" && in.peek() == '"') return in.plainString(modality);
          if (member == "tokenCount") return in.count(tokens);
          return in.skipValue();
        });
        if (auto unit = modalUnit(modality, input_side)) {
          c.modal[index(*unit)] = addCounts(c.modal[index(*unit)], tokens);
        }
        return read;
      });
    }
    // A count this reader does not know is the simdjson reader's to note.
    return (isKnownUsageMember(key) || !looksBillable(key)) && in.skipValue();
  });
  if (!ok) return false;
  chunk.usage = fromCounts(c);
  chunk.has_usage = true;
  chunk.prompt_seen = chunk.prompt_seen || c.prompt_seen;
  return true;
}

// A part: only text (a function call, or anything else, goes to simdjson).
bool scanPart(JsonScanner& in, ScannedChunk& chunk) {
  return in.forEachMember([&](std::string_view key) {
    if (key != "text") return key != "functionCall" && in.skipValue();
    int64_t n = 0;
    if (!in.string(n)) return false;
    chunk.text_bytes += n;
    return true;
  });
}

bool scanCandidate(JsonScanner& in, ScannedChunk& chunk) {
  return in.forEachMember([&](std::string_view key) {
    // The last chunk names its finishReason (simdjson reads that one); null is the same as none.
    if (key == "finishReason") return in.null();
    if (key == "groundingMetadata") return false;  // a grounded prompt: simdjson counts it
    if (key != "content") return in.skipValue();
    return in.forEachMember([&](std::string_view member) {
      if (member != "parts") return in.skipValue();
      return in.forEachElement([&] { return scanPart(in, chunk); });
    });
  });
}

// Gemini's chunks all carry a usageMetadata, and most carry nothing else but text: they are
// read from the raw bytes. False, with nothing changed, on anything else (a finish reason,
// errors, prompt feedback, function calls, anything unexpected): simdjson then reads the chunk.
bool scanChunk(std::string_view json, MeterState& state) {
  JsonScanner in(json);
  ScannedChunk chunk;
  const bool want_model = state.result.response_model.empty();
  const bool want_id = state.result.response_id.empty();
  const bool ok = in.forEachMember([&](std::string_view key) {
    if (key == "candidates") return in.forEachElement([&] { return scanCandidate(in, chunk); });
    if (key == "usageMetadata") return scanUsage(in, chunk);
    if (key == "modelVersion") return scanFirstString(in, want_model, chunk.model);
    if (key == "responseId") return scanFirstString(in, want_id, chunk.id);
    if (key == "error" || key == "promptFeedback") return false;
    return in.skipValue();
  });
  if (!ok) return false;
  if (!in.complete()) return false;
  state.content_bytes += chunk.text_bytes;
  if (chunk.has_usage) {
    keepGrounding(state.result.usage, chunk.usage);
    state.result.usage = chunk.usage;
    state.input_known = state.input_known || chunk.prompt_seen;
  }
  if (!chunk.model.empty()) state.result.response_model = chunk.model;
  if (!chunk.id.empty()) state.result.response_id = chunk.id;
  state.usage_in_last = chunk.has_usage;
  if (chunk.has_usage && state.finish_seen) state.final_usage = true;
  return true;
}

constexpr TextPath kBodyText[] = {{"candidates/*/content/parts/*/text"},
                                  {"candidates/*/content/parts/*/functionCall", true}};

class Reader final : public ObjectReader {
 public:
  void readObject(std::string_view, std::string_view json, MeterState& state) const override {
    if (preFilterEnabled() && scanChunk(json, state)) return;
    od::document doc;
    if (iterate(json, doc) != simdjson::SUCCESS) return;
    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return;
    bool has_usage = false;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
      const auto key = field.key();
      od::value value = field.value();
      if (key == "candidates") {
        if (!readCandidates(value, state)) return;
      } else if (key == "usageMetadata") {
        Usage usage;
        bool prompt_seen = false;
        if (!readUsage(value, usage, prompt_seen)) return;
        keepGrounding(state.result.usage, usage);
        state.result.usage = usage;
        state.input_known = state.input_known || prompt_seen;
        has_usage = true;
      } else if (key == "modelVersion") {
        std::string_view model;
        if (state.result.response_model.empty() && readString(value, model)) {
          state.result.response_model = model;
        }
      } else if (key == "responseId") {
        std::string_view id;
        if (state.result.response_id.empty() && readString(value, id))
          state.result.response_id = id;
      } else if (key == "error") {
        state.result.upstream_error = true;
        state.result.error_type = readErrorStatus(value);
      } else if (key == "promptFeedback") {
        readPromptFeedback(value, state);
      }
    }
    state.usage_in_last = has_usage;
    if (has_usage && state.finish_seen) state.final_usage = true;
  }

  void readErrorBody(std::string_view json, MeterState& state) const override {
    od::document doc;
    if (iterate(json, doc) != simdjson::SUCCESS) return;
    od::json_type type;
    if (doc.type().get(type) != simdjson::SUCCESS) return;
    od::value root;
    if (type == od::json_type::array) {
      // A failed streamGenerateContent wraps its error in the array.
      od::array items;
      if (doc.get_array().get(items) != simdjson::SUCCESS ||
          items.at(0).get(root) != simdjson::SUCCESS) {
        return;
      }
    } else if (doc.get_value().get(root) != simdjson::SUCCESS) {
      return;
    }
    od::value error;
    if (root.find_field_unordered("error").get(error) == simdjson::SUCCESS) {
      state.result.error_type = readErrorStatus(error);
    }
  }

  std::span<const TextPath> bodyTextPaths() const override { return kBodyText; }
  std::span<const UsageMember> usageMembers() const override {
    static constexpr UsageMember kMembers[] = {{"usageMetadata"}};
    return kMembers;
  }

  // A stream that ended properly with usage in its last chunk is complete even when that chunk
  // named no finish reason.
  void onEnd(bool complete, MeterState& state) const override {
    if (complete && state.usage_in_last && !state.result.upstream_error) state.final_usage = true;
  }

 private:
  static bool readCandidates(od::value v, MeterState& state) {
    od::array candidates;
    if (v.get_array().get(candidates) != simdjson::SUCCESS) return true;
    for (auto candidate_result : candidates) {
      od::value candidate;
      if (std::move(candidate_result).get(candidate) != simdjson::SUCCESS) return false;
      od::object obj;
      if (candidate.get_object().get(obj) != simdjson::SUCCESS) continue;
      for (auto field_result : obj) {
        od::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
        const auto key = field.key();
        if (key == "finishReason") {
          std::string_view reason;
          if (readString(field.value(), reason)) {
            state.result.finish_reasons.emplace_back(reason);
            state.finish_seen = true;
          }
        } else if (key == "content") {
          if (!readParts(field.value(), state)) return false;
        } else if (key == "groundingMetadata") {
          // Gemini bills grounding with Google Search per grounded prompt: one per call,
          // whichever chunks repeat the metadata.
          state.result.usage[Unit::kGroundingRequests] = 1;
        }
      }
    }
    return true;
  }

  static bool readParts(od::value content, MeterState& state) {
    od::object obj;
    if (content.get_object().get(obj) != simdjson::SUCCESS) return true;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
      if (field.key() != "parts") continue;
      od::array parts;
      if (field.value().get_array().get(parts) != simdjson::SUCCESS) continue;
      for (auto part_result : parts) {
        od::value part;
        if (std::move(part_result).get(part) != simdjson::SUCCESS) return false;
        od::object part_obj;
        if (part.get_object().get(part_obj) != simdjson::SUCCESS) continue;
        for (auto member_result : part_obj) {
          od::field member;
          if (std::move(member_result).get(member) != simdjson::SUCCESS) return false;
          const auto key = member.key();
          if (key == "text") {
            state.content_bytes += stringBytes(member.value());
          } else if (key == "functionCall") {
            state.content_bytes += jsonBytes(member.value());
          }
        }
      }
    }
    return true;
  }

  static void readPromptFeedback(od::value v, MeterState& state) {
    od::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) return;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return;
      if (field.key() != "blockReason") continue;
      std::string_view reason;
      if (readString(field.value(), reason)) {
        state.result.finish_reasons.emplace_back(reason);
        state.finish_seen = true;
      }
    }
  }
};

const Reader kReader;

// The text parts of a Content ({"role":...,"parts":[{"text":...},...]}).
simdjson::error_code addParts(od::value content, TokenEstimator& estimator) {
  od::object obj;
  if (content.get_object().get(obj) != simdjson::SUCCESS) return simdjson::SUCCESS;
  for (auto field_result : obj) {
    od::field field;
    if (auto ec = std::move(field_result).get(field)) return ec;
    if (field.key() != "parts") continue;
    if (auto ec = addContentText(field.value(), estimator)) return ec;
  }
  return simdjson::SUCCESS;
}

std::string_view grpcStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "UNIMPLEMENTED";
    case 408:
    case 504:
      return "DEADLINE_EXCEEDED";
    case 409:
      return "ABORTED";
    case 413:
      return "INVALID_ARGUMENT";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "UNIMPLEMENTED";
    case 502:
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 400 && status < 500 ? "FAILED_PRECONDITION" : "INTERNAL";
  }
}

// "{model}:generateContent" or "{model}:streamGenerateContent".
bool parseModelMethod(std::string_view rest, std::string_view& model, bool& stream) {
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view method = rest.substr(colon + 1);
  if (method == "generateContent") {
    stream = false;
  } else if (method == "streamGenerateContent") {
    stream = true;
  } else {
    return false;
  }
  model = rest.substr(0, colon);
  return model.find('/') == std::string_view::npos;
}

}  // namespace

bool GeminiDialect::parsePath(std::string_view path, std::string_view& model, bool& stream) {
  for (std::string_view prefix : kPrefixes) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    return parseModelMethod(path.substr(prefix.size()), model, stream);
  }
  const std::string_view vertex = vertexModelAndMethod(path, "google");
  return !vertex.empty() && parseModelMethod(vertex, model, stream);
}

std::optional<RequestError> GeminiDialect::inspectRequest(std::string_view path,
                                                          std::string_view body,
                                                          RequestInfo& info) const {
  std::string_view model;
  bool stream = false;
  if (!parsePath(path, model, stream)) return unknownEndpoint(name(), path);
  info.operation = "generate_content";
  TokenEstimator estimator;
  auto error = readRequestObject(
      body, [&](std::string_view key, od::value value, od::json_type type) -> simdjson::error_code {
        if (key == "contents" && type == od::json_type::array) {
          od::array contents;
          if (auto e = value.get_array().get(contents)) return e;
          for (auto content_result : contents) {
            od::value content;
            if (auto e = std::move(content_result).get(content)) return e;
            estimator.addMessage();
            if (auto e = addParts(content, estimator)) return e;
          }
        } else if ((key == "systemInstruction" || key == "system_instruction") &&
                   type == od::json_type::object) {
          return addParts(value, estimator);
        } else if ((key == "generationConfig" || key == "generation_config") &&
                   type == od::json_type::object) {
          // The API takes the proto's snake_case names as well.
          return readNestedOutputCap(value, {"maxOutputTokens", "max_output_tokens"},
                                     info.max_output_tokens);
        }
        return simdjson::SUCCESS;
      });
  if (error) return error;
  info.model = std::string(model);
  info.stream = stream;
  info.client_asked_usage = true;  // Gemini always reports usageMetadata
  info.gateway_asked_usage = false;
  info.estimated_input_tokens = estimator.tokens();
  return std::nullopt;
}

std::optional<std::string> GeminiDialect::rewriteRequest(std::string_view, RequestInfo&) const {
  return std::nullopt;
}

std::unique_ptr<ResponseMeter> GeminiDialect::newResponseMeter(
    const RequestInfo& info, int status, std::string_view content_type) const {
  BodyFraming framing = BodyFraming::kJson;
  if (status < 200 || status > 299) {
    framing = BodyFraming::kErrorBody;
  } else if (isEventStream(content_type)) {
    framing = BodyFraming::kSse;
  } else if (info.stream) {
    framing = BodyFraming::kJsonArray;
  }
  return newPassThroughMeter(kReader, info, framing);
}

std::string GeminiDialect::errorBody(int status, std::string_view code,
                                     std::string_view message) const {
  std::string out = R"({"error":{"code":)";
  out += std::to_string(status);
  out += R"(,"message":)";
  appendJsonString(message, out);
  out += R"(,"status":)";
  appendJsonString(grpcStatus(status), out);
  if (!code.empty()) {
    out += R"(,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":)";
    appendJsonString(code, out);
    out += R"(,"domain":"tollgate"}])";
  }
  out += "}}";
  return out;
}

}  // namespace tollgate::meter
