#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollgate::meter {

// The request body with its top-level "model" member's value replaced by `model` (a JSON
// string), every other byte as the client sent it: member order, whitespace, escapes and
// numbers are untouched, so the upstream reads the same request for another model (a fallback
// with its own model, docs/upstreams.md). Every top-level "model" member is rewritten, so that
// a body naming it twice cannot keep the client's model for a reader that takes the first.
// nullopt when the body is not one JSON object with a "model" member, or a key of it is
// escaped (the scanner reads plain keys only; "mod\u0065l" would name the model unseen).
std::optional<std::string> rewriteRequestModel(std::string_view body, std::string_view model);

}  // namespace tollgate::meter
