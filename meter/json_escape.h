#pragma once

#include <string>
#include <string_view>

namespace tollgate::meter {

// Appends `s` as a JSON string literal (with quotes), escaped per RFC 8259. Invalid UTF-8 bytes
// are replaced with U+FFFD so the output is always valid JSON.
void appendJsonString(std::string_view s, std::string& out);

}  // namespace tollgate::meter
