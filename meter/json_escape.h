#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Appends `s` as a JSON string literal (with quotes), escaped per RFC 8259. Invalid UTF-8 bytes
// are replaced with U+FFFD so the output is always valid JSON.
void appendJsonString(std::string_view s, std::string& out);

// For writers that size their buffer first: the most bytes writeJsonString writes for `s`
// (exact when `s` is printable ASCII without quotes or backslashes), and the same literal as
// appendJsonString written at `out`, which has room for that many bytes; returns its end.
size_t jsonStringBound(std::string_view s);
char* writeJsonString(std::string_view s, char* out);

}  // namespace tollgate::meter
