#include "gateway/http/http_fields.h"

#include <gtest/gtest.h>

namespace tollgate::gateway {
namespace {

bool isHopByHop(std::string_view name, std::string_view connection) {
  return HopByHop(connection)(boost::beast::http::string_to_field(name), name);
}

TEST(HopByHop, FixedListAndConnectionNamedFields) {
  EXPECT_TRUE(isHopByHop("Connection", ""));
  EXPECT_TRUE(isHopByHop("transfer-encoding", ""));
  EXPECT_TRUE(isHopByHop("Keep-Alive", ""));
  EXPECT_TRUE(isHopByHop("x-private-hop", "keep-alive, X-Private-Hop"));
  EXPECT_FALSE(isHopByHop("x-request-id", "keep-alive"));
  EXPECT_FALSE(isHopByHop("content-type", ""));
  EXPECT_FALSE(isHopByHop("x-private-hop", "keep-alive, close"));
  EXPECT_TRUE(isHopByHop("Content-Length", "close"));
  EXPECT_TRUE(isHopByHop("x-b", " close ,\tX-A, x-b "));
  EXPECT_FALSE(isHopByHop("x-c", " close ,\tX-A, x-b "));
}

TEST(HopByHop, EveryConnectionLineCounts) {
  boost::beast::http::fields head;
  head.insert("Connection", "keep-alive");
  head.insert("Connection", "x-second-line");
  const HopByHop hop_by_hop = HopByHop::of(head);
  EXPECT_TRUE(hop_by_hop(boost::beast::http::field::unknown, "X-Second-Line"));
  EXPECT_FALSE(hop_by_hop(boost::beast::http::field::unknown, "x-other"));
}

}  // namespace
}  // namespace tollgate::gateway
