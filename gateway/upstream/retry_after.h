#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tollgate::gateway {

// The wait an upstream's Retry-After field asks for: delay-seconds ("120") or an HTTP-date
// ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 IMF-fixdate) relative to `now`. A date in the past
// is zero; anything else unreadable is nullopt; waits are capped at a day.
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now);

}  // namespace tollgate::gateway
