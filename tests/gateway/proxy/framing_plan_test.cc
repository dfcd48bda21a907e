#include "gateway/proxy/framing_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::gateway {
namespace {

ResponseShape shape(int status, bool has_body, std::optional<uint64_t> length) {
  ResponseShape s;
  s.status = status;
  s.has_body = has_body;
  s.content_length = length;
  return s;
}

std::string fields(const ResponseShape& s) {
  std::string head;
  appendFramingFields(planResponseFraming(s), s, head);
  return head;
}

TEST(FramingPlan, UpstreamLengthIsRelayedWhenTheBodyCannotChange) {
  const auto s = shape(200, true, 1234);
  const FramingPlan plan = planResponseFraming(s);
  EXPECT_EQ(plan.body, BodyFraming::kContentLength);
  EXPECT_TRUE(plan.keep_alive);
  EXPECT_EQ(fields(s), "Content-Length: 1234\r\n");
}

TEST(FramingPlan, BodyTheMeterMayAlterIsChunkedEvenWithALength) {
  auto s = shape(200, true, 1234);
  s.body_may_change = true;
  EXPECT_EQ(planResponseFraming(s).body, BodyFraming::kChunked);
  EXPECT_EQ(fields(s), "Transfer-Encoding: chunked\r\n");
}

TEST(FramingPlan, BodyWithoutLengthIsChunkedForHttp11) {
  const auto s = shape(200, true, std::nullopt);
  EXPECT_EQ(planResponseFraming(s).body, BodyFraming::kChunked);
}

TEST(FramingPlan, Http10ClientWithoutLengthGetsABodyEndedByClose) {
  auto s = shape(200, true, std::nullopt);
  s.client_version = 10;
  const FramingPlan plan = planResponseFraming(s);
  EXPECT_EQ(plan.body, BodyFraming::kUntilClose);
  EXPECT_FALSE(plan.keep_alive);
  // HTTP/1.0 closes by default: no Connection field is needed to say so.
  EXPECT_EQ(fields(s), "");
}

TEST(FramingPlan, Http10KeepAliveIsSaidExplicitly) {
  auto s = shape(200, true, 10);
  s.client_version = 10;
  EXPECT_EQ(fields(s), "Content-Length: 10\r\nConnection: keep-alive\r\n");
}

TEST(FramingPlan, EmptyAnswerGetsContentLengthZeroExceptWhereForbidden) {
  EXPECT_EQ(fields(shape(200, false, std::nullopt)), "Content-Length: 0\r\n");
  EXPECT_EQ(fields(shape(500, false, std::nullopt)), "Content-Length: 0\r\n");
  // RFC 9110 8.6: no Content-Length on 204; 304 would announce the cached length.
  EXPECT_EQ(fields(shape(204, false, std::nullopt)), "");
  EXPECT_EQ(fields(shape(304, false, std::nullopt)), "");
}

TEST(FramingPlan, DrainingOrAClientThatClosesEndsTheConnection) {
  auto s = shape(200, true, 5);
  s.draining = true;
  EXPECT_FALSE(planResponseFraming(s).keep_alive);
  EXPECT_EQ(fields(s), "Content-Length: 5\r\nConnection: close\r\n");
  s.draining = false;
  s.client_keep_alive = false;
  EXPECT_EQ(fields(s), "Content-Length: 5\r\nConnection: close\r\n");
}

}  // namespace
}  // namespace tollgate::gateway
