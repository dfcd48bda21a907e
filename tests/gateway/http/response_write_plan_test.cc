#include "gateway/http/response_write_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::gateway {
namespace {

// What one write would put on the wire.
std::string wire(std::span<const boost::asio::const_buffer> buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

constexpr std::string_view kHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(ResponseWritePlan, ChunkedBodyFramesEachWriteAndTheHeadGoesWithTheFirst) {
  ResponseWritePlan plan(kHead, true);
  EXPECT_FALSE(plan.headSent());
  EXPECT_EQ(wire(plan.next("data: a\n\n", false)), std::string(kHead) + "9\r\ndata: a\n\n\r\n");
  EXPECT_TRUE(plan.headSent());
  EXPECT_EQ(wire(plan.next(std::string(26, 'x'), false)), "1a\r\n" + std::string(26, 'x') + "\r\n");
  EXPECT_EQ(wire(plan.next("end", true)), "3\r\nend\r\n0\r\n\r\n");
}

TEST(ResponseWritePlan, NothingToSendIsEmptyOnceTheHeadHasGone) {
  ResponseWritePlan plan(kHead, true);
  EXPECT_EQ(wire(plan.next("", false)), kHead);  // the head alone, at once
  EXPECT_TRUE(plan.next("", false).empty());
  EXPECT_EQ(wire(plan.next("", true)), "0\r\n\r\n");
}

TEST(ResponseWritePlan, ContentLengthBodyIsSentAsIs) {
  constexpr std::string_view head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
  ResponseWritePlan plan(head, false);
  EXPECT_EQ(wire(plan.next("{}", false)), std::string(head) + "{}");
  EXPECT_EQ(wire(plan.next("{}", true)), "{}");
  EXPECT_TRUE(plan.next("", true).empty());
}

}  // namespace
}  // namespace tollgate::gateway
