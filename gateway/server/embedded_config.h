#pragma once

#include <string_view>

namespace tollgate::gateway {

// config/demo.yaml, compiled into the binary: what `tollgate` runs with no --config.
std::string_view embeddedDemoConfig();

}  // namespace tollgate::gateway
