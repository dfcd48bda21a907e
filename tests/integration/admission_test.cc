// Admission end to end: gateway keys, attribution, policy, passthrough credentials, secrets.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";
const std::string kFraudKey = "tg-fraud-prod-7f3c9a1e5b";
const std::string kSearchKey = "tg-search-dev-2d8e4b6f0a";
const std::string kWrongKey = "tg-not-a-key-9c1d3e5f7a";
const std::string kProviderKey = "sk-team-own-provider-6b2f8d";
const std::string kUpstreamSecret = "upstream-secret-for-tests";

std::string keysYaml(const std::string& mode) {
  return "keys:\n"
         "  - id: fraud-prod\n"
         "    sha256: \"" +
         sha256Hex(kFraudKey) +
         "\"\n"
         "    team: fraud-platform\n"
         "    cost_center: cc-4815\n"
         "    projects: [fraud-detector-v2, fraud-batch]\n"
         "    environment: prod\n"
         "    models: [\"gpt-test*\", \"pass-*\"]\n"
         "  - id: search-dev\n"
         "    sha256: \"" +
         sha256Hex(kSearchKey) +
         "\"\n"
         "    team: search\n"
         "attribution:\n"
         "  mode: " +
         mode +
         "\n"
         "  required: [team, project, workload_type]\n"
         "  tags: { max_count: 3 }\n";
}

// A mock of its own for the upstream whose teams hold their own provider keys.
struct OwnKeysMock {
  OwnKeysMock()
      : process("mock_upstream", {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"}) {
    auto line = process.waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
    if (!line) throw std::runtime_error("mock_upstream did not start");
    address = parseHostPort(*line);
  }
  std::string calls() { return HttpClient(address.host, address.port).get("/mock/calls").body; }

  Process process;
  HostPort address;
};

StackOptions keyedStack(const std::string& mode, const OwnKeysMock& own) {
  StackOptions options;
  options.extra_yaml = keysYaml(mode);
  options.extra_upstreams_yaml =
      "  - name: own-keys\n"
      "    dialect: openai\n"
      "    base_url: \"http://127.0.0.1:" +
      std::to_string(own.address.port) +
      "\"\n"
      "    models: [\"pass-*\"]\n"
      "    passthrough_auth: true\n";
  return options;
}

std::string chatBody(const std::string& model) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"Say hello"}]})";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t mockCallCount(Stack& stack) {
  Json j(stack.mockCalls());
  simdjson::dom::array calls;
  if (j.root()["calls"].get(calls) != simdjson::SUCCESS) return 0;
  return calls.size();
}

int64_t metric(Stack& stack, const std::string& series) { return stack.metric(series); }

Headers with(Headers base, const Headers& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

// The fraud team's key, as the Anthropic SDK sends it, on an inference call.
Headers fraudKey(const Headers& extra = {}) {
  return with({{"x-api-key", kFraudKey}, {"x-workload-type", "inference"}}, extra);
}

class EnforceTest : public ::testing::Test {
 protected:
  // Checks a refusal: status, the OpenAI error shape and code, its rejected event, and that no
  // upstream saw the call.
  void expectRefused(const HttpResponse& r, int status, const std::string& code,
                     const std::string& type) {
    EXPECT_EQ(r.status, status) << r.body;
    Json body(r.body);
    ASSERT_TRUE(body.ok()) << r.body;
    EXPECT_EQ(body.str("/error/code"), code) << r.body;
    EXPECT_EQ(body.str("/error/type"), type) << r.body;
    EXPECT_EQ(r.header("x-request-id").size(), 32u);
    const auto events = stack_.waitForEvents(++events_);
    ASSERT_EQ(events.size(), events_);
    Json e(events.back());
    EXPECT_EQ(e.str("/data/request_id"), r.header("x-request-id"));
    EXPECT_EQ(e.str("/data/outcome"), "rejected");
    EXPECT_EQ(e.num("/data/status"), status);
    EXPECT_EQ(mockCallCount(stack_), 0u);
  }

  OwnKeysMock own_;
  Stack stack_{keyedStack("enforce", own_)};
  size_t events_ = 0;
};

TEST_F(EnforceTest, CallWithoutAKeyIs401MissingApiKey) {
  const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                             {{"x-workload-type", "inference"}});
  expectRefused(r, 401, "missing_api_key", "authentication_error");
  Json e(stack_.waitForEvents(1).back());
  EXPECT_EQ(e.str("/data/team"), "unallocated");
  EXPECT_EQ(e.str("/data/key_id"), "");
}

