// A Vertex AI upstream whose bearer token lives in a file (upstreams[].credentials_file), as a
// mounted Kubernetes secret or `gcloud auth print-access-token` output: the token is sent as
// Authorization: Bearer, and a token rotated on disk is used from the next call on.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/support/stack.h"
#include "tests/integration/support/test_files.h"

namespace tollgate::testing {
namespace {

const std::string kGatewayKey = "tg-vertex-file-4c8a2e6b0d";
const std::string kPath =
    "/v1/projects/my-project/locations/us-central1/publishers/google/models/"
    "gemini-vtest-1:generateContent";
const std::string kBody = R"({"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]})";

StackOptions tokenFileStack(const std::string& token_path) {
  StackOptions options;
  options.extra_upstreams_yaml =
      "  - name: vertex\n"
      "    dialect: gemini\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"gemini-vtest*\"]\n"
      "    credentials_file: \"" +
      token_path + "\"\n";
  options.extra_prices_yaml = "  \"gemini-vtest*\": { input: \"1.00\", output: \"4.00\" }\n";
  options.extra_yaml = "keys:\n  - id: vertex-team\n    sha256: \"" + sha256Hex(kGatewayKey) +
                       "\"\n    team: search\n";
  return options;
}

class VertexCredentialsFileTest : public ::testing::Test {
 protected:
  VertexCredentialsFileTest() {
    EXPECT_TRUE(writeFileAtomically(tokens_.file("token"), "ya29.first-token-from-gcloud\n"));
  }

  void writeToken(const std::string& token) {
    ASSERT_TRUE(writeFileAtomically(tokens_.file("token"), token + "\n"));
  }

  // The authorization the mock saw on each call, in order.
  std::vector<std::string> upstreamAuthorizations() {
    Json calls(stack().mockCalls());
    std::vector<std::string> out;
    auto list = calls.root()["calls"].get_array();
    if (list.error()) return out;
    for (auto call : list.value()) {
      std::string_view value;
      if (call["headers"]["authorization"].get_string().get(value)) value = "";
      out.emplace_back(value);
    }
    return out;
  }

  void call() {
    auto response = stack().gatewayClient().post(
        kPath, kBody,
        {{"authorization", "Bearer " + kGatewayKey}, {"content-type", "application/json"}});
    ASSERT_EQ(response.status, 200) << response.body;
  }

  Stack& stack() {
    if (!stack_) stack_ = std::make_unique<Stack>(tokenFileStack(tokens_.file("token")));
    return *stack_;
  }

  TempDir tokens_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(VertexCredentialsFileTest, TheFilesTokenIsSentAndARotatedTokenUsedAtTheNextCall) {
  call();
  writeToken("ya29.second-token-after-rotation");
  call();
  call();
  EXPECT_EQ(upstreamAuthorizations(),
            (std::vector<std::string>{"Bearer ya29.first-token-from-gcloud",
                                      "Bearer ya29.second-token-after-rotation",
                                      "Bearer ya29.second-token-after-rotation"}));
  const std::string raw = stack().mockCalls();
  EXPECT_EQ(raw.find(kGatewayKey), std::string::npos) << raw;
  EXPECT_EQ(stack().waitForEvents(3).size(), 3u);
}

}  // namespace
}  // namespace tollgate::testing
