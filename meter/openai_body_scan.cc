#include "meter/openai_body_scan.h"

#include "meter/json_scanner.h"
#include "meter/openai_usage_conventions.h"

namespace tollgate::meter {

bool scanOpenAiUsage(JsonScanner& in, Usage& usage) {
  usage = Usage{};
  // OpenAI's own serialization, read in one go when the bytes between the counts are exactly
  // these (what the member by member reading below gives for them).
  const size_t start = in.offset();
  int64_t total = 0;
  int64_t audio_in = 0;
  int64_t audio_out = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  if (in.skip(R"({"prompt_tokens":)") && in.integer(usage.input_tokens) &&
      in.skip(R"(,"completion_tokens":)") && in.integer(usage.output_tokens) &&
      in.skip(R"(,"total_tokens":)") && in.integer(total) &&
      in.skip(R"(,"prompt_tokens_details":{"cached_tokens":)") &&
      in.integer(usage.cache_read_tokens) && in.skip(R"(,"audio_tokens":)") &&
      in.integer(audio_in) && in.skip(R"(},"completion_tokens_details":{"reasoning_tokens":)") &&
      in.integer(usage.reasoning_tokens) && in.skip(R"(,"audio_tokens":)") &&
      in.integer(audio_out) && in.skip(R"(,"accepted_prediction_tokens":)") &&
      in.integer(accepted) && in.skip(R"(,"rejected_prediction_tokens":)") &&
      in.integer(rejected) && in.skip("}}")) {
    usage[Unit::kAudioInputTokens] = audio_in;
    usage[Unit::kAudioOutputTokens] = audio_out;
    for (int64_t* n : {&usage.input_tokens, &usage.output_tokens, &usage.cache_read_tokens,
                       &usage.reasoning_tokens, &usage[Unit::kAudioInputTokens],
                       &usage[Unit::kAudioOutputTokens]}) {
      if (*n < 0 || *n > kMaxCallTokens) *n = kMalformedCount;
    }
    applyCompatibleConventions({.total_tokens = std::max<int64_t>(total, 0)}, usage);
    return true;
  }
  in.rewind(start);
  usage = Usage{};
  CompatibleUsageFields compatible;
  const bool read = in.forEachMember([&](std::string_view key) {
    if (key == "prompt_tokens") return in.count(usage.input_tokens);
    if (key == "completion_tokens") return in.count(usage.output_tokens);
    if (key == "total_tokens") return in.count(compatible.total_tokens);
    if (key == "prompt_cache_hit_tokens") return in.count(compatible.prompt_cache_hit_tokens);
    if ((key == "prompt_tokens_details" || key == "completion_tokens_details") &&
        in.peek() == '{') {
      const bool input_side = key == "prompt_tokens_details";
      return in.forEachMember([&](std::string_view detail) {
        if (detail == "audio_tokens") {
          return in.count(usage[input_side ? Unit::kAudioInputTokens : Unit::kAudioOutputTokens]);
        }
        if (detail == "image_tokens") {
          return in.count(usage[input_side ? Unit::kImageInputTokens : Unit::kImageOutputTokens]);
        }
        if (input_side && detail == "cached_tokens") return in.count(usage.cache_read_tokens);
        if (input_side && detail == "cache_write_tokens") {
          return in.count(usage.cache_write_tokens);
        }
        if (!input_side && detail == "reasoning_tokens") return in.count(usage.reasoning_tokens);
        return in.skipValue();
      });
    }
    // Members the simdjson reader gives meaning to (a provider's cost, a count that looks
    // billable): it reads the chunk instead.
    if (key == "cost" || (looksBillable(key) && !isKnownCompatibleMember(key))) return false;
    return in.skipValue();
  });
  if (read) applyCompatibleConventions(compatible, usage);
  return read;
}

namespace {

bool scanChoice(JsonScanner& in, OpenAiBodyScan& scan) {
  return in.forEachMember([&](std::string_view key) {
    if (key == "finish_reason") {
      if (in.peek() != '"') return in.skipValue();
      std::string_view reason;
      if (scan.finish_count == OpenAiBodyScan::kMaxFinishReasons || !in.plainString(reason)) {
        return false;
      }
      scan.finish_reasons[scan.finish_count++] = reason;
      return true;
    }
    if (key == "delta" || key == "message") {
      if (in.peek() != '{') return in.skipValue();
      return in.forEachMember([&](std::string_view member) {
        return member == "content" ? in.addStringBytes(scan.content_bytes) : in.skipValue();
      });
    }
    if (key == "text") return in.addStringBytes(scan.content_bytes);  // legacy /v1/completions
    return in.skipValue();
  });
}

}  // namespace

bool scanOpenAiBody(std::string_view json, bool want_id, bool want_model, OpenAiBodyScan& scan) {
  JsonScanner in(json);
  const bool read = in.forEachMember([&](std::string_view key) {
    if (key == "choices") {
      if (in.peek() != '[') return in.skipValue();
      return in.forEachElement([&] { return in.peek() == '{' && scanChoice(in, scan); });
    }
    if (key == "usage") {
      if (in.peek() != '{') return in.skipValue();
      scan.usage_seen = true;
      return scanOpenAiUsage(in, scan.usage);
    }
    if (key == "id") {
      if (!want_id || !scan.id.empty() || in.peek() != '"') return in.skipValue();
      return in.plainString(scan.id);
    }
    if (key == "model") {
      if (!want_model || !scan.model.empty() || in.peek() != '"') return in.skipValue();
      return in.plainString(scan.model);
    }
    if (key == "service_tier") {
      if (in.peek() != '"') return in.skipValue();
      scan.tier_seen = true;
      return in.plainString(scan.tier);
    }
    return key != "error" && key != "timings" && key != "x_groq" && in.skipValue();
  });
  return read && in.complete();
}

}  // namespace tollgate::meter
