#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::meter {

// The request body with its output cap set to `tokens`, in the dialect's own field: OpenAI chat
// and completions `max_tokens` and `max_completion_tokens` (every one present is rewritten;
// `max_tokens` is added when neither is), Responses `max_output_tokens`, Anthropic `max_tokens`,
// Gemini `generationConfig.maxOutputTokens` (or its snake_case spelling; the object is added when
// absent or null). Everything else stays byte for byte, member order and whitespace included.
// nullopt when the body is not one JSON object, the field holds an object or an array, or the
// dialect has no such field here (Bedrock, Ollama): the caller cannot clamp the call.
// Whether requests of this dialect and operation have an output cap rewriteOutputCap can set.
bool hasOutputCapField(std::string_view dialect, std::string_view operation);

std::optional<std::string> rewriteOutputCap(std::string_view dialect, std::string_view operation,
                                            std::string_view body, int64_t tokens);

}  // namespace tollgate::meter
