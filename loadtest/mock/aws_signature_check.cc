#include "loadtest/mock/aws_signature_check.h"

#include <algorithm>

#include "gateway/upstream/aws_sigv4.h"

namespace tollgate::loadtest {
namespace {

std::string_view header(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool isSigningField(std::string_view name) {
  return name == "x-amz-date" || name == "x-amz-content-sha256" || name == "x-amz-security-token";
}

}  // namespace

std::optional<std::string> checkAwsSignature(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
    std::string_view secret_access_key) {
  constexpr std::string_view kScheme = "AWS4-HMAC-SHA256 ";
  const std::string_view authorization = header(headers, "authorization");
  if (authorization.empty()) return "mock: missing AWS SigV4 Authorization header";
  if (!authorization.starts_with(kScheme)) return "mock: Authorization is not AWS4-HMAC-SHA256";
  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
  for (std::string_view part : split(authorization.substr(kScheme.size()), ',')) {
    part = trim(part);
    if (part.starts_with("Credential=")) credential = part.substr(11);
    if (part.starts_with("SignedHeaders=")) signed_headers = part.substr(14);
    if (part.starts_with("Signature=")) signature = part.substr(10);
  }
  // The key id may itself hold '/': the scope is the last four parts.
  const auto scope = split(credential, '/');
  if (scope.size() < 5 || scope[scope.size() - 1] != "aws4_request" ||
      scope[scope.size() - 2] != "bedrock") {
    return "mock: Credential is not <key>/<date>/<region>/bedrock/aws4_request";
  }
  const std::string_view amz_date = header(headers, "x-amz-date");
  const std::string_view date = scope[scope.size() - 4];
  if (amz_date.size() != 16 || date.size() != 8 || !amz_date.starts_with(date)) {
    return "mock: X-Amz-Date is missing or not the Credential's date";
  }
  const auto names = split(signed_headers, ';');
  if (std::find(names.begin(), names.end(), "host") == names.end() ||
      std::find(names.begin(), names.end(), "x-amz-date") == names.end()) {
    return "mock: SignedHeaders must include host and x-amz-date";
  }
  if (signature.size() != 64 || !std::all_of(signature.begin(), signature.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return "mock: Signature is not 64 lowercase hex digits";
  }
  if (secret_access_key.empty()) return std::nullopt;

  const size_t key_end = credential.size() - (date.size() + scope[scope.size() - 3].size() + 23);
  gateway::AwsCredentials credentials;
  credentials.access_key_id = std::string(credential.substr(0, key_end));
  credentials.secret_access_key = std::string(secret_access_key);
  gateway::AwsSigV4Request request;
  request.method = method;
  const size_t question = target.find('?');
  request.path = target.substr(0, question);
  request.query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  request.body = body;
  bool content_sha256 = false;
  for (std::string_view name : names) {
    if (name == "x-amz-content-sha256") content_sha256 = true;
    if (name == "x-amz-security-token") {
      credentials.session_token = std::string(header(headers, name));
    }
    if (!isSigningField(name)) request.headers.emplace_back(name, header(headers, name));
  }
  gateway::AwsSigV4Options options;
  options.region = scope[scope.size() - 3];
  options.service = "bedrock";
  options.amz_date = amz_date;
  options.sign_content_sha256 = content_sha256;
  const auto expected = gateway::signAwsSigV4(request, credentials, options);
  if (expected.signature != signature) {
    return "mock: the request signature does not match (canonical request expected:\n" +
           expected.canonical_request + ")";
  }
  if (content_sha256 && header(headers, "x-amz-content-sha256") != expected.content_sha256) {
    return "mock: X-Amz-Content-Sha256 is not the body's SHA-256";
  }
  return std::nullopt;
}

}  // namespace tollgate::loadtest
