#include "gateway/upstream/aws_request_signing.h"

#include <ctime>

#include "gateway/upstream/aws_sigv4.h"

namespace tollgate::gateway {
namespace {

bool iequalsAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// ISO 8601 basic, UTC: "20150830T123600Z".
std::string amzDate(std::chrono::system_clock::time_point now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return std::string(text, 16);
}

}  // namespace

bool isClientAwsSigningField(std::string_view name) {
  return iequalsAscii(name, "x-amz-date") || iequalsAscii(name, "x-amz-security-token") ||
         iequalsAscii(name, "x-amz-content-sha256");
}

void appendAwsSignature(const config::UpstreamConfig& upstream, std::string_view body,
                        std::chrono::system_clock::time_point now, std::string& head) {
  // The request line: METHOD SP target SP HTTP/1.1.
  const std::string_view line = std::string_view(head).substr(0, head.find("\r\n"));
  const size_t method_end = line.find(' ');
  const size_t target_end = line.rfind(' ');
  const std::string_view method = line.substr(0, method_end);
  const std::string_view target = line.substr(method_end + 1, target_end - method_end - 1);
  const size_t question = target.find('?');
  AwsSigV4Request request;
  request.method = method;
  request.path = target.substr(0, question);
  request.query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  request.headers.emplace_back("host", upstream.host_header);
  request.body = body;
  const std::string date = amzDate(now);
  AwsSigV4Options options;
  options.region = upstream.aws.region;
  options.service = "bedrock";
  options.amz_date = date;
  const AwsCredentials credentials{upstream.aws.access_key_id, upstream.aws.secret_access_key,
                                   upstream.aws.session_token};
  const AwsSigV4Signature signature = signAwsSigV4(request, credentials, options);
  for (const auto& [name, value] : signature.headers) {
    head.append(name);
    head.append(": ");
    head.append(value);
    head.append("\r\n");
  }
}

}  // namespace tollgate::gateway
