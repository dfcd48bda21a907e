#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::loadtest {

// Appends `text` as a quoted JSON string. Bytes that are not valid UTF-8 are written as
// \u00XX (their Latin-1 reading) so that the output is always valid JSON, whatever a client sent.
void appendJsonString(std::string& out, std::string_view text);

void appendInt(std::string& out, int64_t value);

// Standard base64 with padding (OpenAI's encoding_format "base64" embeddings).
void appendBase64(std::string& out, std::string_view bytes);

}  // namespace tollgate::loadtest
