#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::loadtest {

// Checks the AWS SigV4 Authorization header of a request to the mock's Bedrock API: present,
// well-formed (AWS4-HMAC-SHA256, a Credential scope for service "bedrock" whose date is
// X-Amz-Date's, Host and X-Amz-Date signed, a 64-hex signature) and, when `secret_access_key`
// is not empty, the signature itself, recomputed over the request as received. Returns why
// the request is refused; nullopt when it passes. `headers`: lowercase names.
std::optional<std::string> checkAwsSignature(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
    std::string_view secret_access_key);

}  // namespace tollgate::loadtest
