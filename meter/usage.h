#pragma once

#include <cstdint>
#include <string_view>

namespace tollgate::meter {

// Canonical token usage of one call (architecture.md, "Money and usage").
// input_tokens counts ALL input tokens: cache_read_tokens and cache_write_tokens are parts of
// it. output_tokens counts all output: reasoning_tokens is a part of it. Each dialect converts
// its own convention into this one; a part is never priced on top of its total.
struct Usage {
  int64_t input_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  // The part of cache_write_tokens written with a 1-hour lifetime (Anthropic's
  // ephemeral_1h_input_tokens), priced at cache_write_1h; the rest of the writes are 5-minute.
  int64_t cache_write_1h_tokens = 0;

  friend bool operator==(const Usage&, const Usage&) = default;
};

// Where the usage of an event came from.
enum class UsageSource {
  kNone,       // nothing known
  kProvider,   // reported by the upstream
  kEstimated,  // the usage never arrived (stream cut short): counted by the gateway
};

std::string_view toString(UsageSource source);

}  // namespace tollgate::meter