TEST_F(EnforceTest, UnknownKeyIs401InvalidApiKeyInEveryCredentialHeader) {
  for (const std::string header : {"authorization", "x-api-key", "x-goog-api-key"}) {
    const std::string value = header == "authorization" ? "Bearer " + kWrongKey : kWrongKey;
    const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                               {{header, value}, {"x-workload-type", "batch"}});
    expectRefused(r, 401, "invalid_api_key", "authentication_error");
  }
}

TEST_F(EnforceTest, KeyIsAcceptedInEveryCredentialHeaderAndFixesTheAttribution) {
  size_t n = 0;
  for (const std::string header : {"authorization", "x-api-key", "x-goog-api-key"}) {
    const std::string value = header == "authorization" ? "Bearer " + kFraudKey : kFraudKey;
    const auto r = stack_.gatewayClient().post(
        kChat, chatBody("gpt-test-1"),
        {{header, value}, {"x-workload-type", "batch"}, {"x-tags", "run=7,owner=ana"}});
    ASSERT_EQ(r.status, 200) << header << ": " << r.body;
    Json e(stack_.waitForEvents(++n).back());
    EXPECT_EQ(e.str("/subject"), "fraud-platform");
    EXPECT_EQ(e.str("/data/team"), "fraud-platform");
    EXPECT_EQ(e.str("/data/project"), "fraud-detector-v2");  // the key's first project
    EXPECT_EQ(e.str("/data/cost_center"), "cc-4815");
    EXPECT_EQ(e.str("/data/environment"), "prod");
    EXPECT_EQ(e.str("/data/workload_type"), "batch");
    EXPECT_EQ(e.str("/data/tags/run"), "7");
    EXPECT_EQ(e.str("/data/tags/owner"), "ana");
    EXPECT_EQ(e.str("/data/key_id"), "fraud-prod");
    EXPECT_TRUE(e.boolean("/data/allocated"));
    EXPECT_EQ(e.str("/data/outcome"), "ok");
  }
  // The gateway key never reaches the provider; the configured provider key does.
  const std::string calls = stack_.mockCalls();
  EXPECT_EQ(calls.find(kFraudKey), std::string::npos);
  Json j(calls);
  for (const char* i : {"0", "1", "2"}) {
    const std::string base = std::string("/calls/") + i + "/headers/";
    EXPECT_EQ(j.str((base + "authorization").c_str()), "Bearer " + kUpstreamSecret);
    EXPECT_EQ(j.str((base + "x-api-key").c_str()), "<missing " + base + "x-api-key>");
  }
}

TEST_F(EnforceTest, KeyOfTeamACannotBookItsSpendToTeamB) {
  const auto r =
      stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"), fraudKey({{"x-team", "search"}}));
  expectRefused(r, 403, "label_conflict", "permission_error");
  Json body(r.body);
  EXPECT_EQ(body.str("/error/message"),
            "x-team: contradicts the team 'fraud-platform' fixed by the key 'fraud-prod'");
  Json e(stack_.waitForEvents(1).back());
  EXPECT_EQ(e.str("/data/team"), "fraud-platform");
  EXPECT_EQ(e.str("/data/key_id"), "fraud-prod");
  EXPECT_EQ(metric(stack_, "tollgate_admission_refusals_total{code=\"label_conflict\"}"), 1);
}

