// The request rules decided on a head alone (gateway/request_rules.h).
#include "gateway/http/request_rules.h"

#include <gtest/gtest.h>

namespace tollgate::gateway {
namespace {

namespace http = boost::beast::http;

Fields head(std::initializer_list<std::pair<const char*, const char*>> fields) {
  Fields f;
  for (const auto& [name, value] : fields) f.insert(name, value);
  return f;
}

TEST(RequestRules, PlainHeadsPass) {
  EXPECT_FALSE(checkRequestHead(head({{"content-length", "2"}}), 11).error);
  EXPECT_FALSE(checkRequestHead(head({{"transfer-encoding", "chunked"}}), 11).error);
  EXPECT_FALSE(checkRequestHead(head({{"transfer-encoding", " Chunked "}}), 11).error);
}

TEST(RequestRules, TransferEncodingNotEndingInChunkedIs400AndClose) {
  for (const char* te : {"gzip", "identity", "chunked, gzip", "chunked,"}) {
    const auto d = checkRequestHead(head({{"transfer-encoding", te}}), 11);
    if (std::string_view(te) == "chunked,") {
      EXPECT_FALSE(d.error) << te;  // an empty list element is allowed (RFC 9110 5.6.1)
      continue;
    }
    ASSERT_TRUE(d.error) << te;
    EXPECT_EQ(d.error->status, 400) << te;
    EXPECT_EQ(d.error->code, "bad_http_request");
    EXPECT_TRUE(d.close);
  }
}

TEST(RequestRules, ChunkedTwiceAcrossLinesIs400) {
  const auto d = checkRequestHead(
      head({{"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}}), 11);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->status, 400);
}

// Found by fuzz_request_head: a list of nothing but commas named no coding, so the body was not
// read as one and would have been parsed as the next request.
TEST(RequestRules, TransferEncodingNamingNoCodingIs400AndClose) {
  for (const char* te : {",,,,,,,,,,, ", "", " , "}) {
    const auto d = checkRequestHead(head({{"transfer-encoding", te}}), 11);
    ASSERT_TRUE(d.error) << "'" << te << "'";
    EXPECT_EQ(d.error->status, 400);
    EXPECT_TRUE(d.close);
  }
}

TEST(RequestRules, CodingBeforeChunkedIs501) {
  const auto d =
      checkRequestHead(head({{"transfer-encoding", "gzip"}, {"transfer-encoding", "chunked"}}), 11);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->status, 501);
  EXPECT_EQ(d.error->code, "unsupported_transfer_coding");
}

TEST(RequestRules, TransferEncodingInHttp10Is400) {
  const auto d = checkRequestHead(head({{"transfer-encoding", "chunked"}}), 10);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->status, 400);
}

TEST(RequestRules, ExpectContinueIsTheGatewaysToAnswer) {
  EXPECT_TRUE(checkRequestHead(head({{"expect", "100-Continue"}}), 11).expect_continue);
  EXPECT_FALSE(checkRequestHead(head({{"expect", "100-continue"}}), 10).expect_continue);
  const auto other = checkRequestHead(head({{"expect", "something-else"}}), 11);
  ASSERT_TRUE(other.error);
  EXPECT_EQ(other.error->status, 417);
}

TEST(RequestRules, TrailerFieldsAfterTheHeadAreDropped) {
  Fields f = head({{"host", "a"}, {"x-team", "head-team"}});
  f.insert("x-team", "trailer-team");
  f.insert("x-other", "1");
  EXPECT_EQ(dropTrailerFields(f, 2), 2u);
  EXPECT_EQ(f["x-team"], "head-team");
  EXPECT_EQ(f.count("x-team"), 1u);
  EXPECT_EQ(f.count("x-other"), 0u);
}

TEST(RequestRules, ModelNamesAreBounded) {
  EXPECT_FALSE(checkModelName(std::string(kMaxModelNameBytes, 'm')));
  const auto e = checkModelName(std::string(kMaxModelNameBytes + 1, 'm'));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_EQ(e->code, "invalid_request");
}

TEST(RequestRules, QueryParameterIsFoundByExactName) {
  EXPECT_EQ(queryParameter("/v1beta/models/x:generateContent?alt=sse&key=abc", "key"), "abc");
  EXPECT_EQ(queryParameter("/p?apikey=1&key=2", "key"), "2");
  EXPECT_EQ(queryParameter("/p?key", "key"), "");
  EXPECT_EQ(queryParameter("/p", "key"), "");
}

}  // namespace
}  // namespace tollgate::gateway
