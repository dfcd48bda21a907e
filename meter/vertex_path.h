#pragma once

#include <string_view>

namespace tollgate::meter {

// Google Vertex AI's path for a publisher's model:
// /v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}
// (v1beta1 too). Returns "{model}:{method}" when `path` is one for `publisher` ("google",
// "anthropic"), with non-empty project and location; empty otherwise.
std::string_view vertexModelAndMethod(std::string_view path, std::string_view publisher);

}  // namespace tollgate::meter
