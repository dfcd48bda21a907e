#include "loadtest/mock/behaviour.h"

#include <algorithm>
#include <charconv>

namespace tollgate::loadtest {
namespace {

// Bounds keep a typo from asking the mock for gigabytes of text or hour-long sleeps.
constexpr int64_t kMaxTokens = 100'000'000;
constexpr int64_t kMaxCompletionTokens = 10'000'000;
constexpr int64_t kMaxChunks = 100'000;
constexpr int64_t kMaxDelayMs = 600'000;
constexpr int64_t kMaxExtraBytes = 1 << 20;
constexpr int64_t kMaxLineBytes = int64_t{1} << 36;
constexpr size_t kMaxInterim = 8;

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

std::optional<std::string> setFlag(bool& target, std::string_view name, std::string_view value) {
  if (value != "0" && value != "1") {
    return "mock: " + std::string(name) + " must be 0 or 1, got '" + std::string(value) + "'";
  }
  target = value == "1";
  return std::nullopt;
}

// "100,103": informational statuses to send before the answer (101 is a final answer here).
std::optional<std::string> setInterim(std::vector<int>& target, std::string_view value) {
  std::vector<int> codes;
  size_t start = 0;
  while (start <= value.size() && !value.empty()) {
    const size_t end = std::min(value.find(',', start), value.size());
    const auto code = parseInt(value.substr(start, end - start), 100, 199);
    if (!code || *code == 101 || codes.size() == kMaxInterim) {
      return "mock: interim must be up to 8 comma-separated statuses in [100, 199] except 101, "
             "got '" +
             std::string(value) + "'";
    }
    codes.push_back(static_cast<int>(*code));
    start = end + 1;
  }
  target = std::move(codes);
  return std::nullopt;
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
  if (name == "status") {
    // 101 is the only 1xx that is a final answer (an Upgrade); others go through `interim`.
    if (value == "101") {
      b.status = 101;
      return std::nullopt;
    }
    return setInt(b.status, name, value, 200, 599);
  }
  if (name == "cut-after") return setInt(b.cut_after, name, value, -1, kMaxChunks);
  if (name == "error-mid-stream") return setInt(b.error_mid_stream, name, value, -1, kMaxChunks);
  if (name == "stall") return setFlag(b.stall, name, value);
  if (name == "usage") return setFlag(b.usage, name, value);
  if (name == "encoding") {
    if (value == "auto") {
      b.encoding_auto = true;
      return std::nullopt;
    }
    const auto encoding = parseEncoding(value);
    if (!encoding) {
      return "mock: encoding must be auto, identity, gzip, br or zstd, got '" + std::string(value) +
             "'";
    }
    b.encoding_auto = false;
    b.encoding = *encoding;
    return std::nullopt;
  }
  if (name == "interim") return setInterim(b.interim, value);
  if (name == "trailers") return setFlag(b.trailers, name, value);
  if (name == "framing") {
    if (value == "auto") {
      b.framing = Framing::kAuto;
    } else if (value == "chunked") {
      b.framing = Framing::kChunked;
    } else if (value == "close") {
      b.framing = Framing::kClose;
    } else {
      return "mock: framing must be auto, chunked or close, got '" + std::string(value) + "'";
    }
    return std::nullopt;
  }
  if (name == "close-after-answer") return setFlag(b.close_after_answer, name, value);
  if (name == "reset-after") return setInt(b.reset_after, name, value, -1, kMaxChunks);
  if (name == "drip-ms") return setInt(b.drip_ms, name, value, 0, kMaxDelayMs);
  if (name == "extra-bytes") return setInt(b.extra_bytes, name, value, 0, kMaxExtraBytes);
  if (name == "204-with-body") return setFlag(b.no_content_with_body, name, value);
  if (name == "line-bytes") return setInt(b.line_bytes, name, value, 0, kMaxLineBytes);
  if (name == "endless-line") return setFlag(b.endless_line, name, value);
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
  if (b.cut_after >= 0 && b.reset_after >= 0) {
    return "mock: cut-after (FIN) and reset-after (RST) exclude each other";
  }
  if (b.trailers && b.framing == Framing::kClose) {
    return "mock: trailers need a chunked answer, not framing close";
  }
  if (b.line_bytes > 0 && b.endless_line) {
    return "mock: line-bytes and endless-line exclude each other";
  }
  if (b.no_content_with_body && b.status != 200) {
    return "mock: 204-with-body replaces a 200 answer; it excludes status";
  }
  return std::nullopt;
}

std::string_view knobNames() {
  return "prompt-tokens completion-tokens cached-tokens cache-write-tokens reasoning-tokens "
         "chunks ttft-ms chunk-delay-ms status cut-after stall error-mid-stream response-model "
         "usage id encoding interim trailers framing close-after-answer reset-after drip-ms "
         "extra-bytes 204-with-body line-bytes endless-line";
}

}  // namespace tollgate::loadtest
