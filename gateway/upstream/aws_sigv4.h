#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::gateway {

// Credentials an upstream request to AWS is signed with.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; sent as X-Amz-Security-Token
};

// The request to sign, as it will be sent.
struct AwsSigV4Request {
  std::string_view method;  // "POST"
  std::string_view path;    // as sent, percent-encoded: /model/anthropic.claude-v2%3A1/invoke
  std::string_view query;   // as sent, without '?' ("" for none)
  // Headers to sign, as sent (names in any case, Host among them). X-Amz-Date, and
  // X-Amz-Content-Sha256 / X-Amz-Security-Token when used, are added by the signer.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

struct AwsSigV4Options {
  std::string_view region;          // "us-east-1"
  std::string_view service;         // "bedrock" for bedrock-runtime
  std::string_view amz_date;        // the signing instant, ISO 8601 basic: "20150830T123600Z"
  bool sign_content_sha256 = true;  // add and sign X-Amz-Content-Sha256 (the body's SHA-256)
};

// Every intermediate of AWS Signature Version 4, for tests and for logging a mismatch.
struct AwsSigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // lowercase hex HMAC-SHA256
  std::string content_sha256;  // lowercase hex SHA-256 of the body
  // Headers to add to the request, in this order: X-Amz-Date, X-Amz-Content-Sha256 (when
  // signed), X-Amz-Security-Token (with a session token), Authorization.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Signs `request` (AWS Signature Version 4, header form: docs.aws.amazon.com/IAM/latest/UserGuide/
// reference_sigv-create-signed-request.html). Pure: no clock, no I/O; the instant is an input.
// Canonical URI: each path segment percent-encoded once more, as AWS requires of every service
// but S3 (so an id sent as %3A is signed as %253A, as the AWS SDKs do); no dot-segment
// normalization (the gateway forwards paths it built). Canonical query: names and values
// percent-decoded then encoded (RFC 3986 unreserved kept), sorted by name then value.
// Canonical headers: names lowercased, values trimmed with inner runs of spaces collapsed,
// repeated names joined with ',' in order, sorted by name.
AwsSigV4Signature signAwsSigV4(const AwsSigV4Request& request, const AwsCredentials& credentials,
                               const AwsSigV4Options& options);

// Lowercase hex SHA-256 (OpenSSL).
std::string sha256Hex(std::string_view bytes);

}  // namespace tollgate::gateway
