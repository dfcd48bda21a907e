#pragma once

#include <string_view>

namespace tollgate::config {

// config/prices.default.yaml, compiled in: the bundled price catalog loaded under the user's
// `prices:` (which win, being searched first) unless `price_defaults: false`.
std::string_view defaultPriceCatalogYaml();

}  // namespace tollgate::config