TEST_F(EnforceTest, ProjectOutsideTheKeysProjectsIs403) {
  const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                             fraudKey({{"x-project", "search-ranker"}}));
  expectRefused(r, 403, "label_not_allowed", "permission_error");
  EXPECT_NE(r.body.find("x-project"), std::string::npos);
}

TEST_F(EnforceTest, ModelOutsideTheKeysAllowListIs403) {
  const auto r = stack_.gatewayClient().post(kChat, chatBody("o3-mini"), fraudKey());
  expectRefused(r, 403, "model_not_allowed", "permission_error");
  Json e(stack_.waitForEvents(1).back());
  EXPECT_EQ(e.str("/data/model_requested"), "o3-mini");
  EXPECT_EQ(e.str("/data/key_id"), "fraud-prod");
}

TEST_F(EnforceTest, MissingRequiredLabelIs400NamingIt) {
  // The search key fixes the team only: the project must come from the header.
  const auto r = stack_.gatewayClient().post(
      kChat, chatBody("gpt-test-1"),
      {{"authorization", "Bearer " + kSearchKey}, {"x-workload-type", "notebook"}});
  expectRefused(r, 400, "missing_label", "invalid_request_error");
  Json body(r.body);
  EXPECT_EQ(body.str("/error/message"),
            "the required label project is missing (send the x-project header)");
  const auto ok = stack_.gatewayClient().post(kChat, chatBody("o3-mini"),
                                              {{"authorization", "Bearer " + kSearchKey},
                                               {"x-workload-type", "notebook"},
                                               {"x-project", "ranker"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(EnforceTest, WorkloadTypeOutsideTheFixedSetIs400) {
  const auto r = stack_.gatewayClient().post(
      kChat, chatBody("gpt-test-1"), {{"x-api-key", kFraudKey}, {"x-workload-type", "fun"}});
  expectRefused(r, 400, "invalid_label", "invalid_request_error");
}

TEST_F(EnforceTest, MalformedLabelValueIs400) {
  const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                             fraudKey({{"x-project", std::string(65, 'p')}}));
  expectRefused(r, 400, "invalid_label", "invalid_request_error");
}

TEST_F(EnforceTest, TagsBeyondTheLimitsAre400) {
  const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                             fraudKey({{"x-tags", "a=1,b=2,c=3,d=4"}}));
  expectRefused(r, 400, "too_many_tags", "invalid_request_error");
  const auto r2 = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                              fraudKey({{"x-tags", "k=" + std::string(129, 'v')}}));
  expectRefused(r2, 400, "tag_too_long", "invalid_request_error");
}

TEST_F(EnforceTest, RefusalsUseEachClientsErrorShape) {
  const std::string messages =
      R"({"model":"claude-sonnet-4","max_tokens":16,"messages":[{"role":"user","content":"hi"}]})";
  const auto anthropic =
      stack_.gatewayClient().post("/v1/messages", messages, {{"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(anthropic.status, 401);
  Json a(anthropic.body);
  EXPECT_EQ(a.str("/type"), "error") << anthropic.body;
  EXPECT_EQ(a.str("/error/type"), "authentication_error");
  EXPECT_EQ(a.str("/error/code"), "missing_api_key");

  const auto spoof = stack_.gatewayClient().post(
      "/v1/messages", messages,
      {{"x-api-key", kFraudKey}, {"anthropic-version", "2023-06-01"}, {"x-team", "search"}});
  EXPECT_EQ(spoof.status, 403);
  Json b(spoof.body);
  EXPECT_EQ(b.str("/error/type"), "permission_error") << spoof.body;
  EXPECT_EQ(b.str("/error/code"), "label_conflict");

  const auto gemini = stack_.gatewayClient().post(
      "/v1beta/models/gemini-2.0-flash:generateContent",
      R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})", {{"x-goog-api-key", kWrongKey}});
  EXPECT_EQ(gemini.status, 401);
  Json g(gemini.body);
  EXPECT_EQ(g.num("/error/code"), 401) << gemini.body;
  EXPECT_EQ(g.str("/error/details/0/reason"), "invalid_api_key");

  const auto ollama = stack_.gatewayClient().post(
      "/api/chat", R"({"model":"llama3","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(ollama.status, 401);
  Json o(ollama.body);
  EXPECT_EQ(o.str("/code"), "missing_api_key") << ollama.body;

  const auto events = stack_.waitForEvents(4);
  ASSERT_EQ(events.size(), 4u);
  for (const auto& line : events) EXPECT_EQ(Json(line).str("/data/outcome"), "rejected");
  EXPECT_EQ(mockCallCount(stack_), 0u);
}

TEST_F(EnforceTest, TeamsOwnProviderKeyIsForwardedOnlyToAPassthroughUpstream) {
  const Headers headers = fraudKey({{"authorization", "Bearer " + kProviderKey}});
  const auto own = stack_.gatewayClient().post(kChat, chatBody("pass-model-1"), headers);
  ASSERT_EQ(own.status, 200) << own.body;
  Json calls(own_.calls());
  EXPECT_EQ(calls.str("/calls/0/headers/authorization"), "Bearer " + kProviderKey);
  EXPECT_EQ(calls.str("/calls/0/headers/x-api-key"), "<missing /calls/0/headers/x-api-key>");
  Json e(stack_.waitForEvents(1).back());
  EXPECT_EQ(e.str("/data/upstream"), "own-keys");
  EXPECT_EQ(e.str("/data/key_id"), "fraud-prod");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 12);

  // Elsewhere the client's provider key is dropped and the gateway's is injected.
  const auto routed = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"), headers);
  ASSERT_EQ(routed.status, 200) << routed.body;
  Json mock(stack_.mockCalls());
  EXPECT_EQ(mock.str("/calls/0/headers/authorization"), "Bearer " + kUpstreamSecret);
}

TEST_F(EnforceTest, ClientCannotChooseWhereACallGoes) {
  // A Host header naming another server: the call still goes to the configured upstream.
  const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                             fraudKey({{"host", "evil.example:443"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  Json mock(stack_.mockCalls());
  EXPECT_EQ(mock.str("/calls/0/headers/host"), "127.0.0.1:" + std::to_string(stack_.mock().port));
  // An absolute-form target is not an API path the gateway serves.
  const auto absolute =
      stack_.gatewayClient().post("http://127.0.0.1:" + std::to_string(own_.address.port) + kChat,
                                  chatBody("gpt-test-1"), fraudKey());
  EXPECT_EQ(absolute.status, 404) << absolute.body;
  Json body(absolute.body);
  EXPECT_EQ(body.str("/error/code"), "unknown_endpoint");
  Json own(own_.calls());
  simdjson::dom::array own_calls;
  ASSERT_EQ(own.root()["calls"].get(own_calls), simdjson::SUCCESS);
  EXPECT_EQ(own_calls.size(), 0u);
  EXPECT_EQ(mockCallCount(stack_), 1u);
}

TEST_F(EnforceTest, SecretsNeverAppearInLogsEventsOrErrorBodies) {
  std::string bodies;
  auto call = [&](const std::string& model, const Headers& headers) {
    const auto r = stack_.gatewayClient().post(kChat, chatBody(model), headers);
    bodies += r.body;
    for (const auto& [name, value] : r.headers) bodies += name + ": " + value + "\n";
    return r.status;
  };
  EXPECT_EQ(call("gpt-test-1", fraudKey()), 200);
  EXPECT_EQ(call("pass-1", fraudKey({{"authorization", "Bearer " + kProviderKey}})), 200);
  EXPECT_EQ(call("gpt-test-1", {{"authorization", "Bearer " + kWrongKey}}), 401);
  EXPECT_EQ(
      call("gpt-test-1", {{"x-api-key", kWrongKey}, {"authorization", "Bearer " + kProviderKey}}),
      401);
  EXPECT_EQ(call("gpt-test-1", fraudKey({{"x-team", "search"}})), 403);
  EXPECT_EQ(call("o3-mini", fraudKey()), 403);
  EXPECT_EQ(call("gpt-test-1", {{"authorization", "Bearer " + kSearchKey}}), 400);
  EXPECT_EQ(call("refused-1", {{"authorization", "Bearer " + kSearchKey},
                               {"x-project", "p"},
                               {"x-workload-type", "batch"}}),
            502);
  const auto events = stack_.waitForEvents(8);
  ASSERT_EQ(events.size(), 8u);
  const std::string events_text = readFile(stack_.eventsPath());
  const std::string log = stack_.gatewayProcess().stderrText();
  ASSERT_NE(log.find("debug"), std::string::npos) << "the gateway must run at debug level";
  for (const std::string& secret :
       {kFraudKey, kSearchKey, kWrongKey, kProviderKey, kUpstreamSecret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in the log";
    EXPECT_EQ(events_text.find(secret), std::string::npos) << secret << " in the events";
    EXPECT_EQ(bodies.find(secret), std::string::npos) << secret << " in a response";
  }
}

class WarnTest : public ::testing::Test {
 protected:
  OwnKeysMock own_;
  Stack stack_{keyedStack("warn", own_)};
};

TEST_F(WarnTest, MissingLabelIsForwardedAndBookedUnallocated) {
  const auto r = stack_.gatewayClient().post(
      kChat, chatBody("gpt-test-1"),
      {{"authorization", "Bearer " + kSearchKey}, {"x-workload-type", "training"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "ok");
  EXPECT_FALSE(e.boolean("/data/allocated"));
  EXPECT_EQ(e.str("/data/team"), "unallocated");
  EXPECT_EQ(e.str("/subject"), "unallocated");
  EXPECT_EQ(e.str("/data/key_id"), "search-dev");
  EXPECT_EQ(e.str("/data/workload_type"), "training");
  EXPECT_EQ(mockCallCount(stack_), 1u);
  EXPECT_EQ(metric(stack_, "tollgate_unallocated_calls_total"), 1);
  EXPECT_EQ(metric(stack_, "tollgate_attribution_warnings_total"), 1);
}

TEST_F(WarnTest, ExtraTagsAreDroppedAndTheCallIsServed) {
  const auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"),
                                             fraudKey({{"x-tags", "a=1,b=2,c=3,d=4"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_TRUE(e.boolean("/data/allocated"));
  EXPECT_EQ(e.str("/data/tags/c"), "3");
  EXPECT_EQ(e.str("/data/tags/d"), "<missing /data/tags/d>");
}

TEST_F(WarnTest, KeysAndAntiSpoofingStillApplyInWarnMode) {
  EXPECT_EQ(stack_.gatewayClient().post(kChat, chatBody("gpt-test-1"), {}).status, 401);
  EXPECT_EQ(stack_.gatewayClient()
                .post(kChat, chatBody("gpt-test-1"), fraudKey({{"x-team", "search"}}))
                .status,
            403);
  EXPECT_EQ(mockCallCount(stack_), 0u);
}

TEST(OpenModeTest, WithoutKeysTheGatewaySaysItIsOpenAndServesUnlabelledCalls) {
  Stack stack;
  const auto r = stack.gatewayClient().post(kChat, chatBody("gpt-test-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_FALSE(e.boolean("/data/allocated"));
  EXPECT_EQ(e.str("/data/team"), "unallocated");
  EXPECT_NE(stack.gatewayProcess().stderrText().find("no keys configured: the gateway is OPEN"),
            std::string::npos);
}

}  // namespace
}  // namespace tollgate::testing
