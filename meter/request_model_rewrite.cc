#include "meter/request_model_rewrite.h"

#include <utility>
#include <vector>

#include "meter/json_escape.h"
#include "meter/json_scanner.h"

namespace tollgate::meter {

std::optional<std::string> rewriteRequestModel(std::string_view body, std::string_view model) {
  JsonScanner scanner(body);
  std::vector<std::pair<size_t, size_t>> values;  // [begin, end) of each "model" value
  const bool object = scanner.forEachMember([&](std::string_view key) {
    if (key != "model") return scanner.skipValue();
    if (scanner.peek() != '"') return false;  // a model that is not a string is no request's
    const size_t begin = scanner.offset();
    if (!scanner.skipValue()) return false;
    values.emplace_back(begin, scanner.offset());
    return true;
  });
  if (!object || !scanner.complete() || values.empty()) return std::nullopt;
  std::string out;
  out.reserve(body.size() + model.size() + 2);
  size_t at = 0;
  for (const auto& [begin, end] : values) {
    out.append(body.substr(at, begin - at));
    appendJsonString(model, out);
    at = end;
  }
  out.append(body.substr(at));
  return out;
}

}  // namespace tollgate::meter
