#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "config/config.h"

namespace tollgate::gateway {

// The AWS client headers a request to the gateway may carry: they sign the CLIENT's request to
// the gateway, never the gateway's request upstream, so none of them is forwarded.
bool isClientAwsSigningField(std::string_view name);

// Signs the upstream request whose head so far is `head` (starting with its request line, as
// sent: the path and query signed are exactly those bytes) and whose body is `body`, with
// `upstream.aws` (SigV4, service "bedrock", the configured region, instant `now`), and appends
// the signing fields: X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (temporary
// credentials), Authorization. The signed headers are Host (`upstream.host_header`, which the
// head must carry) and those fields.
void appendAwsSignature(const config::UpstreamConfig& upstream, std::string_view body,
                        std::chrono::system_clock::time_point now, std::string& head);

}  // namespace tollgate::gateway
