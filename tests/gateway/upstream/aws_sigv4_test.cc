#include "gateway/upstream/aws_sigv4.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tollgate::gateway {
namespace {

const AwsCredentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                       ""};

std::string readFile(const std::string& path) {
  std::ifstream in(std::string(TOLLGATE_TESTDATA_DIR) + "/" + path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A test-suite case: the .req parsed, and the expected .creq, .sts and .authz.
struct Vector {
  std::string method, path, query, body, amz_date;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string creq, sts, authz;
  std::string region, service;
};

Vector load(const std::string& dir, const std::string& name) {
  Vector v;
  const std::string base = dir + "/" + name + "/" + name;
  const std::string req = readFile(base + ".req");
  v.creq = readFile(base + ".creq");
  v.sts = readFile(base + ".sts");
  v.authz = readFile(base + ".authz");
  std::istringstream in(req);
  std::string line;
  std::getline(in, line);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  v.method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  v.path = target.substr(0, q);
  if (q != std::string::npos) v.query = target.substr(q + 1);
  // Only the headers the expected Authorization signs (a caller chooses what it signs).
  const size_t sh = v.authz.find("SignedHeaders=");
  const std::string signed_headers =
      ";" + v.authz.substr(sh + 14, v.authz.find(',', sh) - sh - 14) + ";";
  while (std::getline(in, line) && !line.empty()) {
    const size_t colon = line.find(':');
    std::string header = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    std::string lower = header;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "x-amz-date") {
      v.amz_date = value;
    } else if (signed_headers.find(";" + lower + ";") != std::string::npos) {
      v.headers.emplace_back(std::move(header), std::move(value));
    }
  }
  std::ostringstream rest;
  rest << in.rdbuf();
  v.body = rest.str();
  // Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request
  const size_t cred = v.authz.find("Credential=");
  std::istringstream scope(v.authz.substr(cred + 11, v.authz.find(',', cred) - cred - 11));
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(scope, part, '/')) parts.push_back(part);
  v.region = parts.at(2);
  v.service = parts.at(3);
  return v;
}

AwsSigV4Signature sign(const Vector& v, const AwsCredentials& credentials = kSuiteCredentials,
                       bool content_sha256 = false) {
  AwsSigV4Request request{v.method, v.path, v.query, v.headers, v.body};
  return signAwsSigV4(request, credentials,
                      AwsSigV4Options{v.region, v.service, v.amz_date, content_sha256});
}

std::string header(const AwsSigV4Signature& s, std::string_view name) {
  for (const auto& [n, value] : s.headers) {
    if (n == name) return value;
  }
  return {};
}

class AwsSigV4TestSuite : public ::testing::TestWithParam<const char*> {};

TEST_P(AwsSigV4TestSuite, ReproducesThePublishedCanonicalRequestStringToSignAndSignature) {
  const Vector v = load("aws-sig-v4-test-suite", GetParam());
  const AwsSigV4Signature s = sign(v);
  EXPECT_EQ(s.canonical_request, v.creq);
  EXPECT_EQ(s.string_to_sign, v.sts);
  EXPECT_EQ(header(s, "Authorization"), v.authz);
  EXPECT_EQ(header(s, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(header(s, "X-Amz-Content-Sha256"), "");  // not asked for: the suite signs without it
}

INSTANTIATE_TEST_SUITE_P(Vectors, AwsSigV4TestSuite,
                         ::testing::Values("get-vanilla", "get-vanilla-query-order-key-case",
                                           "get-vanilla-query-order-value",
                                           "get-vanilla-utf8-query", "get-unreserved",
                                           "get-header-key-duplicate", "get-header-value-trim",
                                           "post-vanilla", "post-vanilla-query",
                                           "post-header-key-sort", "post-header-value-case",
                                           "post-x-www-form-urlencoded"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(AwsSigV4, BedrockRuntimeConverseMatchesBotocore) {
  const Vector v = load(".", "bedrock-runtime-converse");
  const AwsSigV4Signature s = sign(v);
  // The model id's "%3A" is signed encoded once more, as "%253A".
  EXPECT_EQ(s.canonical_request, v.creq);
  EXPECT_EQ(s.string_to_sign, v.sts);
  EXPECT_EQ(header(s, "Authorization"), v.authz);
}

TEST(AwsSigV4, ContentSha256IsAddedAndSignedWhenAsked) {
  const Vector v = load("aws-sig-v4-test-suite", "post-x-www-form-urlencoded");
  const AwsSigV4Signature s = sign(v, kSuiteCredentials, true);
  const std::string body_hash = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
  EXPECT_EQ(s.content_sha256, body_hash);  // SHA-256("Param1=value1")
  EXPECT_EQ(header(s, "X-Amz-Content-Sha256"), body_hash);
  EXPECT_NE(s.canonical_request.find("\nx-amz-content-sha256:" + body_hash + "\n"),
            std::string::npos);
  EXPECT_NE(header(s, "Authorization")
                .find("SignedHeaders=content-type;host;x-amz-content-sha256;"
                      "x-amz-date,"),
            std::string::npos);
  EXPECT_NE(s.signature, sign(v).signature);
}

TEST(AwsSigV4, SessionTokenIsSentAndSigned) {
  const Vector v = load("aws-sig-v4-test-suite", "get-vanilla");
  AwsCredentials temporary = kSuiteCredentials;
  temporary.session_token = "FQoGZXIvYXdzEXAMPLETOKEN";
  const AwsSigV4Signature s = sign(v, temporary);
  EXPECT_EQ(header(s, "X-Amz-Security-Token"), "FQoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_NE(header(s, "Authorization").find("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            std::string::npos);
}

TEST(AwsSigV4, AnyChangeToTheBodyChangesTheSignature) {
  Vector v = load(".", "bedrock-runtime-converse");
  const std::string before = sign(v).signature;
  v.body.back() = ' ';
  EXPECT_NE(sign(v).signature, before);
}

TEST(AwsSigV4, Sha256HexOfTheEmptyString) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace tollgate::gateway
