// AWS Bedrock Runtime through the gateway to the mock: the client authenticates with its gateway
// key, the gateway signs the upstream request with SigV4 from its configured credentials (the
// mock verifies the signature with the same secret), and Converse / ConverseStream are booked
// exactly from the answer's usage.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kGatewayKey = "tg-bedrock-team-5c2e9a7f1d";
// AWS's documentation example credentials: never valid anywhere.
const std::string kAccessKeyId = "AKIDEXAMPLE";
const std::string kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::string kSessionToken = "session-token-for-tests";
const std::string kClientSecurityToken = "client-security-token-must-not-leak";
const std::string kModelPath = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0";
const std::string kConverse =
    R"({"messages":[{"role":"user","content":[{"text":"Say hello"}]}],"inferenceConfig":{"maxTokens":512}})";

StackOptions bedrockStack() {
  StackOptions options;
  options.mock_args = "--aws-secret-access-key " + kSecret;
  options.gateway_env = {{"TEST_AWS_ACCESS_KEY_ID", kAccessKeyId},
                         {"TEST_AWS_SECRET_ACCESS_KEY", kSecret}};
  options.extra_upstreams_yaml =
      "  - name: bedrock\n"
      "    dialect: bedrock\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"anthropic.claude-*\"]\n"
      "    aws:\n"
      "      region: us-east-1\n"
      "      access_key_id: \"${TEST_AWS_ACCESS_KEY_ID}\"\n"
      "      secret_access_key: \"${TEST_AWS_SECRET_ACCESS_KEY}\"\n"
      "  - name: bedrock-temporary\n"
      "    dialect: bedrock\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"us.anthropic.claude-*\"]\n"
      "    aws:\n"
      "      region: us-west-2\n"
      "      access_key_id: \"${TEST_AWS_ACCESS_KEY_ID}\"\n"
      "      secret_access_key: \"${TEST_AWS_SECRET_ACCESS_KEY}\"\n"
      "      session_token: \"" +
      kSessionToken +
      "\"\n"
      "  - name: bedrock-wrong-secret\n"
      "    dialect: bedrock\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"wrong.claude-*\"]\n"
      "    aws:\n"
      "      region: us-east-1\n"
      "      access_key_id: \"${TEST_AWS_ACCESS_KEY_ID}\"\n"
      "      secret_access_key: \"not-the-secret-the-mock-knows\"\n";
  options.extra_prices_yaml =
      "  \"*anthropic.claude-3-5-sonnet*\": { input: \"3.00\", cache_read: \"0.30\", "
      "cache_write: \"3.75\", output: \"15.00\" }\n";
  options.extra_yaml = "keys:\n  - id: bedrock-team\n    sha256: \"" + sha256Hex(kGatewayKey) +
                       "\"\n    team: search\n";
  return options;
}

// The headers an AWS SDK signs its request to the gateway with, plus the gateway key.
Headers clientHeaders(int prompt, int cached, int written, int completion) {
  return {{"authorization", "Bearer " + kGatewayKey},
          {"x-amz-date", "20200101T000000Z"},
          {"x-amz-security-token", kClientSecurityToken},
          {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
          {"content-type", "application/json"},
          {"x-mock-prompt-tokens", std::to_string(prompt)},
          {"x-mock-cached-tokens", std::to_string(cached)},
          {"x-mock-cache-write-tokens", std::to_string(written)},
          {"x-mock-completion-tokens", std::to_string(completion)}};
}

class BedrockTest : public ::testing::Test {
 protected:
  Json lastEvent(size_t count) {
    auto events = stack_.waitForEvents(count);
    EXPECT_EQ(events.size(), count);
    return Json(events.empty() ? std::string("{}") : events.back());
  }

  // The one call the mock recorded, as JSON.
  Json onlyMockCall() {
    Json calls(stack_.mockCalls());
    auto list = calls.root()["calls"].get_array();
    EXPECT_FALSE(list.error());
    EXPECT_EQ(list.value().size(), 1u);
    return Json(simdjson::minify(list.value().at(0).value()));
  }

  Stack stack_{bedrockStack()};
};

void expectSonnetCost(const Json& e) {
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);
  EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 1000);
  EXPECT_EQ(e.num("/data/usage/cache_write_tokens"), 500);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 200);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
  EXPECT_EQ(e.str("/data/price_ref"), "itest-1/*anthropic.claude-3-5-sonnet*");
  // 1500 x 3.00 + 1000 x 0.30 + 500 x 3.75 + 200 x 15.00, per 1M tokens.
  EXPECT_EQ(e.str("/data/cost/input"), "0.0045");
  EXPECT_EQ(e.str("/data/cost/cache_read"), "0.0003");
  EXPECT_EQ(e.str("/data/cost/cache_write"), "0.001875");
  EXPECT_EQ(e.str("/data/cost/output"), "0.003");
  EXPECT_EQ(e.str("/data/cost/total"), "0.009675");
}

