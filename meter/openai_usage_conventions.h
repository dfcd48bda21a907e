#pragma once

#include <cstdint>
#include <string_view>

#include "meter/usage.h"

namespace tollgate::meter {

// Members of an OpenAI-style "usage" object that only some OpenAI-compatible providers send,
// or that tell which convention a provider follows. -1: not reported.
struct CompatibleUsageFields {
  int64_t total_tokens = -1;             // "total_tokens"
  int64_t prompt_cache_hit_tokens = -1;  // DeepSeek
};

// Top-level usage members some OpenAI-compatible providers send that look billable but are no
// billed unit of their own (DeepSeek's prompt_cache_miss_tokens is the uncached part of
// prompt_tokens): not counted as unknown units.
bool isKnownCompatibleMember(std::string_view key);

// Brings a usage read the OpenAI way (input = prompt_tokens, output = completion_tokens, cached
// and reasoning as parts of them) to the canonical one when the provider's convention differs:
// - DeepSeek reports its cache reads as prompt_cache_hit_tokens (prompt_tokens =
//   prompt_cache_hit_tokens + prompt_cache_miss_tokens): they are the cache reads when
//   prompt_tokens_details.cached_tokens says less.
// - xAI reports reasoning OUTSIDE completion_tokens (completion 1, reasoning 290, total 303 for a
//   12-token prompt): when total_tokens == prompt + completion + reasoning and not
//   prompt + completion, the reasoning is added to the output, of which it is then a part.
// Nothing changes for a usage that follows OpenAI's convention.
void applyCompatibleConventions(const CompatibleUsageFields& fields, Usage& usage);

}  // namespace tollgate::meter
