#include "loadtest/mock/behaviour.h"

#include <charconv>

namespace tollgate::loadtest {
namespace {

// Bounds keep a typo from asking the mock for gigabytes of text or hour-long sleeps.
constexpr int64_t kMaxTokens = 100'000'000;
constexpr int64_t kMaxCompletionTokens = 10'000'000;
constexpr int64_t kMaxChunks = 100'000;
constexpr int64_t kMaxDelayMs = 600'000;

std::optional<int64_t> parseInt(std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc{} || result.ptr != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<std::string> setInt(int64_t& target, std::string_view name, std::string_view value,
                                  int64_t min, int64_t max) {
  const auto parsed = parseInt(value, min, max);
  if (!parsed) {
    return "mock: " + std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
           std::to_string(max) + "], got '" + std::string(value) + "'";
  }
  target = *parsed;
  return std::nullopt;
}

bool isIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

std::optional<std::string> setKnob(Behaviour& b, std::string_view name, std::string_view value) {
  if (name == "prompt-tokens") return setInt(b.prompt_tokens, name, value, 0, kMaxTokens);
  if (name == "completion-tokens") {
    return setInt(b.completion_tokens, name, value, 0, kMaxCompletionTokens);
  }
  if (name == "cached-tokens") return setInt(b.cached_tokens, name, value, 0, kMaxTokens);
  if (name == "cache-write-tokens") return setInt(b.cache_write_tokens, name, value, 0, kMaxTokens);
  if (name == "reasoning-tokens") return setInt(b.reasoning_tokens, name, value, 0, kMaxTokens);
  if (name == "chunks") return setInt(b.chunks, name, value, 0, kMaxChunks);
  if (name == "ttft-ms") return setInt(b.ttft_ms, name, value, 0, kMaxDelayMs);
  if (name == "chunk-delay-ms") return setInt(b.chunk_delay_ms, name, value, 0, kMaxDelayMs);
  if (name == "status") return setInt(b.status, name, value, 200, 599);
  if (name == "cut-after") return setInt(b.cut_after, name, value, -1, kMaxChunks);
  if (name == "error-mid-stream") return setInt(b.error_mid_stream, name, value, -1, kMaxChunks);
  if (name == "stall" || name == "usage") {
    if (value != "0" && value != "1") {
      return "mock: " + std::string(name) + " must be 0 or 1, got '" + std::string(value) + "'";
    }
    (name == "stall" ? b.stall : b.usage) = value == "1";
    return std::nullopt;
  }
  if (name == "response-model") {
    b.response_model = std::string(value);
    return std::nullopt;
  }
  if (name == "id") {
    if (value.empty() || value.size() > 64) return "mock: id must have 1 to 64 characters";
    for (char c : value) {
      if (!isIdChar(c)) return "mock: id may contain only [A-Za-z0-9._-]";
    }
    b.id = std::string(value);
    return std::nullopt;
  }
  return "mock: unknown knob '" + std::string(name) + "'";
}

std::optional<std::string> validate(const Behaviour& b) {
  if (b.cached_tokens + b.cache_write_tokens > b.prompt_tokens) {
    return "mock: cached-tokens + cache-write-tokens exceed prompt-tokens (prompt-tokens counts "
           "all input, cache included)";
  }
  if (b.reasoning_tokens > b.completion_tokens) {
    return "mock: reasoning-tokens exceed completion-tokens (completion-tokens counts all output)";
  }
  return std::nullopt;
}

std::string_view knobNames() {
  return "prompt-tokens completion-tokens cached-tokens cache-write-tokens reasoning-tokens "
         "chunks ttft-ms chunk-delay-ms status cut-after stall error-mid-stream response-model "
         "usage id";
}

}  // namespace tollgate::loadtest