TEST_F(BedrockTest, ConverseIsSignedByTheGatewayAndBookedExactly) {
  auto response = stack_.gatewayClient().post(kModelPath + "/converse", kConverse,
                                              clientHeaders(3000, 1000, 500, 200));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("\"cacheWriteInputTokens\":500"), std::string::npos);
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/provider"), "bedrock");
  EXPECT_EQ(e.str("/data/model"), "anthropic.claude-3-5-sonnet-20240620-v1:0");
  EXPECT_EQ(e.str("/data/outcome"), "ok");
  EXPECT_FALSE(e.boolean("/data/stream"));
  expectSonnetCost(e);

  // The mock answered 200 only because the signature verified; what it saw is the gateway's.
  Json call = onlyMockCall();
  EXPECT_EQ(call.num("/status"), 200);
  EXPECT_EQ(call.str("/target"), kModelPath + "/converse");
  const std::string authorization = call.str("/headers/authorization");
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u)
      << authorization;
  EXPECT_NE(authorization.find("/us-east-1/bedrock/aws4_request"), std::string::npos);
  EXPECT_NE(call.str("/headers/x-amz-date"), "20200101T000000Z");
  EXPECT_EQ(call.str("/headers/x-amz-content-sha256"), sha256Hex(kConverse));
  const std::string raw = stack_.mockCalls();
  EXPECT_EQ(raw.find(kClientSecurityToken), std::string::npos) << raw;
  EXPECT_EQ(raw.find(kGatewayKey), std::string::npos) << raw;
  EXPECT_EQ(raw.find("UNSIGNED-PAYLOAD"), std::string::npos) << raw;
}

TEST_F(BedrockTest, ConverseStreamIsBookedFromTheMetadataEvent) {
  auto response = stack_.gatewayClient().post(kModelPath + "/converse-stream", kConverse,
                                              clientHeaders(3000, 1000, 500, 200));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("content-type"), "application/vnd.amazon.eventstream");
  EXPECT_NE(response.body.find("metadata"), std::string::npos);
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/provider"), "bedrock");
  EXPECT_TRUE(e.boolean("/data/stream"));
  EXPECT_EQ(e.str("/data/outcome"), "ok");
  expectSonnetCost(e);
  EXPECT_EQ(onlyMockCall().num("/status"), 200);
}

TEST_F(BedrockTest, ConverseStreamExceptionMidStreamIsAnUpstreamError) {
  Headers headers = clientHeaders(3000, 0, 0, 200);
  headers.emplace_back("x-mock-error-mid-stream", "2");
  auto response = stack_.gatewayClient().post(kModelPath + "/converse-stream", kConverse, headers);
  EXPECT_NE(response.body.find("internalServerException"), std::string::npos);
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  // Two of four content events relayed: 400 bytes of text at 4 bytes a token.
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 100);
}

TEST_F(BedrockTest, TemporaryCredentialsSendTheConfiguredSessionToken) {
  auto response =
      stack_.gatewayClient().post("/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
                                  kConverse, clientHeaders(3000, 1000, 500, 200));
  ASSERT_EQ(response.status, 200) << response.body;
  Json call = onlyMockCall();
  EXPECT_EQ(call.str("/headers/x-amz-security-token"), kSessionToken);
  EXPECT_NE(call.str("/headers/authorization").find("/us-west-2/bedrock/aws4_request"),
            std::string::npos);
  expectSonnetCost(lastEvent(1));
}

TEST_F(BedrockTest, ASignatureWithTheWrongSecretIsRefusedByTheUpstream) {
  auto response = stack_.gatewayClient().post("/model/wrong.claude-v1/converse", kConverse,
                                              clientHeaders(10, 0, 0, 5));
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.body.find("signature does not match"), std::string::npos) << response.body;
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
}

TEST_F(BedrockTest, TheMockRefusesAnUnsignedBedrockRequest) {
  auto response = stack_.mockClient().post(kModelPath + "/converse", kConverse,
                                           {{"authorization", "Bearer " + kGatewayKey}});
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.body.find("AWS4-HMAC-SHA256"), std::string::npos) << response.body;
}

TEST_F(BedrockTest, ACallWithoutTheGatewayKeyNeverReachesTheUpstream) {
  Headers headers = clientHeaders(10, 0, 0, 5);
  headers.erase(headers.begin());
  auto response = stack_.gatewayClient().post(kModelPath + "/converse", kConverse, headers);
  EXPECT_EQ(response.status, 401);
  EXPECT_NE(response.body.find("\"message\""), std::string::npos) << response.body;
  EXPECT_EQ(response.header("x-amzn-errortype"), "AccessDeniedException");
  EXPECT_EQ(stack_.mockCalls().find("\"seq\""), std::string::npos);
}

// The AWS SDKs name an error by its x-amzn-ErrorType header: the gateway's own errors on
// Bedrock paths carry it, and an upstream's is relayed as sent.
TEST_F(BedrockTest, TheGatewaysOwnErrorsOnBedrockPathsNameTheirAwsException) {
  auto unrouted = stack_.gatewayClient().post("/model/unknown.model-v1/converse", kConverse,
                                              clientHeaders(10, 0, 0, 5));
  EXPECT_EQ(unrouted.status, 404);
  EXPECT_EQ(unrouted.header("x-amzn-errortype"), "ResourceNotFoundException");
  Json body(unrouted.body);
  EXPECT_NE(body.str("/message"), "") << unrouted.body;

  auto unserved = stack_.gatewayClient().post(kModelPath + "/count-tokens", kConverse,
                                              clientHeaders(10, 0, 0, 5));
  EXPECT_EQ(unserved.status, 404);
  EXPECT_EQ(unserved.header("x-amzn-errortype"), "ResourceNotFoundException");

  auto invalid = stack_.gatewayClient().post(kModelPath + "/converse", "{not json",
                                             clientHeaders(10, 0, 0, 5));
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.header("x-amzn-errortype"), "ValidationException");
}

TEST_F(BedrockTest, AnUpstreamBedrockErrorIsRelayedWithItsErrorTypeHeader) {
  Headers headers = clientHeaders(10, 0, 0, 5);
  headers.emplace_back("x-mock-status", "429");
  auto response = stack_.gatewayClient().post(kModelPath + "/converse", kConverse, headers);
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("x-amzn-errortype"),
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");
  EXPECT_NE(response.body.find("\"message\""), std::string::npos) << response.body;
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.num("/data/status"), 429);
}

}  // namespace
}  // namespace tollgate::testing
