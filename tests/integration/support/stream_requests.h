#pragma once

#include <string>

namespace tollgate::testing {

// A streamed request of one dialect, to a model the test stacks route and price (gpt-test-1 on
// the default upstream, claude-test-1 on an Anthropic upstream named claude).
struct StreamRequest {
  const char* name;
  const char* path;
  const char* body;
};

inline constexpr StreamRequest kChatStream{
    "openai chat", "/v1/chat/completions",
    R"({"model":"gpt-test-1","stream":true,"messages":[{"role":"user","content":"Hi"}]})"};
inline constexpr StreamRequest kResponsesStream{
    "openai responses", "/v1/responses", R"({"model":"gpt-test-1","stream":true,"input":"Hi"})"};
inline constexpr StreamRequest kMessagesStream{
    "anthropic", "/v1/messages",
    R"({"model":"claude-test-1","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]})"};

// The upstream serving claude-* from the mock, for StackOptions::extra_upstreams_yaml.
inline constexpr const char* kClaudeUpstreamYaml =
    "  - name: claude\n"
    "    dialect: anthropic\n"
    "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
    "    models: [\"claude-*\"]\n";

}  // namespace tollgate::testing
