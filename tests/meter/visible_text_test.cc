#include "meter/visible_text.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::meter {
namespace {

constexpr TextPath kChat[] = {{"choices/*/message/content"}, {"choices/*/text"}};
constexpr TextPath kTool[] = {{"content/*/text"}, {"content/*/input", true}};

TEST(VisibleText, CountsTheStringsAtThePathsAsFarAsTheBodyGoes) {
  const std::string body =
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"}},{"message":{"content":"caf\u00e9 \ud83d\ude00"}}],"text":"not a choice"})";
  EXPECT_EQ(visibleTextBytes(body, kChat), 11 + 10);
  // Cut inside the second content: the bytes before the cut count, a partial escape does not.
  const size_t second = body.find("caf");
  EXPECT_EQ(visibleTextBytes(body.substr(0, second + 2), kChat), 11 + 2);
  EXPECT_EQ(visibleTextBytes(body.substr(0, second + 5), kChat), 11 + 3);
  EXPECT_EQ(visibleTextBytes(body.substr(0, second + 9), kChat), 11 + 5);
  EXPECT_EQ(visibleTextBytes(body.substr(0, second + 16), kChat), 11 + 6);
  // A high surrogate whose string closes right after it is not waiting for its low half.
  EXPECT_EQ(visibleTextBytes(R"({"choices":[{"text":"\ud83d"}]})", kChat), 3);
  EXPECT_EQ(visibleTextBytes(R"({"choices":[{"text":"ab\ud83d\ud)", kChat), 2);
  // Cut before any text, or with nothing at all.
  EXPECT_EQ(visibleTextBytes(body.substr(0, 12), kChat), 0);
  EXPECT_EQ(visibleTextBytes("", kChat), 0);
}

TEST(VisibleText, RawJsonPathsCountTheirJsonText) {
  const std::string body =
      R"({"content":[{"type":"text","text":"ok"},{"type":"tool_use","input":{"city":"Paris","days":3}}]})";
  EXPECT_EQ(visibleTextBytes(body, kTool), 2 + 25);
  const size_t input = body.find(R"({"city")");
  EXPECT_EQ(visibleTextBytes(body.substr(0, input + 15), kTool), 2 + 15);
}

TEST(VisibleText, BytesThatCannotBeginJsonAreNotRead) {
  EXPECT_EQ(visibleTextBytes("<html><body>Bad gateway", kChat), std::nullopt);
  EXPECT_EQ(visibleTextBytes(R"({"choices":[{"message":{"content":"abc"}}]} trailing)", kChat),
            std::nullopt);
  EXPECT_EQ(visibleTextBytes(R"({"choices":[{"message" "content"})", kChat), std::nullopt);
  EXPECT_EQ(visibleTextBytes(R"({"choices":[{"message":{"content":"a\qb"}}]})", kChat),
            std::nullopt);
}

TEST(VisibleText, DeepNestingStopsTheReading) {
  std::string body = R"({"choices":[{"text":"abcd"}],"x":)";
  body += std::string(100, '[');
  EXPECT_EQ(visibleTextBytes(body, kChat), 4);
}

}  // namespace
}  // namespace tollgate::meter
