#include "meter/request_model_rewrite.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::meter {
namespace {

TEST(RewriteRequestModel, ReplacesOnlyTheModelValueKeepingMemberOrder) {
  const auto out = rewriteRequestModel(
      R"({"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":true})",
      "claude-sonnet-4-5");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(
      *out,
      R"({"messages":[{"role":"user","content":"hi"}],"model":"claude-sonnet-4-5","stream":true})");
}

TEST(RewriteRequestModel, KeepsWhitespaceAndNewlinesAsSent) {
  const std::string body = "{\n  \"model\" :\t\"gpt-4o\" ,\n  \"temperature\": 0.50\n}\n";
  const auto out = rewriteRequestModel(body, "m2");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "{\n  \"model\" :\t\"m2\" ,\n  \"temperature\": 0.50\n}\n");
}

TEST(RewriteRequestModel, AnEscapedClientModelIsReplacedWhole) {
  const auto out = rewriteRequestModel(R"({"model":"gpt\u002d4o \"x\"","n":1})", "b");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"model":"b","n":1})");
}

TEST(RewriteRequestModel, TheNewModelIsEscaped) {
  const auto out = rewriteRequestModel(R"({"model":"a"})", "we\"ird\\name\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"model":"we\"ird\\name\n"})");
}

TEST(RewriteRequestModel, NestedModelMembersAreNotTheRequestsModel) {
  const auto out = rewriteRequestModel(
      R"({"tools":[{"model":"keep"}],"metadata":{"model":"keep"},"model":"old"})", "new");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"tools":[{"model":"keep"}],"metadata":{"model":"keep"},"model":"new"})");
}

TEST(RewriteRequestModel, EveryTopLevelModelMemberIsRewritten) {
  const auto out = rewriteRequestModel(R"({"model":"a","x":"model","model":"b"})", "c");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"model":"c","x":"model","model":"c"})");
}

TEST(RewriteRequestModel, BodiesItCannotRewriteSafelyAreRefused) {
  EXPECT_FALSE(rewriteRequestModel(R"({"messages":[]})", "m"));         // no model
  EXPECT_FALSE(rewriteRequestModel(R"({"model":42})", "m"));            // not a string
  EXPECT_FALSE(rewriteRequestModel(R"({"mod\u0065l":"a"})", "m"));      // escaped key
  EXPECT_FALSE(rewriteRequestModel(R"({"model":"a"} trailing)", "m"));  // not one document
  EXPECT_FALSE(rewriteRequestModel(R"({"model":"a",)", "m"));           // cut short
  EXPECT_FALSE(rewriteRequestModel(R"(["model","a"])", "m"));           // not an object
  EXPECT_FALSE(rewriteRequestModel("{\"model\":\"\xff\"}", "m"));       // not UTF-8
}

}  // namespace
}  // namespace tollgate::meter
