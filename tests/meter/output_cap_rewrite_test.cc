#include "meter/output_cap_rewrite.h"

#include <gtest/gtest.h>

namespace tollgate::meter {
namespace {

std::string rewritten(std::string_view dialect, std::string_view operation, std::string_view body,
                      int64_t tokens = 250) {
  auto out = rewriteOutputCap(dialect, operation, body, tokens);
  return out ? *out : "<none>";
}

TEST(RewriteOutputCap, ReplacesOnlyTheValueKeepingMemberOrderAndWhitespace) {
  EXPECT_EQ(rewritten("openai", "chat",
                      "{ \"model\" : \"gpt-4o\",\n  \"max_tokens\" :  4096 ,\n  \"stream\":true }"),
            "{ \"model\" : \"gpt-4o\",\n  \"max_tokens\" :  250 ,\n  \"stream\":true }");
  EXPECT_EQ(rewritten("openai", "chat", R"({"max_tokens":4096})"), R"({"max_tokens":250})");
  EXPECT_EQ(rewritten("anthropic", "chat", R"({"model":"claude","max_tokens":1024,"messages":[]})"),
            R"({"model":"claude","max_tokens":250,"messages":[]})");
  EXPECT_EQ(rewritten("openai", "responses", R"({"input":"hi","max_output_tokens":9000})"),
            R"({"input":"hi","max_output_tokens":250})");
}

TEST(RewriteOutputCap, AzureOpenAiBodiesAreOpenAis) {
  EXPECT_TRUE(hasOutputCapField("azure_openai", "chat"));
  EXPECT_TRUE(hasOutputCapField("azure_openai", "responses"));
  EXPECT_FALSE(hasOutputCapField("azure_openai", "embeddings"));
  EXPECT_EQ(rewritten("azure_openai", "chat", R"({"messages":[],"max_completion_tokens":4096})"),
            R"({"messages":[],"max_completion_tokens":250})");
  EXPECT_EQ(rewritten("azure_openai", "responses", R"({"model":"prod-resp","input":"hi"})"),
            R"({"max_output_tokens":250,"model":"prod-resp","input":"hi"})");
}

TEST(RewriteOutputCap, RewritesEverySpellingPresentAndANullOne) {
  EXPECT_EQ(rewritten("openai", "chat", R"({"max_completion_tokens":800,"max_tokens":900})"),
            R"({"max_completion_tokens":250,"max_tokens":250})");
  EXPECT_EQ(rewritten("openai", "chat", R"({"max_completion_tokens":null,"model":"o3"})"),
            R"({"max_completion_tokens":250,"model":"o3"})");
  // A repeated key: servers read the last one, so both are rewritten.
  EXPECT_EQ(rewritten("openai", "chat", R"({"max_tokens":1,"max_tokens":2})"),
            R"({"max_tokens":250,"max_tokens":250})");
}

TEST(RewriteOutputCap, InsertsTheFieldFirstWhenAbsent) {
  EXPECT_EQ(rewritten("openai", "chat", R"({"model":"gpt-4o","messages":[]})"),
            R"({"max_tokens":250,"model":"gpt-4o","messages":[]})");
  EXPECT_EQ(rewritten("openai", "responses", " {\n} "), " {\"max_output_tokens\":250\n} ");
  // Nested members of the same name are not the request's cap.
  EXPECT_EQ(rewritten("openai", "chat", R"({"metadata":{"max_tokens":"5"}})"),
            R"({"max_tokens":250,"metadata":{"max_tokens":"5"}})");
}

TEST(RewriteOutputCap, GeminiCapIsInsideGenerationConfig) {
  EXPECT_EQ(
      rewritten("gemini", "generate_content",
                R"({"contents":[],"generationConfig":{"temperature":0.1,"maxOutputTokens":8192}})"),
      R"({"contents":[],"generationConfig":{"temperature":0.1,"maxOutputTokens":250}})");
  EXPECT_EQ(rewritten("gemini", "generate_content",
                      R"({"generation_config":{"max_output_tokens":100},"contents":[]})"),
            R"({"generation_config":{"max_output_tokens":250},"contents":[]})");
  // Present without the cap, empty, null, or absent.
  EXPECT_EQ(rewritten("gemini", "generate_content", R"({"generationConfig":{"topK":3}})"),
            R"({"generationConfig":{"maxOutputTokens":250,"topK":3}})");
  EXPECT_EQ(rewritten("gemini", "generate_content", R"({"generationConfig": { }})"),
            R"({"generationConfig": {"maxOutputTokens":250 }})");
  EXPECT_EQ(rewritten("gemini", "generate_content", R"({"generation_config":null})"),
            R"({"generation_config":{"max_output_tokens":250}})");
  EXPECT_EQ(rewritten("gemini", "generate_content", R"({"contents":[{"parts":[]}]})"),
            R"({"generationConfig":{"maxOutputTokens":250},"contents":[{"parts":[]}]})");
  // A top-level maxOutputTokens is not Gemini's field: left alone.
  EXPECT_EQ(rewritten("gemini", "generate_content", R"({"maxOutputTokens":5})"),
            R"({"generationConfig":{"maxOutputTokens":250},"maxOutputTokens":5})");
}

TEST(RewriteOutputCap, RefusesWhatItCannotRewrite) {
  for (std::string_view body : {"[1]", "{\"max_tokens\":1", "{\"max_tokens\":1} x",
                                R"({"max_tokens":{"n":1}})", R"({"max_tokens":[1]})", "", "nul"}) {
    EXPECT_FALSE(rewriteOutputCap("openai", "chat", body, 250)) << body;
  }
  EXPECT_FALSE(rewriteOutputCap("gemini", "generate_content", R"({"generationConfig":3})", 250));
  EXPECT_FALSE(rewriteOutputCap("openai", "embeddings", R"({"input":"x"})", 250));
  EXPECT_FALSE(rewriteOutputCap("bedrock", "chat", R"({"inferenceConfig":{}})", 250));
  EXPECT_FALSE(rewriteOutputCap("openai", "chat", R"({"max_tokens":9})", 0));
  EXPECT_TRUE(hasOutputCapField("openai", "chat"));
  EXPECT_TRUE(hasOutputCapField("gemini", "generate_content"));
  EXPECT_FALSE(hasOutputCapField("openai", "embeddings"));
  EXPECT_FALSE(hasOutputCapField("ollama", "chat"));
}

}  // namespace
}  // namespace tollgate::meter
