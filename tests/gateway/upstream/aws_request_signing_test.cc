#include "gateway/upstream/aws_request_signing.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/upstream/aws_sigv4.h"

namespace tollgate::gateway {
namespace {

config::UpstreamConfig bedrockUpstream() {
  config::UpstreamConfig upstream;
  upstream.dialect = "bedrock";
  upstream.host_header = "bedrock-runtime.us-west-2.amazonaws.com";
  upstream.aws = {"us-west-2", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  return upstream;
}

// 2026-12-05T06:02:48Z.
const auto kInstant = std::chrono::system_clock::time_point(std::chrono::seconds(1796450568));

std::string field(const std::string& head, const std::string& name) {
  const size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const size_t start = at + name.size() + 4;
  return head.substr(start, head.find("\r\n", start) - start);
}

TEST(AwsRequestSigning, SignsThePathAndQueryAsWrittenInTheRequestLine) {
  const std::string body = R"({"messages":[]})";
  std::string head =
      "POST /prefix/model/anthropic.claude-v2%3A1/converse?trace=1 HTTP/1.1\r\n"
      "Host: bedrock-runtime.us-west-2.amazonaws.com\r\n";
  appendAwsSignature(bedrockUpstream(), body, kInstant, head);

  AwsSigV4Request expected_request;
  expected_request.method = "POST";
  expected_request.path = "/prefix/model/anthropic.claude-v2%3A1/converse";
  expected_request.query = "trace=1";
  expected_request.headers = {{"host", "bedrock-runtime.us-west-2.amazonaws.com"}};
  expected_request.body = body;
  const auto upstream = bedrockUpstream();
  const auto expected =
      signAwsSigV4(expected_request,
                   AwsCredentials{upstream.aws.access_key_id, upstream.aws.secret_access_key, ""},
                   AwsSigV4Options{"us-west-2", "bedrock", "20261205T060248Z", true});

  EXPECT_EQ(field(head, "X-Amz-Date"), "20261205T060248Z");
  EXPECT_EQ(field(head, "X-Amz-Content-Sha256"), sha256Hex(body));
  EXPECT_EQ(field(head, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/us-west-2/bedrock/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" +
                expected.signature);
  EXPECT_EQ(field(head, "X-Amz-Security-Token"), "");
  EXPECT_EQ(head.substr(head.size() - 2), "\r\n");
}

TEST(AwsRequestSigning, TemporaryCredentialsSendAndSignTheSessionToken) {
  auto upstream = bedrockUpstream();
  upstream.aws.session_token = "FQoGZXIvYXdzEXAMPLE";
  std::string head = "POST /model/m/converse HTTP/1.1\r\n";
  appendAwsSignature(upstream, "{}", kInstant, head);
  EXPECT_EQ(field(head, "X-Amz-Security-Token"), "FQoGZXIvYXdzEXAMPLE");
  EXPECT_NE(field(head, "Authorization")
                .find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos);
}

TEST(AwsRequestSigning, ADifferentBodyOrInstantGivesADifferentSignature) {
  std::string a = "POST /model/m/converse HTTP/1.1\r\n";
  std::string b = a;
  std::string c = a;
  appendAwsSignature(bedrockUpstream(), "{}", kInstant, a);
  appendAwsSignature(bedrockUpstream(), "{ }", kInstant, b);
  appendAwsSignature(bedrockUpstream(), "{}", kInstant + std::chrono::seconds(1), c);
  EXPECT_NE(field(a, "Authorization"), field(b, "Authorization"));
  EXPECT_NE(field(a, "Authorization"), field(c, "Authorization"));
}

TEST(AwsRequestSigning, OnlyTheClientsAwsSigningFieldsAreRecognised) {
  EXPECT_TRUE(isClientAwsSigningField("X-Amz-Date"));
  EXPECT_TRUE(isClientAwsSigningField("x-amz-security-token"));
  EXPECT_TRUE(isClientAwsSigningField("X-AMZ-CONTENT-SHA256"));
  EXPECT_FALSE(isClientAwsSigningField("x-amz-user-agent"));
  EXPECT_FALSE(isClientAwsSigningField("amz-sdk-invocation-id"));
}

}  // namespace
}  // namespace tollgate::gateway
